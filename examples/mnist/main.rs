//! Trains the book's two-layer network on MNIST (Deep Learning from Scratch, section
//! 5.7.4): 784-50-10, 10,000 mini-batch SGD steps of 100 samples at learning rate 0.1,
//! with train and test accuracy over the full sets once per epoch.
//!
//! `cargo run --release --example mnist -- --help` lists the options. The data comes
//! from `--data DIR`, else `$MNIST_DIR`, else `./data/mnist`, which is downloaded on
//! first use.

#[path = "../common/book_nets.rs"]
mod book_nets;
#[path = "../common/cli.rs"]
mod cli;
#[path = "../common/figure.rs"]
mod figure;
#[path = "../common/curves.rs"]
mod plot;

use std::process::ExitCode;
use std::time::Instant;

use backprop::data::{self, Mnist, SamplingMode};
use backprop::optim;
use backprop::prelude::*;
use backprop::train::{End, Length, Reporter, Trainer};
use book_nets::TwoLayerNet;
use clap::Parser;

/// Train the book's two-layer network (784-50-10) on MNIST.
///
/// The defaults are the book's section 5.7.4. The network's widths are part of its
/// type, fixed at compile time, so there is no option for the hidden size.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Training steps (mini-batch updates) [default: 10000].
    #[arg(long, conflicts_with = "epochs")]
    iters: Option<usize>,
    /// Train for this many epochs (of training-set size / batch size steps) instead.
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// The optimizer: sgd, momentum, nesterov, adagrad, rmsprop or adam.
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    /// Learning rate [default: the optimizer's book default, but 0.1 for sgd as the
    /// book's chapter 5].
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// The book's weight decay λ (0 for none).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    weight_decay: f64,
    /// Standard deviation of the initial weights (biases start at zero).
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    weight_init_std: f64,
    /// Hold out this fraction of the training set (stratified) for the evaluations
    /// during training; the test set is then used once, at the end [default: none,
    /// the book evaluates on the test set].
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true)]
    validation: Option<f64>,
    /// Stop once this many evaluations in a row have not lowered the validation loss,
    /// and keep the model of the best one.
    #[arg(long)]
    patience: Option<usize>,
    /// Draw each epoch as a shuffled pass over the set, instead of the book's sampling
    /// with replacement.
    #[arg(long)]
    shuffle: bool,
    #[command(flatten)]
    common: cli::Common,
}

fn main() -> ExitCode {
    cli::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> Result<End, cli::Failure> {
    cli::set_threads(args.common.threads)?;
    // Checked before training, so that a long run is not lost at the end (the trainer
    // checks the checkpoint path itself).
    for path in [&args.common.save, &args.common.plot, &args.common.onnx]
        .into_iter()
        .flatten()
    {
        figure::check_new(path, args.common.force)?;
    }
    let wall = Instant::now();
    let dir = data::prepare_mnist(args.common.data.as_deref(), &mut cli::show_download)
        .map_err(|e| format!("{e}\n(--data DIR names the data folder)"))?;
    let mnist = data::load_mnist(&dir)?;
    if !args.common.quiet {
        println!(
            "MNIST from {}: {} training and {} test images of {}×{}",
            dir.display(),
            mnist.train.len(),
            mnist.test.len(),
            mnist.train.height(),
            mnist.train.width()
        );
    }
    let end = if args.common.f64 {
        train::<f64>(args, &mnist)?
    } else {
        train::<f32>(args, &mnist)?
    };
    if !args.common.quiet {
        println!("wall time {:.2} s", wall.elapsed().as_secs_f64());
    }
    Ok(end)
}

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<End, cli::Failure> {
    let seed = args.common.seed.unwrap_or_else(rand::random);
    let (train_set, validation_set) = match args.validation {
        Some(fraction) => mnist
            .train
            .split(fraction, seed, true)
            .map_err(|e| format!("--validation {fraction}: {e}"))?,
        None => (mnist.train.clone(), mnist.test.clone()),
    };
    let validation_name = if args.validation.is_some() {
        "validation"
    } else {
        "test"
    };
    let mut trainer = Trainer::new()
        .length(match args.epochs {
            Some(epochs) => Length::Epochs(epochs),
            None => Length::Iterations(args.iters.unwrap_or(10_000)),
        })
        .sampling(match args.shuffle {
            true => SamplingMode::ShuffledEpochs,
            false => SamplingMode::WithReplacement,
        })
        .batch_size(args.batch_size)
        .weight_decay(args.weight_decay)
        .seed(seed)
        .replace_checkpoint(args.common.force);
    if let Some(patience) = args.patience {
        trainer = trainer.patience(patience).keep_best(true);
    }
    if let Some(path) = &args.common.checkpoint {
        trainer = trainer.checkpoint(path);
    }
    if let Some(path) = &args.common.resume {
        trainer = trainer.resume(path);
    }
    let steps = trainer.steps(train_set.len());
    let per_epoch = trainer.steps_per_epoch(train_set.len());
    trainer = trainer.schedule(cli::schedule(&args.common.schedule, steps, per_epoch)?);
    let mut network =
        TwoLayerNet::<T>::with_weight_init_std(args.weight_init_std, &mut trainer.initialisation());

    if let Some(path) = &args.common.load {
        cli::load_model(&mut network, path)?;
        let started = Instant::now();
        let (train, test) = (
            network.evaluate(&mnist.train)?,
            network.evaluate(&mnist.test)?,
        );
        println!(
            "{}: train acc {:.4}, test acc {:.4} (evaluated in {:.2} s)",
            path.display(),
            train.accuracy,
            test.accuracy,
            started.elapsed().as_secs_f64()
        );
        cli::save_model(&network, &args.common)?;
        return Ok(End::Finished);
    }
    // Refused before anything is trained: an initialisation that makes no sense too.
    if !(args.weight_init_std.is_finite() && args.weight_init_std > 0.0) {
        return Err(format!(
            "--weight-init-std {}: expected a finite number above 0",
            args.weight_init_std
        )
        .into());
    }
    let mut optimizer = optim::by_name::<T>(&args.optimizer)?;
    // Chapter 5 trains with SGD at 0.1; the other optimizers keep the book's defaults.
    let book_lr = if optimizer.name() == "sgd" {
        0.1
    } else {
        optimizer.learning_rate()
    };
    optimizer.set_learning_rate(args.lr.unwrap_or(book_lr));
    optimizer
        .validate()
        .map_err(|e| format!("--lr {}: {e}", optimizer.learning_rate()))?;
    trainer
        .validate()
        .map_err(|e| format!("{e} (see --help)"))?;
    if !args.common.quiet {
        println!("{}", network.summary());
        println!(
            "{steps} steps of batch {} with {} at lr {} ({}), weight decay {}, weight_init_std {}, {}, seed {seed}",
            args.batch_size,
            optimizer.name(),
            optimizer.learning_rate(),
            args.common.schedule,
            args.weight_decay,
            args.weight_init_std,
            std::any::type_name::<T>()
        );
    }

    let mut reporter = Reporter::new().validation_label(validation_name);
    if args.common.quiet {
        reporter = reporter.quiet();
    }
    let outcome = trainer.stop_on_ctrl_c()?.fit_reporting(
        &mut network,
        &mut optimizer,
        &train_set,
        &validation_set,
        &mut |event| reporter.report(event),
    )?;
    let timing = reporter.timing();
    drop(reporter); // clears the bar
    let history = &outcome.history;
    if outcome.end == End::Stopped {
        cli::say_stopped(outcome.steps_done, args.common.checkpoint.as_ref());
        return Ok(outcome.end);
    }
    let last = history
        .evaluations
        .last()
        .ok_or("the run made no evaluation")?;
    let steps = history.losses.len();
    if let Some(best) = outcome.best {
        let best = &history.evaluations[best];
        println!(
            "{} after {steps} steps; the model kept is that of step {} ({validation_name} loss {:.4})",
            if outcome.end == End::EarlyStopped {
                "stopped early"
            } else {
                "finished"
            },
            best.step,
            best.validation.loss
        );
    }
    let model = match outcome.best {
        Some(_) => "the model kept, on the full sets".to_owned(),
        None => format!("after the last step ({steps})"),
    };
    println!(
        "{model}: train acc {:.4}, {validation_name} acc {:.4}",
        last.train.accuracy, last.validation.accuracy
    );
    let test_accuracy = if args.validation.is_some() {
        let test = network.evaluate(&mnist.test)?.accuracy;
        println!("on the test set, used once: test acc {test:.4}");
        test
    } else {
        last.validation.accuracy
    };
    let book_last = history
        .evaluations
        .iter()
        .rev()
        .find(|r| r.end_of_epoch && r.step != last.step);
    if let Some(book) = book_last.filter(|_| !args.common.quiet) {
        println!(
            "at step {} (where the book's table ends): train acc {:.4}, {validation_name} acc {:.4}",
            book.step, book.train.accuracy, book.validation.accuracy
        );
    }
    let (train_s, eval_s) = (
        timing.training.as_secs_f64(),
        timing.evaluation.as_secs_f64(),
    );
    let evaluations = timing.evaluations;
    let us_per_step = train_s * 1e6 / steps as f64;
    println!(
        "training {train_s:.2} s ({:.0} steps/s, {us_per_step:.1} µs/step); evaluation {eval_s:.2} s ({evaluations} evaluations)",
        steps as f64 / train_s,
    );
    if let Some(path) = &args.common.report {
        let json = format!(
            "{{\"implementation\": \"backprop\", \"dtype\": \"{}\", \"seed\": {seed}, \"steps\": {steps}, \
             \"evaluations\": {evaluations}, \"train_seconds\": {train_s}, \"eval_seconds\": {eval_s}, \
             \"total_seconds\": {}, \"us_per_step\": {us_per_step}, \"final_train_accuracy\": {}, \
             \"final_test_accuracy\": {test_accuracy}}}\n",
            if args.common.f64 {
                "float64"
            } else {
                "float32"
            },
            train_s + eval_s,
            last.train.accuracy,
        );
        // A machine-readable report of this run, rewritten each time (unlike --save).
        std::fs::write(path, json)?;
    }
    cli::save_model(&network, &args.common)?;
    if let Some(path) = &args.common.plot {
        let title = format!(
            "784-50-10 on MNIST: {steps} steps, batch {}, {} lr {}, init std {}, {}",
            args.batch_size,
            optimizer.name(),
            optimizer.learning_rate(),
            args.weight_init_std,
            std::any::type_name::<T>()
        );
        plot::draw(
            path,
            &title,
            validation_name,
            &history.evaluations,
            &history.losses,
        )?;
        println!("drew the learning curves to {}", path.display());
    }
    Ok(outcome.end)
}
