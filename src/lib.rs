#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use backprop_macros::network;
pub use backprop_runtime::*;

/// Everything a program that declares and trains a network needs in scope.
pub mod prelude {
    pub use backprop_macros::network;
    pub use backprop_runtime::layers::{Layer, Loss as _};
    pub use backprop_runtime::{
        AsBatch, Batch, BatchView, Error, Float, NamedTensors, Network, Optimizer, Sgd, Targets,
        WeightInit,
    };
}
