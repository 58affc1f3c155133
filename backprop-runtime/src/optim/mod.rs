//! Optimizers: they update a network's parameters in place from the gradients its
//! layers hold, the six of the book's `common/optimizer.py`, with its defaults.
//!
//! Every optimizer works parameter by parameter ([`Optimizer::update_parameter`]), so
//! one serves every declared network, generically (`Adam::default().update(&mut net)`)
//! or chosen by name at run time as a trait object ([`by_name`]). State (velocities,
//! moments) is allocated on the first update, sized to each parameter, and reused:
//! a warm step allocates nothing.
//!
//! Weight decay is not an optimizer setting: it is part of the training step
//! ([`Network::train_step_with_weight_decay`]), as the book adds it to the loss and the
//! gradients before the optimizer sees them. Adam with weight decay is therefore the
//! book's L2 penalty, not AdamW.

mod adagrad;
mod adam;
mod momentum;
mod nesterov;
mod rmsprop;
mod sgd;
mod slots;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::{Error, Float, Network, Result};

/// The ε the book adds outside every square root.
pub const EPSILON: f64 = 1e-7;

/// The optimizers' names, as [`by_name`] accepts them.
pub const NAMES: [&str; 6] = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];

/// Anything that updates a network's parameters from their gradients.
pub trait Optimizer<T: Float>: std::fmt::Debug {
    /// The name [`by_name`] knows it by: `"adam"`.
    fn name(&self) -> &'static str;

    /// The learning rate.
    fn learning_rate(&self) -> f64;

    /// Replaces the learning rate (checked by [`validate`](Optimizer::validate)).
    fn set_learning_rate(&mut self, lr: f64);

    /// Checks every hyper-parameter, so that a run is refused before it starts.
    fn validate(&self) -> Result<()>;

    /// Called once at the start of every update, before the parameters (Adam counts
    /// its steps here).
    fn begin_update(&mut self) {}

    /// Updates parameter number `index` (its position in the network's visit) in place
    /// from its gradient.
    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]);

    /// The state, as named tensors, for a checkpoint: empty for SGD.
    fn state(&self) -> Vec<(String, Vec<T>)>;

    /// Restores state that [`state`](Optimizer::state) returned, checking every name and
    /// length first: on an error the optimizer is unchanged.
    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()>;

    /// One update of every parameter of `network`, from the gradients its last
    /// training step left.
    fn update<N: Network<T>>(&mut self, network: &mut N)
    where
        Self: Sized,
    {
        update_network(self, network);
    }
}

/// An optimizer chosen at run time ([`by_name`]) is one too: `optimizer.update(&mut net)`.
impl<T: Float, O: Optimizer<T> + ?Sized> Optimizer<T> for Box<O> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr);
    }

    fn validate(&self) -> Result<()> {
        (**self).validate()
    }

    fn begin_update(&mut self) {
        (**self).begin_update();
    }

    fn update_parameter(&mut self, index: usize, value: &mut [T], gradient: &[T]) {
        (**self).update_parameter(index, value, gradient);
    }

    fn state(&self) -> Vec<(String, Vec<T>)> {
        (**self).state()
    }

    fn load_state(&mut self, state: &[(String, Vec<T>)]) -> Result<()> {
        (**self).load_state(state)
    }
}

/// One update of every parameter of `network` by `optimizer`, sized or not.
pub(crate) fn update_network<T: Float, N: Network<T>>(
    optimizer: &mut (impl Optimizer<T> + ?Sized),
    network: &mut N,
) {
    optimizer.begin_update();
    let mut index = 0;
    network.visit_parameters_mut(&mut |p| {
        let (mut value, gradient) = (p.value, p.gradient);
        if let (Some(values), Some(slopes)) = (value.as_slice_mut(), gradient.as_slice()) {
            optimizer.update_parameter(index, values, slopes);
        } else {
            // Layers keep their parameters in standard layout; one that did not would
            // still be updated, through copies.
            let mut values: Vec<T> = value.iter().copied().collect();
            let slopes: Vec<T> = gradient.iter().copied().collect();
            optimizer.update_parameter(index, &mut values, &slopes);
            value.iter_mut().zip(values).for_each(|(v, new)| *v = new);
        }
        index += 1;
    });
}

/// The optimizer called `name` (case-insensitive) with the book's defaults, or an
/// error that lists the names.
///
/// ```
/// use backprop::optim;
///
/// let adam = optim::by_name::<f32>("Adam").unwrap();
/// assert_eq!((adam.name(), adam.learning_rate()), ("adam", 0.001));
/// let error = optim::by_name::<f32>("adamw").unwrap_err().to_string();
/// assert!(error.contains("sgd, momentum, nesterov, adagrad, rmsprop, adam"), "{error}");
/// ```
pub fn by_name<T: Float>(name: &str) -> Result<Box<dyn Optimizer<T>>> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "sgd" => Box::new(Sgd::default()),
        "momentum" => Box::new(Momentum::default()),
        "nesterov" => Box::new(Nesterov::default()),
        "adagrad" => Box::new(AdaGrad::default()),
        "rmsprop" => Box::new(RmsProp::default()),
        "adam" => Box::new(Adam::default()),
        _ => {
            return Err(Error::UnknownOptimizer {
                name: name.to_owned(),
                known: &NAMES,
            });
        }
    })
}

/// A learning rate: finite and above 0.
fn check_learning_rate(lr: f64) -> Result<()> {
    check(
        "learning rate",
        lr,
        "a finite number above 0",
        lr.is_finite() && lr > 0.0,
    )
}

/// A decay or momentum factor: in [0, 1).
fn check_factor(name: &'static str, value: f64) -> Result<()> {
    check(
        name,
        value,
        "a number in [0, 1)",
        (0.0..1.0).contains(&value),
    )
}

fn check(name: &'static str, value: f64, expected: &'static str, ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::HyperParameter {
            name,
            value,
            expected,
        })
    }
}
