use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Zip};

use super::Loss;
use crate::autograd::{TapeError, Var};
use crate::export::{Attribute, Graph, Output, Value};
use crate::{Buffer, Float, Result, Targets};

/// Softmax followed by cross-entropy, the book's `SoftmaxWithLoss`: the last layer of a
/// classifier, whose backward starts the backward pass.
///
/// The loss is computed from the scores with log-sum-exp, `lse(z) − z_t`, rather than
/// the book's `−log(y_t + 1e-7)`: it needs no guard against `log 0`, and it is exactly
/// the function whose gradient `backward` returns, `(y − t) / rows`. (With the guard the
/// two disagree by about 1e-6 relative, which a gradient check would see.)
///
/// ```
/// use backprop::layers::{Loss, SoftmaxWithLoss};
/// use backprop::Targets;
/// use backprop::ndarray::array;
///
/// let mut last = SoftmaxWithLoss::<f64, 2>::new();
/// let labels = [0usize];
/// let loss = last.forward(array![[0.0, 0.0]].view(), &Targets::from(&labels)).unwrap();
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(last.backward(), array![[-0.5, 0.5]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SoftmaxWithLoss<T, const N: usize> {
    y: Buffer<T>,
    labels: Vec<usize>,
    one_hot: Buffer<T>,
    targets_are_labels: bool,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> SoftmaxWithLoss<T, N> {
    /// A fresh layer; it has nothing to learn.
    pub const fn new() -> Self {
        Self {
            y: Buffer::new(),
            labels: Vec::new(),
            one_hot: Buffer::new(),
            targets_are_labels: true,
            dx: Buffer::new(),
        }
    }
}

impl<T: Float, const N: usize> Loss<T> for SoftmaxWithLoss<T, N> {
    type Config = ();

    fn new((): ()) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("SoftmaxWithLoss({N})")
    }

    /// The mean cross-entropy of `softmax(x)` against `t`; keeps the softmax and the
    /// targets for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, t: &Targets<'_, T>) -> Result<T> {
        t.validate(x.nrows(), N)?;
        let rows = x.nrows();
        self.y.reshape(rows, N);
        let mut total = T::zero();
        softmax_rows(x, self.y.view_mut(), |r, z, lse| {
            total += row_loss(z, lse, t, r)
        });
        match t {
            Targets::Labels(labels) => {
                self.labels.clear();
                self.labels.extend_from_slice(labels);
                self.targets_are_labels = true;
            }
            Targets::OneHot(rows) => {
                self.one_hot.prepare(rows.nrows(), N).assign(rows);
                self.targets_are_labels = false;
            }
        }
        Ok(total / T::from_f64(rows as f64))
    }

    /// `(y − t) / rows`: the gradient of the mean loss with respect to the scores.
    ///
    /// There is no `dout` argument: the loss is the end of the graph, where the
    /// incoming gradient is 1 (the book's `backward(dout=1)` ignores it too).
    fn backward(&mut self) -> ArrayView2<'_, T> {
        let (rows, cols) = self.y.shape();
        let scale = T::one() / T::from_f64(rows as f64);
        let mut dx = self.dx.prepare(rows, cols);
        if self.targets_are_labels {
            Zip::from(&mut dx)
                .and(&self.y.view())
                .for_each(|d, &y| *d = y * scale);
            for (mut row, &label) in dx.rows_mut().into_iter().zip(&self.labels) {
                row[label] -= scale;
            }
        } else {
            // For rows of t that do not sum to 1 (soft labels), the exact gradient of
            // Σ_j t_j (lse − z_j) is y·Σt − t; for one-hot rows this is the book's y − t.
            for ((mut d, y), t) in dx
                .rows_mut()
                .into_iter()
                .zip(self.y.view().rows())
                .zip(self.one_hot.view().rows())
            {
                let mass = t.sum();
                Zip::from(&mut d)
                    .and(&y)
                    .and(&t)
                    .for_each(|d, &y, &t| *d = (y * mass - t) * scale);
            }
        }
        self.dx.view()
    }

    /// The softmax of the last `forward`.
    fn output(&self) -> ArrayView2<'_, T> {
        self.y.view()
    }

    fn total_loss(scores: ArrayView2<'_, T>, t: &Targets<'_, T>, offset: usize) -> T {
        cross_entropy_of_scores(scores, t, offset)
    }

    /// Nothing for scores; ONNX's `Softmax` over the classes for probabilities.
    fn export(&self, graph: &mut Graph<T>, scores: Value, output: Output) -> Value {
        match output {
            Output::Scores => scores,
            Output::Probabilities => graph.node(
                "Softmax",
                &[&scores.name],
                vec![("axis", Attribute::Int(1))],
                scores.shape,
            ),
        }
    }

    fn tape(&self, scores: &Var<T>, t: &Targets<'_, T>) -> std::result::Result<Var<T>, TapeError> {
        match t {
            Targets::Labels(labels) => scores.softmax_cross_entropy(labels),
            Targets::OneHot(rows) => scores.softmax_cross_entropy_one_hot(&rows.to_owned()),
        }
    }
}

/// The mean cross-entropy of `softmax(scores)` against `t`, without keeping anything.
/// `t` must already be validated against `scores`.
pub fn cross_entropy_of_scores<T: Float>(
    scores: ArrayView2<'_, T>,
    t: &Targets<'_, T>,
    row_offset: usize,
) -> T {
    scores
        .rows()
        .into_iter()
        .enumerate()
        .map(|(r, z)| row_loss(z, log_sum_exp(z), t, row_offset + r))
        .sum()
}

/// Writes `softmax(scores)` row by row into `out`.
pub fn softmax_into<T: Float>(scores: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
    softmax_rows(scores, out, |_, _, _| {});
}

fn row_loss<T: Float>(z: ArrayView1<'_, T>, lse: T, t: &Targets<'_, T>, row: usize) -> T {
    match t {
        Targets::Labels(labels) => lse - z[labels[row]],
        Targets::OneHot(rows) => Zip::from(&rows.row(row))
            .and(&z)
            .fold(T::zero(), |acc, &t, &z| acc + t * (lse - z)),
    }
}

fn row_max<T: Float>(z: ArrayView1<'_, T>) -> T {
    z.fold(T::neg_infinity(), |m, &v| m.max(v))
}

/// `log Σ exp(z)`, from a small buffer of shifted values at a time, so that the
/// exponentials run in batches (see [`Float::exp_non_positive`]).
fn log_sum_exp<T: Float>(z: ArrayView1<'_, T>) -> T {
    let max = row_max(z);
    let mut shifted = [T::zero(); 32];
    let mut values = z.iter();
    let mut sum = T::zero();
    loop {
        let mut filled = 0;
        for (slot, &v) in shifted.iter_mut().zip(values.by_ref()) {
            *slot = v - max;
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        T::exp_non_positive(&mut shifted[..filled]);
        sum += shifted[..filled].iter().copied().sum::<T>();
    }
    max + sum.ln()
}

/// Writes the softmax of every row of `scores` into `out`, and calls
/// `each_row(r, z, log Σ exp(z))` for each row `z`.
///
/// The shifted scores of all rows are written first and exponentiated in one
/// call: with rows of 10, a call per row would leave most of each to its
/// scalar tail.
fn softmax_rows<T: Float>(
    scores: ArrayView2<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
    mut each_row: impl FnMut(usize, ArrayView1<'_, T>, T),
) {
    for (z, mut y) in scores.rows().into_iter().zip(out.rows_mut()) {
        let max = row_max(z);
        y.zip_mut_with(&z, |y, &v| *y = v - max);
    }
    match out.as_slice_mut() {
        Some(shifted) => T::exp_non_positive(shifted),
        None => out.mapv_inplace(T::exp),
    }
    for (r, (z, mut y)) in scores.rows().into_iter().zip(out.rows_mut()).enumerate() {
        let sum = y.sum();
        y /= sum;
        each_row(r, z, row_max(z) + sum.ln());
    }
}
