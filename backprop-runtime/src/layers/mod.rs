//! The layers of the book's chapter 5, one small type each.
//!
//! Every layer follows `common/layers.py`: `forward` keeps what `backward` needs, and
//! `backward` returns the gradient for the layer's input. Feature widths are const
//! generics, so the `network!` macro chains layers whose widths agree by construction.
//! Each layer owns its output and gradient buffers: once they have seen the largest
//! batch, a training step allocates nothing.

mod affine;
mod naive;
mod relu;
mod sigmoid;
mod softmax_with_loss;

pub use affine::Affine;
pub use naive::{AddLayer, MulLayer};
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::{SoftmaxWithLoss, cross_entropy_of_scores, softmax_into};
