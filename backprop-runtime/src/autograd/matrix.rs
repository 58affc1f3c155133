//! Matrix product and transpose.

use ndarray::{ArrayD, ArrayView2, ArrayViewD, Ix2};

use super::Float;
use super::error::TapeError;
use super::var::Var;

impl<T: Float> Var<T> {
    /// The matrix product `self · other` of an `m×n` and an `n×p` matrix, giving `m×p`.
    ///
    /// With `y = a·b`, the gradients are `∂L/∂a = ∂L/∂y · bᵀ` and `∂L/∂b = aᵀ · ∂L/∂y`.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::arr2;
    ///
    /// let x = Var::constant(arr2(&[[1.0, 2.0]]));
    /// let w = Var::leaf(arr2(&[[3.0], [4.0]]));
    /// let y = x.matmul(&w)?;
    /// assert_eq!(y.item()?, 11.0);
    /// y.backward()?;
    /// assert_eq!(w.grad().unwrap(), arr2(&[[1.0], [2.0]]).into_dyn());
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::WrongRank`] unless both operands are 2-dimensional;
    /// [`TapeError::ShapeMismatch`] if `self`'s column count differs from `other`'s row count.
    pub fn matmul(&self, other: &Var<T>) -> Result<Var<T>, TapeError> {
        let value = matrix_product("matmul", self.value().view(), other.value().view())?;
        Ok(self.binary("matmul", other, value, |a, b, g| {
            Ok([
                matrix_product("matmul backward", g.view(), b.t())?,
                matrix_product("matmul backward", a.t(), g.view())?,
            ])
        }))
    }

    /// The transpose: axes in reverse order (rows and columns swapped for a matrix; a vector
    /// or scalar is unchanged). The gradient is transposed back.
    pub fn transpose(&self) -> Var<T> {
        let value = self.value().t().to_owned();
        self.unary("transpose", value, |_, _, g| g.t().to_owned())
    }
}

/// `a · b` for two matrices, with errors naming `op`.
fn matrix_product<T: Float>(
    op: &'static str,
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
) -> Result<ArrayD<T>, TapeError> {
    let (a, b) = (
        as_matrix(op, "left operand", a)?,
        as_matrix(op, "right operand", b)?,
    );
    if a.ncols() != b.nrows() {
        return Err(TapeError::ShapeMismatch {
            op,
            left: a.shape().to_vec(),
            right: b.shape().to_vec(),
            rule: "the left operand's column count must equal the right operand's row count",
        });
    }
    Ok(a.dot(&b).into_dyn())
}

pub(super) fn as_matrix<'a, T: Float>(
    op: &'static str,
    operand: &'static str,
    x: ArrayViewD<'a, T>,
) -> Result<ArrayView2<'a, T>, TapeError> {
    let found = x.shape().to_vec();
    x.into_dimensionality::<Ix2>()
        .map_err(|_| TapeError::WrongRank {
            op,
            operand,
            expected: 2,
            found,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{
        assert_gradient_matches, assert_gradients_match, random_array, weighted_sum,
    };

    #[test]
    fn matmul_matches_numerical_gradients() {
        let a = random_array(&[3, 4], 20);
        let b = random_array(&[4, 2], 21);
        assert_gradients_match(&[a, b], |v| weighted_sum(&v[0].matmul(&v[1])?));
    }

    #[test]
    fn matmul_values_match_a_hand_computed_product() -> Result<(), TapeError> {
        let a = Var::constant(ndarray::arr2(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
        let b = Var::constant(ndarray::arr2(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]));
        let expected = ndarray::arr2(&[[4.0, 5.0], [10.0, 11.0]]).into_dyn();
        assert_eq!(a.matmul(&b)?.value(), &expected);
        Ok(())
    }

    #[test]
    fn transpose_matches_numerical_gradient_and_swaps_the_shape() {
        let x = random_array(&[2, 3], 22);
        let weights = Var::constant(random_array(&[3, 2], 23));
        assert_gradient_matches(&x, |v| weighted_sum(&v.transpose()));
        // Through a product, so a gradient transposed the wrong way would show.
        assert_gradient_matches(&x, |v| weighted_sum(&v.transpose().mul(&weights)?));
    }

    #[test]
    fn mismatched_inner_dimensions_name_matmul_and_both_shapes() {
        let a = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        let b = Var::leaf(ArrayD::<f64>::zeros(vec![4, 5]));
        let message = a.matmul(&b).unwrap_err().to_string();
        assert!(
            message.starts_with("matmul: cannot combine shapes [2, 3] and [4, 5]"),
            "{message}"
        );
    }

    #[test]
    fn matmul_of_a_vector_is_a_rank_error() {
        let a = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        let v = Var::leaf(ArrayD::<f64>::zeros(vec![3]));
        assert_eq!(
            a.matmul(&v).unwrap_err(),
            TapeError::WrongRank {
                op: "matmul",
                operand: "right operand",
                expected: 2,
                found: vec![3],
            }
        );
    }
}
