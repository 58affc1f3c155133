use super::slots::{Slots, load_all, save_all};
use super::{Optimizer, check_factor, check_learning_rate};
use crate::{Float, Result};

/// Momentum SGD (the book's `Momentum`): `v ← μ·v − lr·g`, `W ← W + v`, with a
/// velocity `v` per parameter, zero at the start.
#[derive(Clone, Debug)]
pub struct Momentum<T = f32> {
    /// The learning rate (the book's default 0.01).
    pub lr: f64,
    /// μ, how much of the velocity is kept (the book's default 0.9).
    pub momentum: f64,
    velocity: Slots<T>,
}

impl<T: Float> Default for Momentum<T> {
    fn default() -> Self {
        Momentum {
            lr: 0.01,
            momentum: 0.9,
            velocity: Slots::new("v"),
        }
    }
}

impl<T: Float> Momentum<T> {
    /// Momentum with this learning rate and μ, checked: an error names a hyper-parameter that makes no sense.
    pub fn new(lr: f64, momentum: f64) -> Result<Self> {
        let optimizer = Momentum {
            lr,
            momentum,
            ..Self::default()
        };
        Optimizer::<T>::validate(&optimizer)?;
        Ok(optimizer)
    }
}

impl<T: Float> Optimizer<T> for Momentum<T> {
    fn name(&self) -> &'static str {
        "momentum"
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.lr)?;
        check_factor("momentum", self.momentum)
    }

    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]) {
        let (lr, mu) = (T::from_f64(self.lr), T::from_f64(self.momentum));
        let velocity = self.velocity.get(index, value.len());
        for ((p, v), &g) in value.iter_mut().zip(velocity).zip(gradient) {
            *v = mu * *v - lr * g;
            *p += *v;
        }
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        save_all(&[&self.velocity])
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        load_all(&mut [&mut self.velocity], state)
    }
}
