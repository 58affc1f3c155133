//! Optimizers: they update a network in place from the gradients its layers hold.

use crate::{Float, Network};

/// Anything that can update a network's parameters from its gradients.
pub trait Optimizer<T: Float> {
    /// Applies one update step, reading the gradients left by the last `gradient` call.
    fn update<N: Network<T>>(&mut self, network: &mut N);
}

/// Plain stochastic gradient descent, `W ← W − lr · dW` (the book's `SGD`, whose
/// default learning rate is 0.01; chapter 5's training uses 0.1).
///
/// ```
/// use backprop_runtime::Sgd;
///
/// let sgd = Sgd { lr: 0.1f32 };
/// assert_eq!(sgd.lr, 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T> {
    /// The learning rate.
    pub lr: T,
}

impl<T: Float> Default for Sgd<T> {
    fn default() -> Self {
        Sgd {
            lr: T::from_f64(0.01),
        }
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn update<N: Network<T>>(&mut self, network: &mut N) {
        let step = -self.lr;
        network.visit_parameters_mut(&mut |parameter| {
            let (mut value, gradient) = (parameter.value, parameter.gradient);
            match (value.as_slice_mut(), gradient.as_slice()) {
                (Some(values), Some(gradient)) => {
                    // Split like the products before it (see `split_like_last_product`),
                    // in pieces of whole cache lines.
                    crate::gemm::split_like_last_product(values, 16, &|first, values| {
                        for (value, &slope) in values.iter_mut().zip(&gradient[first..]) {
                            *value += step * slope;
                        }
                    });
                }
                _ => value.scaled_add(step, &gradient),
            }
        });
    }
}
