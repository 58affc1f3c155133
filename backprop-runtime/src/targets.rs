//! What a loss compares the network's output with.

use ndarray::{Array2, ArrayView2};

use crate::{Batch, Error, Float, Result};

/// Training targets: class indices, or one-hot (or soft) rows, as the book accepts both.
///
/// Build it with `.into()` from a label slice or a matrix of rows:
///
/// ```
/// use backprop::Targets;
///
/// let labels = [2usize, 0];
/// let t: Targets<'_, f32> = (&labels[..]).into();
/// assert_eq!(t.rows(), 2);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    /// One class index per row.
    Labels(&'a [usize]),
    /// One row of class weights per sample (one-hot, or a probability distribution).
    OneHot(ArrayView2<'a, T>),
}

impl<T: Float> Targets<'_, T> {
    /// The number of samples the targets describe.
    pub fn rows(&self) -> usize {
        match self {
            Targets::Labels(labels) => labels.len(),
            Targets::OneHot(rows) => rows.nrows(),
        }
    }

    /// The class of sample `row`: its label, or the argmax of its one-hot row (as the
    /// book's `accuracy` does).
    pub fn class(&self, row: usize) -> usize {
        match self {
            Targets::Labels(labels) => labels[row],
            Targets::OneHot(rows) => argmax(rows.row(row).iter().copied()),
        }
    }

    /// Checks the targets against a batch of `x_rows` inputs and a network with
    /// `classes` outputs.
    pub fn validate(&self, x_rows: usize, classes: usize) -> Result<()> {
        if x_rows == 0 {
            return Err(Error::EmptyBatch { what: "x" });
        }
        if self.rows() != x_rows {
            return Err(Error::RowMismatch {
                x_rows,
                t_rows: self.rows(),
            });
        }
        match self {
            Targets::Labels(labels) => match labels.iter().position(|&l| l >= classes) {
                Some(row) => Err(Error::LabelOutOfRange {
                    row,
                    found: labels[row],
                    classes,
                }),
                None => Ok(()),
            },
            Targets::OneHot(rows) if rows.ncols() != classes => Err(Error::OneHotWidth {
                expected: classes,
                found: rows.ncols(),
            }),
            Targets::OneHot(_) => Ok(()),
        }
    }
}

/// The index of the largest value; the first one on ties, as NumPy's `argmax`.
pub(crate) fn argmax<T: Float>(values: impl Iterator<Item = T>) -> usize {
    let mut best = (0, T::neg_infinity());
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

impl<'a, T> From<&'a [usize]> for Targets<'a, T> {
    fn from(labels: &'a [usize]) -> Self {
        Targets::Labels(labels)
    }
}

impl<'a, T> From<&'a Vec<usize>> for Targets<'a, T> {
    fn from(labels: &'a Vec<usize>) -> Self {
        Targets::Labels(labels)
    }
}

impl<'a, T, const K: usize> From<&'a [usize; K]> for Targets<'a, T> {
    fn from(labels: &'a [usize; K]) -> Self {
        Targets::Labels(labels)
    }
}

impl<'a, T: Float, const C: usize> From<&'a Batch<T, C>> for Targets<'a, T> {
    fn from(rows: &'a Batch<T, C>) -> Self {
        Targets::OneHot(rows.as_array().view())
    }
}

impl<'a, T> From<&'a Array2<T>> for Targets<'a, T> {
    fn from(rows: &'a Array2<T>) -> Self {
        Targets::OneHot(rows.view())
    }
}

impl<'a, T> From<ArrayView2<'a, T>> for Targets<'a, T> {
    fn from(rows: ArrayView2<'a, T>) -> Self {
        Targets::OneHot(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn validate_names_each_kind_of_mistake() {
        let labels = [0usize, 3];
        let t: Targets<'_, f64> = (&labels).into();
        assert!(matches!(
            t.validate(2, 3),
            Err(Error::LabelOutOfRange {
                row: 1,
                found: 3,
                classes: 3
            })
        ));
        assert!(matches!(
            t.validate(3, 4),
            Err(Error::RowMismatch {
                x_rows: 3,
                t_rows: 2
            })
        ));
        assert!(matches!(t.validate(0, 4), Err(Error::EmptyBatch { .. })));
        let one_hot = array![[0.0, 1.0]];
        let t: Targets<'_, f64> = (&one_hot).into();
        assert!(matches!(
            t.validate(1, 3),
            Err(Error::OneHotWidth {
                expected: 3,
                found: 2
            })
        ));
        assert!(t.validate(1, 2).is_ok());
    }

    #[test]
    fn class_of_one_hot_row_is_its_argmax_first_on_ties() {
        let one_hot = array![[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]];
        let t: Targets<'_, f64> = (&one_hot).into();
        assert_eq!(t.class(0), 1);
        assert_eq!(t.class(1), 0);
    }
}
