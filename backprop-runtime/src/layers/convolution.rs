mod columns;

use ndarray::{Array1, Array4, ArrayBase, ArrayView2, Data, DataMut, Dimension};

use super::{
    Context, Init, Layer, ParameterVisit, ParameterVisitMut, check_weight_and_bias,
    visit_weight_and_bias, visit_weight_and_bias_mut,
};
use crate::autograd::{TapeError, Var};
use crate::export::{Attribute, Graph, Value};
use crate::{Buffer, Float, Result, WeightInit, init};

pub use columns::{BackwardScratch, ForwardScratch, Geometry};

/// A convolution (the book's `Convolution`): `FN` filters of `C × FH × FW` moved by
/// `STRIDE` over images of `C × H × W` padded with `PAD` zeros on every side, each
/// filter adding its bias. Rows hold `C × H × W` values and become `FN × OH × OW`,
/// with `OH = (H + 2·PAD − FH) / STRIDE + 1` (the same across).
///
/// `W` is `(FN, C, FH, FW)` and `b` is `(FN)`, as the book's and PyTorch's `conv2d`.
/// Each image's output is `W` (as `FN × C·FH·FW`) times its column matrix (the book's
/// im2col, `C·FH·FW × OH·OW`), plus `b`, already in `FN × OH × OW` order. With stride 1
/// the products read the column matrix where it lies in the padded image (see
/// [`Geometry`]); with a larger stride the image is unfolded first. Backward adds
/// `col · doutᵀ` to `dWᵀ`; the input gradient is `dout` convolved with the filters
/// turned by 180° (stride 1, square filters, 8 input channels or more), else `Wᵀ ·
/// dout` folded back onto the input (col2im). The images of a batch are shared between
/// threads, each working on one image at a time, so the scratch stays a few images'
/// worth whatever the batch. The `network!` macro computes `OH` and `OW` and checks
/// that the filters fit and the stride tiles the padded input.
///
/// ```
/// use backprop::layers::{Context, Convolution, Layer};
/// use backprop::ndarray::{array, Array4};
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// // One 1 × 3 × 3 image, one 2 × 2 filter that sums its window, bias 0.5.
/// let w = Array4::from_elem((1, 1, 2, 2), 1.0);
/// let mut conv = Convolution::<f64, 1, 3, 3, 1, 2, 2, 1, 0>::from_parameters(w, array![0.5]).unwrap();
/// let x = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]];
/// let y = conv.forward(x.view(), &mut Context::training(&mut rng));
/// assert_eq!(y, array![[12.5, 16.5, 24.5, 28.5]]);
/// let dx = conv.backward(x.view(), array![[1.0, 0.0, 0.0, 1.0]].view());
/// assert_eq!(dx, array![[1.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 1.0]]);
/// assert_eq!(conv.db, array![2.0]);
/// ```
#[allow(non_snake_case)]
#[derive(Clone, Debug)]
pub struct Convolution<
    T,
    const C: usize,
    const H: usize,
    const W: usize,
    const FN: usize,
    const FH: usize,
    const FW: usize,
    const STRIDE: usize,
    const PAD: usize,
> {
    /// Filters, `(FN, C, FH, FW)`.
    pub W: Array4<T>,
    /// Bias, one per filter.
    pub b: Array1<T>,
    /// Gradient of the loss with respect to `W`, written by `backward`.
    pub dW: Array4<T>,
    /// Gradient of the loss with respect to `b`, written by `backward`.
    pub db: Array1<T>,
    out: Buffer<T>,
    dx: Buffer<T>,
    /// What the training forward pass works in.
    forward_scratch: ForwardScratch<T>,
    backward: BackwardScratch<T>,
}

/// The arguments of a `Convolution` declaration besides its sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConvolutionConfig {
    /// `init = He`, `Xavier` or a standard deviation: this layer's own
    /// initialisation, in place of the network's.
    pub init: Option<WeightInit>,
}

/// What [`Convolution::infer`](Layer::infer) writes into: the output and the forward
/// pass's work, owned by the caller.
#[derive(Debug, Default)]
pub struct ConvolutionScratch<T> {
    out: Buffer<T>,
    work: ForwardScratch<T>,
}

impl<
    T: Float,
    const C: usize,
    const H: usize,
    const W: usize,
    const FN: usize,
    const FH: usize,
    const FW: usize,
    const STRIDE: usize,
    const PAD: usize,
> Convolution<T, C, H, W, FN, FH, FW, STRIDE, PAD>
{
    /// The layer's sizes.
    pub const GEOMETRY: Geometry = Geometry {
        channels: C,
        height: H,
        width: W,
        filters: FN,
        filter_height: FH,
        filter_width: FW,
        stride: STRIDE,
        pad: PAD,
    };

    /// Filters drawn as `std · N(0, 1)` (in the book's order, filter by filter), biases
    /// zero.
    pub fn new<R: rand::Rng + ?Sized>(std: T, rng: &mut R) -> Self {
        let w = init::scaled_normal(FN, C * FH * FW, std, rng)
            .into_shape_with_order((FN, C, FH, FW))
            .expect("FN × C·FH·FW values reshape to (FN, C, FH, FW)");
        Self::with_parameters(w, Array1::zeros(FN))
    }

    /// A layer with the given filters `(FN, C, FH, FW)` and bias `(FN)`.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] naming the tensor whose shape differs from the layer's.
    pub fn from_parameters(filters: Array4<T>, bias: Array1<T>) -> Result<Self> {
        let layer = format!("Convolution<C {C}, H {H}, W {W}, FN {FN}, FH {FH}, FW {FW}>");
        let filters_shape = (&filters, &[FN, C, FH, FW][..], "(FN, C, FH, FW)");
        check_weight_and_bias(&layer, filters_shape, (&bias, &[FN], "(FN)"))?;
        Ok(Self::with_parameters(filters, bias))
    }

    fn with_parameters(filters: Array4<T>, bias: Array1<T>) -> Self {
        Self {
            W: filters.as_standard_layout().into_owned(),
            b: bias,
            dW: Array4::zeros((FN, C, FH, FW)),
            db: Array1::zeros(FN),
            out: Buffer::new(),
            dx: Buffer::new(),
            forward_scratch: ForwardScratch::default(),
            backward: BackwardScratch::default(),
        }
    }

    /// Stores `dW` and `db`, and the input gradient in `dx` when `input_gradient`.
    fn backward_into(
        &mut self,
        x: ArrayView2<'_, T>,
        dout: ArrayView2<'_, T>,
        input_gradient: bool,
    ) {
        let (x, dout) = (x.as_standard_layout(), dout.as_standard_layout());
        let dx_rows = if input_gradient { dout.nrows() } else { 0 };
        let mut dx = self.dx.prepare(dx_rows, C * H * W);
        Self::GEOMETRY.backward(
            contiguous(&self.W),
            contiguous(&x),
            contiguous(&dout),
            contiguous_mut(&mut self.dW),
            contiguous_mut(&mut self.db),
            contiguous_mut(&mut dx),
            &mut self.backward,
        );
    }
}

impl<
    T: Float,
    const C: usize,
    const H: usize,
    const W: usize,
    const FN: usize,
    const FH: usize,
    const FW: usize,
    const STRIDE: usize,
    const PAD: usize,
> Layer<T> for Convolution<T, C, H, W, FN, FH, FW, STRIDE, PAD>
{
    type Config = ConvolutionConfig;
    type Scratch = ConvolutionScratch<T>;
    const PARAMETERS: usize = FN * C * FH * FW + FN;

    /// Filters `std · N(0, 1)` with the std of the layer's own `init`, else the
    /// network's, for the fan-in `C·FH·FW`; biases zero.
    fn new(config: ConvolutionConfig, init: &mut Init<'_>) -> Self {
        let std = config.init.unwrap_or(init.weights).std(init.fan_in);
        Self::new(T::from_f64(std), &mut *init.rng)
    }

    fn describe(config: &ConvolutionConfig) -> String {
        let mut text = format!("Convolution({FN}, {FH}, {FW}");
        if STRIDE != 1 {
            text += &format!(", stride = {STRIDE}");
        }
        if PAD != 0 {
            text += &format!(", pad = {PAD}");
        }
        if let Some(init) = config.init {
            text += &format!(", init = {init}");
        }
        text + ")"
    }

    /// Every image's filter responses plus the biases, kept for the next layer.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        let x = x.as_standard_layout();
        let mut out = self.out.prepare(x.nrows(), Self::GEOMETRY.output_len());
        let (w, b, out) = (
            contiguous(&self.W),
            contiguous(&self.b),
            contiguous_mut(&mut out),
        );
        Self::GEOMETRY.forward(w, b, contiguous(&x), out, &mut self.forward_scratch);
        self.out.view()
    }

    fn infer<'s>(
        &self,
        x: ArrayView2<'_, T>,
        scratch: &'s mut ConvolutionScratch<T>,
    ) -> ArrayView2<'s, T> {
        let x = x.as_standard_layout();
        let mut out = scratch.out.prepare(x.nrows(), Self::GEOMETRY.output_len());
        let (w, b, out) = (
            contiguous(&self.W),
            contiguous(&self.b),
            contiguous_mut(&mut out),
        );
        Self::GEOMETRY.forward(w, b, contiguous(&x), out, &mut scratch.work);
        scratch.out.view()
    }

    /// Stores `dW = Σ dout · colᵀ` and `db = Σ dout`, and returns `dx`.
    fn backward(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        self.backward_into(x, dout, true);
        self.dx.view()
    }

    fn backward_parameters(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) {
        self.backward_into(x, dout, false);
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    fn visit_parameters(&self, visit: &mut ParameterVisit<'_, T>) {
        visit_weight_and_bias(visit, [&self.W, &self.dW], [&self.b, &self.db]);
    }

    fn visit_parameters_mut(&mut self, visit: &mut ParameterVisitMut<'_, T>) {
        let (weight, bias) = ([&mut self.W, &mut self.dW], [&mut self.b, &mut self.db]);
        visit_weight_and_bias_mut(visit, weight, bias);
    }

    /// `Conv(x, W, b)`: W is already `(FN, C, FH, FW)`, ONNX's OIHW.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        let geometry = Self::GEOMETRY;
        let (w, b) = (
            graph.parameter(self.W.view().into_dyn()),
            graph.parameter(self.b.view().into_dyn()),
        );
        let (stride, pad) = (STRIDE as i64, PAD as i64);
        let attributes = vec![
            ("kernel_shape", Attribute::Ints(vec![FH as i64, FW as i64])),
            ("strides", Attribute::Ints(vec![stride, stride])),
            ("pads", Attribute::Ints(vec![pad, pad, pad, pad])),
        ];
        let shape = vec![FN, geometry.output_height(), geometry.output_width()];
        graph.node("Conv", &[&x.name, &w, &b], attributes, shape)
    }

    /// im2col as a gather (zeros in the padding), one product with the filters as
    /// `C·FH·FW × FN`, the bias, and a gather back to `FN × OH × OW` order.
    fn tape(&self, x: &Var<T>, leaves: &mut Vec<Var<T>>) -> std::result::Result<Var<T>, TapeError> {
        let g = Self::GEOMETRY;
        let (depth, pixels) = (g.depth(), g.pixels());
        let rows = x.shape().first().copied().unwrap_or(0);
        let (w, b) = (Var::leaf(self.W.clone()), Var::leaf(self.b.clone()));
        // Column (p, k) of an image's unfolded row: pixel p under filter value k.
        let ow = g.output_width();
        let sources: Vec<Option<usize>> = (0..pixels)
            .flat_map(|p| (0..depth).map(move |k| (p, k)))
            .map(|(p, k)| {
                let (c, i, j) = (k / (FH * FW), (k / FW) % FH, k % FW);
                let (row, col) = ((p / ow) * STRIDE + i, (p % ow) * STRIDE + j);
                let (row, col) = (row.checked_sub(PAD)?, col.checked_sub(PAD)?);
                (row < H && col < W).then_some((c * H + row) * W + col)
            })
            .collect();
        let columns = x
            .gather_columns(&sources)?
            .reshape(&[rows * pixels, depth])?;
        let filters = w.reshape(&[FN, depth])?.transpose();
        let y = columns
            .matmul(&filters)?
            .add(&b)?
            .reshape(&[rows, pixels * FN])?;
        // Output value (f, p) is column p·FN + f of the product's rows.
        let order: Vec<Option<usize>> = (0..FN)
            .flat_map(|f| (0..pixels).map(move |p| Some(p * FN + f)))
            .collect();
        let y = y.gather_columns(&order)?;
        leaves.extend([w, b]);
        Ok(y)
    }
}

// Parameters and buffers are created in standard layout, and inputs are made so (copied
// only if a caller passed, say, a transposed view).
fn contiguous<S: Data, D: Dimension>(a: &ArrayBase<S, D>) -> &[S::Elem] {
    a.as_slice().expect("standard layout")
}

fn contiguous_mut<S: DataMut, D: Dimension>(a: &mut ArrayBase<S, D>) -> &mut [S::Elem] {
    a.as_slice_mut().expect("standard layout")
}
