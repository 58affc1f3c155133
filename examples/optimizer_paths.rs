//! The book's `optimizer_compare_naive.py` (section 6.1.7): SGD, Momentum, AdaGrad and
//! Adam, the library's own, minimising f(x, y) = x²/20 + y² from (−7, 2) for 30 steps
//! at the book's learning rates; prints where each ends and draws the contours with
//! the four paths.
//!
//! `cargo run --release --example optimizer_paths -- --plot paths.svg`

#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::optim::{AdaGrad, Adam, Momentum, Optimizer, Sgd};
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Four optimizers on the book's elongated bowl, side by side.
#[derive(Parser, Debug)]
struct Args {
    /// Draw the contours and the paths to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "optimizer_paths.svg")]
    plot: PathBuf,
    /// Steps of each optimizer.
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Accepted for symmetry with the other chapter 6 examples: nothing here is random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Let --plot replace an existing file.
    #[arg(long)]
    force: bool,
}

/// The book's function and its gradient.
fn f(x: f64, y: f64) -> f64 {
    x * x / 20.0 + y * y
}

fn gradient(x: f64, y: f64) -> [f64; 2] {
    [x / 10.0, 2.0 * y]
}

/// The points `optimizer` visits from the book's start, the start included.
fn path(optimizer: &mut dyn Optimizer<f64>, steps: usize) -> Vec<[f64; 2]> {
    let mut point = [-7.0, 2.0];
    let mut points = vec![point];
    for _ in 0..steps {
        optimizer.begin_update();
        let g = gradient(point[0], point[1]);
        optimizer.update_parameter(0, &mut point, &g);
        points.push(point);
    }
    points
}

struct Paths(Vec<(&'static str, Vec<[f64; 2]>)>);

impl figure::Figure for Paths {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let panels = root.split_evenly((2, 2));
        let colors = [RED, BLUE, GREEN, MAGENTA];
        for ((panel, (name, points)), color) in panels.iter().zip(&self.0).zip(colors) {
            let mut chart = ChartBuilder::on(panel)
                .caption(*name, ("sans-serif", 20))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(35)
                .build_cartesian_2d(-10.0..10.0, -5.0..5.0)?;
            chart.configure_mesh().disable_mesh().draw()?;
            // Contours of f at the levels the book's figure shows.
            for level in [0.5, 1.0, 2.0, 4.0, 8.0, 16.0] {
                let ellipse = (0..=200).map(|i| {
                    let t = i as f64 / 200.0 * std::f64::consts::TAU;
                    ((20.0f64 * level).sqrt() * t.cos(), level.sqrt() * t.sin())
                });
                chart.draw_series(LineSeries::new(ellipse, RGBColor(190, 190, 190)))?;
            }
            let line = points.iter().map(|p| (p[0], p[1]));
            chart.draw_series(LineSeries::new(line, color.stroke_width(2)))?;
            chart.draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p[0], p[1]), 3, color.filled())),
            )?;
            chart.draw_series([Cross::new((0.0, 0.0), 6, BLACK.stroke_width(2))])?;
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let run = || -> Result<(), String> {
        figure::check_new(&args.plot, args.force)?;
        let mut optimizers: [(&str, Box<dyn Optimizer<f64>>); 4] = [
            ("SGD, lr 0.95", Box::new(Sgd { lr: 0.95 })),
            (
                "Momentum, lr 0.1",
                Box::new(Momentum::<f64>::new(0.1, 0.9).map_err(|e| e.to_string())?),
            ),
            (
                "AdaGrad, lr 1.5",
                Box::new(AdaGrad::<f64>::new(1.5).map_err(|e| e.to_string())?),
            ),
            (
                "Adam, lr 0.3",
                Box::new(Adam::<f64>::new(0.3, 0.9, 0.999).map_err(|e| e.to_string())?),
            ),
        ];
        println!(
            "{:<18} {:>10} {:>10} {:>12} {:>14}",
            "optimizer", "x", "y", "f(x, y)", "to the minimum"
        );
        let mut paths = Vec::new();
        for (name, optimizer) in &mut optimizers {
            let points = path(optimizer.as_mut(), args.steps);
            let [x, y] = *points.last().expect("the start is a point");
            println!(
                "{name:<18} {x:>10.4} {y:>10.4} {:>12.6} {:>14.4}",
                f(x, y),
                x.hypot(y)
            );
            paths.push((*name, points));
        }
        figure::save(&args.plot, (1000, 700), &Paths(paths))?;
        println!("drew the paths to {}", args.plot.display());
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
