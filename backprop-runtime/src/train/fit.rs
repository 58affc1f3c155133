//! The training loop: the book's steps and evaluation points, with checkpoints,
//! schedules, early stopping and the best model around them.

use std::sync::atomic::Ordering;

use ndarray::ArrayView2;

use super::checkpoint::{self, Checkpoint, CheckpointError, Counts};
use super::{End, EvaluationRecord, History, OPTIMISED, Outcome, Progress, Trainer};
use crate::data::{Dataset, Sampler, SamplingMode};
use crate::layers::Context;
use crate::network::Evaluation;
use crate::optim::Optimizer;
use crate::{Error, Float, Network, Result, Targets};

impl Trainer {
    /// Trains `network` with `optimizer` on `train`, evaluating on `train` and
    /// `validation` once per epoch, and at the end on the full validation set (and
    /// the training set as the epochs saw it: in full, or its first
    /// [`evaluation_samples`](Trainer::evaluation_samples)).
    ///
    /// Every setting, the data's widths and the network's parameters are checked
    /// before the first step, and so is the checkpoint path. A loss that becomes
    /// non-finite stops the run with [`Error::Diverged`], before the update that
    /// would spread it. The optimizer's learning rate is the schedule's base, and is
    /// left as it was given.
    ///
    /// The evaluation points are the book's: after the *first* step of every epoch
    /// (`common/trainer.py` evaluates when `current_iter % iter_per_epoch == 0`, after
    /// the step's update), then once more after the last step. Checkpoints come after
    /// the *last* step of every epoch, so that a run extended past its end continues
    /// from one.
    pub fn fit<T, N, O>(
        &self,
        network: &mut N,
        optimizer: &mut O,
        train: &Dataset,
        validation: &Dataset,
    ) -> Result<Outcome>
    where
        T: Float,
        N: Network<T>,
        O: Optimizer<T> + ?Sized,
    {
        self.fit_reporting(network, optimizer, train, validation, &mut |_: Progress<
            '_,
        >| {})
    }

    /// [`fit`](Trainer::fit), telling `report` of every step, evaluation and
    /// checkpoint.
    pub fn fit_reporting<T, N, O>(
        &self,
        network: &mut N,
        optimizer: &mut O,
        train: &Dataset,
        validation: &Dataset,
        report: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Outcome>
    where
        T: Float,
        N: Network<T>,
        O: Optimizer<T> + ?Sized,
    {
        self.validate()?;
        optimizer.validate()?;
        check_data(train, N::INPUT_WIDTH, N::OUTPUT_WIDTH)?;
        check_data(validation, N::INPUT_WIDTH, N::OUTPUT_WIDTH)?;
        check_finite(network)?;
        if let Some(path) = &self.checkpoint
            && !self.replace_checkpoint
            && self.resume.as_ref() != Some(path)
        {
            checkpoint::refuse_existing(path)?;
        }
        let run = Run {
            trainer: self,
            train,
            validation,
            base_rate: optimizer.learning_rate(),
        };
        let mut history = History::default();
        let mut best_copy = self
            .keep_best
            .then(|| Vec::with_capacity(tensor_len(network)));
        let mut first = 0;
        if let Some(path) = &self.resume {
            let checkpoint = Checkpoint::<T>::read(path)?;
            let settings = checkpoint::settings(self, &run.counts(), run.base_rate);
            first = checkpoint.restore(
                network,
                optimizer,
                &settings,
                &mut history,
                best_copy.as_mut(),
            )?;
            if first > run.steps() {
                return Err(CheckpointError::Mismatch {
                    path: path.clone(),
                    message: format!(
                        "the checkpoint has done {first} steps, more than this run's {}: resume with a length of at least {first} steps",
                        run.steps()
                    ),
                }
                .into());
            }
        }
        history.losses.reserve(run.steps().saturating_sub(first));
        history
            .evaluations
            .reserve(run.steps() / run.per_epoch() + 2);
        let result = run.steps_from(
            first,
            network,
            optimizer,
            &mut history,
            &mut best_copy,
            report,
        );
        optimizer.set_learning_rate(run.base_rate);
        let end = result?;
        if end == End::Stopped {
            return Ok(Outcome {
                end,
                steps_done: history.losses.len(),
                history,
                best: None,
            });
        }
        let best = match &best_copy {
            Some(copy) => history.best(self.monitor).inspect(|_| {
                restore_tensors(network, copy);
            }),
            None => None,
        };
        // The validation set in full; the training set as the epochs' evaluations saw
        // it (the book's trainer reports no training accuracy at the end at all).
        let train_sample = self.evaluation_samples.map(|k| train.first(k));
        let on_train = network.evaluate(train_sample.as_ref().unwrap_or(train))?;
        let on_validation = network.evaluate(validation)?;
        let record = run.record(
            &history,
            history.losses.len().saturating_sub(1),
            false,
            on_train,
            on_validation,
        );
        history.evaluations.push(record);
        report(Progress::Evaluated(&record));
        Ok(Outcome {
            end,
            steps_done: history.losses.len(),
            history,
            best,
        })
    }
}

/// A run's fixed quantities.
struct Run<'a> {
    trainer: &'a Trainer,
    train: &'a Dataset,
    validation: &'a Dataset,
    /// The optimizer's rate as given: the schedule's factors multiply it.
    base_rate: f64,
}

impl Run<'_> {
    fn counts(&self) -> Counts {
        Counts {
            train: self.train.len(),
            validation: self.validation.len(),
        }
    }

    fn steps(&self) -> usize {
        self.trainer.steps(self.train.len())
    }

    fn per_epoch(&self) -> usize {
        self.trainer.steps_per_epoch(self.train.len())
    }

    /// Runs the steps from `first`, with the evaluations, checkpoints and decisions
    /// between them; says why it ended.
    fn steps_from<T, N, O>(
        &self,
        first: usize,
        network: &mut N,
        optimizer: &mut O,
        history: &mut History,
        best_copy: &mut Option<Vec<T>>,
        report: &mut dyn FnMut(Progress<'_>),
    ) -> Result<End>
    where
        T: Float,
        N: Network<T>,
        O: Optimizer<T> + ?Sized,
    {
        let trainer = self.trainer;
        let (steps, per_epoch) = (self.steps(), self.per_epoch());
        let streams = trainer.streams();
        let samples = trainer
            .evaluation_samples
            .map(|k| (self.train.first(k), self.validation.first(k)));
        let (train_sample, validation_sample) = match &samples {
            Some((a, b)) => (a, b),
            None => (self.train, self.validation),
        };
        if !OPTIMISED {
            report(Progress::Unoptimised);
        }
        report(Progress::Started {
            first,
            steps,
            steps_per_epoch: per_epoch,
        });
        if self.patience_ran_out(history) {
            return Ok(End::EarlyStopped);
        }
        let mut sampler = Sampler::new(self.train.len(), trainer.batch_size, trainer.sampling)?;
        let mut x = vec![T::zero(); trainer.batch_size * N::INPUT_WIDTH];
        let mut labels = vec![0usize; trainer.batch_size];
        for step in first..steps {
            self.draw_batch(&mut sampler, step, &mut x, &mut labels)?;
            let x_view = ArrayView2::from_shape((trainer.batch_size, N::INPUT_WIDTH), &x[..])
                .expect("the batch holds whole rows");
            let mut masks = streams.dropout(step);
            let loss = network
                .train_step_with_weight_decay(
                    x_view,
                    &Targets::Labels(&labels),
                    &mut Context::training(&mut masks),
                    trainer.weight_decay,
                )?
                .as_f64();
            if !loss.is_finite() {
                return Err(Error::Diverged { step, loss });
            }
            let learning_rate = self.base_rate * trainer.schedule.factor(step);
            optimizer.set_learning_rate(learning_rate);
            crate::optim::update_network(optimizer, network);
            history.losses.push(loss);
            report(Progress::Step {
                step,
                steps,
                loss,
                learning_rate,
            });
            let mut early = false;
            if step % per_epoch == 0 {
                let record = self.record(
                    history,
                    step,
                    true,
                    network.evaluate(train_sample)?,
                    network.evaluate(validation_sample)?,
                );
                history.evaluations.push(record);
                report(Progress::Evaluated(&record));
                if let Some(copy) = best_copy
                    && history.best(trainer.monitor) == Some(history.evaluations.len() - 1)
                {
                    copy_tensors(network, copy);
                }
                early = self.patience_ran_out(history);
            }
            let steps_done = step + 1;
            let stop = trainer
                .stop
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed));
            if steps_done % per_epoch == 0 || steps_done == steps || early || stop {
                self.checkpoint(network, optimizer, history, best_copy, report)?;
            }
            if early {
                return Ok(End::EarlyStopped);
            }
            if stop && steps_done < steps {
                return Ok(End::Stopped);
            }
        }
        Ok(End::Finished)
    }

    /// Whether the monitor has not improved for the patience's number of evaluations.
    fn patience_ran_out(&self, history: &History) -> bool {
        let (Some(patience), Some(best)) =
            (self.trainer.patience, history.best(self.trainer.monitor))
        else {
            return false;
        };
        let since = history.evaluations[best + 1..]
            .iter()
            .filter(|r| r.end_of_epoch)
            .count();
        since >= patience
    }

    /// The record of an evaluation after `step`, with the mean loss since the one
    /// before.
    fn record(
        &self,
        history: &History,
        step: usize,
        end_of_epoch: bool,
        train: Evaluation,
        validation: Evaluation,
    ) -> EvaluationRecord {
        let from = history.evaluations.last().map_or(0, |e| e.step + 1);
        let losses = &history.losses[from.min(step + 1)..(step + 1).min(history.losses.len())];
        let per_epoch = self.per_epoch();
        EvaluationRecord {
            step,
            epoch: if end_of_epoch {
                step / per_epoch
            } else {
                history.losses.len() / per_epoch
            },
            end_of_epoch,
            mean_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
            train,
            validation,
        }
    }

    /// The batch of `step`: drawn from that step's stream with replacement, or read
    /// from the permutation of its epoch, itself drawn from that epoch's stream.
    fn draw_batch<T: Float>(
        &self,
        sampler: &mut Sampler,
        step: usize,
        x: &mut [T],
        labels: &mut [usize],
    ) -> Result<()> {
        let streams = self.trainer.streams();
        let indices = match self.trainer.sampling {
            SamplingMode::WithReplacement => sampler.next_batch(&mut streams.sampling(step)),
            SamplingMode::ShuffledEpochs => {
                let first = step * self.trainer.batch_size;
                sampler.batch_at(first, |epoch| streams.sampling(epoch))
            }
        };
        self.train.gather_into(indices, x, labels)?;
        Ok(())
    }

    fn checkpoint<T: Float, N: Network<T>, O: Optimizer<T> + ?Sized>(
        &self,
        network: &N,
        optimizer: &O,
        history: &History,
        best_copy: &Option<Vec<T>>,
        report: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        if let Some(path) = &self.trainer.checkpoint {
            let settings = checkpoint::settings(self.trainer, &self.counts(), self.base_rate);
            let best = best_copy
                .as_deref()
                .filter(|_| history.best(self.trainer.monitor).is_some());
            checkpoint::write(network, optimizer, &settings, history, best, path)?;
            report(Progress::Checkpointed {
                steps_done: history.losses.len(),
                path,
            });
        }
        Ok(())
    }
}

/// The number of values of the network's parameters and state.
fn tensor_len<T: Float, N: Network<T>>(network: &N) -> usize {
    let mut len = 0;
    network.visit_parameters(&mut |p| len += p.value.len());
    network.visit_state(&mut |_, value| len += value.len());
    len
}

/// Copies the parameters and state, in visiting order, into `copy` (within its
/// capacity: no allocation).
pub(super) fn copy_tensors<T: Float, N: Network<T>>(network: &N, copy: &mut Vec<T>) {
    copy.clear();
    network.visit_parameters(&mut |p| copy.extend(p.value.iter()));
    network.visit_state(&mut |_, value| copy.extend(value.iter()));
}

/// The reverse of [`copy_tensors`].
fn restore_tensors<T: Float, N: Network<T>>(network: &mut N, copy: &[T]) {
    let mut values = copy.iter();
    network.visit_parameters_mut(&mut |mut p| {
        p.value
            .iter_mut()
            .zip(values.by_ref())
            .for_each(|(v, &c)| *v = c);
    });
    network.visit_state_mut(&mut |_, mut value| {
        value
            .iter_mut()
            .zip(values.by_ref())
            .for_each(|(v, &c)| *v = c);
    });
}

fn check_finite<T: Float, N: Network<T>>(network: &N) -> Result<()> {
    let mut not_finite = None;
    network.visit_parameters(&mut |p| {
        if not_finite.is_none()
            && let Some(v) = p.value.iter().find(|v| !v.is_finite())
        {
            not_finite = Some((p.name, v.as_f64()));
        }
    });
    match not_finite {
        Some((name, value)) => Err(Error::NonFiniteParameter { name, value }),
        None => Ok(()),
    }
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
