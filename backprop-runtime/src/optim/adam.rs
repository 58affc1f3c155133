use super::slots::{Slots, check_names};
use super::{EPSILON, Optimizer, check_factor, check_learning_rate};
use crate::{Error, Float, Result};

/// Adam (the book's `Adam`): one step counter `t` for all parameters, counted before
/// the update (the first step has t = 1); the bias correction folded into the step
/// size, `lr_t = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)`; `m ← m + (1 − β₁)(g − m)`,
/// `v ← v + (1 − β₂)(g² − v)`, `W ← W − lr_t·m / (√v + ε)` with ε = 1e-7 on the
/// uncorrected `√v`.
#[derive(Clone, Debug)]
pub struct Adam<T = f32> {
    /// The learning rate (the book's default 0.001).
    pub lr: f64,
    /// β₁, the decay of the mean (the book's default 0.9).
    pub beta1: f64,
    /// β₂, the decay of the mean of squares (the book's default 0.999).
    pub beta2: f64,
    step: u64,
    /// The step size of the current update, bias correction included.
    step_size: f64,
    mean: Slots<T>,
    squares: Slots<T>,
}

impl<T: Float> Default for Adam<T> {
    fn default() -> Self {
        Adam {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            step: 0,
            step_size: 0.0,
            mean: Slots::new("m"),
            squares: Slots::new("v"),
        }
    }
}

impl<T> Adam<T> {
    /// Updates made so far (the book's `iter`).
    pub fn steps(&self) -> u64 {
        self.step
    }
}

impl<T: Float> Adam<T> {
    /// Adam with this learning rate, β₁ and β₂, checked: an error names a hyper-parameter that makes no sense.
    pub fn new(lr: f64, beta1: f64, beta2: f64) -> Result<Self> {
        let optimizer = Adam {
            lr,
            beta1,
            beta2,
            ..Self::default()
        };
        Optimizer::<T>::validate(&optimizer)?;
        Ok(optimizer)
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        "adam"
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.lr)?;
        check_factor("beta1", self.beta1)?;
        check_factor("beta2", self.beta2)
    }

    fn begin_update(&mut self) {
        self.step += 1;
        let t = self.step as f64;
        self.step_size = self.lr * (1.0 - self.beta2.powf(t)).sqrt() / (1.0 - self.beta1.powf(t));
    }

    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]) {
        let step_size = T::from_f64(self.step_size);
        let (one_minus_beta1, one_minus_beta2) =
            (T::from_f64(1.0 - self.beta1), T::from_f64(1.0 - self.beta2));
        let eps = T::from_f64(EPSILON);
        let mean = self.mean.get(index, value.len());
        let squares = self.squares.get(index, value.len());
        // Large tensors (SimpleConvNet's 4320×100 weights) on every thread: the update
        // reads and writes four of their size.
        let parts = crate::parallel::parts_for(4 * size_of_val(value));
        let chunk = value.len().div_ceil(parts);
        let data = [(value, chunk), (mean, chunk), (squares, chunk)];
        crate::parallel::for_each_part(parts, data, &|part, [value, mean, squares]| {
            let gradient = &gradient[part * chunk..];
            for (((p, m), v), &g) in value.iter_mut().zip(mean).zip(squares).zip(gradient) {
                *m += one_minus_beta1 * (g - *m);
                *v += one_minus_beta2 * (g * g - *v);
                *p -= step_size * *m / (v.sqrt() + eps);
            }
        });
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        let mut state = vec![("t".to_owned(), vec![T::from_f64(self.step as f64)])];
        self.mean.save(&mut state);
        self.squares.save(&mut state);
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        check_names(state, &[self.mean.name(), self.squares.name()], &["t"])?;
        let step = match state.iter().find(|(name, _)| name == "t") {
            Some((_, t)) if t.len() == 1 && t[0] >= T::zero() && t[0].fract() == T::zero() => {
                t[0].as_f64() as u64
            }
            Some(_) => {
                return Err(Error::OptimizerState(
                    "`t` must hold one whole number of at least 0".to_owned(),
                ));
            }
            None => {
                return Err(Error::OptimizerState(
                    "`t` (Adam's step count) is missing".to_owned(),
                ));
            }
        };
        let (mean, squares) = (self.mean.read(state)?, self.squares.read(state)?);
        if mean.len() != squares.len() || mean.iter().zip(&squares).any(|(m, v)| m.len() != v.len())
        {
            return Err(Error::OptimizerState(
                "`m.N` and `v.N` must come in pairs of the same length".to_owned(),
            ));
        }
        self.step = step;
        self.mean.install(mean);
        self.squares.install(squares);
        Ok(())
    }
}
