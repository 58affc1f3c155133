//! Chapter 8 of Deep Learning from Scratch (`ch08/train_deepnet.py`): the book's deep
//! CNN, six 3×3 convolutions of 16, 16, 32, 32, 64 and 64 filters (the fourth with pad
//! 2), three max pools, Affine 1024→50, Dropout 0.5, Affine 50→10, Dropout 0.5, He
//! initialisation, trained as SimpleConvNet is: 20 epochs of 600 steps of batch 100,
//! Adam at 0.001, an evaluation on the first 1000 images per epoch and on the test set
//! at the end.
//!
//! `--misclassified FILE` draws the first 20 misclassified test images with their
//! label and prediction (the book's `misclassified_mnist.py`). Every run ends with the
//! book's `half_float_network.py`: the test accuracy computed in f64, in f32, and with
//! the parameters rounded to f16 and computed in f32.

#[path = "common/book_nets.rs"]
mod book_nets;
#[path = "common/cli.rs"]
mod cli;
#[path = "common/convnet.rs"]
mod convnet;
#[path = "common/curves.rs"]
mod curves;
#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::data::{Dataset, MiniBatch, Mnist};
use backprop::prelude::*;
use backprop::train::{End, Trainer};
use book_nets::DeepConvNet;
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Train chapter 8's deep CNN on MNIST with the book's settings.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Draw the first 20 misclassified test images, with label and prediction, to FILE
    /// (.svg or .png), as the book's misclassified_mnist.py, and list them.
    #[arg(long, value_name = "FILE")]
    misclassified: Option<PathBuf>,
    #[command(flatten)]
    run: convnet::RunOptions,
    #[command(flatten)]
    common: cli::Common,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::exit_code(convnet::run_in_precision(
        &args.common,
        &[&args.misclassified],
        |mnist| train::<f32>(&args, mnist),
        |mnist| train::<f64>(&args, mnist),
    ))
}

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<End, cli::Failure> {
    let trainer = convnet::trainer(&args.common, &args.run, mnist.train.len())?;
    let mut net = DeepConvNet::<T>::new(&mut trainer.0.initialisation());
    let end = match &args.common.load {
        Some(path) => convnet::evaluate_saved(&mut net, path, mnist, &args.common)?,
        None => match convnet::train("DeepConvNet", trainer, &mut net, mnist, &args.common)? {
            Some(outcome) => outcome.end,
            None => return Ok(End::Stopped),
        },
    };
    if let Some(path) = &args.misclassified {
        let mistakes = misclassified(&net, &mnist.test, 20)?;
        for m in &mistakes {
            println!(
                "test image {}: label {}, predicted {}",
                m.index, m.label, m.predicted
            );
        }
        figure::save(path, (1000, 860), &Mistakes(&mistakes))?;
        println!("drew them to {}", path.display());
    }
    precisions(&net, &mnist.test)?;
    Ok(end)
}

/// A test image the network gets wrong.
struct Mistake {
    index: usize,
    label: usize,
    predicted: usize,
    pixels: Vec<u8>,
}

/// The first `count` misclassified images of `data`, in order.
fn misclassified<T: Float>(
    net: &DeepConvNet<T>,
    data: &Dataset,
    count: usize,
) -> Result<Vec<Mistake>, cli::Failure> {
    let mut mistakes = Vec::with_capacity(count);
    let mut batch = MiniBatch::<T, 784>::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(1000) {
        batch.fill(data, chunk)?;
        let predicted = net.predict(&batch.x).classes();
        for ((&index, &label), &guess) in chunk.iter().zip(&batch.labels).zip(&predicted) {
            if label != guess && mistakes.len() < count {
                let pixels = data.image(index).ok_or("an index past the data set")?;
                mistakes.push(Mistake {
                    index,
                    label,
                    predicted: guess,
                    pixels: pixels.to_vec(),
                });
            }
        }
        if mistakes.len() == count {
            break;
        }
    }
    Ok(mistakes)
}

/// The misclassified images, five to a row, each titled with its label and prediction.
struct Mistakes<'a>(&'a [Mistake]);

impl figure::Figure for Mistakes<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let cells = root.margin(10, 10, 10, 10).split_evenly((4, 5));
        for (cell, mistake) in cells.iter().zip(self.0) {
            let title = format!("label {}, predicted {}", mistake.label, mistake.predicted);
            let cell = cell.titled(&title, ("sans-serif", 20))?;
            let (width, height) = cell.dim_in_pixel();
            let side = (width.min(height) as i32 - 4) / 28;
            for (i, &p) in mistake.pixels.iter().enumerate() {
                let (x, y) = ((i % 28) as i32 * side, (i / 28) as i32 * side);
                // Dark ink on white, as the book draws them (`cmap=gray_r`).
                let grey = 255 - p;
                cell.draw(&Rectangle::new(
                    [(x, y), (x + side, y + side)],
                    RGBColor(grey, grey, grey).filled(),
                ))?;
            }
        }
        Ok(())
    }
}

/// The book's `half_float_network.py`: the trained parameters' test accuracy computed
/// in f64, in f32, and rounded to f16 (the `half` crate) and computed in f32.
fn precisions<T: Float>(net: &DeepConvNet<T>, test: &Dataset) -> Result<(), cli::Failure> {
    let mut values: Vec<Vec<f64>> = Vec::new();
    net.visit_parameters(&mut |p| values.push(p.value.iter().map(|v| v.as_f64()).collect()));
    fn with<U: Float>(values: &[Vec<f64>], round: impl Fn(f64) -> U) -> DeepConvNet<U> {
        let mut net = DeepConvNet::<U>::new(&mut Trainer::new().initialisation());
        let mut tensors = values.iter();
        net.visit_parameters_mut(&mut |mut p| {
            let saved = tensors
                .next()
                .expect("the same network has the same tensors");
            p.value
                .iter_mut()
                .zip(saved)
                .for_each(|(v, &s)| *v = round(s));
        });
        net
    }
    let in_f64 = with::<f64>(&values, |v| v).evaluate(test)?.accuracy;
    let in_f32 = with::<f32>(&values, |v| v as f32).evaluate(test)?.accuracy;
    let in_f16 = with::<f32>(&values, |v| half::f16::from_f64(v).to_f32())
        .evaluate(test)?
        .accuracy;
    println!(
        "test accuracy computed in f64 {in_f64:.4}, in f32 {in_f32:.4}, with the parameters in f16 {in_f16:.4}"
    );
    Ok(())
}
