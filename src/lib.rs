#![doc = include_str!("../README.md")]
//!
//! # Where things are
//!
//! - [`network!`] declares a network; [`Network`] is what every declared network has
//!   ([`network`](mod@network) holds its summaries and parameter views).
//! - [`layers`]: one type per layer and the [`layers::Layer`] and [`layers::Loss`]
//!   traits a new layer implements; [`init`] for weight initialisation.
//! - [`Batch`], [`BatchView`] and [`Targets`]: rows with their feature width in the type.
//! - [`optim`]: the six optimizers of chapter 6; [`train`]: the trainer.
//! - [`data`]: MNIST (IDX files, download, mini-batches); [`model_file`]: parameters to
//!   and from safetensors.
//! - [`autograd`]: the dynamic tape; [`gradient_check`]: central differences.
//! - [`parallel`]: how many threads backprop uses.
//! - [`prelude`]: what a program that declares and trains a network needs in scope.
#![warn(missing_docs)]

/// # Grammar
///
/// ```text
/// network! { declaration… }
///
/// declaration := attributes* visibility? `struct` Name input? `{` chain `}`
/// input       := `(` features `)` | `(` channels `,` height `,` width `)`
/// chain       := layer (`->` layer)*            the last layer is the loss
/// layer       := (field `:`)? Kind (`(` arguments `)`)?
/// arguments   := positional (`,` positional)* (`,` key `=` value)*
/// positional  := integer | `_` | CONSTANT        a width, or `_` for the width flowing in
/// ```
///
/// | layer | arguments | shape out | tensors (k-th of its kind) |
/// |---|---|---|---|
/// | `Affine(in, out)` | `in` may be `_`; `init = He \| Xavier \| 0.05` | `out` (a three-axis shape is flattened, C·H·W) | `W`k, `b`k, counted over layers with weights |
/// | `Relu`, `Sigmoid`, `Tanh` | an optional width, which must agree | as in | — |
/// | `Pooling(h, w)` | `stride = 1` (the book's default; its networks use 2) | C × ((H − h)/stride + 1) × ((W − w)/stride + 1), checked to fit and tile | — |
/// | `Dropout(ratio)` | ratio in [0, 1), default 0.5; `inverted = false` | as in | — |
/// | `BatchNorm` | an optional width; `momentum = 0.9`, `eps = 1e-6` | as in | `gamma`k, `beta`k; state `running_mean`k, `running_var`k |
/// | `SoftmaxWithLoss` | an optional width (the number of classes) | as in | — |
///
/// - Fields are the book's names unless a layer is named (`hidden: Affine(784, 50)`):
///   `affine1`, `relu1`, …, numbered among the layers of their kind, named ones
///   included, and `last_layer` for the loss.
/// - Widths may be named constants (`Affine(INPUTS, HIDDEN)`), checked by the
///   compiler with the macro's own message.
/// - Doc comments and attributes before `struct` go to the struct; the visibility is
///   the struct's, its fields are public.
/// - Several declarations may share one `network!`.
/// - A declaration with mistakes reports them all at once, and still defines its
///   type and methods, so that the only errors are the mistakes.
///
/// # What a declaration generates
///
/// | item | what it is |
/// |---|---|
/// | `struct Name<T: Float = f32>` | one public field per layer, deriving `Clone` and `Debug` |
/// | `new(rng)`, `with_weight_init_std(std, rng)`, `with_weight_init(init, rng)` | constructors: the book's 0.01 · N(0, 1), a given std, or He / Xavier per fan-in |
/// | `predict`, `predict_into`, `probabilities`, `loss`, `accuracy` | inference on `&self`, in chunks over large batches |
/// | `gradient`, `gradient_with`, `input_gradient` | a training step's forward and backward |
/// | `gradients()`, `numerical_gradient` | the gradients by the book's names, by backprop or central differences |
/// | `Name::summary()`, `net.summary()` | the layers, shapes and parameter counts |
/// | `NameGradients<T>` | the gradients struct ([`NamedTensors`]) |
/// | `NameScratch<T>` | what `predict_into` writes into, `Default::default()` |
/// | `impl Network<T> for Name<T>` | what generic code uses: training steps, evaluation, parameters with roles, state, the tape ([`Network`]) |
///
/// ```
/// use backprop::prelude::*;
///
/// const HIDDEN: usize = 50;
///
/// network! {
///     /// Documentation goes to the struct.
///     pub struct Digits(1, 28, 28) {
///         hidden: Affine(_, HIDDEN, init = He) -> BatchNorm -> Relu -> Dropout(0.3)
///             -> Affine(HIDDEN, 10) -> SoftmaxWithLoss
///     }
///
///     struct Tiny {
///         Affine(4, 3) -> SoftmaxWithLoss
///     }
/// }
///
/// let summary = Digits::summary();
/// assert_eq!(summary.input_shape, [1, 28, 28]);
/// let fields: Vec<_> = summary.layers.iter().map(|l| l.field).collect();
/// assert_eq!(fields, ["hidden", "batchnorm1", "relu1", "dropout1", "affine2", "last_layer"]);
/// assert_eq!(Tiny::summary().parameters(), 15);
/// ```
pub use backprop_macros::network;
pub use backprop_runtime::{
    AsBatch, Batch, BatchView, Buffer, Error, Evaluation, Float, LayerSummary, NamedTensors,
    Network, Optimizer, Parameter, ParameterMut, Result, Sgd, Summary, Targets, WeightInit,
};
pub use backprop_runtime::{
    autograd, data, export, gradient_check, init, layers, model_file, ndarray, network, optim,
    parallel, rand, train,
};

/// Saving a network as an ONNX model (feature `onnx`, on by default).
#[cfg(feature = "onnx")]
pub use backprop_runtime::onnx;

/// Re-exported for the code `network!` generates; not public API.
#[doc(hidden)]
pub use backprop_runtime::__private;

/// The matrix-product kernels, for `examples/kernels.rs` and the benchmarks; not public
/// API.
#[doc(hidden)]
pub use backprop_runtime::gemm;

/// Everything a program that declares and trains a network needs in scope.
pub mod prelude {
    pub use backprop_macros::network;
    pub use backprop_runtime::layers::{Layer, Loss as _};
    pub use backprop_runtime::{
        AsBatch, Batch, BatchView, Error, Float, NamedTensors, Network, Optimizer, Sgd, Targets,
        WeightInit,
    };
}
