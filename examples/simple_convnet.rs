//! Chapter 7 of Deep Learning from Scratch (`ch07/train_convnet.py`): the book's
//! SimpleConvNet, conv 30×5×5 → ReLU → max pool 2×2 → Affine 100 → ReLU → Affine 10,
//! trained on MNIST with the book's settings: 20 epochs of 600 steps of batch 100 drawn
//! with replacement, Adam at 0.001, every weight drawn with std 0.01, an evaluation on
//! the first 1000 training and test images per epoch and on the full sets at the end.
//!
//! `cargo run --release --example simple_convnet -- --help` lists the options; `--filters
//! FILE` draws the 30 first-layer filters before and after training (the book's
//! `visualize_filter.py`). Any IDX data set of 28×28 images works (Fashion-MNIST too).

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

use backprop::data::Mnist;
use backprop::prelude::*;
use backprop::train::End;
use book_nets::SimpleConvNet;
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Train chapter 7's SimpleConvNet on MNIST with the book's settings.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Draw the 30 first-layer filters before and after training to FILE (.svg or
    /// .png), as the book's visualize_filter.py.
    #[arg(long, value_name = "FILE")]
    filters: Option<PathBuf>,
    #[command(flatten)]
    run: convnet::RunOptions,
    #[command(flatten)]
    common: cli::Common,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::exit_code(convnet::run_in_precision(
        &args.common,
        &[&args.filters],
        |mnist| train::<f32>(&args, mnist),
        |mnist| train::<f64>(&args, mnist),
    ))
}

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<End, cli::Failure> {
    let trainer = convnet::trainer(&args.common, &args.run, mnist.train.len())?;
    let mut net = SimpleConvNet::<T>::new(&mut trainer.0.initialisation());
    if let Some(path) = &args.common.load {
        return convnet::evaluate_saved(&mut net, path, mnist, &args.common);
    }
    let initial_filters = net.conv1.W.clone();
    let Some(outcome) = convnet::train("SimpleConvNet", trainer, &mut net, mnist, &args.common)?
    else {
        return Ok(End::Stopped);
    };
    if let Some(path) = &args.filters {
        let to_f64 = |w: &backprop::ndarray::Array4<T>| w.mapv(|v| v.as_f64());
        let filters = Filters {
            before: to_f64(&initial_filters),
            after: to_f64(&net.conv1.W),
        };
        figure::save(path, (1000, 560), &filters)?;
        println!("drew the first layer's filters to {}", path.display());
    }
    Ok(outcome.end)
}

/// The first layer's filters, (30, 1, 5, 5), before and after training.
struct Filters {
    before: backprop::ndarray::Array4<f64>,
    after: backprop::ndarray::Array4<f64>,
}

impl figure::Figure for Filters {
    /// Each filter as a 5×5 grey image scaled to its own range, dark for large values
    /// (the book's `imshow` with `cmap=gray_r`), six to a row.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        for (panel, (title, filters)) in panels.iter().zip([
            ("before training", &self.before),
            ("after training", &self.after),
        ]) {
            let panel = panel.titled(title, ("sans-serif", 24))?;
            let cells = panel.margin(10, 10, 10, 10).split_evenly((5, 6));
            for (cell, filter) in cells.iter().zip(filters.outer_iter()) {
                let (low, high) = filter
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                        (l.min(v), h.max(v))
                    });
                let (rows, cols) = (filter.shape()[1], filter.shape()[2]);
                let (width, height) = cell.dim_in_pixel();
                let side = (width.min(height) as i32 - 8) / rows.max(cols) as i32;
                for ((_, i, j), &v) in filter.indexed_iter() {
                    let dark = ((v - low) / (high - low).max(f64::MIN_POSITIVE) * 255.0) as u8;
                    let grey = 255 - dark;
                    let (x, y) = (j as i32 * side, i as i32 * side);
                    cell.draw(&Rectangle::new(
                        [(x, y), (x + side, y + side)],
                        RGBColor(grey, grey, grey).filled(),
                    ))?;
                }
            }
        }
        Ok(())
    }
}
