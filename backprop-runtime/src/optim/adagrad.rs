use super::slots::{Slots, load_all, save_all};
use super::{EPSILON, Optimizer, check_learning_rate};
use crate::{Float, Result};

/// AdaGrad (the book's `AdaGrad`): `h ← h + g²`, `W ← W − lr·g / (√h + ε)`, with the
/// sum of squares `h` per parameter and ε = 1e-7 outside the root.
#[derive(Clone, Debug)]
pub struct AdaGrad<T = f32> {
    /// The learning rate (the book's default 0.01).
    pub lr: f64,
    squares: Slots<T>,
}

impl<T: Float> Default for AdaGrad<T> {
    fn default() -> Self {
        AdaGrad {
            lr: 0.01,
            squares: Slots::new("h"),
        }
    }
}

impl<T: Float> AdaGrad<T> {
    /// AdaGrad with this learning rate, checked: an error names a hyper-parameter that makes no sense.
    pub fn new(lr: f64) -> Result<Self> {
        let optimizer = AdaGrad {
            lr,
            ..Self::default()
        };
        Optimizer::<T>::validate(&optimizer)?;
        Ok(optimizer)
    }
}

impl<T: Float> Optimizer<T> for AdaGrad<T> {
    fn name(&self) -> &'static str {
        "adagrad"
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

    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]) {
        let (lr, eps) = (T::from_f64(self.lr), T::from_f64(EPSILON));
        let squares = self.squares.get(index, value.len());
        for ((p, h), &g) in value.iter_mut().zip(squares).zip(gradient) {
            *h += g * g;
            *p -= lr * g / (h.sqrt() + eps);
        }
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        save_all(&[&self.squares])
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        load_all(&mut [&mut self.squares], state)
    }
}
