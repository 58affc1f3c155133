//! The maximum over groups of columns: max pooling on the tape.

use ndarray::Array2;

use super::Float;
use super::error::TapeError;
use super::matrix::as_matrix;
use super::var::Var;

impl<T: Float> Var<T> {
    /// For a matrix of `rows × n`, the `rows × windows.len()` matrix whose column `j` is
    /// the maximum of the columns `windows[j]` of each row: max pooling, with each
    /// window listing the flat indices it covers. The gradient of each output reaches
    /// the first column of its window that holds the maximum (as NumPy's `argmax`).
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::arr2;
    ///
    /// let x = Var::leaf(arr2(&[[1.0, 5.0, 2.0, 4.0]]));
    /// let y = x.max_over(&[vec![0, 1], vec![2, 3]])?;
    /// assert_eq!(y.value(), &arr2(&[[5.0, 4.0]]).into_dyn());
    /// y.sum().backward()?;
    /// assert_eq!(x.grad().unwrap(), arr2(&[[0.0, 1.0, 0.0, 1.0]]).into_dyn());
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::WrongRank`] unless `self` is a matrix; [`TapeError::ShapeMismatch`] if
    /// a window is empty or names a column past the last.
    pub fn max_over(&self, windows: &[Vec<usize>]) -> Result<Var<T>, TapeError> {
        let x = as_matrix("max_over", "input", self.value().view())?;
        let columns = x.ncols();
        if windows
            .iter()
            .any(|w| w.is_empty() || w.iter().any(|&i| i >= columns))
        {
            return Err(TapeError::ShapeMismatch {
                op: "max_over",
                left: self.shape().to_vec(),
                right: vec![windows.len()],
                rule: "every window must name at least one column, each below the column count",
            });
        }
        let argmax = Array2::from_shape_fn((x.nrows(), windows.len()), |(r, j)| {
            windows[j].iter().copied().fold(windows[j][0], |best, i| {
                if x[[r, i]] > x[[r, best]] { i } else { best }
            })
        });
        let value = Array2::from_shape_fn(argmax.dim(), |(r, j)| x[[r, argmax[[r, j]]]]);
        Ok(self.unary("max_over", value.into_dyn(), move |x, _, g| {
            let mut dx = ndarray::ArrayD::zeros(x.raw_dim());
            for ((r, j), &i) in argmax.indexed_iter() {
                dx[[r, i]] += g[[r, j]];
            }
            dx
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{assert_gradient_matches, random_array, weighted_sum};

    #[test]
    fn overlapping_windows_match_numerical_gradients() {
        // Random values are distinct, so no maximum is tied within the step.
        let x = random_array(&[3, 6], 70);
        let windows = [vec![0, 1, 2], vec![2, 3, 4], vec![4, 5], vec![1, 4]];
        assert_gradient_matches(&x, |v| weighted_sum(&v.max_over(&windows)?));
    }

    #[test]
    fn a_window_past_the_last_column_is_refused() {
        let x = Var::leaf(ndarray::ArrayD::<f64>::zeros(vec![1, 4]));
        assert!(matches!(
            x.max_over(&[vec![0, 4]]),
            Err(TapeError::ShapeMismatch { op: "max_over", .. })
        ));
        assert!(x.max_over(&[vec![]]).is_err());
    }
}
