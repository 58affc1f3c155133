//! The book's `overfit_weight_decay.py` and `overfit_dropout.py` (section 6.4): the
//! first 300 MNIST training images and a 784-[100×6]-10 ReLU network (He weights, the
//! default of the book's MultiLayerNet), trained by SGD at 0.01 in batches of 100 as
//! is, with weight decay λ = 0.1, and with Dropout 0.2 after every hidden layer; prints
//! the final accuracies and draws the training and test accuracy curves side by side.
//!
//! `cargo run --release --example overfitting -- --data ../shared/mnist`

#[path = "common/figure.rs"]
mod figure;
#[path = "common/progress.rs"]
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data::{self, Dataset};
use backprop::optim::Sgd;
use backprop::prelude::*;
use backprop::train::{EvaluationRecord, Trainer};
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

network! {
    struct Plain(784) {
        Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100)
            -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }

    struct Dropped(784) {
        Affine(_, 100) -> Relu -> Dropout(0.2) -> Affine(100, 100) -> Relu -> Dropout(0.2)
            -> Affine(100, 100) -> Relu -> Dropout(0.2) -> Affine(100, 100) -> Relu
            -> Dropout(0.2) -> Affine(100, 100) -> Relu -> Dropout(0.2) -> Affine(100, 100)
            -> Relu -> Dropout(0.2) -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// Overfitting 300 images, and two ways to hold it back.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with the MNIST IDX files [default: $MNIST_DIR, else ./data/mnist,
    /// downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Epochs of 3 steps (the book's 201 for weight decay, 301 for Dropout).
    #[arg(long, default_value_t = 201)]
    epochs: usize,
    /// The weight decay λ of the second run (the book's 0.1).
    #[arg(long, default_value_t = 0.1)]
    weight_decay: f64,
    /// Seed of the initial weights, the batches and the masks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the accuracy curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "overfitting.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

/// The per-epoch evaluations of `net` trained on `train`, evaluated on `test` too.
fn evaluations<N: Network<f32>>(
    net: &mut N,
    sets: (&Dataset, &Dataset),
    trainer: &Trainer,
) -> backprop::Result<Vec<EvaluationRecord>> {
    let sgd = &mut Sgd { lr: 0.01 };
    let warn = &mut progress::warn_if_unoptimised;
    let outcome = trainer.fit_reporting(net, sgd, sets.0, sets.1, warn)?;
    Ok(outcome.history.evaluations)
}

struct Curves(Vec<(&'static str, Vec<EvaluationRecord>)>);

impl figure::Figure for Curves {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        for (panel, (name, records)) in root.split_evenly((1, self.0.len())).iter().zip(&self.0) {
            let epochs = records.iter().filter(|r| r.end_of_epoch).count().max(2) as f64 - 1.0;
            let mut chart = ChartBuilder::on(panel)
                .caption(*name, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(0.0..epochs, 0.0..1.0)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc("accuracy")
                .draw()?;
            for (label, color, value) in [
                (
                    "train",
                    BLUE,
                    (|r: &EvaluationRecord| r.train.accuracy) as fn(&EvaluationRecord) -> f64,
                ),
                ("test", RED, |r: &EvaluationRecord| r.validation.accuracy),
            ] {
                let line = records
                    .iter()
                    .filter(|r| r.end_of_epoch)
                    .map(|r| (r.epoch as f64, value(r)));
                chart
                    .draw_series(LineSeries::new(line, color.stroke_width(2)))?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .border_style(BLACK)
                .draw()?;
        }
        Ok(())
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    figure::check_new(&args.plot, args.force)?;
    let mnist = data::load_mnist(&data::prepare_mnist(args.data.as_deref(), &mut |_| {})?)?;
    let train_set = mnist.train.first(300);
    let sets = (&train_set, &mnist.test);
    // The test set plays the validation set's part, as in the book's figure.
    let trainer = Trainer::new().epochs(args.epochs).seed(args.seed);
    let decayed = trainer.clone().weight_decay(args.weight_decay);
    let plain = Plain::<f32>::with_weight_init(WeightInit::He, &mut trainer.initialisation());
    let runs = [
        ("plain", evaluations(&mut plain.clone(), sets, &trainer)?),
        (
            "weight decay",
            evaluations(&mut plain.clone(), sets, &decayed)?,
        ),
        (
            "Dropout 0.2",
            evaluations(
                &mut Dropped::<f32>::with_weight_init(
                    WeightInit::He,
                    &mut trainer.initialisation(),
                ),
                sets,
                &trainer,
            )?,
        ),
    ];
    println!(
        "{:<14} {:>10} {:>10} {:>10}",
        "", "train acc", "test acc", "gap"
    );
    for (name, records) in &runs {
        let last = records.last().ok_or("no evaluation")?;
        println!(
            "{name:<14} {:>10.4} {:>10.4} {:>10.4}",
            last.train.accuracy,
            last.validation.accuracy,
            last.train.accuracy - last.validation.accuracy
        );
    }
    figure::save(&args.plot, (1500, 500), &Curves(runs.into()))?;
    println!("drew the accuracy curves to {}", args.plot.display());
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
