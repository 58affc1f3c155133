//! Losses: fused softmax cross-entropy and mean squared error. Both return a 0-dimensional
//! value, ready for [`Var::backward`].

use ndarray::{Array2, ArrayD, ArrayView2, Axis, Ix2, arr0};

use super::error::TapeError;
use super::var::Var;
use super::{Float, count_as};

const CROSS_ENTROPY: &str = "softmax_cross_entropy";

impl<T: Float> Var<T> {
    /// Softmax followed by cross-entropy against class indices, averaged over the rows: the
    /// book's `SoftmaxWithLoss`. `self` holds `m×k` logits, `classes[i] < k` is the class of row
    /// `i`.
    ///
    /// The loss is `−(1/m) Σᵢ log softmax(xᵢ)[classes[i]]`, computed with the log-sum-exp trick so
    /// that large logits do not overflow; its gradient is `(softmax(x) − t)/m` with `t` one-hot.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::arr2;
    ///
    /// // Equal logits: every class has probability 1/3, so the loss is ln 3.
    /// let logits = Var::leaf(arr2(&[[0.0, 0.0, 0.0]]));
    /// let loss = logits.softmax_cross_entropy(&[1])?;
    /// assert!((loss.item()? - 3.0_f64.ln()).abs() < 1e-12);
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::WrongRank`] unless the logits are 2-dimensional;
    /// [`TapeError::ShapeMismatch`] unless there is one class per row;
    /// [`TapeError::ClassOutOfRange`] if a class is not below `k`.
    pub fn softmax_cross_entropy(&self, classes: &[usize]) -> Result<Var<T>, TapeError> {
        let (rows, k) = self.logits()?.dim();
        if classes.len() != rows {
            return Err(TapeError::ShapeMismatch {
                op: CROSS_ENTROPY,
                left: self.shape().to_vec(),
                right: vec![classes.len()],
                rule: "there must be one class index per row of the logits",
            });
        }
        let mut one_hot = Array2::zeros((rows, k));
        for (row, &class) in classes.iter().enumerate() {
            if class >= k {
                return Err(TapeError::ClassOutOfRange {
                    op: CROSS_ENTROPY,
                    row,
                    class,
                    classes: k,
                });
            }
            one_hot[[row, class]] = T::one();
        }
        self.cross_entropy_with(one_hot)
    }

    /// Softmax cross-entropy against one-hot targets of the logits' shape `m×k`, averaged over
    /// the rows. Rows may also be any probability distribution (soft labels).
    ///
    /// The loss is `−(1/m) Σᵢⱼ tᵢⱼ log softmax(xᵢ)ⱼ`; its gradient is `(softmax(x) − t)/m` when
    /// each target row sums to 1 (in general `(softmax(x)·Σⱼtᵢⱼ − t)/m`).
    ///
    /// # Errors
    /// [`TapeError::WrongRank`] unless the logits are 2-dimensional;
    /// [`TapeError::ShapeMismatch`] unless the targets have the logits' shape.
    pub fn softmax_cross_entropy_one_hot(&self, targets: &Array2<T>) -> Result<Var<T>, TapeError> {
        self.logits()?;
        if targets.shape() != self.shape() {
            return Err(TapeError::ShapeMismatch {
                op: CROSS_ENTROPY,
                left: self.shape().to_vec(),
                right: targets.shape().to_vec(),
                rule: "the one-hot targets must have the logits' shape",
            });
        }
        self.cross_entropy_with(targets.clone())
    }

    fn logits(&self) -> Result<ArrayView2<'_, T>, TapeError> {
        self.value()
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| TapeError::WrongRank {
                op: CROSS_ENTROPY,
                operand: "logits",
                expected: 2,
                found: self.shape().to_vec(),
            })
    }

    /// The fused forward and backward, for targets already checked to match the logits.
    fn cross_entropy_with(&self, targets: Array2<T>) -> Result<Var<T>, TapeError> {
        let logits = self.logits()?;
        let rows = count_as::<T>(logits.nrows());

        let mut log_probs = logits.to_owned();
        for mut row in log_probs.rows_mut() {
            // log Σ e^x = max + log Σ e^(x − max): every exponent is ≤ 0, so nothing overflows.
            let max = row.fold(T::neg_infinity(), |m, &x| m.max(x));
            let log_sum_exp = max + row.mapv(|x| (x - max).exp()).sum().ln();
            row.mapv_inplace(|x| x - log_sum_exp);
        }
        let loss = -(&targets * &log_probs).sum() / rows;

        // Computed now, while the softmax is at hand; backward only scales it.
        let row_mass = targets.sum_axis(Axis(1)).insert_axis(Axis(1));
        let dlogits = ((log_probs.mapv(T::exp) * &row_mass - &targets) / rows).into_dyn();
        let value = arr0(loss).into_dyn();
        Ok(self.unary(CROSS_ENTROPY, value, move |_, _, g| &dlogits * g))
    }

    /// Mean squared error `(1/N) Σ (self − target)²` over all `N` elements; `target` must have
    /// the same shape. Gradients: `2(self − target)/N` for `self`, the negative for `target`
    /// (use [`Var::constant`] targets to give them none).
    ///
    /// Note: the book's `mean_squared_error` is `½ Σ (y − t)²`, a sum without the `1/N`.
    ///
    /// # Errors
    /// [`TapeError::ShapeMismatch`] if the shapes differ (no broadcasting here: a wrongly shaped
    /// target is almost always a bug).
    pub fn mse(&self, target: &Var<T>) -> Result<Var<T>, TapeError> {
        if self.shape() != target.shape() {
            return Err(TapeError::ShapeMismatch {
                op: "mse",
                left: self.shape().to_vec(),
                right: target.shape().to_vec(),
                rule: "the prediction and the target must have the same shape",
            });
        }
        let count = count_as::<T>(self.value().len());
        let error = self.value() - target.value();
        let value = arr0(error.mapv(|e| e * e).sum() / count).into_dyn();
        Ok(self.binary("mse", target, value, move |y, t, g| {
            let two = T::one() + T::one();
            let dy: ArrayD<T> = (y - t) * (g * two / count);
            Ok([dy.clone(), -dy])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{
        assert_gradient_matches, assert_gradients_match, random_array,
    };

    #[test]
    fn cross_entropy_with_class_indices_matches_numerical_gradient() {
        let logits = random_array(&[4, 3], 40).mapv(|v| 3.0 * v);
        assert_gradient_matches(&logits, |v| v.softmax_cross_entropy(&[2, 0, 1, 2]));
    }

    #[test]
    fn cross_entropy_with_one_hot_and_soft_targets_matches_numerical_gradient() {
        let logits = random_array(&[3, 4], 41);
        let one_hot = ndarray::arr2(&[
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        let soft = ndarray::arr2(&[[0.1, 0.6, 0.3, 0.0], [0.25; 4], [0.0, 0.5, 0.0, 0.5]]);
        for targets in [one_hot, soft] {
            assert_gradient_matches(&logits, |v| {
                Ok(v.softmax_cross_entropy_one_hot(&targets)?.scale(1.7))
            });
        }
    }

    #[test]
    fn cross_entropy_value_matches_a_direct_computation() -> Result<(), TapeError> {
        let logits = ndarray::arr2(&[[1.0_f64, 2.0, 0.5], [-1.0, 0.0, 3.0]]);
        let classes = [1, 0];
        let mut expected = 0.0_f64;
        for (row, &class) in logits.rows().into_iter().zip(&classes) {
            let denominator: f64 = row.iter().map(|x| x.exp()).sum();
            expected -= (row[class].exp() / denominator).ln() / 2.0;
        }
        let loss = Var::constant(logits).softmax_cross_entropy(&classes)?;
        assert!((loss.item()? - expected).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn gradient_is_softmax_minus_one_hot_over_rows() -> Result<(), TapeError> {
        let logits = Var::leaf(ndarray::arr2(&[[0.0, 0.0], [0.0, 0.0]]));
        logits.softmax_cross_entropy(&[0, 1])?.backward()?;
        // softmax = ½ everywhere; (½ − t)/2.
        let expected = ndarray::arr2(&[[-0.25, 0.25], [0.25, -0.25]]).into_dyn();
        assert_eq!(logits.grad(), Some(expected));
        Ok(())
    }

    #[test]
    fn huge_logits_give_a_finite_loss_equal_to_the_shifted_one() -> Result<(), TapeError> {
        let small = ndarray::arr2(&[[1.0_f64, 3.0, 2.0]]);
        let huge = small.mapv(|x| x + 1000.0);
        let reference = Var::constant(small).softmax_cross_entropy(&[0])?.item()?;
        let loss = Var::leaf(huge);
        let value = loss.softmax_cross_entropy(&[0])?;
        value.backward()?;
        assert!(
            (value.item()? - reference).abs() < 1e-9,
            "{} vs {reference}",
            value.item()?
        );
        assert!(loss.grad().is_some_and(|g| g.iter().all(|d| d.is_finite())));
        Ok(())
    }

    #[test]
    fn cross_entropy_rejects_bad_targets_with_clear_errors() {
        let logits = Var::leaf(ArrayD::<f64>::zeros(vec![2, 3]));
        assert_eq!(
            logits.softmax_cross_entropy(&[0, 3]).unwrap_err(),
            TapeError::ClassOutOfRange {
                op: CROSS_ENTROPY,
                row: 1,
                class: 3,
                classes: 3,
            }
        );
        let count_err = logits.softmax_cross_entropy(&[0]).unwrap_err().to_string();
        assert!(count_err.contains("[2, 3] and [1]"), "{count_err}");
        let one_hot_err = logits
            .softmax_cross_entropy_one_hot(&Array2::zeros((2, 4)))
            .unwrap_err()
            .to_string();
        assert!(one_hot_err.contains("[2, 3] and [2, 4]"), "{one_hot_err}");
        let vector = Var::leaf(ArrayD::<f64>::zeros(vec![3]));
        assert!(matches!(
            vector.softmax_cross_entropy(&[0]),
            Err(TapeError::WrongRank {
                operand: "logits",
                ..
            })
        ));
    }

    #[test]
    fn mse_matches_numerical_gradients_for_both_sides_and_its_definition() -> Result<(), TapeError>
    {
        let y = random_array(&[3, 2], 42);
        let t = random_array(&[3, 2], 43);
        assert_gradients_match(&[y.clone(), t.clone()], |v| Ok(v[0].mse(&v[1])?.scale(0.9)));
        let expected = (&y - &t).mapv(|e| e * e).sum() / 6.0;
        let value = Var::constant(y).mse(&Var::constant(t))?.item()?;
        assert!((value - expected).abs() < 1e-15);
        Ok(())
    }

    #[test]
    fn mse_with_different_shapes_is_an_error() {
        let y = Var::leaf(ArrayD::<f64>::zeros(vec![3, 1]));
        let t = Var::constant(ArrayD::<f64>::zeros(vec![3]));
        let message = y.mse(&t).unwrap_err().to_string();
        assert!(
            message.starts_with("mse: cannot combine shapes [3, 1] and [3]"),
            "{message}"
        );
    }
}
