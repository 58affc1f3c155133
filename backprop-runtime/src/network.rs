//! What every declared network has in common, and the run-time helpers its generated
//! methods call.

use std::fmt;

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::{Batch, BatchView, Buffer, Float, Result, Targets, layers, parallel, targets};

/// A network declared with `network!`: its widths, and named access to its parameters
/// and their gradients in the book's order and names (`W1`, `b1`, `W2`, `b2`, …).
///
/// Optimizers and serialization work through this trait, so they serve every declared
/// network without knowing its layers.
pub trait Network<T: Float> {
    /// Features per input row.
    const INPUT_WIDTH: usize;
    /// Scores per output row (the number of classes).
    const OUTPUT_WIDTH: usize;
    /// The number of learned values, weights and biases together.
    const PARAMETER_COUNT: usize;

    /// Calls `visit(name, parameter)` for every parameter, in order.
    fn visit_parameters(&self, visit: &mut dyn FnMut(&'static str, ArrayViewD<'_, T>));

    /// Calls `visit(name, parameter, gradient)` for every parameter, in order, with the
    /// parameter writable and the gradient the last `gradient` call left in its layer.
    fn visit_parameters_mut(&mut self, visit: &mut ParameterVisitor<'_, T>);

    /// The scores for the rows of `x`, computed in `buffers`; the network is left
    /// untouched, so inference needs only `&self`. `x` must have `INPUT_WIDTH` columns.
    fn infer<'b>(
        &self,
        x: ArrayView2<'_, T>,
        buffers: &'b mut InferenceBuffers<T>,
    ) -> ArrayView2<'b, T>;
}

/// What [`Network::visit_parameters_mut`] calls for each parameter: its name, the
/// parameter (writable) and its gradient.
pub type ParameterVisitor<'v, T> =
    dyn FnMut(&'static str, ArrayViewMutD<'_, T>, ArrayViewD<'_, T>) + 'v;

/// Named tensors in a fixed order: a network's gradients (generated struct), or any
/// collection that [`gradient_check::compare`](crate::gradient_check::compare) and the
/// serializer should see.
pub trait NamedTensors<T> {
    /// The tensors, in order, with their names.
    fn tensors(&self) -> Vec<(&'static str, ArrayViewD<'_, T>)>;
}

/// How a network's weights are drawn: `std · N(0, 1)` with a fixed `std` (the book's
/// `weight_init_std`, 0.01 by default), or a `std` from each layer's fan-in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightInit {
    /// The same standard deviation for every layer.
    Std(f64),
    /// `√(2 / fan_in)`, for ReLU networks (the book's `'he'`).
    He,
    /// `√(1 / fan_in)`, for sigmoid networks (the book's `'xavier'`).
    Xavier,
}

impl WeightInit {
    /// The standard deviation for a layer with `fan_in` inputs.
    pub fn std(self, fan_in: usize) -> f64 {
        match self {
            WeightInit::Std(std) => std,
            WeightInit::He => crate::init::he_std(fan_in),
            WeightInit::Xavier => crate::init::xavier_std(fan_in),
        }
    }
}

impl From<f64> for WeightInit {
    fn from(std: f64) -> Self {
        WeightInit::Std(std)
    }
}

impl Default for WeightInit {
    fn default() -> Self {
        WeightInit::Std(crate::init::DEFAULT_WEIGHT_INIT_STD)
    }
}

/// One row of a network's [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The field that holds the layer.
    pub field: &'static str,
    /// The layer as declared, with its widths (e.g. `Affine(784, 50)`).
    pub layer: String,
    /// Features per row after the layer.
    pub output_width: usize,
    /// Learned values in the layer.
    pub parameters: usize,
}

/// A printable table of a network's layers, widths and parameter counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The network's type name.
    pub name: &'static str,
    /// Features per input row.
    pub input_width: usize,
    /// The layers in order.
    pub layers: Vec<LayerSummary>,
}

impl Summary {
    /// The total number of learned values.
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|l| l.parameters).sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field_w = self
            .layers
            .iter()
            .map(|l| l.field.len())
            .max()
            .unwrap_or(0)
            .max(5);
        let layer_w = self
            .layers
            .iter()
            .map(|l| l.layer.len())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(f, "{} (input width {})", self.name, self.input_width)?;
        writeln!(
            f,
            "{:field_w$}  {:layer_w$}  {:>6}  {:>10}",
            "field", "layer", "output", "parameters"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:field_w$}  {:layer_w$}  {:>6}  {:>10}",
                l.field, l.layer, l.output_width, l.parameters
            )?;
        }
        write!(f, "total parameters: {}", self.parameters())
    }
}

/// Two scratch buffers an inference pass alternates between, so that `predict` needs
/// only `&self` and allocates nothing once the buffers have grown.
#[derive(Clone, Debug, Default)]
pub struct InferenceBuffers<T> {
    front: Buffer<T>,
    back: Buffer<T>,
}

impl<T: Copy + Default> InferenceBuffers<T> {
    /// Empty buffers; they grow on first use.
    pub const fn new() -> Self {
        Self {
            front: Buffer::new(),
            back: Buffer::new(),
        }
    }

    /// Both buffers at once, for a generated inference pass to alternate between.
    pub fn pair(&mut self) -> (&mut Buffer<T>, &mut Buffer<T>) {
        (&mut self.front, &mut self.back)
    }
}

/// Rows per evaluation chunk: large enough to keep matrix products efficient, small
/// enough that evaluating 60,000 rows never holds 60,000-row temporaries.
pub const EVALUATION_CHUNK_ROWS: usize = 1024;

/// Runs the network over `x` in chunks (on several threads when `x` is large), giving
/// each chunk's scores and first row to `per_chunk` and adding the results up.
pub fn fold_chunks<T, N, const IN: usize, R, F>(
    network: &N,
    x: BatchView<'_, T, IN>,
    per_chunk: F,
) -> R
where
    T: Float,
    N: Network<T> + Sync,
    R: std::ops::Add<Output = R> + Send,
    F: Fn(usize, ArrayView2<'_, T>) -> R + Sync,
{
    parallel::split_rows(x.rows(), EVALUATION_CHUNK_ROWS, |start, end| {
        let mut buffers = InferenceBuffers::new();
        (start..end)
            .step_by(EVALUATION_CHUNK_ROWS)
            .map(|chunk_start| {
                let chunk =
                    x.slice_rows(chunk_start, (chunk_start + EVALUATION_CHUNK_ROWS).min(end));
                per_chunk(chunk_start, network.infer(chunk.as_array(), &mut buffers))
            })
            .reduce(|a, b| a + b)
            .expect("split_rows never hands out an empty range")
    })
}

/// The scores of every row of `x`, computed chunk by chunk.
pub fn predict<T, N, const IN: usize, const OUT: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
) -> Batch<T, OUT>
where
    T: Float,
    N: Network<T>,
{
    let mut out = Batch::<T, OUT>::zeros(x.rows());
    predict_into(network, x, &mut InferenceBuffers::new(), &mut out);
    out
}

/// The scores of every row of `x` into `out` (resized to fit), reusing `buffers`: once
/// both have grown, this allocates nothing.
pub fn predict_into<T, N, const IN: usize, const OUT: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    buffers: &mut InferenceBuffers<T>,
    out: &mut Batch<T, OUT>,
) where
    T: Float,
    N: Network<T>,
{
    out.resize_rows(x.rows());
    let out = out.as_mut_slice();
    for start in (0..x.rows()).step_by(EVALUATION_CHUNK_ROWS) {
        let chunk = x.slice_rows(start, start + EVALUATION_CHUNK_ROWS);
        let scores = network.infer(chunk.as_array(), buffers);
        let dest = &mut out[start * OUT..(start + chunk.rows()) * OUT];
        for (d, s) in dest.iter_mut().zip(scores.iter()) {
            *d = *s;
        }
    }
}

/// The softmax of every row's scores.
pub fn probabilities<T: Float, const OUT: usize>(scores: Batch<T, OUT>) -> Batch<T, OUT> {
    let mut probs = Batch::<T, OUT>::zeros(scores.rows());
    let view = ndarray::ArrayViewMut2::from_shape((scores.rows(), OUT), probs.as_mut_slice())
        .expect("a batch holds rows × OUT values");
    layers::softmax_into(scores.as_array().view(), view);
    probs
}

/// The mean cross-entropy of the network over `x` against `t`.
pub fn loss<T, N, const IN: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    t: &Targets<'_, T>,
) -> Result<T>
where
    T: Float,
    N: Network<T> + Sync,
{
    t.validate(x.rows(), N::OUTPUT_WIDTH)?;
    Ok(mean_loss(network, x, t))
}

/// [`loss`] for targets already validated against `x` (numerical gradients call it
/// twice per parameter element, and validate once).
pub fn mean_loss<T, N, const IN: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    t: &Targets<'_, T>,
) -> T
where
    T: Float,
    N: Network<T> + Sync,
{
    let total: T = fold_chunks(network, x, |start, scores| {
        layers::cross_entropy_of_scores(scores, t, start)
    });
    total / T::from_f64(x.rows() as f64)
}

/// The fraction of rows whose highest score is the target class.
pub fn accuracy<T, N, const IN: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    t: &Targets<'_, T>,
) -> Result<f64>
where
    T: Float,
    N: Network<T> + Sync,
{
    t.validate(x.rows(), N::OUTPUT_WIDTH)?;
    let correct: usize = fold_chunks(network, x, |start, scores| {
        scores
            .rows()
            .into_iter()
            .enumerate()
            .filter(|(r, row)| targets::argmax(row.iter().copied()) == t.class(start + r))
            .count()
    });
    Ok(correct as f64 / x.rows() as f64)
}
