//! What a run records and reports: its losses and evaluations, the events a reporter
//! sees, and how it ended.

use std::path::Path;

use crate::network::Evaluation;

/// One evaluation of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvaluationRecord {
    /// The step after whose update it ran (from 0, as the book's `current_iter`).
    pub step: usize,
    /// The epoch it opens (0 after the first step), or the number of epochs for the
    /// final evaluation.
    pub epoch: usize,
    /// Whether it is a once-per-epoch evaluation (else the final one, on the full
    /// validation set).
    pub end_of_epoch: bool,
    /// The mean training loss of the steps since the evaluation before (of the one
    /// step, for the first).
    pub mean_loss: f64,
    /// On the (first samples of the) training set.
    pub train: Evaluation,
    /// On the (first samples of the) validation set.
    pub validation: Evaluation,
}

/// Everything a run recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The loss of every step (weight decay included), before its update.
    pub losses: Vec<f64>,
    /// The evaluations, in order; a run that ended (not stopped) closes with one on
    /// the full validation set.
    pub evaluations: Vec<EvaluationRecord>,
}

/// What decides which evaluation is the best: for early stopping and for keeping the
/// best model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Monitor {
    /// The lowest mean loss on the validation set.
    #[default]
    ValidationLoss,
    /// The highest accuracy on the validation set.
    ValidationAccuracy,
}

impl Monitor {
    /// The value it watches in `record`, oriented so that lower is better.
    pub(super) fn cost(self, record: &EvaluationRecord) -> f64 {
        match self {
            Monitor::ValidationLoss => record.validation.loss,
            Monitor::ValidationAccuracy => -record.validation.accuracy,
        }
    }

    /// The name checkpoints store.
    pub(super) fn name(self) -> &'static str {
        match self {
            Monitor::ValidationLoss => "validation loss",
            Monitor::ValidationAccuracy => "validation accuracy",
        }
    }
}

impl History {
    /// The index in [`evaluations`](History::evaluations) of the best once-per-epoch
    /// evaluation by `monitor` (the first of equals), if there is one.
    pub fn best(&self, monitor: Monitor) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (index, record) in self.evaluations.iter().enumerate() {
            if !record.end_of_epoch {
                continue;
            }
            if best.is_none_or(|b| monitor.cost(record) < monitor.cost(&self.evaluations[b])) {
                best = Some(index);
            }
        }
        best
    }
}

/// What the trainer reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// backprop was compiled without optimisation (see [`super::OPTIMISED`]); reported
    /// once, before the first step.
    Unoptimised,
    /// The run starts (or resumes) at step `first` of `steps`.
    Started {
        /// The first step to run: 0, or the steps a checkpoint had done.
        first: usize,
        /// All the steps of the run.
        steps: usize,
        /// Steps per epoch.
        steps_per_epoch: usize,
    },
    /// A step finished: its number (from 0), of how many, its loss and the learning
    /// rate it was updated with.
    Step {
        /// The step's number, from 0.
        step: usize,
        /// All the steps of the run.
        steps: usize,
        /// Its loss, before the update.
        loss: f64,
        /// The learning rate of its update (the schedule's).
        learning_rate: f64,
    },
    /// An evaluation finished.
    Evaluated(&'a EvaluationRecord),
    /// A checkpoint was written.
    Checkpointed {
        /// Steps done when it was written.
        steps_done: usize,
        /// The file.
        path: &'a Path,
    },
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every step ran, then the final evaluation.
    Finished,
    /// The validation set stopped improving for the patience's number of evaluations;
    /// the final evaluation ran.
    EarlyStopped,
    /// The stop flag was set: the run stopped after the step under way, with a
    /// checkpoint if one was asked for, and no final evaluation.
    Stopped,
}

/// How a run ended and what it recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Why it ended.
    pub end: End,
    /// Steps done, those of a resumed checkpoint included.
    pub steps_done: usize,
    /// The losses and evaluations.
    pub history: History,
    /// The index in the history's evaluations of the model the network holds at the
    /// end, when the trainer keeps the best one.
    pub best: Option<usize>,
}
