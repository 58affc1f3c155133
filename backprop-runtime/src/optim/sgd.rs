use super::{Optimizer, check_learning_rate};
use crate::{Float, Result};

/// Plain stochastic gradient descent, `W ← W − lr · dW` (the book's `SGD`, whose
/// default learning rate is 0.01; chapter 5's training uses 0.1).
///
/// ```
/// use backprop::optim::{Optimizer, Sgd};
///
/// let mut sgd = Sgd { lr: 0.5 };
/// let mut w = [1.0f32, 2.0];
/// Optimizer::<f32>::update_parameter(&mut sgd, 0, &mut w, &[2.0, -2.0]);
/// assert_eq!(w, [0.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// The learning rate.
    pub lr: f64,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { lr: 0.01 }
    }
}

impl<T: Float> Optimizer<T> for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.lr)
    }

    fn update_parameter(&mut self, _: usize, value: &mut [T], gradient: &[T]) {
        let step = -T::from_f64(self.lr);
        // The weight gradient's product wrote `gradient`: split like it (see
        // `split_pass`), in pieces of whole cache lines.
        crate::gemm::split_pass(value, 16, &|first, values| {
            for (value, &slope) in values.iter_mut().zip(&gradient[first..]) {
                *value += step * slope;
            }
        });
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        Vec::new()
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        super::slots::load_all(&mut [], state)
    }
}
