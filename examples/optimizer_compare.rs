//! The book's `optimizer_compare_mnist.py` (section 6.1.8): SGD, Momentum, Nesterov,
//! AdaGrad, RMSprop and Adam, each training the same 784-[100×4]-10 ReLU network (He
//! initialisation, the same initial weights) on the same MNIST batches of 128, at the
//! book's default learning rates; prints the losses every 100 iterations and draws the
//! smoothed loss curves.
//!
//! `cargo run --release --example optimizer_compare -- --data ../shared/mnist`

#[path = "common/compare.rs"]
mod compare;
#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data;
use backprop::optim;
use backprop::prelude::*;
use backprop::train::Streams;
use clap::Parser;

/// Six optimizers on the same network and batches.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with the MNIST IDX files [default: $MNIST_DIR, else ./data/mnist,
    /// downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Training steps (the book's 2000).
    #[arg(long, default_value_t = 2000)]
    iters: usize,
    /// Samples per batch (the book's 128).
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Seed of the initial weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the smoothed loss curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "optimizer_compare.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    if args.iters == 0 || args.batch_size == 0 {
        return Err("--iters and --batch-size: expected whole numbers of at least 1".into());
    }
    let mnist = data::load_mnist(&data::prepare_mnist(args.data.as_deref(), &mut |_| {})?)?;
    let streams = Streams::new(args.seed);
    let mut runs = optim::NAMES
        .iter()
        .map(|&name| {
            let optimizer = optim::by_name::<f32>(name)?;
            Ok(compare::Run::new(
                name,
                optimizer,
                WeightInit::He,
                streams,
                args.iters,
            ))
        })
        .collect::<backprop::Result<Vec<_>>>()?;
    compare::train_side_by_side(&mut runs, &mnist, args.iters, args.batch_size, streams)?;
    let title = "Optimizers on MNIST: 784-[100×4]-10 ReLU, He, batch 128";
    figure::save(
        &args.plot,
        (1000, 650),
        &compare::Curves { title, runs: &runs },
    )?;
    println!("drew the loss curves to {}", args.plot.display());
    Ok(())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
