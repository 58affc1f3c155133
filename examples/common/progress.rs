//! What the chapter 6 examples show of the trainer's progress.

use backprop::train::{Progress, UNOPTIMISED_ADVICE};

/// Warns, once, when backprop runs unoptimised; the rest of the progress is not shown.
pub fn warn_if_unoptimised(event: Progress<'_>) {
    if let Progress::Unoptimised = event {
        eprintln!("warning: {UNOPTIMISED_ADVICE}");
    }
}
