//! A small dynamic autograd tape, in the spirit of PyTorch tensors.
//!
//! The `network!` macro writes backward code at compile time; this module does the same job at
//! run time, for expressions built on the fly, and serves as an independent check of the
//! generated gradients.
//!
//! A [`Var`] holds an array (scalar, vector, matrix or more), its gradient once
//! [`Var::backward`] has run, and the operation that produced it. Each operation is a method
//! that computes its value and records, right beside that code, how to turn the gradient of its
//! output into gradients of its inputs. `backward` then visits the graph once in reverse
//! topological order, adding up the gradients of values used more than once.
//!
//! ```
//! use backprop::autograd::{TapeError, Var};
//! use backprop::ndarray::{arr1, arr2};
//!
//! // One affine layer, ReLU and softmax cross-entropy on a batch of two samples.
//! let x = Var::constant(arr2(&[[1.0, 2.0], [3.0, -1.0]]));
//! let w = Var::leaf(arr2(&[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]));
//! let b = Var::leaf(arr1(&[0.0, 0.1, 0.2]));
//! let loss = x.matmul(&w)?.add(&b)?.relu().softmax_cross_entropy(&[2, 0])?;
//! loss.backward()?;
//!
//! assert!(loss.item()? > 0.0);
//! assert_eq!(w.grad().map(|g| g.shape().to_vec()), Some(vec![2, 3]));
//! assert_eq!(b.grad().map(|g| g.shape().to_vec()), Some(vec![3])); // summed over the batch
//! assert_eq!(x.grad(), None); // constants get no gradient
//! # Ok::<(), TapeError>(())
//! ```
//!
//! Shape errors are values, not panics: `w.matmul(&w)` above would return
//! [`TapeError::ShapeMismatch`], whose message names `matmul` and both shapes.
//!
//! Memory: a result owns its inputs (through `Rc`), inputs never point to results, so a graph
//! is freed when its result is dropped; values made only from constants keep nothing alive.

mod elementwise;
mod error;
mod gather;
mod loss;
mod matrix;
mod pool;
mod reduce;
mod var;

#[cfg(test)]
mod gradcheck;
#[cfg(test)]
mod tests;

pub use error::TapeError;
pub use var::Var;

use crate::Float;

/// `n` as a float, for dividing by a count.
fn count_as<T: Float>(n: usize) -> T {
    T::from_f64(n as f64)
}
