//! The trainer's settings, built up from the book's defaults.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rand::rngs::StdRng;

use super::schedule::{Constant, Schedule};
use super::{Length, Monitor, Streams};
use crate::data::SamplingMode;
use crate::{Error, Result};

/// A training run's settings, from the book's defaults (`common/trainer.py`): 20 epochs
/// of batches of 100 drawn with replacement, no weight decay, evaluation on the full
/// sets, a constant learning rate, seed 0. [`fit`](Trainer::fit) trains any declared
/// network with them.
///
/// One seed drives every random stream of the run, the network's initialisation
/// included ([`initialisation`](Trainer::initialisation)).
///
/// ```
/// use backprop::prelude::*;
/// use backprop::data::Dataset;
/// use backprop::optim::Adam;
/// use backprop::train::{End, Trainer};
///
/// network! {
///     struct Net(4) { Affine(_, 8) -> Relu -> Affine(8, 2) -> SoftmaxWithLoss }
/// }
/// // Two classes: which half of the four pixels is brighter.
/// let pixels: Vec<u8> = (0..400u32).map(|i| ((i * 37) % 251) as u8).collect();
/// let labels = pixels
///     .chunks(4)
///     .map(|p| u8::from(p[0] as u32 + p[1] as u32 > p[2] as u32 + p[3] as u32))
///     .collect();
/// let data = Dataset::from_raw(pixels, labels, 2, 2, 2)?;
/// let (train, validation) = data.split(0.2, 1, true)?;
///
/// let trainer = Trainer::new().epochs(3).batch_size(10).seed(7);
/// let mut net = Net::<f32>::new(&mut trainer.initialisation());
/// let outcome = trainer.fit(&mut net, &mut Adam::default(), &train, &validation)?;
/// assert_eq!(outcome.end, End::Finished);
/// assert_eq!(outcome.steps_done, 3 * 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Trainer {
    pub(super) length: Length,
    pub(super) batch_size: usize,
    pub(super) sampling: SamplingMode,
    pub(super) weight_decay: f64,
    pub(super) evaluation_samples: Option<usize>,
    pub(super) seed: u64,
    pub(super) schedule: Arc<dyn Schedule>,
    pub(super) checkpoint: Option<PathBuf>,
    pub(super) replace_checkpoint: bool,
    pub(super) resume: Option<PathBuf>,
    pub(super) monitor: Monitor,
    pub(super) patience: Option<usize>,
    pub(super) keep_best: bool,
    pub(super) stop: Option<Arc<AtomicBool>>,
}

impl Default for Trainer {
    fn default() -> Self {
        Trainer {
            length: Length::Epochs(20),
            batch_size: 100,
            sampling: SamplingMode::WithReplacement,
            weight_decay: 0.0,
            evaluation_samples: None,
            seed: 0,
            schedule: Arc::new(Constant),
            checkpoint: None,
            replace_checkpoint: false,
            resume: None,
            monitor: Monitor::ValidationLoss,
            patience: None,
            keep_best: false,
            stop: None,
        }
    }
}

impl Trainer {
    /// The book's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trains for `epochs` epochs of `max(train size / batch size, 1)` steps.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.length = Length::Epochs(epochs);
        self
    }

    /// Trains for `steps` steps, whatever the epoch length.
    pub fn iterations(mut self, steps: usize) -> Self {
        self.length = Length::Iterations(steps);
        self
    }

    /// Trains for `length`.
    pub fn length(mut self, length: Length) -> Self {
        self.length = length;
        self
    }

    /// Samples per step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// How batches are drawn: with replacement (the book), or shuffled epochs.
    pub fn sampling(mut self, sampling: SamplingMode) -> Self {
        self.sampling = sampling;
        self
    }

    /// The book's weight decay λ (0 for none).
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// Evaluates each epoch on the first `samples` of each set (the book's
    /// `evaluate_sample_num_per_epoch`) instead of the full sets; the final evaluation
    /// is on the full validation set, and on these samples of the training set.
    pub fn evaluation_samples(mut self, samples: usize) -> Self {
        self.evaluation_samples = Some(samples);
        self
    }

    /// The seed of every random stream: initialisation, batches, Dropout masks.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The learning-rate schedule ([`Constant`] by default).
    pub fn schedule(mut self, schedule: impl Schedule + 'static) -> Self {
        self.schedule = Arc::new(schedule);
        self
    }

    /// Writes a checkpoint to `path` after the last step of every epoch, at the end of
    /// the run and when stopped. A file already there is refused before the first
    /// step, unless it is the checkpoint the run resumes from or
    /// [`replace_checkpoint`](Trainer::replace_checkpoint) says so.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Lets the checkpoint replace a file already at its path.
    pub fn replace_checkpoint(mut self, replace: bool) -> Self {
        self.replace_checkpoint = replace;
        self
    }

    /// Continues the run whose checkpoint is `path`: with the same settings, to the
    /// same or a greater length, it ends bit for bit where an uninterrupted run ends.
    pub fn resume(mut self, path: impl Into<PathBuf>) -> Self {
        self.resume = Some(path.into());
        self
    }

    /// What makes an evaluation the best ([`Monitor::ValidationLoss`] by default).
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }

    /// Stops early once `patience` evaluations in a row have not improved on the best
    /// by the [`monitor`](Trainer::monitor).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Keeps a copy of the model at its best evaluation by the monitor, and restores
    /// it at the end of the run (before the final evaluation). Checkpoints hold it too.
    pub fn keep_best(mut self, keep: bool) -> Self {
        self.keep_best = keep;
        self
    }

    /// Stops the run after the step under way once `flag` is set (from another thread
    /// or a signal handler).
    pub fn stop_when(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Stops the run after the step under way on the first Ctrl-C (SIGINT), with a
    /// checkpoint if one is asked for; a second Ctrl-C ends the program at once, with
    /// exit status 130 as a shell reports it.
    ///
    /// # Errors
    /// The operating system refused the signal handler.
    #[cfg(feature = "ctrl-c")]
    pub fn stop_on_ctrl_c(self) -> std::io::Result<Self> {
        use signal_hook::consts::SIGINT;
        let flag = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&flag))?;
        signal_hook::flag::register(SIGINT, Arc::clone(&flag))?;
        Ok(self.stop_when(flag))
    }

    /// The random stream of the network's initial weights, from the run's seed:
    /// `Net::new(&mut trainer.initialisation())`.
    pub fn initialisation(&self) -> StdRng {
        self.streams().initialisation()
    }

    /// Every random stream of the run.
    pub fn streams(&self) -> Streams {
        Streams::new(self.seed)
    }

    /// Steps per epoch for a training set of `train_len` samples.
    pub fn steps_per_epoch(&self, train_len: usize) -> usize {
        (train_len / self.batch_size.max(1)).max(1)
    }

    /// All the steps of the run.
    pub fn steps(&self, train_len: usize) -> usize {
        match self.length {
            Length::Epochs(epochs) => epochs.saturating_mul(self.steps_per_epoch(train_len)),
            Length::Iterations(steps) => steps,
        }
    }

    /// Checks every setting: the error names the value and what is allowed.
    pub fn validate(&self) -> Result<()> {
        let count = super::schedule::whole;
        count("batch size", self.batch_size)?;
        match self.length {
            Length::Epochs(epochs) => count("epochs", epochs)?,
            Length::Iterations(steps) => count("iterations", steps)?,
        }
        if let Some(samples) = self.evaluation_samples {
            count("evaluation samples", samples)?;
        }
        if let Some(patience) = self.patience {
            count("patience", patience)?;
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::HyperParameter {
                name: "weight decay",
                value: self.weight_decay,
                expected: "a finite number of at least 0",
            });
        }
        self.schedule.validate()
    }
}
