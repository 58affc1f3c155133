//! The book's `weight_init_compare.py` (section 6.2.4): the same 784-[100×4]-10 ReLU
//! network started at weights of std 0.01, Xavier's (√(1/n)) and He's (√(2/n)),
//! trained by SGD at 0.01 on the same MNIST batches of 128; prints the losses every
//! 100 iterations and draws the smoothed loss curves. With std 0.01 it does not learn.
//!
//! `cargo run --release --example weight_init_compare -- --data ../shared/mnist`

#[path = "common/compare.rs"]
mod compare;
#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data;
use backprop::optim::Sgd;
use backprop::prelude::*;
use backprop::train::Streams;
use clap::Parser;

/// Three initialisations of the same network on the same batches.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with the MNIST IDX files [default: $MNIST_DIR, else ./data/mnist,
    /// downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Training steps (the book's 2000).
    #[arg(long, default_value_t = 2000)]
    iters: usize,
    /// Seed of the initial weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the smoothed loss curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "weight_init_compare.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    if args.iters == 0 {
        return Err("--iters 0: expected a whole number of at least 1".into());
    }
    let mnist = data::load_mnist(&data::prepare_mnist(args.data.as_deref(), &mut |_| {})?)?;
    let streams = Streams::new(args.seed);
    let inits = [
        ("std 0.01", WeightInit::Std(0.01)),
        ("Xavier", WeightInit::Xavier),
        ("He", WeightInit::He),
    ];
    let mut runs: Vec<compare::Run> = inits
        .iter()
        .map(|&(name, init)| {
            compare::Run::new(name, Box::new(Sgd { lr: 0.01 }), init, streams, args.iters)
        })
        .collect();
    compare::train_side_by_side(&mut runs, &mnist, args.iters, 128, streams)?;
    let title = "Initial weights on MNIST: 784-[100×4]-10 ReLU, SGD 0.01, batch 128";
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
