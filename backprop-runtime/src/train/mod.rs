//! A trainer with the book's semantics (`common/trainer.py`): mini-batches drawn with
//! replacement (or shuffled epochs), any optimizer, weight decay, an evaluation once
//! per epoch on the full sets or their first samples, the final accuracy on the full
//! test set, a history of every step, checked hyper-parameters and caught divergence.
//!
//! The library never prints: progress reaches the caller through a callback.
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
mod smooth;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::data::{Dataset, Sampler, SamplingMode};
use crate::layers::Context;
use crate::network::Evaluation;
use crate::optim::Optimizer;
use crate::{Error, Float, Network, Result, Targets};

pub use checkpoint::{Checkpoint, CheckpointError};
pub use smooth::smooth_curve;

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

/// A training run's settings, the book's defaults: 20 epochs of batches of 100 drawn
/// with replacement, no weight decay, evaluation on the full sets.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerConfig {
    /// How long to train.
    pub length: Length,
    /// Samples per step.
    pub batch_size: usize,
    /// How batches are drawn.
    pub sampling: SamplingMode,
    /// The book's weight decay λ (0 for none).
    pub weight_decay: f64,
    /// Evaluate each epoch on the first this many samples of each set (the book's
    /// `evaluate_sample_num_per_epoch`); `None` for the full sets.
    pub evaluation_samples: Option<usize>,
    /// The seed of every random stream of the run.
    pub seed: u64,
    /// Write a checkpoint here at the end of every epoch and when stopped early.
    pub checkpoint: Option<PathBuf>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            length: Length::Epochs(20),
            batch_size: 100,
            sampling: SamplingMode::WithReplacement,
            weight_decay: 0.0,
            evaluation_samples: None,
            seed: 0,
            checkpoint: None,
        }
    }
}

impl TrainerConfig {
    /// Steps per epoch for a training set of `train_len` samples.
    pub fn steps_per_epoch(&self, train_len: usize) -> usize {
        (train_len / self.batch_size.max(1)).max(1)
    }

    /// All the steps of the run.
    pub fn steps(&self, train_len: usize) -> usize {
        match self.length {
            Length::Epochs(epochs) => epochs * self.steps_per_epoch(train_len),
            Length::Iterations(steps) => steps,
        }
    }

    /// Checks every setting: the error names the value and what is allowed.
    pub fn validate(&self) -> Result<()> {
        let count = |name: &'static str, value: usize| {
            if value >= 1 {
                Ok(())
            } else {
                Err(Error::HyperParameter {
                    name,
                    value: value as f64,
                    expected: "a whole number of at least 1",
                })
            }
        };
        count("batch size", self.batch_size)?;
        match self.length {
            Length::Epochs(epochs) => count("epochs", epochs)?,
            Length::Iterations(steps) => count("iterations", steps)?,
        }
        if let Some(samples) = self.evaluation_samples {
            count("evaluation samples", samples)?;
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::HyperParameter {
                name: "weight decay",
                value: self.weight_decay,
                expected: "a finite number of at least 0",
            });
        }
        Ok(())
    }
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

/// One evaluation of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvaluationRecord {
    /// The step after whose update it ran (from 0, as the book's `current_iter`).
    pub step: usize,
    /// The epoch it closes (0 after the first step), or the number of epochs for the
    /// final evaluation.
    pub epoch: usize,
    /// Whether it is a once-per-epoch evaluation (else the final one, on the full sets).
    pub end_of_epoch: bool,
    /// Accuracy on the (first samples of the) training set.
    pub train_accuracy: f64,
    /// Accuracy on the (first samples of the) test set.
    pub test_accuracy: f64,
}

/// Everything a run recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The loss of every step (weight decay included), before its update.
    pub losses: Vec<f64>,
    /// The evaluations, in order; the last is the final one on the full sets.
    pub evaluations: Vec<EvaluationRecord>,
}

/// What the trainer reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// backprop was compiled without optimisation (see [`OPTIMISED`]); reported once,
    /// before the first step.
    Unoptimised,
    /// A step finished: its number (from 0), of how many, and its loss.
    Step {
        /// The step's number, from 0.
        step: usize,
        /// All the steps of the run.
        steps: usize,
        /// Its loss, before the update.
        loss: f64,
    },
    /// An evaluation finished.
    Evaluated(&'a EvaluationRecord),
    /// A checkpoint was written.
    Checkpointed {
        /// Steps done when it was written.
        steps_done: usize,
        /// The file.
        path: &'a std::path::Path,
    },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every step ran, and the final evaluation.
    Finished(History),
    /// `stop` was set: the run stopped after the step under way, with a checkpoint
    /// written if the configuration asks for them.
    Stopped {
        /// What was recorded until then.
        history: History,
        /// Steps done.
        steps_done: usize,
    },
}

/// Trains `network` with `optimizer` on `train`, evaluating on `train` and `test`.
///
/// Every setting is checked before the first step. A loss that becomes non-finite
/// stops the run with [`Error::Diverged`], before the update that would spread it.
/// `stop` is read after every step: set it (from a Ctrl-C handler, say) to end the
/// run early, with a checkpoint when [`TrainerConfig::checkpoint`] is set. `resume`
/// continues a run from its checkpoint, to exactly the result it would have reached.
pub fn train<T, N, O>(
    network: &mut N,
    optimizer: &mut O,
    data: (&Dataset, &Dataset),
    config: &TrainerConfig,
    resume: Option<Checkpoint<T>>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome>
where
    T: Float,
    N: Network<T>,
    O: Optimizer<T> + ?Sized,
{
    let (train, test) = data;
    config.validate()?;
    optimizer.validate()?;
    check_data(train, N::INPUT_WIDTH, N::OUTPUT_WIDTH)?;
    check_data(test, N::INPUT_WIDTH, N::OUTPUT_WIDTH)?;
    let mut not_finite = None;
    network.visit_parameters(&mut |p| {
        if not_finite.is_none()
            && let Some(v) = p.value.iter().find(|v| !v.is_finite())
        {
            not_finite = Some((p.name, v.as_f64()));
        }
    });
    if let Some((name, value)) = not_finite {
        return Err(Error::NonFiniteParameter { name, value });
    }
    let steps = config.steps(train.len());
    let per_epoch = config.steps_per_epoch(train.len());
    let streams = Streams::new(config.seed);
    let (train_sample, test_sample) = match config.evaluation_samples {
        Some(k) => (Some(train.first(k)), Some(test.first(k))),
        None => (None, None),
    };
    let evaluated = |network: &N, full: bool| -> Result<(Evaluation, Evaluation)> {
        let (train, test) = match (&train_sample, &test_sample, full) {
            (Some(a), Some(b), false) => (a, b),
            _ => (train, test),
        };
        Ok((network.evaluate(train)?, network.evaluate(test)?))
    };

    let mut history = History {
        losses: Vec::with_capacity(steps),
        evaluations: Vec::with_capacity(steps / per_epoch + 2),
    };
    let mut sampler = Sampler::new(train.len(), config.batch_size, config.sampling)?;
    let mut first = 0;
    if let Some(checkpoint) = resume {
        first = checkpoint.restore(network, optimizer, config, &mut history)?;
    }
    if !OPTIMISED {
        progress(Progress::Unoptimised);
    }
    let mut x = vec![T::zero(); config.batch_size * N::INPUT_WIDTH];
    let mut labels = vec![0usize; config.batch_size];
    for step in first..steps {
        draw_batch(
            &mut sampler,
            streams,
            config,
            step,
            train,
            &mut x,
            &mut labels,
        )?;
        let x_view = ArrayView2::from_shape((config.batch_size, N::INPUT_WIDTH), &x[..])
            .expect("the batch holds whole rows");
        let mut masks = streams.dropout(step);
        let loss = network.train_step_with_weight_decay(
            x_view,
            &Targets::Labels(&labels),
            &mut Context::training(&mut masks),
            config.weight_decay,
        )?;
        let loss = loss.as_f64();
        if !loss.is_finite() {
            return Err(Error::Diverged { step, loss });
        }
        crate::optim::update_network(optimizer, network);
        history.losses.push(loss);
        progress(Progress::Step { step, steps, loss });
        if step % per_epoch == 0 {
            let (on_train, on_test) = evaluated(network, false)?;
            history.evaluations.push(EvaluationRecord {
                step,
                epoch: step / per_epoch,
                end_of_epoch: true,
                train_accuracy: on_train.accuracy,
                test_accuracy: on_test.accuracy,
            });
            progress(Progress::Evaluated(
                history.evaluations.last().expect("just pushed"),
            ));
            checkpoint_if_asked(network, optimizer, config, &history, step + 1, progress)?;
        }
        if stop.load(Ordering::Relaxed) && step + 1 < steps {
            checkpoint_if_asked(network, optimizer, config, &history, step + 1, progress)?;
            return Ok(Outcome::Stopped {
                history,
                steps_done: step + 1,
            });
        }
    }
    let (on_train, on_test) = evaluated(network, true)?;
    history.evaluations.push(EvaluationRecord {
        step: steps.saturating_sub(1),
        epoch: steps / per_epoch,
        end_of_epoch: false,
        train_accuracy: on_train.accuracy,
        test_accuracy: on_test.accuracy,
    });
    progress(Progress::Evaluated(
        history.evaluations.last().expect("just pushed"),
    ));
    Ok(Outcome::Finished(history))
}

/// The batch of `step`: drawn from that step's stream with replacement, or read from
/// the permutation of its epoch, itself drawn from that epoch's stream.
fn draw_batch<T: Float>(
    sampler: &mut Sampler,
    streams: Streams,
    config: &TrainerConfig,
    step: usize,
    train: &Dataset,
    x: &mut [T],
    labels: &mut [usize],
) -> Result<()> {
    let indices = match config.sampling {
        SamplingMode::WithReplacement => sampler.next_batch(&mut streams.sampling(step)),
        SamplingMode::ShuffledEpochs => {
            let first = step * config.batch_size;
            sampler.batch_at(first, |epoch| streams.sampling(epoch))
        }
    };
    train.gather_into(indices, x, labels)?;
    Ok(())
}

fn checkpoint_if_asked<T: Float, N: Network<T>, O: Optimizer<T> + ?Sized>(
    network: &N,
    optimizer: &O,
    config: &TrainerConfig,
    history: &History,
    steps_done: usize,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<()> {
    if let Some(path) = &config.checkpoint {
        checkpoint::write(network, optimizer, config, history, steps_done, path)?;
        progress(Progress::Checkpointed { steps_done, path });
    }
    Ok(())
}

fn check_data(data: &Dataset, features: usize, classes: usize) -> Result<()> {
    crate::network::check_width(
        "a data set's images, for the network's input",
        features,
        data.features(),
    )?;
    if data.classes() > classes {
        return Err(Error::Width {
            what: format!(
                "{} classes in the data set, for the network's outputs",
                data.classes()
            ),
            expected: classes,
            found: data.classes(),
        });
    }
    Ok(())
}
