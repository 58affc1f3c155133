//! What the MNIST examples share on their command lines: the common options, the
//! exit status, `--threads`,
//! download lines, `--load` of a model or a checkpoint, `--onnx`, what a stopped run
//! says, and the `--schedule` option.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use backprop::data::DownloadEvent;
use backprop::export::Output;
use backprop::model_file::{self, ModelFileError, Overwrite};
use backprop::train::{Checkpoint, Constant, End, Schedule, StepDecay, WarmupCosine};
use backprop::{Float, Network};

/// The options every MNIST training example has, flattened into its own.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// The learning-rate schedule: constant, step:EPOCHS:GAMMA (times GAMMA every
    /// EPOCHS epochs) or cosine:WARMUP[:STEPS] (a warm-up of WARMUP steps, then a
    /// cosine to 0 at step STEPS, by default the run's last).
    #[arg(long, default_value = "constant")]
    pub schedule: String,
    /// Seed of every random stream: initialisation, batches, Dropout, the validation
    /// split [default: a random seed, printed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Compute in f64, as the book's NumPy code does (default f32).
    #[arg(long)]
    pub f64: bool,
    /// Folder with the four IDX files (plain or .gz) [default: $MNIST_DIR, else
    /// ./data/mnist, downloaded if missing].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Draw the learning curves to FILE (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Save the trained parameters to FILE (safetensors).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Evaluate the parameters in FILE (a model file or a checkpoint) instead of
    /// training.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["save", "plot", "resume"])]
    pub load: Option<PathBuf>,
    /// Write a checkpoint to FILE at the end of every epoch and on Ctrl-C.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run whose checkpoint is FILE (with the same settings and seed, to
    /// the same or a greater length).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Export the trained network (with --load, the loaded one) to FILE as an ONNX
    /// model, for onnxruntime and the other ONNX engines.
    #[arg(long, value_name = "FILE")]
    pub onnx: Option<PathBuf>,
    /// With --onnx: the model outputs the class probabilities instead of the scores.
    #[arg(long, requires = "onnx")]
    pub onnx_probabilities: bool,
    /// Let the files this run writes replace existing ones.
    #[arg(long)]
    pub force: bool,
    /// Threads [default: $BACKPROP_THREADS, else every core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print only the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Write the final figures as JSON to FILE, replacing it (used by bench/run.sh).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// What the examples' `run` returns.
pub type Failure = Box<dyn std::error::Error>;

/// The exit status of a run: 130 when Ctrl-C stopped it (as a shell reports it), 1
/// with the message on an error.
pub fn exit_code(result: Result<End, Failure>) -> ExitCode {
    match result {
        Ok(End::Stopped) => ExitCode::from(130),
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Applies `--threads N`, refusing 0.
pub fn set_threads(threads: Option<usize>) -> Result<(), Failure> {
    match threads {
        Some(0) => Err("--threads 0: expected a whole number of at least 1".into()),
        Some(threads) => {
            backprop::parallel::set_threads(threads);
            Ok(())
        }
        None => Ok(()),
    }
}

/// Loads `--load FILE` into `network`: a model file, or the model of a checkpoint.
pub fn load_model<T: Float, N: Network<T>>(network: &mut N, path: &Path) -> Result<(), Failure> {
    match model_file::load(network, path) {
        Err(ModelFileError::IsCheckpoint { .. }) => {
            Checkpoint::<T>::read(path)?.restore_model(network)?;
            Ok(())
        }
        loaded => Ok(loaded?),
    }
}

/// `--save FILE` and `--onnx FILE`: the network as a model file and as an ONNX model,
/// replacing existing files only with `--force`.
pub fn save_model<T: Float, N: Network<T>>(network: &N, common: &Common) -> Result<(), Failure> {
    let overwrite = if common.force {
        Overwrite::Allowed
    } else {
        Overwrite::Never
    };
    if let Some(path) = &common.save {
        model_file::save(network, path, overwrite)?;
        println!("saved the parameters to {}", path.display());
    }
    if let Some(path) = &common.onnx {
        let output = if common.onnx_probabilities {
            Output::Probabilities
        } else {
            Output::Scores
        };
        backprop::onnx::save(network, path, output, overwrite)
            .map_err(|e| format!("--onnx: {e}"))?;
        println!("exported the network to {} (ONNX)", path.display());
    }
    Ok(())
}

/// What a run stopped by Ctrl-C after `steps` steps says.
pub fn say_stopped(steps: usize, checkpoint: Option<&PathBuf>) {
    match checkpoint {
        Some(path) => println!(
            "stopped after {steps} steps; the checkpoint {} holds them: continue with the same options and --resume {}",
            path.display(),
            path.display()
        ),
        None => println!(
            "stopped after {steps} steps, without a checkpoint to continue from (--checkpoint FILE writes one)"
        ),
    }
}

/// Shows a download's events as lines on standard error.
pub fn show_download(event: DownloadEvent<'_>) {
    match event {
        DownloadEvent::Started { url, .. } => eprintln!("downloading {url}"),
        DownloadEvent::MirrorFailed { url, reason, .. } => {
            eprintln!("{url} failed: {reason}; trying the next mirror")
        }
        DownloadEvent::Finished { file } => eprintln!("{file}: verified"),
        DownloadEvent::Progress { .. } => {}
    }
}

/// The schedule `--schedule` names, for a run of `steps` steps of `per_epoch` each.
pub fn schedule(text: &str, steps: usize, per_epoch: usize) -> Result<Box<dyn Schedule>, String> {
    let refused = || {
        format!("--schedule {text}: expected constant, step:EPOCHS:GAMMA or cosine:WARMUP[:STEPS]")
    };
    let number = |part: &str| part.parse::<f64>().map_err(|_| refused());
    let count = |part: &str| part.parse::<usize>().map_err(|_| refused());
    let parts: Vec<&str> = text.split(':').collect();
    let chosen: Box<dyn Schedule> = match parts[..] {
        ["constant"] => Box::new(Constant),
        ["step", epochs, gamma] => {
            Box::new(StepDecay::new(count(epochs)? * per_epoch, number(gamma)?))
        }
        ["cosine", warmup] => Box::new(WarmupCosine::new(count(warmup)?, steps, 0.0)),
        ["cosine", warmup, horizon] => {
            Box::new(WarmupCosine::new(count(warmup)?, count(horizon)?, 0.0))
        }
        _ => return Err(refused()),
    };
    chosen
        .validate()
        .map_err(|e| format!("--schedule {text}: {e}"))?;
    Ok(chosen)
}
