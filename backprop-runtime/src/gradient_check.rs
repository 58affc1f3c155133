//! Gradient checking, as the book's section 5.7.3: compare backpropagation with central
//! differences.

use ndarray::{Array, Dimension};

use crate::{Float, NamedTensors};

/// The book's finite-difference step, `h = 1e-4`.
pub const STEP: f64 = 1e-4;

/// The floor under the denominator of [`relative_error`], so that two gradients that
/// are both practically zero do not produce a large ratio.
pub const RELATIVE_ERROR_FLOOR: f64 = 1e-6;

/// The central-difference gradient of `loss` with respect to the parameter that
/// `parameter` selects, `(f(p + h) − f(p − h)) / 2h` element by element, as the book's
/// `numerical_gradient`.
///
/// The parameter is perturbed in place inside `network` and restored afterwards: this
/// is the Rust form of the book's `loss_W` lambda, which works only because the
/// parameter arrays are shared with the layers.
pub fn numerical_gradient<N, T, D>(
    network: &mut N,
    parameter: impl Fn(&mut N) -> &mut Array<T, D>,
    loss: impl Fn(&N) -> T,
) -> Array<T, D>
where
    T: Float,
    D: Dimension,
{
    let shape = parameter(network).raw_dim();
    numerical_gradient_of(
        network,
        |network, i, change| change(element(parameter(network), i)),
        shape,
        |network: &mut N| loss(network),
    )
}

/// Central differences over the elements of a parameter of shape `shape`, which
/// `element(network, i, change)` reaches: it applies `change` to element `i`.
pub(crate) fn numerical_gradient_of<N, T, D>(
    network: &mut N,
    mut element: impl FnMut(&mut N, usize, &mut dyn FnMut(&mut T)),
    shape: D,
    mut loss: impl FnMut(&mut N) -> T,
) -> Array<T, D>
where
    T: Float,
    D: Dimension,
{
    let h = T::from_f64(STEP);
    let mut gradient = Array::zeros(shape);
    for (i, g) in gradient.iter_mut().enumerate() {
        let mut original = T::zero();
        element(network, i, &mut |v| {
            original = *v;
            *v = original + h;
        });
        let above = loss(network);
        element(network, i, &mut |v| *v = original - h);
        let below = loss(network);
        element(network, i, &mut |v| *v = original);
        *g = (above - below) / (h + h);
    }
    gradient
}

fn element<T, D: Dimension>(parameter: &mut Array<T, D>, i: usize) -> &mut T {
    let values = parameter.as_slice_mut();
    &mut values.expect("parameters are kept in standard layout")[i]
}

/// `|a − b| / max(|a|, |b|, 1e-6)`.
pub fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(RELATIVE_ERROR_FLOOR)
}

/// How far two gradients of one parameter are apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The parameter's name (`W1`, `b1`, …).
    pub name: &'static str,
    /// The mean of `|a − b|` over the parameter's elements (what the book prints).
    pub mean_abs: f64,
    /// The largest [`relative_error`] over the elements.
    pub max_relative: f64,
    /// The flat index of the element with the largest relative error.
    pub worst_index: usize,
}

/// Compares two sets of named gradients tensor by tensor (e.g. backpropagation
/// against [`numerical_gradient`]), matching tensors by position.
///
/// # Panics
/// If the two sets name different tensors or shapes: both come from one network type,
/// so a difference is a bug in the caller, not bad data.
pub fn compare<T: Float>(a: &impl NamedTensors<T>, b: &impl NamedTensors<T>) -> Vec<Difference> {
    let (a, b) = (a.tensors(), b.tensors());
    assert_eq!(a.len(), b.len(), "gradient sets of different networks");
    a.iter()
        .zip(&b)
        .map(|((name, x), (other, y))| {
            assert_eq!(
                (name, x.shape()),
                (other, y.shape()),
                "gradient sets of different networks"
            );
            let mut worst = (0, 0.0);
            let mut total = 0.0;
            for (i, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                let (p, q) = (p.as_f64(), q.as_f64());
                total += (p - q).abs();
                let rel = relative_error(p, q);
                if rel > worst.1 {
                    worst = (i, rel);
                }
            }
            Difference {
                name,
                mean_abs: total / x.len().max(1) as f64,
                max_relative: worst.1,
                worst_index: worst.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn numerical_gradient_of_a_quadratic_is_exact_and_restores_the_parameter() {
        // f(p) = Σ p², whose central difference is exact: 2p.
        let mut p = array![[1.0f64, -2.0], [0.5, 3.0]];
        let g = numerical_gradient(&mut p, |p| p, |p| p.iter().map(|v| v * v).sum());
        for (g, p) in g.iter().zip(p.iter()) {
            assert!((g - 2.0 * p).abs() < 1e-9, "{g} vs {}", 2.0 * p);
        }
        assert_eq!(p, array![[1.0, -2.0], [0.5, 3.0]]);
    }

    #[test]
    fn relative_error_has_a_floor() {
        assert_eq!(relative_error(1e-9, 0.0), 1e-9 / 1e-6);
        assert!((relative_error(2.0, 1.0) - 0.5).abs() < 1e-15);
    }
}
