use ndarray::ArrayView2;

use super::{Context, Init, Layer};
use crate::autograd::{TapeError, Var};
use crate::export::{Attribute, Graph, Value};
use crate::parallel;
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
    /// For every output value of the last `forward`, where its maximum is in the input
    /// row (`u32`: a row of more than 4 G values would not fit in memory anyway).
    argmax: Vec<u32>,
    dx: Buffer<T>,
}

/// What [`Pooling`]'s inference writes: the maxima, and their positions (which it
/// computes with them, on the same loops as training, and then leaves).
#[derive(Clone, Debug, Default)]
pub struct PoolingScratch<T> {
    out: Buffer<T>,
    argmax: Vec<u32>,
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

    /// Writes each window's maximum for the rows of `x` into `out`, and its position
    /// in its row into `argmax` (one per output value). Plain loops over the rows'
    /// slices: the window and stride are constants, so the compiler unrolls the
    /// window, and the running maximum is chosen without a branch (which the data
    /// would mispredict).
    fn pool_rows(x: &[T], out: &mut [T], argmax: &mut [u32]) {
        let rows = x
            .chunks_exact(C * H * W)
            .zip(out.chunks_exact_mut(Self::OUT));
        for ((x, out), argmax) in rows.zip(argmax.chunks_exact_mut(Self::OUT)) {
            let channels = out.chunks_exact_mut(Self::OH * Self::OW);
            for (c, (out, argmax)) in channels
                .zip(argmax.chunks_exact_mut(Self::OH * Self::OW))
                .enumerate()
            {
                let plane = &x[c * H * W..(c + 1) * H * W];
                let lines = out
                    .chunks_exact_mut(Self::OW)
                    .zip(argmax.chunks_exact_mut(Self::OW));
                for (oh, (out, argmax)) in lines.enumerate() {
                    let band = &plane[oh * STRIDE * W..(oh * STRIDE + PH) * W];
                    let corner = (c * H + oh * STRIDE) * W;
                    for (ow, (y, index)) in out.iter_mut().zip(argmax).enumerate() {
                        let left = ow * STRIDE;
                        let (mut best, mut at) = (band[left], left);
                        for i in 0..PH {
                            let window = &band[i * W + left..i * W + left + PW];
                            for (j, &v) in window.iter().enumerate() {
                                let larger = v > best;
                                best = if larger { v } else { best };
                                at = if larger { i * W + left + j } else { at };
                            }
                        }
                        *y = best;
                        *index = (corner + at) as u32;
                    }
                }
            }
        }
    }

    /// [`pool_rows`](Self::pool_rows) over a batch, its rows shared between the
    /// threads when the batch is large.
    fn pool(x: ArrayView2<'_, T>, out: &mut [T], argmax: &mut [u32]) {
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let rows = out.len() / Self::OUT;
        let parts = parallel::parts_for(size_of_val(x)).min(rows.max(1));
        let per_part = rows.div_ceil(parts.max(1));
        parallel::for_each_part_with(
            parts,
            (out, per_part * Self::OUT),
            (argmax, per_part * Self::OUT),
            &|part, out, argmax| {
                let first = part * per_part * C * H * W;
                let x = &x
                    [first.min(x.len())..(first + out.len() / Self::OUT * C * H * W).min(x.len())];
                Self::pool_rows(x, out, argmax);
            },
        );
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
    type Scratch = PoolingScratch<T>;
    const PARAMETERS: usize = 0;

    fn new((): (), _: &mut Init<'_>) -> Self {
        Self::new()
    }

    fn describe((): &()) -> String {
        format!("Pooling({PH}, {PW}, stride = {STRIDE})")
    }

    /// Each window's maximum, with where it was, for `backward`.
    fn forward(&mut self, x: ArrayView2<'_, T>, _: &mut Context<'_>) -> ArrayView2<'_, T> {
        self.argmax.resize(x.nrows() * Self::OUT, 0);
        self.out.reshape(x.nrows(), Self::OUT);
        Self::pool(x, self.out.as_mut_slice(), &mut self.argmax);
        self.out.view()
    }

    /// The same maxima; the positions go to the scratch's own buffer.
    fn infer<'s>(
        &self,
        x: ArrayView2<'_, T>,
        scratch: &'s mut PoolingScratch<T>,
    ) -> ArrayView2<'s, T> {
        scratch.argmax.resize(x.nrows() * Self::OUT, 0);
        scratch.out.reshape(x.nrows(), Self::OUT);
        Self::pool(x, scratch.out.as_mut_slice(), &mut scratch.argmax);
        scratch.out.view()
    }

    /// Each output's gradient at its window's maximum, zero elsewhere.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        self.dx.reshape(dout.nrows(), C * H * W);
        let dx = self.dx.as_mut_slice();
        dx.fill(T::zero());
        let dout = dout.as_standard_layout();
        let dout = dout.as_slice().expect("standard layout");
        let rows = dx
            .chunks_exact_mut(C * H * W)
            .zip(dout.chunks_exact(Self::OUT));
        for ((dx, dout), argmax) in rows.zip(self.argmax.chunks_exact(Self::OUT)) {
            for (&d, &i) in dout.iter().zip(argmax) {
                dx[i as usize] += d;
            }
        }
        self.dx.view()
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    /// ONNX's `MaxPool` with the same window and stride, no padding.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        let attributes = vec![
            ("kernel_shape", Attribute::Ints(vec![PH as i64, PW as i64])),
            (
                "strides",
                Attribute::Ints(vec![STRIDE as i64, STRIDE as i64]),
            ),
        ];
        graph.node(
            "MaxPool",
            &[&x.name],
            attributes,
            vec![C, Self::OH, Self::OW],
        )
    }

    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        let windows: Vec<Vec<usize>> = Self::windows().map(Iterator::collect).collect();
        x.max_over(&windows)
    }
}
