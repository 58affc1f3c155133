//! The book's `hyperparameter_optimization.py` (section 6.5): the first 500 MNIST
//! training images, shuffled, 100 of them kept for validation; a 784-[100×6]-10 ReLU
//! network trained by SGD for 50 epochs at learning rates 10^U(−6, −2) and weight
//! decays 10^U(−8, −4) drawn at random; prints the 20 best by validation accuracy and
//! draws their validation curves.
//!
//! `cargo run --release --example hyperparameter_search -- --data ../shared/mnist`

#[path = "common/figure.rs"]
mod figure;
#[path = "common/progress.rs"]
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data;
use backprop::optim::Sgd;
use backprop::prelude::*;
use backprop::train::Trainer;
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

network! {
    struct Net(784) {
        Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100)
            -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// Random search over the learning rate and the weight decay.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with the MNIST IDX files [default: $MNIST_DIR, else ./data/mnist,
    /// downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Trials (the book's 100).
    #[arg(long, default_value_t = 100)]
    trials: usize,
    /// Epochs of each trial (the book's 50).
    #[arg(long, default_value_t = 50)]
    epochs: usize,
    /// Seed of the split, the draws, the weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the 20 best trials' validation curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "hyperparameter_search.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

struct Trial {
    lr: f64,
    weight_decay: f64,
    validation: Vec<f64>,
}

struct Curves(Vec<Trial>);

impl figure::Figure for Curves {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        for (i, (panel, trial)) in root.split_evenly((4, 5)).iter().zip(&self.0).enumerate() {
            let epochs = trial.validation.len().max(2) as f64 - 1.0;
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    format!(
                        "{}: lr {:.1e}, λ {:.1e}",
                        i + 1,
                        trial.lr,
                        trial.weight_decay
                    ),
                    ("sans-serif", 13),
                )
                .margin(5)
                .x_label_area_size(16)
                .y_label_area_size(30)
                .build_cartesian_2d(0.0..epochs, 0.0..1.0)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .y_labels(3)
                .draw()?;
            let line = trial
                .validation
                .iter()
                .enumerate()
                .map(|(e, &a)| (e as f64, a));
            chart.draw_series(LineSeries::new(line, BLUE.stroke_width(2)))?;
        }
        Ok(())
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    let mnist = data::load_mnist(&data::prepare_mnist(args.data.as_deref(), &mut |_| {})?)?;
    let mut search = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut rows: Vec<usize> = (0..500.min(mnist.train.len())).collect();
    rows.shuffle(&mut search);
    let (validation_rows, train_rows) = rows.split_at(rows.len() / 5);
    let (validation, train_set) = (
        mnist.train.select(validation_rows)?,
        mnist.train.select(train_rows)?,
    );
    let mut trials = Vec::with_capacity(args.trials);
    for trial in 0..args.trials {
        let lr = 10f64.powf(search.random_range(-6.0..-2.0));
        let weight_decay = 10f64.powf(search.random_range(-8.0..-4.0));
        let seed = args.seed.wrapping_add(trial as u64 + 1);
        let trainer = Trainer::new()
            .epochs(args.epochs)
            .weight_decay(weight_decay)
            .seed(seed);
        let mut net = Net::<f32>::with_weight_init(WeightInit::He, &mut trainer.initialisation());
        let warn = &mut progress::warn_if_unoptimised;
        let outcome =
            trainer.fit_reporting(&mut net, &mut Sgd { lr }, &train_set, &validation, warn);
        let validation = match outcome {
            Ok(outcome) => outcome
                .history
                .evaluations
                .iter()
                .map(|e| e.validation.accuracy)
                .collect(),
            Err(backprop::Error::Diverged { .. }) => vec![0.0],
            Err(error) => return Err(error.into()),
        };
        trials.push(Trial {
            lr,
            weight_decay,
            validation,
        });
    }
    trials.sort_by(|a, b| {
        let last = |t: &Trial| t.validation.last().copied().unwrap_or(0.0);
        last(b).total_cmp(&last(a))
    });
    println!(
        "{:>4} {:>14} {:>12} {:>14}",
        "rank", "validation acc", "lr", "weight decay"
    );
    for (i, trial) in trials.iter().take(20).enumerate() {
        let accuracy = trial.validation.last().copied().unwrap_or(0.0);
        println!(
            "{:>4} {accuracy:>14.3} {:>12.3e} {:>14.3e}",
            i + 1,
            trial.lr,
            trial.weight_decay
        );
    }
    trials.truncate(20);
    figure::save(&args.plot, (1500, 1000), &Curves(trials))?;
    println!(
        "drew the 20 best trials' validation curves to {}",
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
