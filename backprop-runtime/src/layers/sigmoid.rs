use ndarray::{ArrayView2, Zip};

use crate::{Buffer, Float};

/// `1 / (1 + e^(−x))`, element by element (the book's `Sigmoid`).
///
/// `backward` uses the cached output, as the book: `dx = dout · (1 − y) · y`. Unlike the
/// book's naive formula, the forward never overflows `exp` for large negative `x`.
///
/// ```
/// use backprop_runtime::layers::Sigmoid;
/// use ndarray::array;
///
/// let mut sigmoid = Sigmoid::<f64, 1>::new();
/// assert_eq!(sigmoid.forward(array![[0.0]].view()), array![[0.5]]);
/// assert_eq!(sigmoid.backward(array![[1.0]].view()), array![[0.25]]);
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

    /// `σ(x)`, kept for `backward`.
    pub fn forward(&mut self, x: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        sigmoid_into(x, &mut self.out)
    }

    /// `σ(x)` into a caller's buffer, leaving the layer untouched.
    pub fn infer<'b>(&self, x: ArrayView2<'_, T>, out: &'b mut Buffer<T>) -> ArrayView2<'b, T> {
        sigmoid_into(x, out)
    }

    /// `dout · (1 − y) · y`, from the output of the last `forward`.
    pub fn backward(&mut self, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let (rows, cols) = dout.dim();
        Zip::from(self.dx.prepare(rows, cols))
            .and(&dout)
            .and(&self.out.view())
            .for_each(|dx, &d, &y| *dx = d * (T::one() - y) * y);
        self.dx.view()
    }

    /// The output of the last `forward`.
    pub fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
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

fn sigmoid_into<'b, T: Float>(x: ArrayView2<'_, T>, out: &'b mut Buffer<T>) -> ArrayView2<'b, T> {
    let (rows, cols) = x.dim();
    Zip::from(out.prepare(rows, cols))
        .and(&x)
        .for_each(|y, &v| *y = sigmoid(v));
    out.view()
}
