//! Checkpoints: one safetensors file with everything a run needs to continue exactly:
//! the network's parameters and persistent state, the optimizer's state, the steps
//! done, the history, the best model when one is kept, and the settings that decide
//! what the run draws and computes (the random streams themselves need no saving:
//! each step's is derived from the seed and the step; early stopping's state is
//! derived from the history).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{EvaluationRecord, History, Trainer};
use crate::data::SamplingMode;
use crate::model_file::tensor_differences;
use crate::network::Evaluation;
use crate::optim::Optimizer;
use crate::{Float, Network};

use crate::model_file::CHECKPOINT_FORMAT as FORMAT;

/// The values of one row of `history.evaluations`.
const RECORD_WIDTH: usize = 8;

/// Why a checkpoint could not be written, read or resumed from.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The checkpoint file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a checkpoint backprop wrote, or is damaged.
    #[error("{path}: not a readable checkpoint: {message}")]
    Format {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The checkpoint path already holds a file that is not this run's to replace.
    #[error(
        "{path} already holds {holds}; choose another checkpoint path, resume from it, or allow replacing it"
    )]
    Exists {
        /// The checkpoint path.
        path: PathBuf,
        /// What the file is: another run's checkpoint (its seed and steps), or some
        /// other file.
        holds: String,
    },
    /// The checkpoint is of another network, optimizer or run.
    #[error("{path}: {message}")]
    Mismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// What differs, and how to resume instead.
        message: String,
    },
    /// A parameter holds a value that is not finite: such a model is never saved.
    #[error("{path}: not written: `{name}` holds a value that is not finite ({value})")]
    NotFinite {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// The value.
        value: f64,
    },
}

/// A checkpoint read from a file, checked against its own format. A trainer resuming
/// from it ([`Trainer::resume`](super::Trainer::resume)) checks it against the network,
/// the optimizer and the settings before using it; [`restore_model`](Checkpoint::restore_model)
/// takes the model out of it.
#[derive(Debug)]
pub struct Checkpoint<T> {
    path: PathBuf,
    metadata: HashMap<String, String>,
    tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    _float: std::marker::PhantomData<T>,
}

/// The sizes a checkpoint must agree with.
pub(super) struct Counts {
    pub(super) train: usize,
    pub(super) validation: usize,
}

/// The settings that decide what a run draws and computes: a resumed run must have
/// the same. The length is not one of them: a run may be extended.
pub(super) fn settings(
    trainer: &Trainer,
    counts: &Counts,
    base_rate: f64,
) -> Vec<(&'static str, String)> {
    let sampling = match trainer.sampling {
        SamplingMode::WithReplacement => "with replacement",
        SamplingMode::ShuffledEpochs => "shuffled epochs",
    };
    let evaluation = match trainer.evaluation_samples {
        Some(k) => format!("the first {k}"),
        None => "all".to_owned(),
    };
    let patience = match trainer.patience {
        Some(p) => format!("{p} evaluations"),
        None => "none".to_owned(),
    };
    vec![
        ("seed", trainer.seed.to_string()),
        ("batch size", trainer.batch_size.to_string()),
        ("sampling", sampling.to_owned()),
        ("weight decay", trainer.weight_decay.to_string()),
        ("learning rate", base_rate.to_string()),
        ("schedule", trainer.schedule.to_string()),
        ("training samples", counts.train.to_string()),
        ("validation samples", counts.validation.to_string()),
        ("evaluation samples", evaluation),
        ("monitor", trainer.monitor.name().to_owned()),
        ("patience", patience),
        ("keep best", trainer.keep_best.to_string()),
    ]
}

/// Refuses a checkpoint path that already holds a file, saying what it holds.
pub(super) fn refuse_existing(path: &Path) -> Result<(), CheckpointError> {
    if !path.exists() {
        return Ok(());
    }
    let holds = match Checkpoint::<f64>::read(path) {
        Ok(checkpoint) => format!(
            "another run's checkpoint (seed {}, {} steps done)",
            checkpoint
                .metadata
                .get("seed")
                .map_or("unknown", String::as_str),
            checkpoint
                .metadata
                .get("steps done")
                .map_or("unknown", String::as_str)
        ),
        Err(_) => "a file that is not a checkpoint of this version".to_owned(),
    };
    Err(CheckpointError::Exists {
        path: path.into(),
        holds,
    })
}

/// Writes a checkpoint atomically (a temporary file renamed into place).
pub(super) fn write<T: Float, N: Network<T>, O: Optimizer<T> + ?Sized>(
    network: &N,
    optimizer: &O,
    settings: &[(&'static str, String)],
    history: &History,
    best: Option<&[T]>,
    path: &Path,
) -> Result<(), CheckpointError> {
    let steps_done = history.losses.len();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f64>)> = Vec::new();
    network.visit_parameters(&mut |p| {
        let values = p.value.iter().map(|v| v.as_f64()).collect();
        tensors.push((
            format!("network.{}", p.name),
            p.value.shape().to_vec(),
            values,
        ));
    });
    network.visit_state(&mut |name, value| {
        let values = value.iter().map(|v| v.as_f64()).collect();
        tensors.push((format!("network.{name}"), value.shape().to_vec(), values));
    });
    for (name, _, values) in &tensors {
        if let Some(&value) = values.iter().find(|v| !v.is_finite()) {
            return Err(CheckpointError::NotFinite {
                path: path.into(),
                name: name.trim_start_matches("network.").to_owned(),
                value,
            });
        }
    }
    if let Some(best) = best {
        let mut values = best.iter().map(|v| v.as_f64());
        let names: Vec<(String, Vec<usize>)> = tensors
            .iter()
            .map(|(name, shape, _)| (name.replacen("network.", "best.", 1), shape.clone()))
            .collect();
        for (name, shape) in names {
            let len = shape.iter().product();
            tensors.push((name, shape, values.by_ref().take(len).collect()));
        }
    }
    for (name, values) in optimizer.state() {
        let values: Vec<f64> = values.iter().map(|v| v.as_f64()).collect();
        tensors.push((format!("optimizer.{name}"), vec![values.len()], values));
    }
    tensors.push((
        "history.losses".to_owned(),
        vec![history.losses.len()],
        history.losses.clone(),
    ));
    let evaluations: Vec<f64> = history
        .evaluations
        .iter()
        .flat_map(|e| {
            [
                e.step as f64,
                e.epoch as f64,
                f64::from(u8::from(e.end_of_epoch)),
                e.mean_loss,
                e.train.accuracy,
                e.train.loss,
                e.validation.accuracy,
                e.validation.loss,
            ]
        })
        .collect();
    tensors.push((
        "history.evaluations".to_owned(),
        vec![history.evaluations.len(), RECORD_WIDTH],
        evaluations,
    ));

    let mut metadata: HashMap<String, String> = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    metadata.insert("format".to_owned(), FORMAT.to_owned());
    metadata.insert("steps done".to_owned(), steps_done.to_string());
    metadata.insert("optimizer".to_owned(), optimizer.name().to_owned());
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let format_error = |e: safetensors::SafeTensorError| CheckpointError::Format {
        path: path.into(),
        message: e.to_string(),
    };
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            Ok((
                name.as_str(),
                TensorView::new(Dtype::F64, shape.clone(), data)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(format_error)?;
    let file = safetensors::tensor::serialize(views, Some(metadata)).map_err(format_error)?;
    crate::model_file::write_atomically(path, &file).map_err(|source| CheckpointError::Io {
        path: path.into(),
        source,
    })
}

impl<T: Float> Checkpoint<T> {
    /// Reads the checkpoint at `path`.
    pub fn read(path: &Path) -> Result<Self, CheckpointError> {
        let format = |message: String| CheckpointError::Format {
            path: path.into(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.into(),
            source,
        })?;
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(format(format!(
                "its metadata does not say `format: {FORMAT}` (a model file is not a checkpoint)"
            )));
        }
        let file = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, tensor) in file.tensors() {
            if tensor.dtype() != Dtype::F64 {
                return Err(format(format!("`{name}` is not stored as F64")));
            }
            let values = tensor
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect();
            tensors.insert(name, (tensor.shape().to_vec(), values));
        }
        Ok(Checkpoint {
            path: path.into(),
            metadata,
            tensors,
            _float: std::marker::PhantomData,
        })
    }

    /// Steps the checkpointed run had done.
    pub fn steps_done(&self) -> Result<usize, CheckpointError> {
        self.metadata
            .get("steps done")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.format("no `steps done` in its metadata"))
    }

    fn format(&self, message: &str) -> CheckpointError {
        CheckpointError::Format {
            path: self.path.clone(),
            message: message.to_owned(),
        }
    }

    fn mismatch(&self, message: String) -> CheckpointError {
        CheckpointError::Mismatch {
            path: self.path.clone(),
            message,
        }
    }

    /// Loads the model the checkpointed run had reached (parameters and persistent
    /// state) into `network`, to evaluate, save or serve it. Every tensor is checked
    /// first, and every difference named: on an error nothing has changed.
    ///
    /// ```no_run
    /// # use backprop::prelude::*;
    /// # network! { struct Net(4) { Affine(_, 2) -> SoftmaxWithLoss } }
    /// use backprop::train::{Checkpoint, Trainer};
    /// let mut net = Net::<f32>::new(&mut Trainer::new().initialisation());
    /// Checkpoint::read("run.checkpoint".as_ref())?.restore_model(&mut net)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore_model<N: Network<T>>(&self, network: &mut N) -> Result<(), CheckpointError> {
        self.restore_tensors(network, "network.")
    }

    /// Loads the best model the run kept ([`Trainer::keep_best`](super::Trainer::keep_best))
    /// into `network`, checked as [`restore_model`](Checkpoint::restore_model).
    pub fn restore_best_model<N: Network<T>>(
        &self,
        network: &mut N,
    ) -> Result<(), CheckpointError> {
        if !self.tensors.keys().any(|k| k.starts_with("best.")) {
            return Err(self.mismatch(
                "the checkpoint holds no best model: its run did not keep one (`keep_best`), or had not evaluated yet".to_owned(),
            ));
        }
        self.restore_tensors(network, "best.")
    }

    /// Checks the tensors under `prefix` against the network's, naming every
    /// difference, then loads them.
    fn restore_tensors<N: Network<T>>(
        &self,
        network: &mut N,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        self.check_tensors(network, prefix)?;
        let value = |name: &str| &self.tensors[&format!("{prefix}{name}")].1;
        network.visit_parameters_mut(&mut |mut p| {
            for (v, &saved) in p.value.iter_mut().zip(value(p.name)) {
                *v = T::from_f64(saved);
            }
        });
        network.visit_state_mut(&mut |name, mut tensor| {
            for (v, &saved) in tensor.iter_mut().zip(value(name)) {
                *v = T::from_f64(saved);
            }
        });
        Ok(())
    }

    fn check_tensors<N: Network<T>>(
        &self,
        network: &N,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        let mut wanted = Vec::new();
        network.visit_parameters(&mut |p| wanted.push((p.name, p.value.shape().to_vec())));
        network.visit_state(&mut |name, value| wanted.push((name, value.shape().to_vec())));
        let found: Vec<(String, Vec<usize>)> = self
            .tensors
            .iter()
            .filter_map(|(name, (shape, _))| {
                Some((name.strip_prefix(prefix)?.to_owned(), shape.clone()))
            })
            .collect();
        let differences = tensor_differences(&wanted, &found);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(self.mismatch(format!(
                "the checkpoint is of another network: {}",
                differences.join("; ")
            )))
        }
    }

    /// Checks everything against the network, the optimizer and the settings, then
    /// loads it: on any error nothing has changed. Returns the steps done.
    pub(super) fn restore<N: Network<T>, O: Optimizer<T> + ?Sized>(
        self,
        network: &mut N,
        optimizer: &mut O,
        settings: &[(&'static str, String)],
        history: &mut History,
        best_copy: Option<&mut Vec<T>>,
    ) -> Result<usize, CheckpointError> {
        let steps_done = self.steps_done()?;
        for (key, value) in settings {
            let saved = self
                .metadata
                .get(*key)
                .map(String::as_str)
                .unwrap_or("nothing");
            if saved != value {
                return Err(self.mismatch(format!(
                    "the checkpoint is of a run with {key} {saved}, not {value}: resume with the settings it was written with"
                )));
            }
        }
        let saved_optimizer = self.metadata.get("optimizer").map(String::as_str);
        if saved_optimizer != Some(optimizer.name()) {
            return Err(self.mismatch(format!(
                "the checkpoint was written with the optimizer {}, not {}",
                saved_optimizer.unwrap_or("(none)"),
                optimizer.name()
            )));
        }
        self.check_tensors(network, "network.")?;
        let keeps_best = self.tensors.keys().any(|k| k.starts_with("best."));
        if keeps_best {
            self.check_tensors(network, "best.")?;
        }
        let state: Vec<(String, Vec<T>)> = self
            .tensors
            .iter()
            .filter_map(|(name, (_, values))| {
                let name = name.strip_prefix("optimizer.")?;
                Some((
                    name.to_owned(),
                    values.iter().map(|&v| T::from_f64(v)).collect(),
                ))
            })
            .collect();
        let losses = self.history_tensor("history.losses", 1)?;
        let evaluations = self.history_tensor("history.evaluations", RECORD_WIDTH)?;
        if losses.len() != steps_done {
            return Err(self.format("`history.losses` does not hold one loss per step done"));
        }
        // The optimizer checks its own state and is unchanged on an error.
        optimizer
            .load_state(&state)
            .map_err(|e| self.mismatch(e.to_string()))?;
        if let Some(copy) = best_copy
            && keeps_best
        {
            // The best model in visiting order, as the trainer copies it.
            let mut best = Vec::new();
            network.visit_parameters(&mut |p| best.push(p.name));
            network.visit_state(&mut |name, _| best.push(name));
            copy.clear();
            for name in best {
                let values = &self.tensors[&format!("best.{name}")].1;
                copy.extend(values.iter().map(|&v| T::from_f64(v)));
            }
        }
        self.restore_tensors(network, "network.")?;
        history.losses.clear();
        history.losses.extend_from_slice(losses);
        history.evaluations.clear();
        history
            .evaluations
            .extend(
                evaluations
                    .chunks_exact(RECORD_WIDTH)
                    .map(|e| EvaluationRecord {
                        step: e[0] as usize,
                        epoch: e[1] as usize,
                        end_of_epoch: e[2] != 0.0,
                        mean_loss: e[3],
                        train: Evaluation {
                            accuracy: e[4],
                            loss: e[5],
                        },
                        validation: Evaluation {
                            accuracy: e[6],
                            loss: e[7],
                        },
                    }),
            );
        Ok(steps_done)
    }

    /// A history tensor of rows of `width` values.
    fn history_tensor(&self, name: &str, width: usize) -> Result<&[f64], CheckpointError> {
        match self.tensors.get(name) {
            Some((_, values)) if values.len() % width == 0 => Ok(values),
            _ => Err(self.format(&format!("`{name}` is missing or ragged"))),
        }
    }
}

/// The message, as `Display` gives it: a `main` that returns this error prints what
/// went wrong, not the variant's fields.
impl std::fmt::Debug for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
