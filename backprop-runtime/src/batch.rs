//! Typed batches: the feature width is part of the type, the row count is not.

use ndarray::{Array2, ArrayView2, Axis};

use crate::{Error, Float, Result};

/// A batch of samples, one per row, each `N` features wide.
///
/// `N` is fixed at compile time, so handing a `Batch<f32, 785>` to a network that takes
/// 784 features does not compile. The number of rows (the batch size) is chosen at run
/// time. Building a batch from untyped data checks the width and says what it expected:
///
/// ```
/// use backprop::Batch;
///
/// let x = Batch::<f64, 3>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(x.rows(), 2);
///
/// let err = Batch::<f64, 3>::from_vec(vec![1.0; 7]).unwrap_err();
/// assert!(err.to_string().contains("do not split into rows of 3"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T, const N: usize> {
    data: Array2<T>,
}

/// A borrowed batch: rows of `N` features that live elsewhere, e.g. a slice of a data set.
///
/// Taking a view copies nothing; networks accept views and owned batches alike.
#[derive(Clone, Copy, Debug)]
pub struct BatchView<'a, T, const N: usize> {
    data: ArrayView2<'a, T>,
}

impl<T: Float, const N: usize> Batch<T, N> {
    /// The index of each row's highest value (the first one on ties, as NumPy's
    /// `argmax`): the predicted classes, for scores or probabilities.
    ///
    /// ```
    /// use backprop::Batch;
    /// let scores = Batch::<f32, 3>::from_rows(&[[0.1, 2.0, -1.0], [5.0, 5.0, 0.0]]);
    /// assert_eq!(scores.classes(), [1, 0]);
    /// ```
    pub fn classes(&self) -> Vec<usize> {
        self.data
            .rows()
            .into_iter()
            .map(|row| crate::targets::argmax(row.iter().copied()))
            .collect()
    }

    /// A batch of `rows` rows of zeros.
    pub fn zeros(rows: usize) -> Self {
        Self {
            data: Array2::zeros((rows, N)),
        }
    }

    /// Wraps an ndarray matrix, checking that it has `N` columns.
    pub fn from_array(data: Array2<T>) -> Result<Self> {
        check_width::<N>(data.ncols(), || format!("Batch<{N}> from an ndarray"))?;
        Ok(Self {
            data: data.as_standard_layout().into_owned(),
        })
    }

    /// Takes a flat row-major vector of `rows × N` values.
    pub fn from_vec(values: Vec<T>) -> Result<Self> {
        let rows = whole_rows::<N>(values.len(), || format!("Batch<{N}> from a Vec"))?;
        let data = Array2::from_shape_vec((rows, N), values)
            .expect("the length was checked to be rows × N");
        Ok(Self { data })
    }

    /// Copies a flat row-major slice of `rows × N` values.
    pub fn from_slice(values: &[T]) -> Result<Self> {
        whole_rows::<N>(values.len(), || format!("Batch<{N}> from a slice"))?;
        Self::from_vec(values.to_vec())
    }

    /// Builds a batch from rows whose width the compiler already knows; cannot fail.
    ///
    /// ```
    /// use backprop::Batch;
    ///
    /// let x = Batch::<f32, 2>::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.rows(), 2);
    /// ```
    pub fn from_rows(rows: &[[T; N]]) -> Self {
        let values = rows.iter().flatten().copied().collect();
        Self::from_vec(values).expect("rows of [T; N] always split into rows of N")
    }

    /// The number of samples.
    pub fn rows(&self) -> usize {
        self.data.nrows()
    }

    /// Borrows the batch as a view.
    pub fn view(&self) -> BatchView<'_, T, N> {
        BatchView {
            data: self.data.view(),
        }
    }

    /// The underlying `rows × N` matrix.
    pub fn as_array(&self) -> &Array2<T> {
        &self.data
    }

    /// Mutable access to the values; the shape cannot change through it.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
            .as_slice_mut()
            .expect("batches are kept in standard layout")
    }

    /// Row `i`'s `N` values, or `None` past the last row.
    ///
    /// ```
    /// use backprop::Batch;
    /// let scores = Batch::<f32, 3>::from_rows(&[[0.1, 2.0, -1.0], [5.0, 5.0, 0.0]]);
    /// assert_eq!(scores.row(1), Some(&[5.0, 5.0, 0.0]));
    /// assert_eq!(scores.row(2), None);
    /// ```
    pub fn row(&self, i: usize) -> Option<&[T; N]> {
        let start = i.checked_mul(N)?;
        self.as_slice()
            .get(start..start.checked_add(N)?)?
            .try_into()
            .ok()
    }

    /// The values in row-major order.
    pub fn as_slice(&self) -> &[T] {
        self.data
            .as_slice()
            .expect("batches are kept in standard layout")
    }

    /// Gives up the type-level width and returns the matrix.
    pub fn into_array(self) -> Array2<T> {
        self.data
    }

    /// Changes the number of rows, keeping the allocation when it is large enough.
    /// The values are unspecified afterwards: callers overwrite them (e.g. when
    /// gathering a mini-batch into a reused buffer).
    pub fn resize_rows(&mut self, rows: usize) {
        if self.data.nrows() != rows {
            let mut values = std::mem::take(&mut self.data).into_raw_vec_and_offset().0;
            values.resize(rows * N, T::zero());
            self.data = Array2::from_shape_vec((rows, N), values)
                .expect("the vector was resized to rows × N");
        }
    }
}

impl<'a, T: Float, const N: usize> BatchView<'a, T, N> {
    /// Wraps an ndarray view, checking that it has `N` columns.
    pub fn from_array_view(data: ArrayView2<'a, T>) -> Result<Self> {
        check_width::<N>(data.ncols(), || {
            format!("BatchView<{N}> from an ndarray view")
        })?;
        Ok(Self { data })
    }

    /// Views a flat row-major slice of `rows × N` values without copying.
    pub fn from_slice(values: &'a [T]) -> Result<Self> {
        let rows = whole_rows::<N>(values.len(), || format!("BatchView<{N}> from a slice"))?;
        let data = ArrayView2::from_shape((rows, N), values)
            .expect("the length was checked to be rows × N");
        Ok(Self { data })
    }

    /// The number of samples.
    pub fn rows(&self) -> usize {
        self.data.nrows()
    }

    /// The rows `start..end` as a smaller view (no copy). Out-of-range bounds are clamped
    /// to the batch, so a chunked loop may ask for a last chunk that runs past the end.
    pub fn slice_rows(&self, start: usize, end: usize) -> BatchView<'a, T, N> {
        let end = end.min(self.rows());
        let start = start.min(end);
        let mut data = self.data;
        data.slice_axis_inplace(Axis(0), (start..end).into());
        Self { data }
    }

    /// The underlying matrix view.
    pub fn as_array(&self) -> ArrayView2<'a, T> {
        self.data
    }

    /// Copies the rows into an owned batch.
    pub fn to_owned(&self) -> Batch<T, N> {
        Batch {
            data: self.data.to_owned(),
        }
    }
}

/// Anything a network accepts as input of width `N`: an owned [`Batch`], a
/// [`BatchView`], or a reference to either.
///
/// The width is part of the trait, so passing a batch of another width is a compile
/// error that names both widths.
#[diagnostic::on_unimplemented(
    message = "expected a batch of {N} `{T}` features per row, found `{Self}`",
    label = "expected `Batch<{T}, {N}>`, a `BatchView<{T}, {N}>`, or a reference to either",
    note = "a batch's width and float type are part of its type: build the input as `Batch::<{T}, {N}>`, or wrap a matrix with `Batch::<{T}, {N}>::from_array`, which checks its width when the program runs"
)]
pub trait AsBatch<T, const N: usize> {
    /// Borrows the rows as a view.
    fn as_batch(&self) -> BatchView<'_, T, N>;
}

impl<T: Float, const N: usize> AsBatch<T, N> for Batch<T, N> {
    fn as_batch(&self) -> BatchView<'_, T, N> {
        self.view()
    }
}

impl<T: Float, const N: usize> AsBatch<T, N> for BatchView<'_, T, N> {
    fn as_batch(&self) -> BatchView<'_, T, N> {
        BatchView {
            data: self.data.view(),
        }
    }
}

impl<T, const N: usize, B: AsBatch<T, N> + ?Sized> AsBatch<T, N> for &B {
    fn as_batch(&self) -> BatchView<'_, T, N> {
        (**self).as_batch()
    }
}

impl<T: Float, const N: usize> TryFrom<Array2<T>> for Batch<T, N> {
    type Error = Error;

    fn try_from(data: Array2<T>) -> Result<Self> {
        Self::from_array(data)
    }
}

impl<T: Float, const N: usize> TryFrom<Vec<T>> for Batch<T, N> {
    type Error = Error;

    fn try_from(values: Vec<T>) -> Result<Self> {
        Self::from_vec(values)
    }
}

fn check_width<const N: usize>(found: usize, what: impl FnOnce() -> String) -> Result<()> {
    if found == N {
        Ok(())
    } else {
        Err(Error::Width {
            what: what(),
            expected: N,
            found,
        })
    }
}

fn whole_rows<const N: usize>(len: usize, what: impl FnOnce() -> String) -> Result<usize> {
    if N > 0 && len.is_multiple_of(N) {
        Ok(len / N)
    } else {
        Err(Error::Ragged {
            what: what(),
            width: N,
            found: len,
            rest: len.checked_rem(N).unwrap_or(len),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn from_array_rejects_wrong_width_naming_both() {
        let err = Batch::<f64, 3>::from_array(array![[1.0, 2.0]]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("expected rows of 3 values, found 2"),
            "{message}"
        );
    }

    #[test]
    fn from_array_keeps_values_of_transposed_input() {
        let t = array![[1.0, 3.0], [2.0, 4.0]].reversed_axes();
        let b = Batch::<f64, 2>::from_array(t).unwrap();
        assert_eq!(b.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn slice_rows_views_without_copying_and_clamps() {
        let b = Batch::<f32, 2>::from_rows(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let v = b.view().slice_rows(1, 10);
        assert_eq!(v.rows(), 2);
        assert_eq!(v.as_array()[[0, 0]], 3.0);
        assert!(std::ptr::eq(&v.as_array()[[0, 0]], &b.as_array()[[1, 0]]));
    }

    #[test]
    fn view_from_slice_reports_the_incomplete_row() {
        let values = [0.0f32; 5];
        let err = BatchView::<f32, 2>::from_slice(&values).unwrap_err();
        assert!(
            err.to_string().contains("the last row would have 1"),
            "{err}"
        );
    }

    #[test]
    fn resize_rows_reuses_and_reshapes() {
        let mut b = Batch::<f32, 2>::zeros(4);
        b.resize_rows(2);
        assert_eq!(b.as_array().dim(), (2, 2));
        b.resize_rows(5);
        assert_eq!(b.as_array().dim(), (5, 2));
    }
}
