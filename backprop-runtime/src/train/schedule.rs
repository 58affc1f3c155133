//! Learning-rate schedules: the rate of step `s` is the optimizer's own rate times the
//! schedule's factor at `s`. A schedule is a function of the step alone, so a resumed
//! or extended run follows it exactly; its settings go into the checkpoint and a run
//! resumes only under the same.

use std::fmt;

use crate::{Error, Result};

/// How the learning rate changes over a run: the factor of the optimizer's rate at
/// each step.
///
/// Its [`Display`](fmt::Display) names every setting: checkpoints store it, and a run
/// is resumed only under a schedule that displays the same.
///
/// ```
/// use backprop::train::{Schedule, StepDecay};
/// let halving = StepDecay::new(600, 0.5);
/// assert_eq!((halving.factor(599), halving.factor(600), halving.factor(1200)), (1.0, 0.5, 0.25));
/// assert_eq!(halving.to_string(), "step decay by 0.5 every 600 steps");
/// ```
pub trait Schedule: fmt::Debug + fmt::Display + Send + Sync {
    /// The factor of the optimizer's learning rate at step `step` (from 0).
    fn factor(&self, step: usize) -> f64;

    /// Checks the settings, so that a run is refused before its first step.
    fn validate(&self) -> Result<()>;
}

/// A schedule chosen at run time.
impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn factor(&self, step: usize) -> f64 {
        (**self).factor(step)
    }

    fn validate(&self) -> Result<()> {
        (**self).validate()
    }
}

/// The book's schedule: the rate never changes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Constant;

impl Schedule for Constant {
    fn factor(&self, _step: usize) -> f64 {
        1.0
    }

    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("constant")
    }
}

/// Multiplies the rate by `gamma` every `every` steps: `gamma^⌊step / every⌋`
/// (PyTorch's `StepLR`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay {
    every: usize,
    gamma: f64,
}

impl StepDecay {
    /// `gamma` every `every` steps (checked when the run starts: `every` ≥ 1 and
    /// 0 < `gamma` ≤ 1).
    pub fn new(every: usize, gamma: f64) -> Self {
        StepDecay { every, gamma }
    }
}

impl Schedule for StepDecay {
    fn factor(&self, step: usize) -> f64 {
        let decays = step / self.every.max(1);
        self.gamma.powi(i32::try_from(decays).unwrap_or(i32::MAX))
    }

    fn validate(&self) -> Result<()> {
        whole("decay interval", self.every)?;
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(Error::HyperParameter {
                name: "decay factor",
                value: self.gamma,
                expected: "a number above 0 and at most 1",
            });
        }
        Ok(())
    }
}

impl fmt::Display for StepDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step decay by {} every {} steps", self.gamma, self.every)
    }
}

/// A linear warm-up over the first `warmup` steps, from `1/warmup` to 1, then a cosine
/// from 1 down to `floor` at step `steps` (and `floor` after it): at step `s ≥ warmup`,
/// `floor + (1 − floor)·(1 + cos(π·t))/2` with `t = (s − warmup)/(steps − warmup)`
/// (the schedule of Loshchilov and Hutter's SGDR, without restarts).
///
/// `steps` is the schedule's own horizon, not the run's length, so that a run extended
/// past it keeps the rate it reached.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmupCosine {
    warmup: usize,
    steps: usize,
    floor: f64,
}

impl WarmupCosine {
    /// Warm-up over `warmup` steps, cosine down to `floor` at step `steps` (checked
    /// when the run starts: `warmup` < `steps`, 0 ≤ `floor` ≤ 1).
    pub fn new(warmup: usize, steps: usize, floor: f64) -> Self {
        WarmupCosine {
            warmup,
            steps,
            floor,
        }
    }
}

impl Schedule for WarmupCosine {
    fn factor(&self, step: usize) -> f64 {
        if step < self.warmup {
            return (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup).max(1);
        let t = ((step - self.warmup) as f64 / span as f64).min(1.0);
        self.floor + (1.0 - self.floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }

    fn validate(&self) -> Result<()> {
        whole("cosine horizon", self.steps)?;
        if self.warmup >= self.steps {
            return Err(Error::HyperParameter {
                name: "warm-up steps",
                value: self.warmup as f64,
                expected: "fewer steps than the cosine's horizon",
            });
        }
        if !(0.0..=1.0).contains(&self.floor) {
            return Err(Error::HyperParameter {
                name: "cosine floor",
                value: self.floor,
                expected: "a number from 0 to 1",
            });
        }
        Ok(())
    }
}

impl fmt::Display for WarmupCosine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warm-up over {} steps, cosine to {} at step {}",
            self.warmup, self.floor, self.steps
        )
    }
}

/// Refuses a count below 1, naming the setting.
pub(super) fn whole(name: &'static str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::HyperParameter {
            name,
            value: value as f64,
            expected: "a whole number of at least 1",
        })
    }
}
