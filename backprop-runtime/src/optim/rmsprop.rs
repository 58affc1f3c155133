use super::slots::{Slots, load_all, save_all};
use super::{EPSILON, Optimizer, check_factor, check_learning_rate};
use crate::{Float, Result};

/// RMSprop (the book's `RMSprop`): `h ← ρ·h + (1 − ρ)·g²`, `W ← W − lr·g / (√h + ε)`.
#[derive(Clone, Debug)]
pub struct RmsProp<T = f32> {
    /// The learning rate (the book's default 0.01).
    pub lr: f64,
    /// ρ, how much of the running mean of squares is kept (the book's default 0.99).
    pub decay: f64,
    squares: Slots<T>,
}

impl<T: Float> Default for RmsProp<T> {
    fn default() -> Self {
        RmsProp {
            lr: 0.01,
            decay: 0.99,
            squares: Slots::new("h"),
        }
    }
}

impl<T: Float> RmsProp<T> {
    /// RMSprop with this learning rate and ρ, checked: an error names a hyper-parameter that makes no sense.
    pub fn new(lr: f64, decay: f64) -> Result<Self> {
        let optimizer = RmsProp {
            lr,
            decay,
            ..Self::default()
        };
        Optimizer::<T>::validate(&optimizer)?;
        Ok(optimizer)
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.lr)?;
        check_factor("decay rate", self.decay)
    }

    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]) {
        let (lr, rho, eps) = (
            T::from_f64(self.lr),
            T::from_f64(self.decay),
            T::from_f64(EPSILON),
        );
        let squares = self.squares.get(index, value.len());
        for ((p, h), &g) in value.iter_mut().zip(squares).zip(gradient) {
            *h = rho * *h + (T::one() - rho) * g * g;
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
