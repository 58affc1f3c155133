//! Trains the book's two-layer network on MNIST (Deep Learning from Scratch, section
//! 5.7.4): 784-50-10, 10,000 mini-batch SGD steps of 100 samples at learning rate 0.1,
//! with train and test accuracy over the full sets once per epoch.
//!
//! `cargo run --release --example mnist -- --help` lists the options. The data comes
//! from `--data DIR`, else `$MNIST_DIR`, else `./data/mnist`, which is downloaded on
//! first use.

mod plot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use backprop::data::{self, DownloadEvent, MiniBatch, Mnist, Sampler, SamplingMode};
use backprop::model_file::{self, Overwrite};
use backprop::prelude::*;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;

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
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Standard deviation of the initial weights (biases start at zero).
    #[arg(long, default_value_t = 0.01)]
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
    /// Let --save and --plot replace existing files.
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

struct Outcome {
    records: Vec<EpochRecord>,
    /// The training-batch loss of every step, for the plot.
    losses: Vec<f64>,
    train_time: Duration,
    eval_time: Duration,
    evaluations: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(threads) = args.threads {
        backprop::parallel::set_threads(threads);
    }
    // Checked before training, so that a long run is not lost at the end.
    for path in [&args.save, &args.plot].into_iter().flatten() {
        if path.exists() && !args.force {
            return Err(format!(
                "{} already exists; pass --force to replace it",
                path.display()
            )
            .into());
        }
    }
    let wall = Instant::now();
    let mnist = load_data(args)?;
    if args.f64 {
        train::<f64>(args, &mnist)?
    } else {
        train::<f32>(args, &mnist)?
    }
    if !args.quiet {
        println!("wall time {:.2} s", wall.elapsed().as_secs_f64());
    }
    Ok(())
}

fn load_data(args: &Args) -> Result<Mnist, Box<dyn std::error::Error>> {
    let bar = ProgressBar::hidden();
    let dir = data::prepare_mnist(args.data.as_deref(), &mut |event| {
        show_download(&bar, event)
    })?;
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

fn train<T: Float>(args: &Args, mnist: &Mnist) -> Result<(), Box<dyn std::error::Error>> {
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut network = TwoLayerNet::<T>::with_weight_init_std(args.weight_init_std, &mut rng);

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
        return Ok(());
    }

    if !args.quiet {
        println!("{}", TwoLayerNet::<T>::summary());
        println!(
            "{} steps of batch {} at lr {}, weight_init_std {}, {}, seed {seed}",
            args.iters,
            args.batch_size,
            args.lr,
            args.weight_init_std,
            std::any::type_name::<T>()
        );
    }
    let outcome = train_loop(args, mnist, &mut network, &mut rng)?;
    report(args, &outcome, seed)?;

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
            "784-50-10 on MNIST: {} steps, batch {}, lr {}, init std {}, {}",
            args.iters,
            args.batch_size,
            args.lr,
            args.weight_init_std,
            std::any::type_name::<T>()
        );
        plot::draw(path, &title, &outcome.records, &outcome.losses)?;
        println!("drew the learning curves to {}", path.display());
    }
    Ok(())
}

fn train_loop<T: Float>(
    args: &Args,
    mnist: &Mnist,
    network: &mut TwoLayerNet<T>,
    rng: &mut StdRng,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let mode = if args.shuffle {
        SamplingMode::ShuffledEpochs
    } else {
        SamplingMode::WithReplacement
    };
    let mut sampler = Sampler::new(mnist.train.len(), args.batch_size, mode)?;
    let mut batch = MiniBatch::<T, 784>::new();
    let mut sgd = Sgd { lr: args.lr };
    let iter_per_epoch = (mnist.train.len() / args.batch_size).max(1);

    let bar = progress_bar(args);
    let mut outcome = Outcome {
        records: Vec::new(),
        losses: Vec::with_capacity(args.iters),
        train_time: Duration::ZERO,
        eval_time: Duration::ZERO,
        evaluations: 0,
    };
    let mut since_record = (0.0, 0usize);
    let mut step_started = Instant::now();
    for i in 0..args.iters {
        batch.fill(&mnist.train, sampler.next_batch(rng))?;
        let loss = network.gradient(&batch.x, batch.targets())?.as_f64();
        sgd.update(network);
        outcome.losses.push(loss);
        since_record = (since_record.0 + loss, since_record.1 + 1);
        bar.inc(1);
        if i % 100 == 0 {
            bar.set_message(format!("loss {loss:.4}"));
        }

        let end_of_epoch = i % iter_per_epoch == 0;
        if end_of_epoch || i + 1 == args.iters {
            outcome.train_time += step_started.elapsed();
            let mean_loss = since_record.0 / since_record.1 as f64;
            let record = evaluate(network, mnist, (i, end_of_epoch), mean_loss, &mut outcome)?;
            if end_of_epoch && !args.quiet {
                let line = format!(
                    "epoch {:>2} | step {:>6} | train acc {:.4} | test acc {:.4} | mean loss {:.4}",
                    i / iter_per_epoch,
                    i,
                    record.train_accuracy,
                    record.test_accuracy,
                    record.mean_loss
                );
                if bar.is_hidden() {
                    println!("{line}")
                } else {
                    bar.println(line)
                }
            }
            since_record = (0.0, 0);
            step_started = Instant::now();
        }
    }
    bar.finish_and_clear();
    Ok(outcome)
}

fn evaluate<T: Float>(
    network: &TwoLayerNet<T>,
    mnist: &Mnist,
    (step, end_of_epoch): (usize, bool),
    mean_loss: f64,
    outcome: &mut Outcome,
) -> Result<EpochRecord, backprop::Error> {
    let started = Instant::now();
    let record = EpochRecord {
        step,
        end_of_epoch,
        train_accuracy: data::evaluate(network, &mnist.train)?.accuracy,
        test_accuracy: data::evaluate(network, &mnist.test)?.accuracy,
        mean_loss,
    };
    outcome.eval_time += started.elapsed();
    outcome.evaluations += 1;
    outcome.records.push(record);
    Ok(record)
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

fn report(args: &Args, outcome: &Outcome, seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    let last = outcome
        .records
        .last()
        .ok_or("no training steps were run (--iters 0)")?;
    let steps = outcome.losses.len();
    let train_s = outcome.train_time.as_secs_f64();
    let eval_s = outcome.eval_time.as_secs_f64();
    let book_last = outcome
        .records
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
        outcome.evaluations
    );
    if let Some(path) = &args.report {
        let json = format!(
            "{{\"implementation\": \"backprop\", \"dtype\": \"{}\", \"seed\": {seed}, \"steps\": {steps}, \
             \"evaluations\": {}, \"train_seconds\": {train_s}, \"eval_seconds\": {eval_s}, \
             \"total_seconds\": {}, \"us_per_step\": {}, \"final_train_accuracy\": {}, \
             \"final_test_accuracy\": {}}}\n",
            if args.f64 { "float64" } else { "float32" },
            outcome.evaluations,
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
