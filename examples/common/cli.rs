//! What the MNIST examples share on their command lines: download lines and the
//! `--schedule` option.

use backprop::data::DownloadEvent;
use backprop::train::{Constant, Schedule, StepDecay, WarmupCosine};

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
