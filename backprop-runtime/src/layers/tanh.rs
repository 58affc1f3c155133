use ndarray::ArrayView2;

use super::elementwise::{gradient_from_output, map_into};
use super::{Context, Init, Layer};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float};

/// `tanh(x)`, element by element: the activation of the book's chapter 6 weight
/// histograms (`np.tanh`).
///
/// Like [`Sigmoid`](super::Sigmoid), `backward` reads the kept output:
/// `dx = dout · (1 − y²)`.
///
/// ```
/// use backprop::layers::{Context, Layer, Tanh};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// let mut tanh = Tanh::<f64, 2>::new();
/// let x = array![[0.0, 1.0]];
/// let y = tanh.forward(x.view(), &mut Context::training(&mut rng)).to_owned();
/// assert_eq!(y, array![[0.0, 1f64.tanh()]]);
/// let dx = tanh.backward(x.view(), array![[1.0, 1.0]].view());
/// assert_eq!(dx, array![[1.0, 1.0 - y[[0, 1]] * y[[0, 1]]]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tanh<T, const N: usize> {
    out: Buffer<T>,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> Tanh<T, N> {
    /// A fresh layer; it has nothing to learn.
    pub const fn new() -> Self {
        Self {
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }
}

impl<T: Float, const N: usize> Layer<T> for Tanh<T, N> {
    type Config = ();
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 0;

    fn new((): (), _: &mut Init<'_>) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("Tanh({N})")
    }

    /// `tanh(x)`, kept for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        map_into(x, &mut self.out, T::tanh)
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        map_into(x, out, T::tanh)
    }

    /// `dout · (1 − y²)`, from the output of the last `forward`.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        gradient_from_output(dout, &self.out, &mut self.dx, |d, y| d * (T::one() - y * y))
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    /// ONNX's `Tanh`.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        graph.node("Tanh", &[&x.name], vec![], x.shape)
    }

    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        Ok(x.tanh())
    }
}
