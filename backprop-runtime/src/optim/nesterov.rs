use super::slots::{Slots, load_all, save_all};
use super::{Optimizer, check_factor, check_learning_rate};
use crate::{Float, Result};

/// Nesterov's accelerated gradient (the book's `Nesterov`), in the order of the book's
/// Japanese repository since 2021, the published reformulation (Bengio et al. 2012):
/// `W ← W + μ²·v − (1 + μ)·lr·g` with the velocity before this step, then
/// `v ← μ·v − lr·g`. (The Korean repository updates `v` first and uses the new one.)
#[derive(Clone, Debug)]
pub struct Nesterov<T = f32> {
    /// The learning rate (the book's default 0.01).
    pub lr: f64,
    /// μ (the book's default 0.9).
    pub momentum: f64,
    velocity: Slots<T>,
}

impl<T: Float> Default for Nesterov<T> {
    fn default() -> Self {
        Nesterov {
            lr: 0.01,
            momentum: 0.9,
            velocity: Slots::new("v"),
        }
    }
}

impl<T: Float> Nesterov<T> {
    /// Nesterov with this learning rate and μ, checked: an error names a hyper-parameter that makes no sense.
    pub fn new(lr: f64, momentum: f64) -> Result<Self> {
        let optimizer = Nesterov {
            lr,
            momentum,
            ..Self::default()
        };
        Optimizer::<T>::validate(&optimizer)?;
        Ok(optimizer)
    }
}

impl<T: Float> Optimizer<T> for Nesterov<T> {
    fn name(&self) -> &'static str {
        "nesterov"
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
            *p += mu * mu * *v - (T::one() + mu) * lr * g;
            *v = mu * *v - lr * g;
        }
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        save_all(&[&self.velocity])
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        load_all(&mut [&mut self.velocity], state)
    }
}
