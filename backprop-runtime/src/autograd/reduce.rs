//! Sums and means, over everything or along one axis.
//!
//! The gradient of a sum copies the output gradient to every element that was added; a mean
//! does the same divided by the count.

use ndarray::{ArrayD, ArrayViewD, Axis, arr0};

use super::error::TapeError;
use super::var::Var;
use super::{Float, count_as};

impl<T: Float> Var<T> {
    /// The sum of all elements, as a 0-dimensional value.
    pub fn sum(&self) -> Var<T> {
        self.unary("sum", arr0(self.value().sum()).into_dyn(), |x, _, g| {
            spread(g.view(), x)
        })
    }

    /// The mean of all elements, as a 0-dimensional value (NaN for an empty array).
    pub fn mean(&self) -> Var<T> {
        let count = count_as::<T>(self.value().len());
        let value = arr0(self.value().sum() / count).into_dyn();
        self.unary("mean", value, move |x, _, g| spread(g.view(), x) / count)
    }

    /// The sum along `axis`, which disappears from the shape (like `ndarray`'s `sum_axis`):
    /// `sum_axis(0)` of an `m×n` batch is a vector of `n` column sums.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::{arr1, arr2};
    ///
    /// let x = Var::leaf(arr2(&[[1.0, 2.0], [3.0, 4.0]]));
    /// assert_eq!(x.sum_axis(0)?.value(), &arr1(&[4.0, 6.0]).into_dyn());
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::AxisOutOfRange`] if `axis` is not below the number of dimensions.
    pub fn sum_axis(&self, axis: usize) -> Result<Var<T>, TapeError> {
        let axis = self.checked_axis("sum_axis", axis)?;
        let value = self.value().sum_axis(axis);
        Ok(self.unary("sum_axis", value, move |x, _, g| {
            spread(g.view().insert_axis(axis), x)
        }))
    }

    /// The mean along `axis`, which disappears from the shape (NaN if the axis is empty).
    ///
    /// # Errors
    /// [`TapeError::AxisOutOfRange`] if `axis` is not below the number of dimensions.
    pub fn mean_axis(&self, axis: usize) -> Result<Var<T>, TapeError> {
        let axis = self.checked_axis("mean_axis", axis)?;
        let count = count_as::<T>(self.value().len_of(axis));
        let value = self.value().sum_axis(axis) / count;
        Ok(self.unary("mean_axis", value, move |x, _, g| {
            spread(g.view().insert_axis(axis), x) / count
        }))
    }

    fn checked_axis(&self, op: &'static str, axis: usize) -> Result<Axis, TapeError> {
        if axis < self.value().ndim() {
            Ok(Axis(axis))
        } else {
            Err(TapeError::AxisOutOfRange {
                op,
                axis,
                shape: self.shape().to_vec(),
            })
        }
    }
}

/// `grad` repeated (broadcast) to the shape of `like`.
fn spread<T: Float>(grad: ArrayViewD<'_, T>, like: &ArrayD<T>) -> ArrayD<T> {
    ArrayD::zeros(like.raw_dim()) + &grad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{assert_gradient_matches, random_array, weighted_sum};

    #[test]
    fn whole_sum_and_mean_match_numerical_gradients() {
        let x = random_array(&[3, 4], 30);
        assert_gradient_matches(&x, |v| Ok(v.sum()));
        assert_gradient_matches(&x, |v| Ok(v.mean()));
        // Squared afterwards, so the upstream gradient is not 1 and has to be carried.
        assert_gradient_matches(&x, |v| Ok(v.mean().powf(2.0)));
    }

    #[test]
    fn axis_sums_and_means_match_numerical_gradients_on_every_axis() {
        let x = random_array(&[2, 3, 4], 31);
        for axis in 0..3 {
            assert_gradient_matches(&x, |v| weighted_sum(&v.sum_axis(axis)?));
            assert_gradient_matches(&x, |v| weighted_sum(&v.mean_axis(axis)?));
        }
    }

    #[test]
    fn reductions_compute_the_expected_values() -> Result<(), TapeError> {
        let x = Var::constant(ndarray::arr2(&[[1.0, 2.0, 3.0], [5.0, 7.0, 9.0]]));
        assert_eq!(x.sum().item()?, 27.0);
        assert_eq!(x.mean().item()?, 4.5);
        assert_eq!(
            x.sum_axis(1)?.value(),
            &ndarray::arr1(&[6.0, 21.0]).into_dyn()
        );
        assert_eq!(
            x.mean_axis(0)?.value(),
            &ndarray::arr1(&[3.0, 4.5, 6.0]).into_dyn()
        );
        Ok(())
    }

    #[test]
    fn axis_past_the_last_dimension_is_an_error_naming_the_shape() {
        let x = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        let err = x.mean_axis(2).unwrap_err();
        assert_eq!(
            err,
            TapeError::AxisOutOfRange {
                op: "mean_axis",
                axis: 2,
                shape: vec![2, 3],
            }
        );
        assert_eq!(
            err.to_string(),
            "mean_axis: axis 2 is out of range for shape [2, 3]"
        );
    }
}
