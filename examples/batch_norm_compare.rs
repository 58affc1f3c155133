//! The book's `batch_norm_test.py` (section 6.3.2): the first 1,000 MNIST training
//! images, a 784-[100×5]-10 ReLU network with and without BatchNorm after each hidden
//! Affine, at each of the book's 16 weight scales (`logspace(0, −4, 16)`), trained by
//! SGD at 0.01 for 20 epochs of 10 batches of 100; prints the final training accuracies
//! and draws a 4×4 grid of training-accuracy curves.
//!
//! `cargo run --release --example batch_norm_compare -- --data ../shared/mnist`

#[path = "common/figure.rs"]
mod figure;
#[path = "common/progress.rs"]
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data::{self, Dataset};
use backprop::optim::Sgd;
use backprop::prelude::*;
use backprop::train::Trainer;
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

network! {
    struct Plain(784) {
        Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 10)
            -> SoftmaxWithLoss
    }

    struct Normalised(784) {
        Affine(_, 100) -> BatchNorm -> Relu -> Affine(100, 100) -> BatchNorm -> Relu
            -> Affine(100, 100) -> BatchNorm -> Relu -> Affine(100, 100) -> BatchNorm -> Relu
            -> Affine(100, 100) -> BatchNorm -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// With and without BatchNorm, over the book's 16 weight scales.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with the MNIST IDX files [default: $MNIST_DIR, else ./data/mnist,
    /// downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Epochs of 10 steps (the book's 20).
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Seed of the initial weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the 4×4 grid of curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "batch_norm_compare.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

/// The book's weight scales, `logspace(0, −4, 16)`.
fn scales() -> Vec<f64> {
    (0..16)
        .map(|i| 10f64.powf(-4.0 * i as f64 / 15.0))
        .collect()
}

/// The training accuracy after each epoch of `net` trained on `data`, or `None` if
/// its loss diverged (at the largest scales, without BatchNorm: the book's NumPy goes
/// on with NaN and chance accuracy).
fn curve<N: Network<f32>>(
    net: &mut N,
    data: &Dataset,
    epochs: usize,
    seed: u64,
) -> backprop::Result<Curve> {
    let trainer = Trainer::new().epochs(epochs).seed(seed);
    let sgd = &mut Sgd { lr: 0.01 };
    let warn = &mut progress::warn_if_unoptimised;
    match trainer.fit_reporting(net, sgd, data, data, warn) {
        Ok(outcome) => Ok(Some(
            outcome
                .history
                .evaluations
                .iter()
                .map(|e| e.train.accuracy)
                .collect(),
        )),
        Err(backprop::Error::Diverged { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// A training-accuracy curve, `None` where the loss diverged.
type Curve = Option<Vec<f64>>;

/// Per scale: the curves without and with BatchNorm.
struct Grid(Vec<(f64, Curve, Curve)>);

impl figure::Figure for Grid {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        for (panel, (scale, plain, normed)) in root.split_evenly((4, 4)).iter().zip(&self.0) {
            let length = |c: &Curve| c.as_ref().map_or(0, Vec::len);
            let epochs = length(plain).max(length(normed)).max(2) as f64 - 1.0;
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("W: {scale:.4}"), ("sans-serif", 14))
                .margin(6)
                .x_label_area_size(18)
                .y_label_area_size(26)
                .build_cartesian_2d(0.0..epochs, 0.0..1.0)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .y_labels(3)
                .draw()?;
            let line = |values: &Curve| {
                values
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, &a)| (i as f64, a))
                    .collect::<Vec<_>>()
            };
            chart.draw_series(LineSeries::new(line(normed), BLUE.stroke_width(2)))?;
            chart.draw_series(DashedLineSeries::new(
                line(plain),
                5,
                4,
                GREEN.stroke_width(2),
            ))?;
        }
        Ok(())
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    let mnist = data::load_mnist(&data::prepare_mnist(args.data.as_deref(), &mut |_| {})?)?;
    let data = mnist.train.first(1000);
    println!(
        "{:>10} {:>14} {:>14}",
        "weight std", "without BN", "with BN"
    );
    let mut grid = Vec::new();
    for (i, scale) in scales().into_iter().enumerate() {
        let seed = args.seed + i as u64;
        let init = WeightInit::Std(scale);
        let streams = Trainer::new().seed(seed).streams();
        let plain = curve(
            &mut Plain::<f32>::with_weight_init(init, &mut streams.initialisation()),
            &data,
            args.epochs,
            seed,
        )?;
        let normed = curve(
            &mut Normalised::<f32>::with_weight_init(init, &mut streams.initialisation()),
            &data,
            args.epochs,
            seed,
        )?;
        let last = |c: &Curve| match c.as_ref().and_then(|c| c.last()) {
            Some(accuracy) => format!("{accuracy:.3}"),
            None => "diverged".to_owned(),
        };
        println!("{scale:>10.4} {:>14} {:>14}", last(&plain), last(&normed));
        grid.push((scale, plain, normed));
    }
    figure::save(&args.plot, (1200, 1000), &Grid(grid))?;
    println!(
        "drew the curves (BatchNorm solid, without dashed) to {}",
        args.plot.display()
    );
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
