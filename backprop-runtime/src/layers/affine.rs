use ndarray::{Array1, Array2, ArrayView2};

use super::{
    Context, Init, Layer, ParameterVisit, ParameterVisitMut, check_weight_and_bias,
    visit_weight_and_bias, visit_weight_and_bias_mut,
};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float, Result, WeightInit, init, linalg};

/// A fully connected layer: `out = x · W + b` (the book's `Affine`).
///
/// `W` is stored `IN × OUT`, as the book does (PyTorch, dfdx and candle store the
/// transpose). After [`backward`](Self::backward) the gradients are in `dW` and `db`,
/// where an optimizer reads them.
///
/// Unlike the book's layer, `Affine` does not copy its input during `forward`: the
/// network still holds it (it is the previous layer's output, or the caller's batch),
/// so `backward` takes it back as an argument.
///
/// ```
/// use backprop::layers::{Affine, Context, Layer};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// let mut layer = Affine::<f64, 2, 1>::from_parameters(array![[1.0], [2.0]], array![0.5]).unwrap();
/// let x = array![[3.0, 4.0]];
/// assert_eq!(layer.forward(x.view(), &mut Context::training(&mut rng))[[0, 0]], 11.5);
/// let dx = layer.backward(x.view(), array![[1.0]].view());
/// assert_eq!(dx, array![[1.0, 2.0]]);
/// assert_eq!(layer.dW, array![[3.0], [4.0]]);
/// ```
#[allow(non_snake_case)]
#[derive(Clone, Debug)]
pub struct Affine<T, const IN: usize, const OUT: usize> {
    /// Weights, `IN × OUT`.
    pub W: Array2<T>,
    /// Bias, one per output.
    pub b: Array1<T>,
    /// Gradient of the loss with respect to `W`, written by `backward`.
    pub dW: Array2<T>,
    /// Gradient of the loss with respect to `b`, written by `backward`.
    pub db: Array1<T>,
    out: Buffer<T>,
    dx: Buffer<T>,
}

/// The arguments of an `Affine` declaration besides its widths.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AffineConfig {
    /// `init = He`, `Xavier` or a standard deviation: this layer's own
    /// initialisation, in place of the network's.
    pub init: Option<WeightInit>,
}

impl<T: Float, const IN: usize, const OUT: usize> Affine<T, IN, OUT> {
    /// Weights drawn as `std · N(0, 1)`, biases zero (the book's initialisation).
    pub fn new<R: rand::Rng + ?Sized>(std: T, rng: &mut R) -> Self {
        Self::with_parameters(init::scaled_normal(IN, OUT, std, rng), Array1::zeros(OUT))
    }

    /// A layer with the given weights (`IN × OUT`) and bias (`OUT`).
    ///
    /// # Errors
    /// [`crate::Error::Shape`] naming the tensor whose shape differs from the layer's.
    #[allow(non_snake_case)]
    pub fn from_parameters(W: Array2<T>, b: Array1<T>) -> Result<Self> {
        let layer = format!("Affine<{IN}, {OUT}>");
        check_weight_and_bias(&layer, (&W, &[IN, OUT], "(in, out)"), (&b, &[OUT], "(out)"))?;
        Ok(Self::with_parameters(W, b))
    }

    #[allow(non_snake_case)]
    fn with_parameters(W: Array2<T>, b: Array1<T>) -> Self {
        Self {
            W,
            b,
            dW: Array2::zeros((IN, OUT)),
            db: Array1::zeros(OUT),
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Layer<T> for Affine<T, IN, OUT> {
    type Config = AffineConfig;
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = IN * OUT + OUT;

    /// Weights `std · N(0, 1)` with the std of the layer's own `init`, else the
    /// network's, for the layer's fan-in; biases zero.
    fn new(config: AffineConfig, init: &mut Init<'_>) -> Self {
        let std = config.init.unwrap_or(init.weights).std(init.fan_in);
        Self::new(T::from_f64(std), &mut *init.rng)
    }

    fn describe(config: &AffineConfig) -> String {
        match config.init {
            None => format!("Affine({IN}, {OUT})"),
            Some(init) => format!("Affine({IN}, {OUT}, init = {init})"),
        }
    }

    /// `x · W + b`, kept for the next layer.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        let out = self.out.prepare(x.nrows(), OUT);
        linalg::affine_forward(x, self.W.view(), self.b.view(), out);
        self.out.view()
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        linalg::affine_forward(x, self.W.view(), self.b.view(), out.prepare(x.nrows(), OUT));
        out.view()
    }

    /// Stores `dW = xᵀ · dout` and `db = Σ dout`, and returns `dx = dout · Wᵀ`.
    fn backward(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        self.backward_parameters(x, dout);
        linalg::affine_input_gradient(dout, self.W.view(), self.dx.prepare(dout.nrows(), IN));
        self.dx.view()
    }

    fn backward_parameters(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) {
        linalg::affine_parameter_gradients(x, dout, self.dW.view_mut(), self.db.view_mut());
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

    /// `Gemm(x, W, b)` on the flattened input: W is stored `in × out`, as Gemm reads it.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        let x = graph.flat(x);
        let (w, b) = (
            graph.parameter(self.W.view().into_dyn()),
            graph.parameter(self.b.view().into_dyn()),
        );
        graph.node("Gemm", &[&x.name, &w, &b], vec![], vec![OUT])
    }

    /// `x · W + b`, with `x` flattened to rows first as the book's Affine does.
    fn tape(&self, x: &Var<T>, leaves: &mut Vec<Var<T>>) -> std::result::Result<Var<T>, TapeError> {
        let (w, b) = (Var::leaf(self.W.clone()), Var::leaf(self.b.clone()));
        let y = x.matmul(&w)?.add(&b)?;
        leaves.extend([w, b]);
        Ok(y)
    }
}
