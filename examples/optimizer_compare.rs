//! The book's `optimizer_compare_mnist.py` (section 6.1.8): SGD, Momentum, Nesterov,
//! AdaGrad, RMSprop and Adam, each training the same 784-[100×4]-10 ReLU network (He
//! initialisation, the same initial weights) on the same MNIST batches of 128, at the
//! book's default learning rates; prints the losses every 100 iterations and draws the
//! smoothed loss curves.
//!
//! `cargo run --release --example optimizer_compare -- --data ../shared/mnist`

#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data::{self, MiniBatch, Sampler, SamplingMode};
use backprop::layers::Context;
use backprop::optim::{self, Optimizer};
use backprop::prelude::*;
use backprop::train::{Streams, smooth_curve};
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

network! {
    /// The book's MultiLayerNet with four hidden layers of 100.
    struct DeepNet(784) {
        Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

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

struct Curves(Vec<(&'static str, Vec<f64>)>);

/// One optimizer's copy of the network, and its losses so far.
struct Run {
    name: &'static str,
    optimizer: Box<dyn Optimizer<f32>>,
    net: DeepNet<f32>,
    losses: Vec<f64>,
}

impl figure::Figure for Curves {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let steps = self.0.first().map_or(1, |(_, l)| l.len().max(1));
        let mut chart = ChartBuilder::on(root)
            .caption("MNIST: 784-[100×4]-10 ReLU, batch 128", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..steps as f64, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("iterations")
            .y_desc("loss (smoothed as the book's smooth_curve)")
            .draw()?;
        let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
        for ((name, losses), color) in self.0.iter().zip(colors) {
            let smooth = smooth_curve(losses);
            let line = smooth
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64, l.min(1.0)));
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    if args.iters == 0 || args.batch_size == 0 {
        return Err("--iters and --batch-size: expected whole numbers of at least 1".into());
    }
    let dir = data::prepare_mnist(args.data.as_deref(), &mut |_| {})?;
    let mnist = data::load_mnist(&dir)?;
    let streams = Streams::new(args.seed);
    let start = DeepNet::<f32>::with_weight_init(WeightInit::He, &mut streams.initialisation());
    let mut runs = optim::NAMES
        .iter()
        .map(|&name| {
            Ok(Run {
                name,
                optimizer: optim::by_name::<f32>(name)?,
                net: start.clone(),
                losses: Vec::with_capacity(args.iters),
            })
        })
        .collect::<backprop::Result<Vec<Run>>>()?;
    let mut sampler = Sampler::new(
        mnist.train.len(),
        args.batch_size,
        SamplingMode::WithReplacement,
    )?;
    let mut batch = MiniBatch::<f32, 784>::new();
    let header: Vec<String> = runs.iter().map(|run| format!("{:>9}", run.name)).collect();
    println!("iteration {}", header.join(" "));
    for step in 0..args.iters {
        batch.fill(
            &mnist.train,
            sampler.next_batch(&mut streams.sampling(step)),
        )?;
        for run in &mut runs {
            let mut masks = streams.dropout(step);
            let mut context = Context::training(&mut masks);
            let loss = run
                .net
                .gradient_with(&batch.x, batch.targets(), &mut context, 0.0)?;
            run.optimizer.update(&mut run.net);
            run.losses.push(loss.as_f64());
        }
        if step % 100 == 0 {
            let cells: Vec<String> = runs
                .iter()
                .map(|run| format!("{:>9.4}", run.losses[step]))
                .collect();
            println!("{step:>9} {}", cells.join(" "));
        }
    }
    for run in &runs {
        let smooth = smooth_curve(&run.losses);
        println!(
            "{:>9}: smoothed loss at the end {:.4}, test accuracy {:.4}",
            run.name,
            smooth.last().copied().unwrap_or(f64::NAN),
            data::evaluate(&run.net, &mnist.test)?.accuracy
        );
    }
    let curves = Curves(runs.into_iter().map(|run| (run.name, run.losses)).collect());
    figure::save(&args.plot, (1000, 650), &curves)?;
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
