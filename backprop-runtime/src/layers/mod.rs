//! The layers of the book, one small type each, and the two traits every layer
//! implements: [`Layer`] for the layers a batch flows through, [`Loss`] for the last one.
//!
//! Every layer follows `common/layers.py`: `forward` keeps what `backward` needs, and
//! `backward` returns the gradient for the layer's input. Feature widths are const
//! generics, so the `network!` macro chains layers whose widths agree by construction.
//! Each layer owns its output and gradient buffers: once they have seen the largest
//! batch, a training step allocates nothing.
//!
//! All layers are called the same way, so the code `network!` writes is the same calls
//! for every layer, and a new layer is one file here and one entry in the macro's table
//! (`docs/adding-a-layer.md` walks through [`Tanh`]).

mod affine;
mod batch_norm;
mod convolution;
mod dropout;
mod elementwise;
mod naive;
mod pooling;
mod relu;
mod sigmoid;
mod softmax_with_loss;
mod tanh;

use std::fmt;

use ndarray::{Array, Array1, ArrayView2, ArrayViewD, ArrayViewMutD, Dimension};

use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Output, Value};
use crate::{Float, Result, Targets, WeightInit};

pub use affine::{Affine, AffineConfig};
pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use convolution::{
    BackwardScratch, Convolution, ConvolutionConfig, ConvolutionScratch, ForwardScratch, Geometry,
};
pub use dropout::{Dropout, DropoutConfig};
pub use naive::{AddLayer, MulLayer};
pub use pooling::{Pooling, PoolingScratch};
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::{SoftmaxWithLoss, cross_entropy_of_scores, softmax_into};
pub use tanh::Tanh;

/// What a learned tensor is for. Optimizers and weight decay act by role, never by
/// name: weight decay reaches weights only, not biases, scales or shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A weight matrix or filter bank (the book's `W`).
    Weight,
    /// An additive bias (the book's `b`).
    Bias,
    /// A learned multiplier, such as BatchNorm's γ.
    Scale,
    /// A learned offset, such as BatchNorm's β.
    Shift,
}

/// Whether a forward pass trains the network or evaluates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: a Dropout draws a fresh mask, a BatchNorm uses the batch's statistics.
    Train,
    /// Evaluation on `&mut self`: the same results as inference, with the caches kept.
    Eval,
}

/// What a training forward pass hands every layer: the mode and a source of random
/// numbers (for the layers that draw, such as Dropout).
pub struct Context<'a> {
    mode: Mode,
    rng: &'a mut dyn rand::Rng,
}

impl<'a> Context<'a> {
    /// A context for training, drawing from `rng`.
    pub fn training(rng: &'a mut dyn rand::Rng) -> Self {
        Context {
            mode: Mode::Train,
            rng,
        }
    }

    /// A context for evaluating with the caches kept (no random draws are made).
    pub fn evaluating(rng: &'a mut dyn rand::Rng) -> Self {
        Context {
            mode: Mode::Eval,
            rng,
        }
    }

    /// The mode of this pass.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The random source of this pass.
    pub fn rng(&mut self) -> &mut dyn rand::Rng {
        self.rng
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// What a layer is built from besides its configuration: the network's initialisation
/// choice, the layer's fan-in (inputs per output unit) and the random source.
pub struct Init<'a> {
    /// The network-wide choice; a layer's own `init = …` argument takes precedence.
    pub weights: WeightInit,
    /// Inputs that feed one output unit: the width for an Affine layer.
    pub fan_in: usize,
    /// Where initial weights are drawn from.
    pub rng: &'a mut dyn rand::Rng,
}

/// Calls `visit(role, value, gradient)` for each learned tensor of a layer.
pub type ParameterVisit<'v, T> = dyn FnMut(Role, ArrayViewD<'_, T>, ArrayViewD<'_, T>) + 'v;
/// Calls `visit(role, value, gradient)` for each learned tensor, both writable (weight
/// decay adds to the gradient, an optimizer updates the value).
pub type ParameterVisitMut<'v, T> =
    dyn FnMut(Role, ArrayViewMutD<'_, T>, ArrayViewMutD<'_, T>) + 'v;

/// Checks that the weight and the bias given to `layer` (e.g. "Affine<784, 50>") have
/// the layer's shapes. Each comes with its expected shape and the names of its axes
/// for the message (e.g. "(in, out)"): the check of [`Affine::from_parameters`] and
/// [`Convolution::from_parameters`].
///
/// # Errors
/// [`crate::Error::Shape`] naming the tensor, with both shapes.
fn check_weight_and_bias<T, D: Dimension>(
    layer: &str,
    weight: (&Array<T, D>, &[usize], &str),
    bias: (&Array1<T>, &[usize], &str),
) -> Result<()> {
    let tensors = [
        ("weights W", weight.0.shape(), weight.1, weight.2),
        ("bias b", bias.0.shape(), bias.1, bias.2),
    ];
    for (tensor, found, expected, axes) in tensors {
        if found != expected {
            return Err(crate::Error::Shape {
                what: format!("{layer} {tensor} {axes}"),
                expected: expected.to_vec(),
                found: found.to_vec(),
            });
        }
    }
    Ok(())
}

/// Visits a weight and a bias with their gradients, in that order: the parameters of
/// [`Affine`] and [`Convolution`].
fn visit_weight_and_bias<T: Float, D: Dimension>(
    visit: &mut ParameterVisit<'_, T>,
    [w, dw]: [&Array<T, D>; 2],
    [b, db]: [&Array1<T>; 2],
) {
    visit(Role::Weight, w.view().into_dyn(), dw.view().into_dyn());
    visit(Role::Bias, b.view().into_dyn(), db.view().into_dyn());
}

/// [`visit_weight_and_bias`], writable.
fn visit_weight_and_bias_mut<T: Float, D: Dimension>(
    visit: &mut ParameterVisitMut<'_, T>,
    [w, dw]: [&mut Array<T, D>; 2],
    [b, db]: [&mut Array1<T>; 2],
) {
    visit(
        Role::Weight,
        w.view_mut().into_dyn(),
        dw.view_mut().into_dyn(),
    );
    visit(
        Role::Bias,
        b.view_mut().into_dyn(),
        db.view_mut().into_dyn(),
    );
}

/// A layer that a batch flows through, forward and back: the one calling convention of
/// every layer but the loss.
///
/// Rows are samples; a layer sees them as a matrix of `rows × features` (features of a
/// three-axis shape in C, H, W order).
pub trait Layer<T: Float>: Clone + fmt::Debug + Send + Sync {
    /// The declaration's arguments other than widths (`()` for most layers).
    type Config: Copy + fmt::Debug;
    /// What [`infer`](Layer::infer) writes into: owned by the caller, so that one
    /// trained network serves several threads, each with its own scratch.
    type Scratch: Default + fmt::Debug + Send;
    /// Learned values in the layer.
    const PARAMETERS: usize;

    /// A fresh layer, weights drawn as `init` says.
    fn new(config: Self::Config, init: &mut Init<'_>) -> Self;

    /// The layer as declared, for a network's summary: `Affine(784, 50)`.
    fn describe(config: &Self::Config) -> String;

    /// The training forward pass: computes the output and keeps what `backward` needs.
    fn forward(&mut self, x: ArrayView2<'_, T>, context: &mut Context<'_>) -> ArrayView2<'_, T>;

    /// The inference forward pass: the layer is left untouched.
    fn infer<'s>(&self, x: ArrayView2<'_, T>, scratch: &'s mut Self::Scratch) -> ArrayView2<'s, T>;

    /// Stores the gradients of the layer's parameters and returns the gradient for its
    /// input. `x` is the input the last `forward` was given, `dout` the gradient of
    /// its output.
    fn backward(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T>;

    /// Stores the parameters' gradients only: for the first layer with parameters,
    /// whose input gradient nobody reads.
    fn backward_parameters(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) {
        self.backward(x, dout);
    }

    /// The output of the last `forward`.
    fn output(&self) -> ArrayView2<'_, T>;

    /// Each learned tensor with its role and the gradient the last `backward` stored,
    /// in the order of the macro's parameter names.
    fn visit_parameters(&self, _visit: &mut ParameterVisit<'_, T>) {}

    /// Each learned tensor, writable, with the gradient the last `backward` stored.
    fn visit_parameters_mut(&mut self, _visit: &mut ParameterVisitMut<'_, T>) {}

    /// Each tensor of state that is not learned but must be saved with the model
    /// (BatchNorm's running statistics), in the order of the macro's state names.
    fn visit_state(&self, _visit: &mut dyn FnMut(ArrayViewD<'_, T>)) {}

    /// The same state, writable (for loading a model).
    fn visit_state_mut(&mut self, _visit: &mut dyn FnMut(ArrayViewMutD<'_, T>)) {}

    /// The layer's forward pass on the autograd tape, for checking `backward`: each
    /// parameter becomes a leaf pushed onto `leaves`, in visiting order.
    fn tape(&self, x: &Var<T>, leaves: &mut Vec<Var<T>>) -> std::result::Result<Var<T>, TapeError>;

    /// The layer's inference pass as standard ONNX operators: adds to `graph` the nodes
    /// that compute it from `x`, its parameters through
    /// [`Graph::parameter`] in visiting order, and returns the value it writes.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value;
}

/// The last layer of a network: it compares the scores with the targets, and its
/// backward starts the backward pass.
pub trait Loss<T: Float>: Clone + fmt::Debug + Send + Sync {
    /// The declaration's arguments other than widths.
    type Config: Copy + fmt::Debug;

    /// A fresh loss layer.
    fn new(config: Self::Config) -> Self;

    /// The layer as declared, for a network's summary.
    fn describe(config: &Self::Config) -> String;

    /// The mean loss of `scores` against `t`; keeps what `backward` needs.
    fn forward(&mut self, scores: ArrayView2<'_, T>, t: &Targets<'_, T>) -> Result<T>;

    /// The gradient of the mean loss with respect to the scores of the last `forward`.
    fn backward(&mut self) -> ArrayView2<'_, T>;

    /// What the last `forward` computed from the scores (the softmax).
    fn output(&self) -> ArrayView2<'_, T>;

    /// The summed (not mean) loss of `scores` against rows `offset..` of `t`, keeping
    /// nothing: evaluation adds these up chunk by chunk. `t` is already validated.
    fn total_loss(scores: ArrayView2<'_, T>, t: &Targets<'_, T>, offset: usize) -> T;

    /// The mean loss on the autograd tape.
    fn tape(&self, scores: &Var<T>, t: &Targets<'_, T>) -> std::result::Result<Var<T>, TapeError>;

    /// What an exported graph computes from the scores: `output` says whether the
    /// scores themselves or the probabilities (see [`Layer::export`]).
    fn export(&self, graph: &mut Graph<T>, scores: Value, output: Output) -> Value;
}
