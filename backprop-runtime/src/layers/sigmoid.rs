use ndarray::ArrayView2;

use super::elementwise::{gradient_from_output, map_into};
use super::{Context, Init, Layer};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float};

/// `1 / (1 + e^(−x))`, element by element (the book's `Sigmoid`).
///
/// `backward` uses the cached output, as the book: `dx = dout · (1 − y) · y`. Unlike the
/// book's naive formula, the forward never overflows `exp` for large negative `x`.
///
/// ```
/// use backprop::layers::{Context, Layer, Sigmoid};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// let mut sigmoid = Sigmoid::<f64, 1>::new();
/// let x = array![[0.0]];
/// assert_eq!(sigmoid.forward(x.view(), &mut Context::training(&mut rng)), array![[0.5]]);
/// assert_eq!(sigmoid.backward(x.view(), array![[1.0]].view()), array![[0.25]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sigmoid<T, const N: usize> {
    out: Buffer<T>,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> Sigmoid<T, N> {
    /// A fresh layer; it has nothing to learn.
    pub const fn new() -> Self {
        Self {
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }
}

/// `σ(x)` written so that `exp` only ever sees a non-positive argument.
fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

impl<T: Float, const N: usize> Layer<T> for Sigmoid<T, N> {
    type Config = ();
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 0;

    fn new((): (), _: &mut Init<'_>) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("Sigmoid({N})")
    }

    /// `σ(x)`, kept for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        map_into(x, &mut self.out, sigmoid)
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        map_into(x, out, sigmoid)
    }

    /// `dout · (1 − y) · y`, from the output of the last `forward`.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        gradient_from_output(dout, &self.out, &mut self.dx, |d, y| d * (T::one() - y) * y)
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    /// ONNX's `Sigmoid`.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        graph.node("Sigmoid", &[&x.name], vec![], x.shape)
    }

    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        Ok(x.sigmoid())
    }
}
