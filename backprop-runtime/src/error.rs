//! The one error type of the runtime.

/// What went wrong with input handed to a network, a batch, or a data file.
///
/// Every message names what was expected and what was found, so a user can fix the
/// input without reading backprop's source.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Rows of the wrong width were given where a fixed width is required.
    #[error("{what}: expected rows of {expected} values, found {found}")]
    Width {
        /// What was being built or read (e.g. "Batch<f32, 784> from an ndarray").
        what: String,
        /// The width required by the type.
        expected: usize,
        /// The width of the data given.
        found: usize,
    },
    /// A tensor given to a layer has another shape than the layer's.
    #[error("{what}: expected shape {expected:?}, found {found:?}")]
    Shape {
        /// Which tensor of which layer.
        what: String,
        /// The layer's shape for it.
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
    /// A flat buffer whose length is not a whole number of rows.
    #[error(
        "{what}: {found} values do not split into rows of {width} (the last row would have {rest})"
    )]
    Ragged {
        /// What was being built.
        what: String,
        /// The required row width.
        width: usize,
        /// The number of values given.
        found: usize,
        /// How many values the incomplete last row would hold.
        rest: usize,
    },
    /// The inputs and the targets disagree on the number of samples.
    #[error("x has {x_rows} rows but t has {t_rows}: every input row needs exactly one target")]
    RowMismatch {
        /// Rows of the input batch.
        x_rows: usize,
        /// Rows (or labels) of the targets.
        t_rows: usize,
    },
    /// A batch with no rows where at least one is needed (a mean over no samples).
    #[error("{what}: the batch is empty; expected at least one row")]
    EmptyBatch {
        /// The operation that was given the empty batch.
        what: &'static str,
    },
    /// A class index that the network's output cannot represent.
    #[error(
        "target row {row}: class index {found} is out of range; expected an index below {classes}"
    )]
    LabelOutOfRange {
        /// The offending row.
        row: usize,
        /// The index given.
        found: usize,
        /// The number of classes (the network's output width).
        classes: usize,
    },
    /// One-hot targets whose rows are not as wide as the network's output.
    #[error("one-hot targets: expected {expected} columns (one per class), found {found}")]
    OneHotWidth {
        /// The network's output width.
        expected: usize,
        /// The width of the given rows.
        found: usize,
    },
    /// A hyper-parameter outside the values that make sense, refused before training.
    #[error("{name} = {value}: expected {expected}")]
    HyperParameter {
        /// The hyper-parameter, as the library names it (`learning rate`, `momentum`).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is allowed, e.g. "a finite number above 0".
        expected: &'static str,
    },
    /// An optimizer name that is not one of the library's.
    #[error("unknown optimizer `{name}`; the optimizers are {}", known.join(", "))]
    UnknownOptimizer {
        /// The name given.
        name: String,
        /// The names known.
        known: &'static [&'static str],
    },
    /// The loss of a training step stopped being a finite number.
    #[error(
        "training diverged at step {step}: the loss is {loss}; this usually means the learning rate is too large for the initialisation (try a smaller learning rate, or smaller initial weights)"
    )]
    Diverged {
        /// The step (from 0).
        step: usize,
        /// The loss it returned.
        loss: f64,
    },
    /// A parameter that is not a finite number before training starts.
    #[error(
        "the network's parameter `{name}` holds {value} before training: check its initialisation (a weight scale that is not a finite number gives such weights)"
    )]
    NonFiniteParameter {
        /// The parameter's name.
        name: &'static str,
        /// The first value that is not finite.
        value: f64,
    },
    /// A checkpoint could not be written, read or resumed from.
    #[error(transparent)]
    Checkpoint(#[from] crate::train::CheckpointError),
    /// Saved optimizer state that does not fit the optimizer or the network.
    #[error("optimizer state: {0}")]
    OptimizerState(String),
    /// A data file or data set problem (reading IDX files, downloading, gathering).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A model file problem (saving or loading parameters).
    #[error(transparent)]
    ModelFile(#[from] crate::model_file::ModelFileError),
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message, as `Display` gives it: a `main` that returns this error prints what
/// went wrong, not the variant's fields.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
