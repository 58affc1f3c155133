//! Chapter 7 of Deep Learning from Scratch (`ch07/train_convnet.py`): the book's
//! SimpleConvNet, conv 30×5×5 → ReLU → max pool 2×2 → Affine 100 → ReLU → Affine 10,
//! trained on MNIST with the book's settings: 20 epochs of 600 steps of batch 100 drawn
//! with replacement, Adam at 0.001, every weight drawn with std 0.01, an evaluation on
//! the first 1000 training and test images per epoch and on the full sets at the end.
//!
//! `cargo run --release --example simple_convnet -- --help` lists the options; `--filters
//! FILE` draws the 30 first-layer filters before and after training (the book's
//! `visualize_filter.py`). Any IDX data set of 28×28 images works (Fashion-MNIST too).

#[path = "common/cli.rs"]
mod cli;
#[path = "common/curves.rs"]
mod curves;
#[path = "common/figure.rs"]
mod figure;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use backprop::data::{self, Mnist};
use backprop::model_file::{self, Overwrite};
use backprop::optim::Adam;
use backprop::prelude::*;
use backprop::train::{End, Length, Reporter, Trainer};
use clap::Parser;
use plotters::coord::Shift;
use plotters::prelude::*;

network! {
    /// The book's SimpleConvNet: every shape below is computed by the macro, so
    /// `Affine(_, 100)` takes 30·12·12 = 4,320 features.
    pub struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// Train chapter 7's SimpleConvNet on MNIST with the book's settings.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Epochs of 600 steps (60,000 images in batches of 100).
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Train for this many steps instead of whole epochs (shortened runs).
    #[arg(long, conflicts_with = "epochs")]
    iters: Option<usize>,
    /// Evaluate each epoch on the first N images of each set (the book's 1000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    evaluation_samples: usize,
    /// Draw the 30 first-layer filters before and after training to FILE (.svg or
    /// .png), as the book's visualize_filter.py.
    #[arg(long, value_name = "FILE")]
    filters: Option<PathBuf>,
    #[command(flatten)]
    common: cli::Common,
}

fn main() -> ExitCode {
    cli::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> Result<End, cli::Failure> {
    cli::set_threads(args.common.threads)?;
    for path in [&args.common.save, &args.common.plot, &args.filters]
        .into_iter()
        .flatten()
    {
        figure::check_new(path, args.common.force)?;
    }
    let dir = data::prepare_mnist(args.common.data.as_deref(), &mut cli::show_download)
        .map_err(|e| format!("{e}\n(--data DIR names the data folder)"))?;
    let mnist = data::load_mnist(&dir)?;
    if (mnist.train.height(), mnist.train.width()) != (28, 28) {
        return Err(format!(
            "{}: expected images of 28×28 pixels, found {}×{}",
            dir.display(),
            mnist.train.height(),
            mnist.train.width()
        )
        .into());
    }
    if args.common.f64 {
        train::<f64>(args, &mnist)
    } else {
        train::<f32>(args, &mnist)
    }
}

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<End, cli::Failure> {
    let seed = args.common.seed.unwrap_or_else(rand::random);
    let mut trainer = Trainer::new()
        .length(match args.iters {
            Some(steps) => Length::Iterations(steps),
            None => Length::Epochs(args.epochs),
        })
        .evaluation_samples(args.evaluation_samples)
        .seed(seed)
        .replace_checkpoint(args.common.force);
    if let Some(path) = &args.common.checkpoint {
        trainer = trainer.checkpoint(path);
    }
    if let Some(path) = &args.common.resume {
        trainer = trainer.resume(path);
    }
    let steps = trainer.steps(mnist.train.len());
    let per_epoch = trainer.steps_per_epoch(mnist.train.len());
    trainer = trainer.schedule(cli::schedule(&args.common.schedule, steps, per_epoch)?);
    let mut net = SimpleConvNet::<T>::new(&mut trainer.initialisation());

    if let Some(path) = &args.common.load {
        cli::load_model(&mut net, path)?;
        let started = Instant::now();
        let test = net.evaluate(&mnist.test)?;
        println!(
            "{}: test acc {:.4} (the 10,000 test images evaluated in {:.2} s)",
            path.display(),
            test.accuracy,
            started.elapsed().as_secs_f64()
        );
        return Ok(End::Finished);
    }
    let initial_filters = net.conv1.W.clone();
    let mut adam = Adam::<T>::default();
    if !args.common.quiet {
        println!("{}", net.summary());
        println!(
            "{steps} steps of batch 100 with adam at lr {} ({}), {}, seed {seed}",
            adam.learning_rate(),
            args.common.schedule,
            std::any::type_name::<T>()
        );
    }
    let mut reporter = Reporter::new().validation_label("test");
    if args.common.quiet {
        reporter = reporter.quiet();
    }
    let wall = Instant::now();
    let outcome = trainer.stop_on_ctrl_c()?.fit_reporting(
        &mut net,
        &mut adam,
        &mnist.train,
        &mnist.test,
        &mut |event| reporter.report(event),
    )?;
    let timing = reporter.timing();
    drop(reporter); // clears the bar
    if outcome.end == End::Stopped {
        cli::say_stopped(outcome.steps_done, args.common.checkpoint.as_ref());
        return Ok(End::Stopped);
    }
    let history = &outcome.history;
    let last = history
        .evaluations
        .last()
        .ok_or("the run made no evaluation")?;
    let evaluating = Instant::now();
    let test = net.evaluate(&mnist.test)?;
    let test_seconds = evaluating.elapsed().as_secs_f64();
    let ms_per_step = timing.training.as_secs_f64() * 1e3 / history.losses.len().max(1) as f64;
    println!(
        "after the last step ({}): train acc {:.4}, test acc {:.4}",
        history.losses.len(),
        last.train.accuracy,
        test.accuracy
    );
    println!(
        "training {:.1} s ({ms_per_step:.2} ms/step), evaluations {:.1} s, the 10,000 test images in {test_seconds:.2} s; wall {:.1} s",
        timing.training.as_secs_f64(),
        timing.evaluation.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.common.report {
        let json = format!(
            "{{\"implementation\": \"backprop\", \"dtype\": \"{}\", \"seed\": {seed}, \"steps\": {}, \
             \"ms_per_step\": {ms_per_step}, \"test_eval_seconds\": {test_seconds}, \
             \"wall_seconds\": {}, \"final_test_accuracy\": {}}}\n",
            if args.common.f64 {
                "float64"
            } else {
                "float32"
            },
            history.losses.len(),
            wall.elapsed().as_secs_f64(),
            test.accuracy
        );
        std::fs::write(path, json)?;
    }
    if let Some(path) = &args.common.save {
        let overwrite = if args.common.force {
            Overwrite::Allowed
        } else {
            Overwrite::Never
        };
        model_file::save(&net, path, overwrite)?;
        println!("saved the parameters to {}", path.display());
    }
    if let Some(path) = &args.common.plot {
        let title = format!(
            "SimpleConvNet on MNIST: {} steps, batch 100, adam, {}",
            history.losses.len(),
            std::any::type_name::<T>()
        );
        curves::draw(path, &title, "test", &history.evaluations, &history.losses)?;
        println!("drew the learning curves to {}", path.display());
    }
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
