use ndarray::ArrayView2;

use super::elementwise::{gradient_from_output, map_into};
use super::{Context, Init, Layer};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float};

/// `max(0, x)`, element by element (the book's `Relu`).
///
/// As the book's mask `x <= 0`, the gradient at exactly 0 is 0. The layer keeps its
/// output, which is zero exactly where the mask is set, so it needs no separate mask.
///
/// ```
/// use backprop::layers::{Context, Layer, Relu};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// let mut relu = Relu::<f64, 3>::new();
/// let x = array![[-1.0, 0.0, 2.0]];
/// assert_eq!(relu.forward(x.view(), &mut Context::training(&mut rng)), array![[0.0, 0.0, 2.0]]);
/// assert_eq!(relu.backward(x.view(), array![[5.0, 5.0, 5.0]].view()), array![[0.0, 0.0, 5.0]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Relu<T, const N: usize> {
    out: Buffer<T>,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> Relu<T, N> {
    /// A fresh layer; it has nothing to learn.
    pub const fn new() -> Self {
        Self {
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }
}

fn relu<T: Float>(x: T) -> T {
    if x > T::zero() { x } else { T::zero() }
}

impl<T: Float, const N: usize> Layer<T> for Relu<T, N> {
    type Config = ();
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 0;

    fn new((): (), _: &mut Init<'_>) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("Relu({N})")
    }

    /// `max(0, x)`, kept for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        map_into(x, &mut self.out, relu)
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        map_into(x, out, relu)
    }

    /// `dout` where the input was positive, 0 elsewhere.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        gradient_from_output(dout, &self.out, &mut self.dx, |d, y| {
            if y > T::zero() { d } else { T::zero() }
        })
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    /// ONNX's `Relu`.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        graph.node("Relu", &[&x.name], vec![], x.shape)
    }

    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        Ok(x.relu())
    }
}
