use ndarray::{ArrayView2, Zip};

use crate::{Buffer, Float};

/// `max(0, x)`, element by element (the book's `Relu`).
///
/// As the book's mask `x <= 0`, the gradient at exactly 0 is 0. The layer keeps its
/// output, which is zero exactly where the mask is set, so it needs no separate mask.
///
/// ```
/// use backprop_runtime::layers::Relu;
/// use ndarray::array;
///
/// let mut relu = Relu::<f64, 3>::new();
/// assert_eq!(relu.forward(array![[-1.0, 0.0, 2.0]].view()), array![[0.0, 0.0, 2.0]]);
/// assert_eq!(relu.backward(array![[5.0, 5.0, 5.0]].view()), array![[0.0, 0.0, 5.0]]);
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

    /// `max(0, x)`, kept for `backward`.
    pub fn forward(&mut self, x: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        relu_into(x, &mut self.out)
    }

    /// `max(0, x)` into a caller's buffer, leaving the layer untouched.
    pub fn infer<'b>(&self, x: ArrayView2<'_, T>, out: &'b mut Buffer<T>) -> ArrayView2<'b, T> {
        relu_into(x, out)
    }

    /// `dout` where the input was positive, 0 elsewhere.
    pub fn backward(&mut self, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let (rows, cols) = dout.dim();
        Zip::from(self.dx.prepare(rows, cols))
            .and(&dout)
            .and(&self.out.view())
            .for_each(|dx, &d, &y| *dx = if y > T::zero() { d } else { T::zero() });
        self.dx.view()
    }

    /// The output of the last `forward`.
    pub fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }
}

fn relu_into<'b, T: Float>(x: ArrayView2<'_, T>, out: &'b mut Buffer<T>) -> ArrayView2<'b, T> {
    let (rows, cols) = x.dim();
    Zip::from(out.prepare(rows, cols))
        .and(&x)
        .for_each(|y, &v| *y = if v > T::zero() { v } else { T::zero() });
    out.view()
}
