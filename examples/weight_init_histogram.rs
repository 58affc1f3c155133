//! The book's `weight_init_activation_histogram.py` (section 6.2.2): 1,000 inputs of
//! 100 standard-normal values through 5 layers of 100 (no bias), with weights of std 1,
//! 0.01, Xavier's √(1/n) and He's √(2/n), after sigmoid, ReLU or tanh; prints each
//! layer's activations and draws their histograms, 30 bins, as the book.
//!
//! `cargo run --release --example weight_init_histogram -- --activation sigmoid`

#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::layers::{Affine, Layer, Relu, Sigmoid, Tanh};
use backprop::ndarray::Array2;
use backprop::train::Streams;
use backprop::{Buffer, WeightInit};
use clap::{Parser, ValueEnum};
use plotters::coord::Shift;
use plotters::prelude::*;
use rand::RngExt;
use rand_distr::StandardNormal;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Activation {
    Sigmoid,
    Relu,
    Tanh,
}

/// How the initial weights shape the activations of a deep network.
#[derive(Parser, Debug)]
struct Args {
    /// The activation after each layer.
    #[arg(long, value_enum, default_value_t = Activation::Sigmoid)]
    activation: Activation,
    /// Seed of the inputs and the weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the histograms (initialisations × layers) to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "weight_init_histogram.svg")]
    plot: PathBuf,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

const LAYERS: usize = 5;
const BINS: usize = 30;

/// Each layer's activations for the inputs `x`, weights drawn as `init` says.
fn activations(
    x: &Array2<f64>,
    init: WeightInit,
    activation: Activation,
    streams: Streams,
) -> Vec<Vec<f64>> {
    let mut rng = streams.initialisation();
    let mut h = x.clone();
    let mut scratch = Buffer::new();
    (0..LAYERS)
        .map(|_| {
            // Biases start at zero: the book's layers without bias, at initialisation.
            let affine = Affine::<f64, 100, 100>::new(init.std(100), &mut rng);
            let z = affine.infer(h.view(), &mut scratch).to_owned();
            let mut out = Buffer::new();
            h = match activation {
                Activation::Sigmoid => Sigmoid::<f64, 100>::new()
                    .infer(z.view(), &mut out)
                    .to_owned(),
                Activation::Relu => Relu::<f64, 100>::new().infer(z.view(), &mut out).to_owned(),
                Activation::Tanh => Tanh::<f64, 100>::new().infer(z.view(), &mut out).to_owned(),
            };
            h.iter().copied().collect()
        })
        .collect()
}

/// The range the histograms cover: the book's (0, 1), or (−1, 1) for tanh.
fn range(activation: Activation) -> (f64, f64) {
    match activation {
        Activation::Tanh => (-1.0, 1.0),
        _ => (0.0, 1.0),
    }
}

fn histogram(values: &[f64], (low, high): (f64, f64)) -> [usize; BINS] {
    let mut counts = [0; BINS];
    for &v in values.iter().filter(|&&v| v > low && v < high) {
        counts[(((v - low) / (high - low)) * BINS as f64) as usize] += 1;
    }
    counts
}

struct Histograms {
    range: (f64, f64),
    rows: Vec<(&'static str, Vec<Vec<f64>>)>,
}

impl figure::Figure for Histograms {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let panels = root.split_evenly((self.rows.len(), LAYERS));
        let (low, high) = self.range;
        let width = (high - low) / BINS as f64;
        for (r, (name, layers)) in self.rows.iter().enumerate() {
            for (l, values) in layers.iter().enumerate() {
                let counts = histogram(values, self.range);
                let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
                let mut chart = ChartBuilder::on(&panels[r * LAYERS + l])
                    .caption(format!("{name}, layer {}", l + 1), ("sans-serif", 13))
                    .margin(5)
                    .x_label_area_size(16)
                    .y_label_area_size(48)
                    .build_cartesian_2d(low..high, 0.0..top)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(3)
                    .y_labels(3)
                    .draw()?;
                chart.draw_series(counts.iter().enumerate().map(|(b, &c)| {
                    let x = low + b as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, c as f64)], BLUE.mix(0.7).filled())
                }))?;
            }
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let run = || -> Result<(), String> {
        figure::check_new(&args.plot, args.force)?;
        let streams = Streams::new(args.seed);
        let mut rng = streams.sampling(0);
        let x = Array2::from_shape_simple_fn((1000, 100), || rng.sample(StandardNormal));
        let inits = [
            ("std 1", WeightInit::Std(1.0)),
            ("std 0.01", WeightInit::Std(0.01)),
            ("Xavier", WeightInit::Xavier),
            ("He", WeightInit::He),
        ];
        println!(
            "{:<9} {:>6} {:>9} {:>9} {:>22}",
            "weights", "layer", "mean", "std", "in the first/last bin"
        );
        let mut rows = Vec::new();
        for (name, init) in inits {
            let layers = activations(&x, init, args.activation, streams);
            for (l, values) in layers.iter().enumerate() {
                let n = values.len() as f64;
                let mean = values.iter().sum::<f64>() / n;
                let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                let counts = histogram(values, range(args.activation));
                let (first, last) = (counts[0] as f64 / n, counts[BINS - 1] as f64 / n);
                println!(
                    "{name:<9} {:>6} {mean:>9.4} {std:>9.4} {first:>11.3} / {last:.3}",
                    l + 1
                );
            }
            rows.push((name, layers));
        }
        let histograms = Histograms {
            range: range(args.activation),
            rows,
        };
        figure::save(&args.plot, (1500, 900), &histograms)?;
        println!("drew the histograms to {}", args.plot.display());
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
