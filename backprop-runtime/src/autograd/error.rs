//! The one error type of the tape: every misuse is reported, none panics.

use thiserror::Error;

/// Why an operation on the tape, or a backward pass, was refused.
///
/// Each message names the operation and the shapes (or indices) involved, so the caller can
/// see which expression was wrong without a debugger.
///
/// ```
/// use backprop::autograd::{TapeError, Var};
/// use backprop::ndarray::Array2;
///
/// let a = Var::leaf(Array2::<f64>::zeros((2, 3)));
/// let b = Var::leaf(Array2::<f64>::zeros((4, 5)));
/// let err = a.matmul(&b).unwrap_err();
/// assert!(matches!(err, TapeError::ShapeMismatch { op: "matmul", .. }));
/// assert!(err.to_string().contains("[2, 3] and [4, 5]"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TapeError {
    /// Two operands (or an operand and its targets) have shapes the operation cannot combine.
    #[error("{op}: cannot combine shapes {left:?} and {right:?}: {rule}")]
    ShapeMismatch {
        /// The operation that refused, e.g. `"matmul"`.
        op: &'static str,
        /// Shape of the left operand (the value the method was called on).
        left: Vec<usize>,
        /// Shape of the right operand or of the targets.
        right: Vec<usize>,
        /// The rule the shapes break.
        rule: &'static str,
    },
    /// An operand has the wrong number of dimensions for the operation.
    #[error("{op}: expected a {expected}-dimensional {operand}, found shape {found:?}")]
    WrongRank {
        /// The operation that refused.
        op: &'static str,
        /// Which operand: `"left operand"`, `"right operand"`, `"logits"`, ...
        operand: &'static str,
        /// The number of dimensions the operation needs.
        expected: usize,
        /// The shape it was given.
        found: Vec<usize>,
    },
    /// An axis index is not smaller than the number of dimensions.
    #[error("{op}: axis {axis} is out of range for shape {shape:?}")]
    AxisOutOfRange {
        /// The operation that refused.
        op: &'static str,
        /// The requested axis.
        axis: usize,
        /// The shape of the operand.
        shape: Vec<usize>,
    },
    /// A class-index target does not name one of the logits' columns.
    #[error(
        "{op}: target of row {row} is class {class}, but the logits have only {classes} classes"
    )]
    ClassOutOfRange {
        /// The operation that refused.
        op: &'static str,
        /// The row (sample) whose target is wrong.
        row: usize,
        /// The class index found in the targets.
        class: usize,
        /// The number of classes (columns of the logits).
        classes: usize,
    },
    /// `backward()` was called on a value with more than one element.
    #[error(
        "backward: the result has shape {shape:?}, not a single element; \
         call backward_with(seed) with a seed of that shape"
    )]
    NonScalarBackward {
        /// Shape of the value `backward()` was called on.
        shape: Vec<usize>,
    },
    /// The seed given to `backward_with` does not have the result's shape.
    #[error("backward_with: the seed has shape {found:?} but the result has shape {expected:?}")]
    SeedShape {
        /// Shape of the result.
        expected: Vec<usize>,
        /// Shape of the seed that was passed.
        found: Vec<usize>,
    },
    /// The result does not depend on any leaf that requires a gradient.
    #[error(
        "backward: the result does not depend on any value that requires a gradient \
         (all of its leaves were made with Var::constant)"
    )]
    NoGradientPath,
    /// `item()` was called on a value with more than one element (or none).
    #[error("item: expected a single-element value, found shape {shape:?}")]
    NotAScalar {
        /// Shape of the value.
        shape: Vec<usize>,
    },
}
