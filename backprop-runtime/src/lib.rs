//! The runtime behind backprop's `network!` macro: typed batches, the layers of
//! *Deep Learning from Scratch* chapter 5, losses, optimizers and gradient checking.
//!
//! Most users depend on the `backprop` crate, which re-exports all of this together
//! with the macro.

#![warn(missing_docs)]

pub mod autograd;
mod batch;
mod buffer;
pub mod data;
mod error;
pub mod export;
mod float;
// Public for the kernel benchmarks and their tests; not API a network's user needs.
#[doc(hidden)]
pub mod gemm;
pub mod gradient_check;
pub mod init;
pub mod layers;
mod linalg;
pub mod model_file;
pub mod network;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod optim;
pub mod parallel;
#[doc(hidden)]
pub mod __private {
    //! Re-exported for the code `network!` generates; not public API.
    pub use crate::private::*;
}
mod private;
mod targets;
pub mod train;

pub use batch::{AsBatch, Batch, BatchView};
pub use buffer::Buffer;
pub use error::{Error, Result};
pub use float::Float;
pub use network::{
    Evaluation, LayerSummary, NamedTensors, Network, Parameter, ParameterMut, Summary, WeightInit,
};
pub use optim::{Optimizer, Sgd};
pub use targets::Targets;

/// Re-exported so that generated code and users name the same versions.
pub use ndarray;
/// Re-exported so that generated code and users name the same versions.
pub use rand;
