//! Rearranging values: columns gathered from other columns (or zeros), and reshaping.
//! Together with `matmul` they express a convolution on the tape.

use ndarray::{Array2, ArrayD, IxDyn};

use super::Float;
use super::error::TapeError;
use super::matrix::as_matrix;
use super::var::Var;

impl<T: Float> Var<T> {
    /// For a matrix of `rows × n`, the `rows × sources.len()` matrix whose column `j` is
    /// column `sources[j]` of `self`, or zeros where it is `None` (im2col's padding). A
    /// column may be taken several times; its gradient is the sum over the places it
    /// went.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::arr2;
    ///
    /// let x = Var::leaf(arr2(&[[1.0, 2.0, 3.0]]));
    /// let y = x.gather_columns(&[Some(2), None, Some(2), Some(0)])?;
    /// assert_eq!(y.value(), &arr2(&[[3.0, 0.0, 3.0, 1.0]]).into_dyn());
    /// y.sum().backward()?;
    /// assert_eq!(x.grad().unwrap(), arr2(&[[1.0, 0.0, 2.0]]).into_dyn());
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::WrongRank`] unless `self` is a matrix; [`TapeError::ShapeMismatch`] if
    /// a source names a column past the last.
    pub fn gather_columns(&self, sources: &[Option<usize>]) -> Result<Var<T>, TapeError> {
        let x = as_matrix("gather_columns", "input", self.value().view())?;
        let columns = x.ncols();
        if sources.iter().flatten().any(|&i| i >= columns) {
            return Err(TapeError::ShapeMismatch {
                op: "gather_columns",
                left: self.shape().to_vec(),
                right: vec![sources.len()],
                rule: "every source must be below the column count",
            });
        }
        let value = Array2::from_shape_fn((x.nrows(), sources.len()), |(r, j)| {
            sources[j].map_or_else(T::zero, |i| x[[r, i]])
        });
        let sources = sources.to_vec();
        Ok(
            self.unary("gather_columns", value.into_dyn(), move |x, _, g| {
                let mut dx = ArrayD::zeros(x.raw_dim());
                for r in 0..x.shape()[0] {
                    for (j, source) in sources.iter().enumerate() {
                        if let Some(i) = source {
                            dx[[r, *i]] += g[[r, j]];
                        }
                    }
                }
                dx
            }),
        )
    }

    /// The same values in row-major order under another shape with as many values
    /// (`(FN, C, FH, FW)` filters as an `FN × C·FH·FW` matrix). The gradient is
    /// reshaped back.
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if `shape` holds another number of values.
    pub fn reshape(&self, shape: &[usize]) -> Result<Var<T>, TapeError> {
        let mismatch = || TapeError::ShapeMismatch {
            op: "reshape",
            left: self.shape().to_vec(),
            right: shape.to_vec(),
            rule: "a reshape keeps the number of values",
        };
        if shape.iter().product::<usize>() != self.value().len() {
            return Err(mismatch());
        }
        let value = self
            .value()
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .map_err(|_| mismatch())?;
        Ok(self.unary("reshape", value, |x, _, g| {
            g.as_standard_layout()
                .into_owned()
                .into_shape_with_order(x.raw_dim())
                .expect("the gradient has as many values as the input")
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{assert_gradient_matches, random_array, weighted_sum};

    #[test]
    fn gathered_columns_match_numerical_gradients() {
        let x = random_array(&[3, 5], 71);
        let sources = [Some(4), None, Some(0), Some(4), Some(2), None];
        assert_gradient_matches(&x, |v| weighted_sum(&v.gather_columns(&sources)?));
    }

    #[test]
    fn reshaped_values_match_numerical_gradients() {
        let x = random_array(&[2, 3, 2], 72);
        assert_gradient_matches(&x, |v| weighted_sum(&v.reshape(&[3, 4])?));
    }

    #[test]
    fn a_source_past_the_last_column_and_a_reshape_that_loses_values_are_refused() {
        let x = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        assert!(matches!(
            x.gather_columns(&[Some(3)]),
            Err(TapeError::ShapeMismatch {
                op: "gather_columns",
                ..
            })
        ));
        assert!(matches!(
            x.reshape(&[4, 2]),
            Err(TapeError::ShapeMismatch { op: "reshape", .. })
        ));
    }
}
