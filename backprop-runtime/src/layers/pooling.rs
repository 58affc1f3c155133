use ndarray::{ArrayView2, ArrayViewMut2};

use super::{Context, Init, Layer};
use crate::autograd::{TapeError, Var};
use crate::{Buffer, Float};

/// Max pooling over windows of `PH × PW` moved by `STRIDE`, channel by channel (the
/// book's `Pooling`): rows hold `C × H × W` values in that order and become
/// `C × OH × OW`, with `OH = (H − PH) / STRIDE + 1` (the same across).
///
/// `backward` sends each output's gradient to the position of its window's maximum
/// (the first one, on ties, as the book's `argmax`); overlapping windows add up. The
/// `network!` macro checks that each window fits its input and that the stride tiles
/// it exactly. As in the book's formula, there is no padding.
///
/// ```
/// use backprop::layers::{Context, Layer, Pooling};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// // One channel of 2 × 4, windows of 2 × 2 every 2 columns.
/// let mut pool = Pooling::<f64, 1, 2, 4, 2, 2, 2>::new();
/// let x = array![[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 6.0]];
/// assert_eq!(pool.forward(x.view(), &mut Context::training(&mut rng)), array![[5.0, 7.0]]);
/// let dx = pool.backward(x.view(), array![[10.0, 20.0]].view());
/// assert_eq!(dx, array![[0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 20.0, 0.0]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Pooling<
    T,
    const C: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
    const STRIDE: usize,
> {
    out: Buffer<T>,
    /// For every output value of the last `forward`, where its maximum is in the input row.
    argmax: Vec<usize>,
    dx: Buffer<T>,
}

impl<
    T: Float,
    const C: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
    const STRIDE: usize,
> Pooling<T, C, H, W, PH, PW, STRIDE>
{
    /// Output rows and columns per channel.
    const OH: usize = (H - PH) / STRIDE + 1;
    const OW: usize = (W - PW) / STRIDE + 1;
    /// Values per output row.
    const OUT: usize = C * Self::OH * Self::OW;

    /// A fresh layer; it has nothing to learn.
    pub const fn new() -> Self {
        Self {
            out: Buffer::new(),
            argmax: Vec::new(),
            dx: Buffer::new(),
        }
    }

    /// The flat input positions of window `(c, oh, ow)`, row by row.
    fn window(c: usize, oh: usize, ow: usize) -> impl Iterator<Item = usize> {
        let (top, left) = (oh * STRIDE, ow * STRIDE);
        (0..PH).flat_map(move |i| (0..PW).map(move |j| (c * H + top + i) * W + left + j))
    }

    /// Every window of a row, in output order.
    fn windows() -> impl Iterator<Item = impl Iterator<Item = usize>> {
        (0..C).flat_map(|c| {
            (0..Self::OH).flat_map(move |oh| (0..Self::OW).map(move |ow| Self::window(c, oh, ow)))
        })
    }

    /// Writes each window's maximum into `out`, and its position into `argmax`.
    fn pool(x: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>, mut argmax: impl FnMut(usize)) {
        for (x, mut out) in x.rows().into_iter().zip(out.rows_mut()) {
            for (y, mut window) in out.iter_mut().zip(Self::windows()) {
                let first = window.next().expect("a window has at least one value");
                let best = window.fold(first, |best, i| if x[i] > x[best] { i } else { best });
                *y = x[best];
                argmax(best);
            }
        }
    }
}

impl<
    T: Float,
    const C: usize,
    const H: usize,
    const W: usize,
    const PH: usize,
    const PW: usize,
    const STRIDE: usize,
> Layer<T> for Pooling<T, C, H, W, PH, PW, STRIDE>
{
    type Config = ();
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 0;

    fn new((): (), _: &mut Init<'_>) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("Pooling({PH}, {PW}, stride = {STRIDE})")
    }

    /// Each window's maximum, with where it was, for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        self.argmax.clear();
        let argmax = &mut self.argmax;
        Self::pool(x, self.out.prepare(x.nrows(), Self::OUT), |i| {
            argmax.push(i)
        });
        self.out.view()
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        Self::pool(x, out.prepare(x.nrows(), Self::OUT), |_| {});
        out.view()
    }

    /// Each output's gradient at its window's maximum, zero elsewhere.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let mut dx = self.dx.prepare(dout.nrows(), C * H * W);
        dx.fill(T::zero());
        let argmax = self.argmax.chunks_exact(Self::OUT);
        for ((mut dx, dout), argmax) in dx.rows_mut().into_iter().zip(dout.rows()).zip(argmax) {
            for (&d, &i) in dout.iter().zip(argmax) {
                dx[i] += d;
            }
        }
        self.dx.view()
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        let windows: Vec<Vec<usize>> = Self::windows().map(Iterator::collect).collect();
        x.max_over(&windows)
    }
}
