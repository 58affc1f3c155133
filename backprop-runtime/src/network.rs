//! What every declared network has in common: the [`Network`] trait through which
//! generic code (optimizers, model files, evaluation, gradient checks) serves every
//! network `network!` declares, and the one evaluation path.

use std::fmt;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::autograd::{TapeError, Var};
use crate::layers::{Context, Role};
use crate::{BatchView, Error, Float, Result, Targets, parallel, targets};

/// A network declared with `network!`: its widths, its training step, its inference
/// pass, and named access to its parameters (with their roles) and persistent state,
/// in the book's order and names (`W1`, `b1`, `W2`, `b2`, …).
///
/// Generic code works through this trait, so it serves every declared network without
/// knowing its layers. The methods take plain matrices, checking their widths; the
/// generated inherent methods (`predict`, `gradient`, …) take typed batches.
pub trait Network<T: Float>: Sized + Sync {
    /// Features per input row (C·H·W for a three-axis input).
    const INPUT_WIDTH: usize;
    /// Scores per output row (the number of classes).
    const OUTPUT_WIDTH: usize;
    /// The number of learned values, over every layer.
    const PARAMETER_COUNT: usize;
    /// Values per row of the widest of the input and the layers' outputs: what one
    /// row costs in the buffers of inference, which bounds the rows evaluated at once
    /// ([`evaluation_chunk_rows`]). `network!` computes it from every layer's shape.
    const WIDEST_ROW: usize = if Self::INPUT_WIDTH > Self::OUTPUT_WIDTH {
        Self::INPUT_WIDTH
    } else {
        Self::OUTPUT_WIDTH
    };

    /// What inference writes into: every layer's own scratch, owned by the caller.
    /// `Default::default()` makes an empty one, which grows on first use.
    type Scratch: Default + fmt::Debug + Send;

    /// The scores for the rows of `x` (which must have `INPUT_WIDTH` columns), computed
    /// in `scratch`: the network is left untouched, so inference needs only `&self`.
    fn infer<'s>(&self, x: ArrayView2<'_, T>, scratch: &'s mut Self::Scratch) -> ArrayView2<'s, T>;

    /// One training step's gradients: forward in `context`'s mode, then backward layer
    /// by layer in reverse, leaving every parameter's gradient in its layer. Returns the
    /// mean loss. The input gradient of the first layer with parameters is never
    /// computed, since nothing reads it.
    fn train_step(
        &mut self,
        x: ArrayView2<'_, T>,
        t: &Targets<'_, T>,
        context: &mut Context<'_>,
    ) -> Result<T>;

    /// The mean loss of a forward pass in `context`'s mode, without the backward pass:
    /// what central differences of a training step differentiate.
    fn train_loss(
        &mut self,
        x: ArrayView2<'_, T>,
        t: &Targets<'_, T>,
        context: &mut Context<'_>,
    ) -> Result<T>;

    /// [`train_step`](Network::train_step) with the book's weight decay λ: adds
    /// `0.5·λ·ΣW²` over every weight (role [`Role::Weight`]: never biases, scales or
    /// shifts) to the returned loss, and `λ·W` to those weights' gradients, before an
    /// optimizer sees them. λ = 0 is a plain training step.
    fn train_step_with_weight_decay(
        &mut self,
        x: ArrayView2<'_, T>,
        t: &Targets<'_, T>,
        context: &mut Context<'_>,
        weight_decay: f64,
    ) -> Result<T> {
        weight_decayed_step(self, x, t, context, weight_decay)
    }

    /// The summed loss of `scores` against rows `offset..` of already validated
    /// targets, as the network's loss layer computes it.
    fn total_loss(scores: ArrayView2<'_, T>, t: &Targets<'_, T>, offset: usize) -> T;

    /// Calls `visit` for every parameter, in order.
    fn visit_parameters(&self, visit: &mut dyn FnMut(Parameter<'_, T>));

    /// Calls `visit` for every parameter, writable, with the gradient the last training
    /// step left in its layer.
    fn visit_parameters_mut(&mut self, visit: &mut ParameterVisitor<'_, T>);

    /// Calls `visit(name, tensor)` for every tensor of persistent state that is not
    /// learned (BatchNorm's running statistics), in order. Empty for most networks.
    fn visit_state(&self, visit: &mut dyn FnMut(&'static str, ArrayViewD<'_, T>));

    /// The same state, writable.
    fn visit_state_mut(&mut self, visit: &mut dyn FnMut(&'static str, ArrayViewMutD<'_, T>));

    /// The network's forward pass and loss on the autograd tape, each layer's own tape
    /// expression on the network's current parameters: an independent route to the
    /// gradients that [`train_step`](Network::train_step) computes.
    fn tape(
        &self,
        x: ArrayView2<'_, T>,
        t: &Targets<'_, T>,
    ) -> std::result::Result<TapeRun<T>, TapeError>;

    /// The network's inference graph in standard ONNX operators: each layer's own
    /// nodes in order, parameters by the book's names, ending in the scores or, with
    /// [`Output::Probabilities`](crate::export::Output), their softmax. `onnx::save`
    /// (feature `onnx`) writes it as an ONNX model.
    fn export(&self, output: crate::export::Output) -> crate::export::Graph<T>;

    /// The layers, their output shapes and parameter counts, printable as a table
    /// (also `Net::summary()`, without a network).
    fn summary(&self) -> crate::Summary;

    /// Loss and accuracy over `rows`, in chunks (on several threads when there are
    /// many): the one evaluation path, behind `loss`, `accuracy` and data-set
    /// evaluation alike.
    fn evaluate<R: EvaluationRows<T> + ?Sized>(&self, rows: &R) -> Result<Evaluation> {
        evaluate(self, rows)
    }
}

/// [`Network::train_step_with_weight_decay`]'s work, which generated networks call
/// from their own impl (so that their documentation shows the signature as written).
pub(crate) fn weight_decayed_step<T: Float, N: Network<T>>(
    network: &mut N,
    x: ArrayView2<'_, T>,
    t: &Targets<'_, T>,
    context: &mut Context<'_>,
    weight_decay: f64,
) -> Result<T> {
    if !(weight_decay.is_finite() && weight_decay >= 0.0) {
        return Err(Error::HyperParameter {
            name: "weight decay",
            value: weight_decay,
            expected: "a finite number of at least 0",
        });
    }
    let loss = network.train_step(x, t, context)?;
    if weight_decay == 0.0 {
        return Ok(loss);
    }
    let lambda = T::from_f64(weight_decay);
    let mut squares = 0.0;
    network.visit_parameters_mut(&mut |p| {
        if p.role == Role::Weight {
            let mut gradient = p.gradient;
            ndarray::Zip::from(&mut gradient)
                .and(&p.value)
                .for_each(|g, &w| {
                    squares += (w * w).as_f64();
                    *g += lambda * w;
                });
        }
    });
    Ok(loss + T::from_f64(0.5 * weight_decay * squares))
}

/// One parameter as [`Network::visit_parameters`] shows it.
#[derive(Debug)]
pub struct Parameter<'a, T> {
    /// The book's name: `W1`, `b1`, `gamma1`, ….
    pub name: &'static str,
    /// What the tensor is for.
    pub role: Role,
    /// The values.
    pub value: ArrayViewD<'a, T>,
    /// The gradient the last training step stored.
    pub gradient: ArrayViewD<'a, T>,
}

/// One parameter as [`Network::visit_parameters_mut`] shows it: writable, with the
/// gradient the last training step stored.
#[derive(Debug)]
pub struct ParameterMut<'a, T> {
    /// The book's name: `W1`, `b1`, `gamma1`, ….
    pub name: &'static str,
    /// What the tensor is for.
    pub role: Role,
    /// The values, writable.
    pub value: ArrayViewMutD<'a, T>,
    /// The gradient of the loss with respect to the values, writable (weight decay
    /// adds to it before an optimizer reads it).
    pub gradient: ArrayViewMutD<'a, T>,
}

/// What [`Network::visit_parameters_mut`] calls for each parameter.
pub type ParameterVisitor<'v, T> = dyn FnMut(ParameterMut<'_, T>) + 'v;

/// A network's forward pass recorded on the autograd tape ([`Network::tape`]).
pub struct TapeRun<T: Float> {
    /// The mean loss; call `backward` on it.
    pub loss: Var<T>,
    /// Every parameter as a leaf of the tape, with its name and role, in order.
    pub parameters: Vec<(&'static str, Role, Var<T>)>,
    /// Each layer's output but the loss's, in order, with the layer's description.
    pub outputs: Vec<(String, Var<T>)>,
}

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

/// As the declaration writes it: `He`, `Xavier`, or the standard deviation.
impl fmt::Display for WeightInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightInit::Std(std) => write!(f, "{std}"),
            WeightInit::He => f.write_str("He"),
            WeightInit::Xavier => f.write_str("Xavier"),
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
    /// The shape of a row after the layer: `[50]`, or `[30, 24, 24]`.
    pub output_shape: Vec<usize>,
    /// Learned values in the layer.
    pub parameters: usize,
}

impl LayerSummary {
    /// Features per row after the layer.
    pub fn output_width(&self) -> usize {
        self.output_shape.iter().product()
    }
}

/// A printable table of a network's layers, shapes and parameter counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The network's type name.
    pub name: &'static str,
    /// The shape of an input row: `[784]`, or `[1, 28, 28]`.
    pub input_shape: Vec<usize>,
    /// The layers in order.
    pub layers: Vec<LayerSummary>,
}

impl Summary {
    /// Features per input row.
    pub fn input_width(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The total number of learned values.
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|l| l.parameters).sum()
    }
}

fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outputs: Vec<String> = self
            .layers
            .iter()
            .map(|l| shape_text(&l.output_shape))
            .collect();
        let field_w = self
            .layers
            .iter()
            .map(|l| l.field.len())
            .fold(5, usize::max);
        let layer_w = self
            .layers
            .iter()
            .map(|l| l.layer.len())
            .fold(5, usize::max);
        let output_w = outputs
            .iter()
            .map(|o| o.chars().count())
            .fold(6, usize::max);
        match self.input_shape.as_slice() {
            [width] => writeln!(f, "{} (input width {width})", self.name)?,
            shape => writeln!(f, "{} (input {})", self.name, shape_text(shape))?,
        }
        writeln!(
            f,
            "{:field_w$}  {:layer_w$}  {:>output_w$}  {:>10}",
            "field", "layer", "output", "parameters"
        )?;
        for (l, output) in self.layers.iter().zip(&outputs) {
            // `{:>w$}` counts chars, and `×` is one.
            writeln!(
                f,
                "{:field_w$}  {:layer_w$}  {:>output_w$}  {:>10}",
                l.field, l.layer, output, l.parameters
            )?;
        }
        write!(f, "total parameters: {}", self.parameters())
    }
}

/// Rows per evaluation chunk at most: large enough to keep matrix products efficient,
/// small enough that evaluating 60,000 rows never holds 60,000-row temporaries.
pub const EVALUATION_CHUNK_ROWS: usize = 1024;

/// Bytes one layer's output may take for an evaluation chunk: a convolution's
/// output rows are wide (SimpleConvNet's first is 17,280 values), and 1024 of them
/// took 69 MB per buffer, the evaluation's peak memory and its page faults.
const EVALUATION_CHUNK_BYTES: usize = 8 << 20;

/// Rows per chunk when `N` evaluates or predicts many rows: [`EVALUATION_CHUNK_ROWS`],
/// or fewer so that its widest output ([`Network::WIDEST_ROW`]) stays within 8 MiB a
/// chunk (121 rows for SimpleConvNet in f32); never fewer than 16.
pub const fn evaluation_chunk_rows<T: Float, N: Network<T>>() -> usize {
    let row_bytes = N::WIDEST_ROW * size_of::<T>();
    let rows = EVALUATION_CHUNK_BYTES / if row_bytes == 0 { 1 } else { row_bytes };
    if rows < 16 {
        16
    } else if rows > EVALUATION_CHUNK_ROWS {
        EVALUATION_CHUNK_ROWS
    } else {
        rows
    }
}

/// How a network does on a set of rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// The fraction of rows classified correctly.
    pub accuracy: f64,
    /// The mean loss.
    pub loss: f64,
}

/// Rows a network can be evaluated on, chunk by chunk: a batch with its targets, or a
/// data set, whose compact pixels are converted one chunk at a time.
pub trait EvaluationRows<T: Float>: Sync {
    /// The number of rows.
    fn len(&self) -> usize;

    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per row.
    fn features(&self) -> usize;

    /// Rows `range` as a matrix with their targets, converted into `scratch` if need be.
    fn chunk<'s>(
        &'s self,
        range: Range<usize>,
        scratch: &'s mut ChunkScratch<T>,
    ) -> Result<(ArrayView2<'s, T>, Targets<'s, T>)>;
}

/// Buffers an [`EvaluationRows`] may convert a chunk into; one per thread.
#[derive(Debug, Default)]
pub struct ChunkScratch<T> {
    /// Inputs of the chunk, row after row.
    pub x: Vec<T>,
    /// Labels of the chunk.
    pub labels: Vec<usize>,
}

/// A batch and targets already validated against it.
impl<T: Float, const N: usize> EvaluationRows<T> for (BatchView<'_, T, N>, Targets<'_, T>) {
    fn len(&self) -> usize {
        self.0.rows()
    }

    fn features(&self) -> usize {
        N
    }

    fn chunk<'s>(
        &'s self,
        range: Range<usize>,
        _: &'s mut ChunkScratch<T>,
    ) -> Result<(ArrayView2<'s, T>, Targets<'s, T>)> {
        let x = self.0.slice_rows(range.start, range.end).as_array();
        let t = match self.1 {
            Targets::Labels(labels) => Targets::Labels(&labels[range]),
            Targets::OneHot(rows) => Targets::OneHot(rows.slice_move(ndarray::s![range, ..])),
        };
        Ok((x, t))
    }
}

#[derive(Default)]
struct Totals {
    correct: usize,
    loss: f64,
    error: Option<Error>,
}

impl std::ops::Add for Totals {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Totals {
            correct: self.correct + other.correct,
            loss: self.loss + other.loss,
            error: self.error.or(other.error),
        }
    }
}

fn evaluate<T, N, R>(network: &N, rows: &R) -> Result<Evaluation>
where
    T: Float,
    N: Network<T>,
    R: EvaluationRows<T> + ?Sized,
{
    check_width("the rows to evaluate", N::INPUT_WIDTH, rows.features())?;
    if rows.is_empty() {
        return Err(Error::EmptyBatch { what: "x" });
    }
    let chunk_rows = evaluation_chunk_rows::<T, N>();
    let totals = parallel::split_rows(rows.len(), chunk_rows, |start, end| {
        let mut scratch = N::Scratch::default();
        let mut chunk_scratch = ChunkScratch::default();
        let mut totals = Totals::default();
        for chunk_start in (start..end).step_by(chunk_rows) {
            let range = chunk_start..(chunk_start + chunk_rows).min(end);
            let (x, t) = match rows.chunk(range, &mut chunk_scratch) {
                Ok(chunk) => chunk,
                Err(error) => {
                    totals.error = Some(error);
                    break;
                }
            };
            let scores = network.infer(x, &mut scratch);
            totals.loss += N::total_loss(scores, &t, 0).as_f64();
            totals.correct += scores
                .rows()
                .into_iter()
                .enumerate()
                .filter(|(r, row)| targets::argmax(row.iter().copied()) == t.class(*r))
                .count();
        }
        totals
    });
    if let Some(error) = totals.error {
        return Err(error);
    }
    Ok(Evaluation {
        accuracy: totals.correct as f64 / rows.len() as f64,
        loss: totals.loss / rows.len() as f64,
    })
}

/// `found` features where the network takes `expected`.
pub(crate) fn check_width(what: &str, expected: usize, found: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Width {
            what: what.to_owned(),
            expected,
            found,
        })
    }
}
