use ndarray::{Array1, Array2, ArrayView2};

use crate::{Buffer, Error, Float, Result, init, linalg};

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
/// use backprop_runtime::layers::Affine;
/// use ndarray::array;
///
/// let mut layer = Affine::<f64, 2, 1>::from_parameters(array![[1.0], [2.0]], array![0.5]).unwrap();
/// let x = array![[3.0, 4.0]];
/// assert_eq!(layer.forward(x.view())[[0, 0]], 11.5);
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

impl<T: Float, const IN: usize, const OUT: usize> Affine<T, IN, OUT> {
    /// How many numbers the layer learns.
    pub const PARAMETERS: usize = IN * OUT + OUT;

    /// Weights drawn as `std · N(0, 1)`, biases zero (the book's initialisation).
    pub fn new<R: rand::Rng + ?Sized>(std: T, rng: &mut R) -> Self {
        Self::with_parameters(init::scaled_normal(IN, OUT, std, rng), Array1::zeros(OUT))
    }

    /// A layer with the given weights (`IN × OUT`) and bias (`OUT`).
    #[allow(non_snake_case)]
    pub fn from_parameters(W: Array2<T>, b: Array1<T>) -> Result<Self> {
        let (rows, cols) = W.dim();
        if rows != IN {
            return Err(Error::Width {
                what: format!("Affine<{IN}, {OUT}> weights: rows (inputs)"),
                expected: IN,
                found: rows,
            });
        }
        if cols != OUT || b.len() != OUT {
            return Err(Error::Width {
                what: format!("Affine<{IN}, {OUT}> weights and bias: outputs"),
                expected: OUT,
                found: if cols != OUT { cols } else { b.len() },
            });
        }
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

    /// `x · W + b`, kept for the next layer.
    pub fn forward(&mut self, x: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let out = self.out.prepare(x.nrows(), OUT);
        linalg::affine_forward(x, self.W.view(), self.b.view(), out);
        self.out.view()
    }

    /// `x · W + b` into a caller's buffer, for inference: it leaves the layer untouched,
    /// so one trained network can serve several threads.
    pub fn infer<'b>(&self, x: ArrayView2<'_, T>, out: &'b mut Buffer<T>) -> ArrayView2<'b, T> {
        linalg::affine_forward(x, self.W.view(), self.b.view(), out.prepare(x.nrows(), OUT));
        out.view()
    }

    /// Stores `dW = xᵀ · dout` and `db = Σ dout`, and returns `dx = dout · Wᵀ`.
    /// `x` is the input the last `forward` was given.
    pub fn backward(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        self.backward_parameters(x, dout);
        linalg::affine_input_gradient(dout, self.W.view(), self.dx.prepare(dout.nrows(), IN));
        self.dx.view()
    }

    /// Stores `dW` and `db` only: for a first layer, whose input gradient nobody reads.
    pub fn backward_parameters(&mut self, x: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) {
        linalg::affine_parameter_gradients(x, dout, self.dW.view_mut(), self.db.view_mut());
    }

    /// The output of the last `forward`.
    pub fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }
}
