//! What the convolutional examples share: the data (any IDX set of 28×28 images), the
//! book's training of chapters 7 and 8 (batches of 100 drawn with replacement, Adam at
//! 0.001, an evaluation on the first images of each set per epoch and on the test set
//! at the end), what a run prints and writes, and `--load`.

use std::path::PathBuf;
use std::time::Instant;

use backprop::data::{self, Mnist};
use backprop::optim::Adam;
use backprop::prelude::*;
use backprop::train::{End, Length, Outcome, Reporter, Trainer};

use crate::{cli, curves, figure};

/// The options of the chapter 7 and 8 examples beside the common ones.
#[derive(clap::Args, Debug)]
pub struct RunOptions {
    /// Epochs of 600 steps (60,000 images in batches of 100).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Train for this many steps instead of whole epochs (shortened runs).
    #[arg(long, conflicts_with = "epochs")]
    pub iters: Option<usize>,
    /// Evaluate each epoch on the first N images of each set (the book's 1000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub evaluation_samples: usize,
}

/// Prepares the data (see [`prepare`]), then trains with `train_f32`, or with
/// `train_f64` under `--f64`.
pub fn run_in_precision(
    common: &cli::Common,
    outputs: &[&Option<PathBuf>],
    train_f32: impl FnOnce(&Mnist) -> Result<End, cli::Failure>,
    train_f64: impl FnOnce(&Mnist) -> Result<End, cli::Failure>,
) -> Result<End, cli::Failure> {
    let mnist = prepare(common, outputs)?;
    if common.f64 {
        train_f64(&mnist)
    } else {
        train_f32(&mnist)
    }
}

/// Applies `--threads`, refuses to replace any of `outputs` (and the common ones)
/// without `--force`, and loads the data, which must be of 28×28 images.
pub fn prepare(common: &cli::Common, outputs: &[&Option<PathBuf>]) -> Result<Mnist, cli::Failure> {
    cli::set_threads(common.threads)?;
    for path in [&common.save, &common.plot, &common.onnx]
        .iter()
        .chain(outputs)
        .copied()
        .flatten()
    {
        figure::check_new(path, common.force)?;
    }
    let dir = data::prepare_mnist(common.data.as_deref(), &mut cli::show_download)
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
    Ok(mnist)
}

/// The book's trainer for these options, and the seed it uses.
pub fn trainer(
    common: &cli::Common,
    run: &RunOptions,
    train_len: usize,
) -> Result<(Trainer, u64), cli::Failure> {
    let seed = common.seed.unwrap_or_else(rand::random);
    let mut trainer = Trainer::new()
        .length(match run.iters {
            Some(steps) => Length::Iterations(steps),
            None => Length::Epochs(run.epochs),
        })
        .evaluation_samples(run.evaluation_samples)
        .seed(seed)
        .replace_checkpoint(common.force);
    if let Some(path) = &common.checkpoint {
        trainer = trainer.checkpoint(path);
    }
    if let Some(path) = &common.resume {
        trainer = trainer.resume(path);
    }
    let (steps, per_epoch) = (trainer.steps(train_len), trainer.steps_per_epoch(train_len));
    let schedule = cli::schedule(&common.schedule, steps, per_epoch)?;
    Ok((trainer.schedule(schedule), seed))
}

/// `--load FILE`: the model's test accuracy and how long its evaluation took; then
/// `--onnx` if given.
pub fn evaluate_saved<T: Float, N: Network<T>>(
    net: &mut N,
    path: &std::path::Path,
    mnist: &Mnist,
    common: &cli::Common,
) -> Result<End, cli::Failure> {
    cli::load_model(net, path)?;
    let started = Instant::now();
    let test = net.evaluate(&mnist.test)?;
    println!(
        "{}: test acc {:.4} (the 10,000 test images evaluated in {:.2} s)",
        path.display(),
        test.accuracy,
        started.elapsed().as_secs_f64()
    );
    cli::save_model(net, common)?;
    Ok(End::Finished)
}

/// Trains `net` (called `name`) with Adam at the book's 0.001, showing the book's table
/// with the time and an ETA; then prints the final accuracy and the times and writes
/// what the common options ask for (report, model, curves). `None` when Ctrl-C stopped
/// the run.
pub fn train<T: Float, N: Network<T>>(
    name: &str,
    (trainer, seed): (Trainer, u64),
    net: &mut N,
    mnist: &Mnist,
    common: &cli::Common,
) -> Result<Option<Outcome>, cli::Failure> {
    let mut adam = Adam::<T>::default();
    if !common.quiet {
        println!("{}", net.summary());
        println!(
            "{} steps of batch 100 with adam at lr {} ({}), {}, seed {seed}",
            trainer.steps(mnist.train.len()),
            adam.learning_rate(),
            common.schedule,
            std::any::type_name::<T>()
        );
    }
    let mut reporter = Reporter::new().validation_label("test");
    if common.quiet {
        reporter = reporter.quiet();
    }
    let wall = Instant::now();
    let outcome = trainer.stop_on_ctrl_c()?.fit_reporting(
        net,
        &mut adam,
        &mnist.train,
        &mnist.test,
        &mut |event| reporter.report(event),
    )?;
    let timing = reporter.timing();
    drop(reporter); // clears the bar
    if outcome.end == End::Stopped {
        cli::say_stopped(outcome.steps_done, common.checkpoint.as_ref());
        return Ok(None);
    }
    let steps = outcome.history.losses.len();
    let last = outcome
        .history
        .evaluations
        .last()
        .ok_or("the run made no evaluation")?;
    let evaluating = Instant::now();
    let test = net.evaluate(&mnist.test)?;
    let test_seconds = evaluating.elapsed().as_secs_f64();
    let ms_per_step = timing.training.as_secs_f64() * 1e3 / steps.max(1) as f64;
    println!(
        "after the last step ({steps}): train acc {:.4}, test acc {:.4}",
        last.train.accuracy, test.accuracy
    );
    println!(
        "training {:.1} s ({ms_per_step:.2} ms/step), evaluations {:.1} s, the 10,000 test images in {test_seconds:.2} s; wall {:.1} s",
        timing.training.as_secs_f64(),
        timing.evaluation.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    if let Some(path) = &common.report {
        let json = format!(
            "{{\"implementation\": \"backprop\", \"dtype\": \"{}\", \"seed\": {seed}, \"steps\": {steps}, \
             \"ms_per_step\": {ms_per_step}, \"test_eval_seconds\": {test_seconds}, \
             \"wall_seconds\": {}, \"final_test_accuracy\": {}}}\n",
            if common.f64 { "float64" } else { "float32" },
            wall.elapsed().as_secs_f64(),
            test.accuracy
        );
        std::fs::write(path, json)?;
    }
    cli::save_model(net, common)?;
    if let Some(path) = &common.plot {
        let title = format!(
            "{name} on MNIST: {steps} steps, batch 100, adam, {}",
            std::any::type_name::<T>()
        );
        let history = &outcome.history;
        curves::draw(path, &title, "test", &history.evaluations, &history.losses)?;
        println!("drew the learning curves to {}", path.display());
    }
    Ok(Some(outcome))
}
