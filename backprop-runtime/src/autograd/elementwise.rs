//! Elementwise operations: arithmetic with broadcasting, powers, exp, log and activations.
//!
//! Broadcasting follows NumPy: shapes are aligned from the right and an axis of length 1 (or a
//! missing leading axis) is repeated to match the other operand, so a bias row `1×n` or `n`
//! adds to every row of an `m×n` batch. The gradient of a broadcast operand is the output
//! gradient summed over the axes it was repeated along.

use ndarray::{ArrayD, Axis, Zip};

use super::Float;
use super::error::TapeError;
use super::var::Var;

const BROADCAST_RULE: &str =
    "aligned from the right, each axis must have the same length in both, or length 1 in one";

impl<T: Float> Var<T> {
    /// `self + other`, elementwise with broadcasting.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::{arr1, arr2};
    ///
    /// let batch = Var::constant(arr2(&[[1.0, 2.0], [3.0, 4.0]]));
    /// let bias = Var::leaf(arr1(&[10.0, 20.0]));
    /// let y = batch.add(&bias)?;
    /// assert_eq!(y.value(), &arr2(&[[11.0, 22.0], [13.0, 24.0]]).into_dyn());
    /// y.sum().backward()?;
    /// assert_eq!(bias.grad().unwrap(), arr1(&[2.0, 2.0]).into_dyn()); // one per row
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn add(&self, other: &Var<T>) -> Result<Var<T>, TapeError> {
        self.broadcasting("add", other, |a, b| a + b, |_, _, g| [g.clone(), g.clone()])
    }

    /// `self − other`, elementwise with broadcasting.
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn sub(&self, other: &Var<T>) -> Result<Var<T>, TapeError> {
        self.broadcasting(
            "sub",
            other,
            |a, b| a - b,
            |_, _, g| [g.clone(), g.mapv(|g| -g)],
        )
    }

    /// `self · other`, elementwise (Hadamard) with broadcasting.
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn mul(&self, other: &Var<T>) -> Result<Var<T>, TapeError> {
        // ∂(ab)/∂a = b and ∂(ab)/∂b = a: each input gets the other one (the book's MulLayer swap).
        self.broadcasting("mul", other, |a, b| a * b, |a, b, g| [g * b, g * a])
    }

    /// `self / other`, elementwise with broadcasting.
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn div(&self, other: &Var<T>) -> Result<Var<T>, TapeError> {
        // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
        self.broadcasting(
            "div",
            other,
            |a, b| a / b,
            |a, b, g| [g / b, -(g * a) / &(b * b)],
        )
    }

    /// Runs a binary elementwise operation. `backward(a, b, dy)` returns the gradients at the
    /// broadcast shape; they are then summed back to each operand's own shape.
    fn broadcasting(
        &self,
        op: &'static str,
        other: &Var<T>,
        forward: impl Fn(&ArrayD<T>, &ArrayD<T>) -> ArrayD<T>,
        backward: impl Fn(&ArrayD<T>, &ArrayD<T>, &ArrayD<T>) -> [ArrayD<T>; 2] + 'static,
    ) -> Result<Var<T>, TapeError> {
        check_broadcast(op, self.shape(), other.shape())?;
        let value = forward(self.value(), other.value());
        Ok(self.binary(op, other, value, move |a, b, g| {
            let [da, db] = backward(a, b, g);
            Ok([sum_to_shape(da, a.shape()), sum_to_shape(db, b.shape())])
        }))
    }

    /// `c · self` for a constant `c`.
    pub fn scale(&self, c: T) -> Var<T> {
        self.unary("scale", self.value() * c, move |_, _, g| g * c)
    }

    /// `self^p`, elementwise, for a constant exponent `p`.
    ///
    /// Negative bases give NaN unless `p` is an integer, as with `f64::powf`.
    pub fn powf(&self, p: T) -> Var<T> {
        let value = self.value().mapv(|x| x.powf(p));
        self.unary("powf", value, move |x, _, g| {
            g * &x.mapv(|x| p * x.powf(p - T::one()))
        })
    }

    /// `e^self`, elementwise.
    pub fn exp(&self) -> Var<T> {
        self.unary("exp", self.value().mapv(T::exp), |_, y, g| g * y)
    }

    /// The natural logarithm of `self`, elementwise (NaN below 0, −∞ at 0).
    pub fn log(&self) -> Var<T> {
        self.unary("log", self.value().mapv(T::ln), |x, _, g| g / x)
    }

    /// `max(self, 0)`, elementwise. The gradient is 0 where `x ≤ 0`, including at 0 itself,
    /// as in the book's `mask = (x <= 0)`.
    pub fn relu(&self) -> Var<T> {
        let value = self
            .value()
            .mapv(|x| if x > T::zero() { x } else { T::zero() });
        self.unary("relu", value, |x, _, g| {
            Zip::from(g)
                .and(x)
                .map_collect(|&g, &x| if x > T::zero() { g } else { T::zero() })
        })
    }

    /// The logistic function `1 / (1 + e^−x)`, elementwise; its gradient is `y(1 − y)`.
    pub fn sigmoid(&self) -> Var<T> {
        // The naive form is safe: for very negative x, e^−x overflows to ∞ and 1/∞ is 0.
        let value = self.value().mapv(|x| T::one() / (T::one() + (-x).exp()));
        self.unary("sigmoid", value, |_, y, g| {
            g * &y.mapv(|y| y * (T::one() - y))
        })
    }

    /// The hyperbolic tangent, elementwise; its gradient is `1 − y²`.
    pub fn tanh(&self) -> Var<T> {
        self.unary("tanh", self.value().mapv(T::tanh), |_, y, g| {
            g * &y.mapv(|y| T::one() - y * y)
        })
    }
}

/// Fails unless NumPy broadcasting can combine the two shapes.
fn check_broadcast(op: &'static str, left: &[usize], right: &[usize]) -> Result<(), TapeError> {
    let compatible = left
        .iter()
        .rev()
        .zip(right.iter().rev())
        .all(|(&l, &r)| l == r || l == 1 || r == 1);
    if compatible {
        Ok(())
    } else {
        Err(TapeError::ShapeMismatch {
            op,
            left: left.to_vec(),
            right: right.to_vec(),
            rule: BROADCAST_RULE,
        })
    }
}

/// Undoes broadcasting for a gradient: sums over the leading axes the operand lacked and over
/// the axes where it had length 1.
fn sum_to_shape<T: Float>(mut grad: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    while grad.ndim() > shape.len() {
        grad = grad.sum_axis(Axis(0));
    }
    for (axis, &len) in shape.iter().enumerate() {
        if len == 1 && grad.shape()[axis] != 1 {
            grad = grad.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    grad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{
        assert_gradient_matches, assert_gradients_match, random_array, weighted_sum,
    };

    #[test]
    fn add_sub_mul_div_match_numerical_gradients_on_equal_shapes() {
        let a = random_array(&[3, 4], 1);
        let b = random_array(&[3, 4], 2).mapv(|v| v + 2.0); // keep the divisor away from 0
        for op in [Var::add, Var::sub, Var::mul, Var::div] {
            assert_gradients_match(&[a.clone(), b.clone()], |v| {
                weighted_sum(&op(&v[0], &v[1])?)
            });
        }
    }

    #[test]
    fn broadcast_gradients_are_summed_back_for_every_bias_shape() {
        let batch = random_array(&[4, 3], 3);
        let shapes: [&[usize]; 4] = [&[1, 3], &[3], &[], &[4, 1]];
        for (seed, shape) in shapes.into_iter().enumerate() {
            let bias = random_array(shape, 10 + seed as u64).mapv(|v| v + 2.0);
            for op in [Var::add, Var::sub, Var::mul, Var::div] {
                // Bias on the right and on the left: both operands' reductions are exercised.
                assert_gradients_match(&[batch.clone(), bias.clone()], |v| {
                    weighted_sum(&op(&v[0], &v[1])?)
                });
                assert_gradients_match(&[bias.clone(), batch.clone()], |v| {
                    weighted_sum(&op(&v[0], &v[1])?)
                });
            }
        }
    }

    #[test]
    fn broadcasting_a_column_against_a_row_gives_the_outer_shape() -> Result<(), TapeError> {
        let column = Var::leaf(ndarray::arr2(&[[1.0], [2.0]]));
        let row = Var::leaf(ndarray::arr1(&[10.0, 20.0, 30.0]));
        let sum = column.add(&row)?;
        assert_eq!(sum.shape(), &[2, 3]);
        assert_eq!(sum.value()[[1, 2]], 32.0);
        assert_gradients_match(&[column.value().clone(), row.value().clone()], |v| {
            weighted_sum(&v[0].mul(&v[1])?)
        });
        Ok(())
    }

    #[test]
    fn unary_operations_match_numerical_gradients() {
        let x = random_array(&[2, 3], 4);
        let positive = x.mapv(|v| v.abs() + 0.5);
        assert_gradient_matches(&x, |v| weighted_sum(&v.scale(-2.5)));
        assert_gradient_matches(&x, |v| weighted_sum(&v.exp()));
        assert_gradient_matches(&x, |v| weighted_sum(&v.sigmoid()));
        assert_gradient_matches(&x, |v| weighted_sum(&v.tanh()));
        assert_gradient_matches(&x, |v| weighted_sum(&v.powf(2.0)));
        assert_gradient_matches(&positive, |v| weighted_sum(&v.log()));
        assert_gradient_matches(&positive, |v| weighted_sum(&v.powf(2.5)));
        assert_gradient_matches(&positive, |v| weighted_sum(&v.powf(-1.0)));
    }

    #[test]
    fn relu_matches_numerical_gradient_away_from_the_kink() {
        // Central differences are wrong within h of 0, so keep every entry at least 0.1 away.
        let x = random_array(&[3, 3], 5).mapv(|v| if v >= 0.0 { v + 0.1 } else { v - 0.1 });
        assert_gradient_matches(&x, |v| weighted_sum(&v.relu()));
    }

    #[test]
    fn relu_gradient_is_zero_at_zero_and_one_above() -> Result<(), TapeError> {
        let x = Var::leaf(ndarray::arr1(&[-1.0, 0.0, 2.0]));
        let y = x.relu();
        assert_eq!(y.value(), &ndarray::arr1(&[0.0, 0.0, 2.0]).into_dyn());
        y.sum().backward()?;
        assert_eq!(x.grad(), Some(ndarray::arr1(&[0.0, 0.0, 1.0]).into_dyn()));
        Ok(())
    }

    #[test]
    fn sigmoid_values_are_exact_at_known_points_and_finite_far_out() {
        let three = 3.0_f64.ln(); // σ(ln 3) = 3/4
        let x = Var::constant(ndarray::arr1(&[-800.0, -three, 0.0, three, 800.0]));
        let expected = [0.0, 0.25, 0.5, 0.75, 1.0];
        for (&y, want) in x.sigmoid().value().iter().zip(expected) {
            assert!(
                (y - want).abs() < 1e-15,
                "sigmoid gave {y}, expected {want}"
            );
        }
    }

    #[test]
    fn value_used_twice_gets_both_contributions() -> Result<(), TapeError> {
        let x = random_array(&[2, 2], 6);
        assert_gradient_matches(&x, |v| weighted_sum(&v.mul(v)?));
        assert_gradient_matches(&x, |v| weighted_sum(&v.add(v)?));

        let a = Var::leaf(ndarray::arr0(3.0));
        a.add(&a)?.backward()?;
        assert_eq!(a.grad().and_then(|g| g.first().copied()), Some(2.0));
        Ok(())
    }

    #[test]
    fn incompatible_shapes_name_the_operation_and_both_shapes() {
        let a = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        let b = Var::leaf(ArrayD::<f64>::zeros(vec![2]));
        let err = a.mul(&b).unwrap_err();
        assert_eq!(
            err,
            TapeError::ShapeMismatch {
                op: "mul",
                left: vec![2, 3],
                right: vec![2],
                rule: BROADCAST_RULE,
            }
        );
        let message = err.to_string();
        assert!(
            message.starts_with("mul: cannot combine shapes [2, 3] and [2]"),
            "{message}"
        );
    }
}
