//! The trainer: one call, [`Trainer::fit`], trains any declared network with the
//! book's semantics (`common/trainer.py`): mini-batches drawn with replacement (or
//! shuffled epochs), any optimizer, weight decay, an evaluation once per epoch on the
//! training and validation sets (or their first samples) and on the full validation
//! set at the end, a history of every step, checked settings and caught divergence. Around it:
//! checkpoints that resume and extend a run bit for bit, learning-rate
//! [schedules](Schedule), early stopping with [patience](Trainer::patience), the
//! [best model](Trainer::keep_best), a stop flag and [Ctrl-C](Trainer::stop_on_ctrl_c),
//! and a [standard reporter](Reporter) of progress.
//!
//! The library never prints: progress reaches the caller through a callback
//! ([`Trainer::fit_reporting`]), which the standard [`Reporter`] can serve.
//!
//! One deliberate difference from the book: the loss recorded for a step is the one
//! the training step returns, before the update, not a second forward pass after it
//! (which the book's trainer makes, at half again the compute of a step).
//!
//! Every random draw comes from a stream derived from the seed ([`Streams`]): the
//! initialisation, each step's batch and each step's Dropout masks have their own, so
//! adding a Dropout changes no batch, and a run resumed from a checkpoint draws what
//! the uninterrupted run would have.

mod checkpoint;
mod fit;
mod history;
#[cfg(feature = "progress")]
mod reporter;
mod schedule;
mod smooth;
mod trainer;

use rand::SeedableRng;
use rand::rngs::StdRng;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use history::{End, EvaluationRecord, History, Monitor, Outcome, Progress};
#[cfg(feature = "progress")]
pub use reporter::{Reporter, Timing};
pub use schedule::{Constant, Schedule, StepDecay, WarmupCosine};
pub use smooth::smooth_curve;
pub use trainer::Trainer;

/// Whether backprop itself was compiled with optimisation. Unoptimised, a training
/// step takes about a hundred times as long; the trainer then reports
/// [`Progress::Unoptimised`] once, before the first step.
pub const OPTIMISED: bool = !cfg!(backprop_unoptimised);

/// What to tell a user whose program runs an unoptimised backprop.
pub const UNOPTIMISED_ADVICE: &str = "backprop was compiled without optimisation, so training runs about a hundred times slower: build with --release, or add `[profile.dev.package.\"*\"] opt-level = 3` to your Cargo.toml";

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Epochs of `max(train size / batch size, 1)` steps each (the book's `epochs`).
    Epochs(usize),
    /// A number of steps, whatever the epoch length.
    Iterations(usize),
}

/// The random streams of a run, each derived from the seed and its purpose, so that
/// none depends on how much another has drawn.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// The streams of `seed`.
    pub fn new(seed: u64) -> Self {
        Streams { seed }
    }

    fn stream(self, purpose: u64, index: u64) -> StdRng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&purpose.to_le_bytes());
        key[16..24].copy_from_slice(&index.to_le_bytes());
        StdRng::from_seed(key)
    }

    /// For the network's initial weights.
    pub fn initialisation(self) -> StdRng {
        self.stream(1, 0)
    }

    /// For the batch of step `step` (with replacement), or the permutation of epoch
    /// `step` (shuffled epochs).
    pub fn sampling(self, step: usize) -> StdRng {
        self.stream(2, step as u64)
    }

    /// For the Dropout masks of step `step`.
    pub fn dropout(self, step: usize) -> StdRng {
        self.stream(3, step as u64)
    }
}
