//! Trains the book's two-layer network on MNIST (Deep Learning from Scratch, section
//! 5.7.4): 784-50-10, 10,000 mini-batch SGD steps of 100 samples at learning rate 0.1,
//! with train and test accuracy over the full sets once per epoch.
//!
//! `cargo run --release --example mnist -- --help` lists the options. The data comes
//! from `--data DIR`, else `$MNIST_DIR`, else `./data/mnist`, which is downloaded on
//! first use.

#[path = "../common/figure.rs"]
mod figure;
mod plot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use backprop::data::{self, DownloadEvent, Mnist, SamplingMode};
use backprop::model_file::{self, Overwrite};
use backprop::optim::{self, Optimizer};
use backprop::prelude::*;
use backprop::train::{Checkpoint, History, Length, Outcome, Progress, Streams, TrainerConfig};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use signal_hook::consts::SIGINT;

network! {
    /// The two-layer net of Deep Learning from Scratch, chapter 5.
    pub struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

/// Train the book's two-layer network (784-50-10) on MNIST.
///
/// The defaults are the book's section 5.7.4. The network's widths are part of its
/// type, fixed at compile time, so there is no option for the hidden size.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Training steps (mini-batch updates).
    #[arg(long, default_value_t = 10_000)]
    iters: usize,
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
    /// Seed for initialisation and sampling [default: a random seed, printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Compute in f64, as the book's NumPy code does (default f32).
    #[arg(long)]
    f64: bool,
    /// Draw each epoch as a shuffled pass over the set, instead of the book's sampling
    /// with replacement.
    #[arg(long)]
    shuffle: bool,
    /// Folder with the four MNIST IDX files (plain or .gz) [default: $MNIST_DIR, else
    /// ./data/mnist, downloaded if missing].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Draw the learning curves to FILE (.svg, or .png).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Save the trained parameters to FILE (safetensors).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Evaluate the parameters saved in FILE instead of training.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["save", "plot"])]
    load: Option<PathBuf>,
    /// Write a checkpoint to FILE at the end of every epoch and on Ctrl-C.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Continue the run whose checkpoint is FILE (with the same settings and seed).
    #[arg(long, value_name = "FILE", conflicts_with = "load")]
    resume: Option<PathBuf>,
    /// Let --save, --plot and --checkpoint replace existing files.
    #[arg(long)]
    force: bool,
    /// Threads for evaluation and large products [default: $BACKPROP_THREADS, else
    /// every core].
    #[arg(long)]
    threads: Option<usize>,
    /// Print only the final summary.
    #[arg(long)]
    quiet: bool,
    /// Write the final figures as JSON to FILE, replacing it (used by bench/run.sh).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// The accuracies measured at one evaluation point.
#[derive(Clone, Copy, Debug)]
pub struct EpochRecord {
    /// The step after which the evaluation ran (the book's `i`, from 0).
    pub step: usize,
    /// Whether this is one of the book's once-per-epoch evaluations (the other one is
    /// the evaluation after the last step).
    pub end_of_epoch: bool,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Mean training-batch loss over the steps since the previous record.
    pub mean_loss: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(Ended::Finished) => ExitCode::SUCCESS,
        // As a shell reports a program ended by Ctrl-C.
        Ok(Ended::Stopped) => ExitCode::from(130),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// How a run of the program ended.
enum Ended {
    Finished,
    /// Ctrl-C stopped the training, after the step under way.
    Stopped,
}

fn run(args: &Args) -> Result<Ended, Box<dyn std::error::Error>> {
    if let Some(threads) = args.threads {
        if threads == 0 {
            return Err("--threads 0: expected a whole number of at least 1".into());
        }
        backprop::parallel::set_threads(threads);
    }
    // Checked before training, so that a long run is not lost at the end. The
    // checkpoint a run resumes from is its own to replace.
    let outputs = [&args.save, &args.plot, &args.checkpoint];
    for path in outputs.into_iter().flatten() {
        if args.resume.as_ref() != Some(path) {
            figure::check_new(path, args.force)?;
        }
    }
    let wall = Instant::now();
    let mnist = load_data(args)?;
    let ended = if args.f64 {
        train::<f64>(args, &mnist)?
    } else {
        train::<f32>(args, &mnist)?
    };
    if !args.quiet {
        println!("wall time {:.2} s", wall.elapsed().as_secs_f64());
    }
    Ok(ended)
}

fn load_data(args: &Args) -> Result<Mnist, Box<dyn std::error::Error>> {
    let bar = ProgressBar::hidden();
    let dir = data::prepare_mnist(args.data.as_deref(), &mut |event| {
        show_download(&bar, event)
    })
    .map_err(|e| format!("{e}\n(--data DIR names the data folder)"))?;
    bar.finish_and_clear();
    let mnist = data::load_mnist(&dir)?;
    if !args.quiet {
        println!(
            "MNIST from {}: {} training and {} test images of {}×{}",
            dir.display(),
            mnist.train.len(),
            mnist.test.len(),
            mnist.train.height(),
            mnist.train.width()
        );
    }
    Ok(mnist)
}

fn show_download(bar: &ProgressBar, event: DownloadEvent<'_>) {
    match event {
        DownloadEvent::Started { file, url, total } => {
            eprintln!("downloading {url}");
            bar.reset();
            bar.set_length(total.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_message(file.to_owned());
            if std::io::stderr().is_terminal() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
        DownloadEvent::Progress { done, .. } => bar.set_position(done),
        DownloadEvent::MirrorFailed { url, reason, .. } => {
            eprintln!("{url} failed: {reason}; trying the next mirror")
        }
        DownloadEvent::Finished { file } => bar.println(format!("{file}: verified")),
    }
}

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<Ended, Box<dyn std::error::Error>> {
    let seed = args.seed.unwrap_or_else(rand::random);
    let streams = Streams::new(seed);
    let mut network =
        TwoLayerNet::<T>::with_weight_init_std(args.weight_init_std, &mut streams.initialisation());

    if let Some(path) = &args.load {
        model_file::load(&mut network, path)?;
        let started = Instant::now();
        let train = data::evaluate(&network, &mnist.train)?;
        let test = data::evaluate(&network, &mnist.test)?;
        println!(
            "{}: train acc {:.4}, test acc {:.4} (evaluated in {:.2} s)",
            path.display(),
            train.accuracy,
            test.accuracy,
            started.elapsed().as_secs_f64()
        );
        return Ok(Ended::Finished);
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
    let config = TrainerConfig {
        length: Length::Iterations(args.iters),
        batch_size: args.batch_size,
        sampling: if args.shuffle {
            SamplingMode::ShuffledEpochs
        } else {
            SamplingMode::WithReplacement
        },
        weight_decay: args.weight_decay,
        evaluation_samples: None,
        seed,
        checkpoint: args.checkpoint.clone(),
    };
    config.validate().map_err(|e| format!("{e} (see --help)"))?;
    let resume = match &args.resume {
        Some(path) => Some(Checkpoint::read(path)?),
        None => None,
    };

    if !args.quiet {
        println!("{}", network.summary());
        println!(
            "{} steps of batch {} with {} at lr {}, weight decay {}, weight_init_std {}, {}, seed {seed}",
            args.iters,
            args.batch_size,
            optimizer.name(),
            optimizer.learning_rate(),
            args.weight_decay,
            args.weight_init_std,
            std::any::type_name::<T>()
        );
    }
    // Ctrl-C asks the trainer to stop after the step under way; a second one ends the
    // program at once.
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&stop))?;
    signal_hook::flag::register(SIGINT, Arc::clone(&stop))?;

    let (outcome, timing) = train_with_progress(
        args,
        mnist,
        &mut network,
        &mut optimizer,
        &config,
        resume,
        &stop,
    )?;
    let history = match outcome {
        Outcome::Finished(history) => history,
        Outcome::Stopped { steps_done, .. } => {
            match &args.checkpoint {
                Some(path) => println!(
                    "stopped after {steps_done} steps; the checkpoint {} holds them: continue with the same options and --resume {}",
                    path.display(),
                    path.display()
                ),
                None => println!(
                    "stopped after {steps_done} steps, without a checkpoint to continue from (--checkpoint FILE writes one)"
                ),
            }
            return Ok(Ended::Stopped);
        }
    };
    let records = epoch_records(&history);
    report(args, &records, &history.losses, &timing, seed)?;

    if let Some(path) = &args.save {
        let overwrite = if args.force {
            Overwrite::Allowed
        } else {
            Overwrite::Never
        };
        model_file::save(&network, path, overwrite)?;
        println!("saved the parameters to {}", path.display());
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "784-50-10 on MNIST: {} steps, batch {}, {} lr {}, init std {}, {}",
            args.iters,
            args.batch_size,
            optimizer.name(),
            optimizer.learning_rate(),
            args.weight_init_std,
            std::any::type_name::<T>()
        );
        plot::draw(path, &title, &records, &history.losses)?;
        println!("drew the learning curves to {}", path.display());
    }
    Ok(Ended::Finished)
}

/// Where the time went: training steps, and evaluations (with checkpoints).
#[derive(Default)]
struct Timing {
    train: Duration,
    eval: Duration,
    evaluations: usize,
}

/// Runs the trainer, drawing its progress (a bar on a terminal, lines otherwise).
fn train_with_progress<T: Float>(
    args: &Args,
    mnist: &Mnist,
    network: &mut TwoLayerNet<T>,
    optimizer: &mut Box<dyn Optimizer<T>>,
    config: &TrainerConfig,
    resume: Option<Checkpoint<T>>,
    stop: &AtomicBool,
) -> Result<(Outcome, Timing), Box<dyn std::error::Error>> {
    let bar = progress_bar(args);
    let per_epoch = config.steps_per_epoch(mnist.train.len());
    let mut timing = Timing::default();
    let mut since_record = (0.0, 0usize);
    let mut last = Instant::now();
    let outcome = backprop::train::train(
        network,
        optimizer,
        (&mnist.train, &mnist.test),
        config,
        resume,
        stop,
        &mut |event| match event {
            Progress::Step { step, loss, .. } => {
                timing.train += last.elapsed();
                last = Instant::now();
                since_record = (since_record.0 + loss, since_record.1 + 1);
                bar.inc(1);
                if step % 100 == 0 {
                    bar.set_message(format!("loss {loss:.4}"));
                }
            }
            Progress::Evaluated(record) => {
                timing.eval += last.elapsed();
                timing.evaluations += 1;
                last = Instant::now();
                if record.end_of_epoch && !args.quiet {
                    let line = format!(
                        "epoch {:>2} | step {:>6} | train acc {:.4} | test acc {:.4} | mean loss {:.4}",
                        record.step / per_epoch,
                        record.step,
                        record.train_accuracy,
                        record.test_accuracy,
                        since_record.0 / since_record.1.max(1) as f64
                    );
                    if bar.is_hidden() {
                        println!("{line}")
                    } else {
                        bar.println(line)
                    }
                }
                since_record = (0.0, 0);
            }
            Progress::Unoptimised => {
                bar.suspend(|| eprintln!("warning: {}", backprop::train::UNOPTIMISED_ADVICE));
            }
            Progress::Checkpointed { .. } => {
                timing.eval += last.elapsed();
                last = Instant::now();
            }
        },
    )?;
    bar.finish_and_clear();
    Ok((outcome, timing))
}

/// The trainer's evaluations with the mean loss of the steps since the one before.
fn epoch_records(history: &History) -> Vec<EpochRecord> {
    let mut from = 0;
    history
        .evaluations
        .iter()
        .map(|e| {
            let to = (e.step + 1).min(history.losses.len());
            let losses = &history.losses[from.min(to)..to];
            from = to;
            EpochRecord {
                step: e.step,
                end_of_epoch: e.end_of_epoch,
                train_accuracy: e.train_accuracy,
                test_accuracy: e.test_accuracy,
                mean_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
            }
        })
        .collect()
}

fn progress_bar(args: &Args) -> ProgressBar {
    if args.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(args.iters as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] [{bar:40}] {pos}/{len} steps, {per_sec}, {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}

fn report(
    args: &Args,
    records: &[EpochRecord],
    losses: &[f64],
    timing: &Timing,
    seed: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let last = records
        .last()
        .ok_or("no training steps were run (--iters 0)")?;
    let steps = losses.len();
    let train_s = timing.train.as_secs_f64();
    let eval_s = timing.eval.as_secs_f64();
    let book_last = records
        .iter()
        .rev()
        .find(|r| r.end_of_epoch && r.step != last.step);
    println!(
        "after the last step ({steps}): train acc {:.4}, test acc {:.4}",
        last.train_accuracy, last.test_accuracy
    );
    if let Some(book) = book_last.filter(|_| !args.quiet) {
        println!(
            "at step {} (where the book's table ends): train acc {:.4}, test acc {:.4}",
            book.step, book.train_accuracy, book.test_accuracy
        );
    }
    println!(
        "training {train_s:.2} s ({:.0} steps/s, {:.1} µs/step); evaluation {eval_s:.2} s ({} passes over 70,000 images)",
        steps as f64 / train_s,
        train_s * 1e6 / steps as f64,
        timing.evaluations
    );
    if let Some(path) = &args.report {
        let json = format!(
            "{{\"implementation\": \"backprop\", \"dtype\": \"{}\", \"seed\": {seed}, \"steps\": {steps}, \
             \"evaluations\": {}, \"train_seconds\": {train_s}, \"eval_seconds\": {eval_s}, \
             \"total_seconds\": {}, \"us_per_step\": {}, \"final_train_accuracy\": {}, \
             \"final_test_accuracy\": {}}}\n",
            if args.f64 { "float64" } else { "float32" },
            timing.evaluations,
            train_s + eval_s,
            train_s * 1e6 / steps as f64,
            last.train_accuracy,
            last.test_accuracy
        );
        // A machine-readable report of this run, rewritten each time (unlike --save).
        std::fs::write(path, json)?;
    }
    Ok(())
}
