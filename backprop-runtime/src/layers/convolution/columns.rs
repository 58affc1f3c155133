//! The book's im2col and col2im for one image, at run-time sizes, and the products
//! of a convolution over a batch built on them.

use crate::Float;
use crate::gemm::{self, MatrixRef, Write};
use crate::parallel::for_each_part;

/// The sizes of one convolution: input `channels × height × width`, `filters` of
/// `channels × filter_height × filter_width`, moved by `stride` over the input
/// padded with `pad` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels (the book's C).
    pub channels: usize,
    /// Input rows (H).
    pub height: usize,
    /// Input columns (W).
    pub width: usize,
    /// Filters, that is output channels (FN).
    pub filters: usize,
    /// Filter rows (FH).
    pub filter_height: usize,
    /// Filter columns (FW).
    pub filter_width: usize,
    /// Step between windows, across and down.
    pub stride: usize,
    /// Zeros added on each side.
    pub pad: usize,
}

/// Parts a batch is cut into: a fixed count, so that the sums of the weight
/// gradients over the parts are added in the same order whatever the thread count.
const PARTS: usize = 8;

/// Input channels from which [`Geometry::turned`] computes the input gradient. At batch
/// 100 on an AMD EPYC Zen 3 (AVX2, 2 threads, f32), the backward of 16→16 filters 3×3
/// pad 1 took 9.9 ms turned against 11.8 ms folded (col2im), and of 1→30 filters 5×5
/// 22.8 ms turned against 3.4 ms folded (a product one row tall).
const TURNED_FROM_CHANNELS: usize = 8;

impl Geometry {
    /// Output rows: `(H + 2·pad − FH) / stride + 1`.
    pub const fn output_height(&self) -> usize {
        (self.height + 2 * self.pad - self.filter_height) / self.stride + 1
    }

    /// Output columns.
    pub const fn output_width(&self) -> usize {
        (self.width + 2 * self.pad - self.filter_width) / self.stride + 1
    }

    /// Values in one input image.
    pub const fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Values in one output image, `FN × OH × OW`.
    pub const fn output_len(&self) -> usize {
        self.filters * self.pixels()
    }

    /// Output positions per channel, `OH · OW`: the columns of an image's column matrix.
    pub const fn pixels(&self) -> usize {
        self.output_height() * self.output_width()
    }

    /// Values under one filter, `C · FH · FW`: the rows of an image's column matrix.
    pub const fn depth(&self) -> usize {
        self.channels * self.filter_height * self.filter_width
    }

    /// Learned values: the filters and one bias per filter.
    pub const fn parameters(&self) -> usize {
        self.filters * self.depth() + self.filters
    }

    /// Whether the input itself is the column matrix (1 × 1 filters, stride 1, no
    /// padding), so that no copy is needed.
    const fn is_pointwise(&self) -> bool {
        self.filter_height == 1 && self.filter_width == 1 && self.stride == 1 && self.pad == 0
    }

    /// Values a column matrix of one image takes (none for a pointwise convolution).
    pub const fn columns_len(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.depth() * self.pixels()
        }
    }

    /// Walks an image's column matrix line by line: for each row `(c, i, j)` and
    /// output row `oh`, the `output_width` values at `line · output_width` of the
    /// matrix. Those in `first..end` come from the input, every `stride`-th value from
    /// offset `source` of the image; the rest, and the whole line where `source` is
    /// `None` (a padding row, or a filter column that only meets padding), are zeros.
    fn for_each_line(&self, mut visit: impl FnMut(Line)) {
        let (oh_count, ow_count) = (self.output_height(), self.output_width());
        let mut line = 0;
        for c in 0..self.channels {
            for i in 0..self.filter_height {
                for j in 0..self.filter_width {
                    // The output columns whose input column ow·stride + j − pad lies
                    // in the image.
                    let first = self
                        .pad
                        .saturating_sub(j)
                        .div_ceil(self.stride)
                        .min(ow_count);
                    let end = (self.width + self.pad)
                        .checked_sub(j + 1)
                        .map_or(0, |last| (last / self.stride + 1).min(ow_count))
                        .max(first);
                    for oh in 0..oh_count {
                        let row = (oh * self.stride + i)
                            .checked_sub(self.pad)
                            .filter(|&row| row < self.height && first < end);
                        let source = row.map(|row| {
                            (c * self.height + row) * self.width + first * self.stride + j
                                - self.pad
                        });
                        visit(Line {
                            start: line * ow_count,
                            first,
                            end,
                            source,
                        });
                        line += 1;
                    }
                }
            }
        }
    }

    /// im2col for one image: `columns` (`depth × pixels`, row `(c, i, j)`, column
    /// `(oh, ow)`) receives `x[c, oh·stride + i − pad, ow·stride + j − pad]`, zero
    /// in the padding.
    pub fn im2col<T: Float>(&self, x: &[T], columns: &mut [T]) {
        let stride = self.stride;
        self.for_each_line(|line| {
            let out = &mut columns[line.start..][..self.output_width()];
            let Some(source) = line.source else {
                return out.fill(T::zero());
            };
            out[..line.first].fill(T::zero());
            out[line.end..].fill(T::zero());
            let values = &mut out[line.first..line.end];
            if stride == 1 {
                values.copy_from_slice(&x[source..source + values.len()]);
            } else {
                for (o, v) in values.iter_mut().zip(x[source..].iter().step_by(stride)) {
                    *o = *v;
                }
            }
        });
    }

    /// col2im for one image: adds every value of `columns` to the input position
    /// im2col took it from (overlapping windows add up; padding is dropped).
    pub fn col2im_add<T: Float>(&self, columns: &[T], dx: &mut [T]) {
        self.for_each_line(|line| {
            let Some(source) = line.source else {
                return;
            };
            let values = &columns[line.start + line.first..line.start + line.end];
            for (d, v) in dx[source..].iter_mut().step_by(self.stride).zip(values) {
                *d += *v;
            }
        });
    }

    /// The batch cut into parts: how many, and samples per part.
    fn parts(rows: usize) -> (usize, usize) {
        let parts = rows.clamp(1, PARTS);
        (parts, rows.div_ceil(parts))
    }

    /// `out = W ⊛ x + b` for a batch: `x` holds rows of `input_len` values, `out`
    /// rows of `output_len`, `w` is `filters × depth`, `columns` is scratch that this
    /// grows as needed.
    pub fn forward<T: Float>(
        &self,
        w: &[T],
        b: &[T],
        x: &[T],
        out: &mut [T],
        columns: &mut Vec<T>,
    ) {
        let rows = out.len() / self.output_len();
        let (parts, per_part) = Self::parts(rows);
        grow(columns, parts * self.columns_len());
        for_each_part(
            parts,
            [
                (out, per_part * self.output_len()),
                (&mut columns[..], self.columns_len()),
            ],
            &|part, [out, columns]| {
                let first = part * per_part;
                for (n, out) in out.chunks_exact_mut(self.output_len()).enumerate() {
                    let x = &x[(first + n) * self.input_len()..][..self.input_len()];
                    self.forward_image(w, Some(b), x, out, columns);
                }
            },
        );
    }

    /// One image's `out = W ⊛ x (+ b)`.
    fn forward_image<T: Float>(
        &self,
        w: &[T],
        b: Option<&[T]>,
        x: &[T],
        out: &mut [T],
        columns: &mut [T],
    ) {
        let (depth, pixels) = (self.depth(), self.pixels());
        let columns: &[T] = if self.is_pointwise() {
            x
        } else {
            self.im2col(x, columns);
            columns
        };
        let write = match b {
            Some(b) => {
                for (channel, &bias) in out.chunks_exact_mut(pixels).zip(b) {
                    channel.fill(bias);
                }
                Write::Accumulate
            }
            None => Write::Overwrite,
        };
        product(
            MatrixRef::row_major(w, self.filters, depth),
            MatrixRef::row_major(columns, depth, pixels),
            out,
            write,
        );
    }

    /// The convolution whose forward pass is this one's input gradient, where there is
    /// one and it pays: with stride 1 and a square filter, `dx` is `dout` padded by
    /// `FH − 1 − pad` and convolved with the filters turned by 180° and their channels
    /// swapped ([`Geometry::turn_filters`]). Its product has as many rows as this
    /// convolution has input channels, so it needs a few of them to fill the register
    /// tiles ([`TURNED_FROM_CHANNELS`]); then it beats folding column gradients back.
    fn turned(&self) -> Option<Geometry> {
        let square = self.filter_height == self.filter_width;
        let pays = self.channels >= TURNED_FROM_CHANNELS;
        (pays && self.stride == 1 && square && self.pad < self.filter_height).then(|| Geometry {
            channels: self.filters,
            height: self.output_height(),
            width: self.output_width(),
            filters: self.channels,
            pad: self.filter_height - 1 - self.pad,
            ..*self
        })
    }

    /// The filters of [`Geometry::turned`]: `turned[c, f, i, j] = w[f, c, FH − 1 − i, FW − 1 − j]`.
    fn turn_filters<T: Float>(&self, w: &[T], turned: &mut [T]) {
        let (fh, fw) = (self.filter_height, self.filter_width);
        for c in 0..self.channels {
            for f in 0..self.filters {
                for i in 0..fh {
                    for j in 0..fw {
                        turned[((c * self.filters + f) * fh + i) * fw + j] =
                            w[((f * self.channels + c) * fh + fh - 1 - i) * fw + fw - 1 - j];
                    }
                }
            }
        }
    }

    /// The gradients of a batch: `dw` (`filters × depth`) and `db` (`filters`) are
    /// overwritten with the sums over the batch, and `dx`, unless empty, with the
    /// input gradient. `scratch` grows as needed.
    #[allow(clippy::too_many_arguments)] // the operands of three products
    pub fn backward<T: Float>(
        &self,
        w: &[T],
        x: &[T],
        dout: &[T],
        dw: &mut [T],
        db: &mut [T],
        dx: &mut [T],
        scratch: &mut BackwardScratch<T>,
    ) {
        let rows = dout.len() / self.output_len();
        let (parts, per_part) = Self::parts(rows);
        let with_dx = !dx.is_empty();
        let turned = self.turned().filter(|_| with_dx);
        // Per part: the turned convolution's columns, or the column gradients to fold.
        let column_gradients = match turned {
            Some(turned) => turned.columns_len(),
            None if with_dx => self.depth() * self.pixels(),
            None => 0,
        };
        if turned.is_some() {
            grow(&mut scratch.turned_filters, w.len());
            self.turn_filters(w, &mut scratch.turned_filters);
        }
        let turned_filters = &scratch.turned_filters[..];
        grow(&mut scratch.columns, parts * self.columns_len());
        grow(&mut scratch.column_gradients, parts * column_gradients);
        grow(&mut scratch.sums, parts * self.parameters());
        let (depth, pixels, filters) = (self.depth(), self.pixels(), self.filters);
        for_each_part(
            parts,
            [
                (&mut scratch.sums[..], self.parameters()),
                (&mut scratch.columns[..], self.columns_len()),
                (&mut scratch.column_gradients[..], column_gradients),
                (dx, per_part * self.input_len()),
            ],
            &|part, [sums, columns, column_gradients, dx]| {
                sums.fill(T::zero());
                let (dw_t, db) = sums.split_at_mut(filters * depth);
                let first = part * per_part;
                let samples = per_part.min(rows.saturating_sub(first));
                for n in 0..samples {
                    let x = &x[(first + n) * self.input_len()..][..self.input_len()];
                    let dout = &dout[(first + n) * self.output_len()..][..self.output_len()];
                    let cols: &[T] = if self.is_pointwise() {
                        x
                    } else {
                        self.im2col(x, columns);
                        columns
                    };
                    let dout_m = MatrixRef::row_major(dout, filters, pixels);
                    // dWᵀ += col · doutᵀ: the product packs doutᵀ (FN columns), not
                    // colᵀ (C·FH·FW columns, 9 times as many for the deep net's).
                    product(
                        MatrixRef::row_major(cols, depth, pixels),
                        dout_m.t(),
                        dw_t,
                        Write::Accumulate,
                    );
                    for (sum, channel) in db.iter_mut().zip(dout.chunks_exact(pixels)) {
                        *sum += lane_sum(channel);
                    }
                    if !with_dx {
                        continue;
                    }
                    let dx = &mut dx[n * self.input_len()..][..self.input_len()];
                    if let Some(turned) = turned {
                        turned.forward_image(turned_filters, None, dout, dx, column_gradients);
                    } else {
                        // dcol = Wᵀ · dout, then col2im adds each value back.
                        let w_t = MatrixRef::row_major(w, filters, depth).t();
                        product(w_t, dout_m, column_gradients, Write::Overwrite);
                        dx.fill(T::zero());
                        self.col2im_add(column_gradients, dx);
                    }
                }
            },
        );
        dw.fill(T::zero());
        db.fill(T::zero());
        for sums in scratch.sums.chunks_exact(self.parameters()).take(parts) {
            let (part_dw_t, part_db) = sums.split_at(filters * depth);
            for (k, row) in part_dw_t.chunks_exact(filters).enumerate() {
                for (f, &value) in row.iter().enumerate() {
                    dw[f * depth + k] += value;
                }
            }
            db.iter_mut().zip(part_db).for_each(|(d, &s)| *d += s);
        }
    }
}

/// One line of an image's column matrix (see [`Geometry::for_each_line`]).
struct Line {
    /// Where it starts in the matrix.
    start: usize,
    /// The values that come from the input, `first..end` of the line.
    first: usize,
    end: usize,
    /// Where the value at `first` is in the image, unless the line is all padding.
    source: Option<usize>,
}

/// What [`Geometry::backward`] works in: kept by the layer between steps.
#[derive(Clone, Debug, Default)]
pub struct BackwardScratch<T> {
    columns: Vec<T>,
    /// The filters of [`Geometry::turned`], for the input gradient.
    turned_filters: Vec<T>,
    column_gradients: Vec<T>,
    /// Per part, its sums of `dW` (transposed, `depth × filters`) then `db`.
    sums: Vec<T>,
}

/// `C (+)= A·B` with `C` row-major and dense; the shapes agree by construction.
fn product<T: Float>(a: MatrixRef<'_, T>, b: MatrixRef<'_, T>, c: &mut [T], write: Write) {
    let ldc = b.cols;
    gemm::product(a, b, c, ldc, write).expect("a convolution's operands agree by construction");
}

/// The sum of `values` over eight running lanes, added up at the end: a single
/// running sum waits on each addition in turn (a fifth of SimpleConvNet's backward
/// went there), where the lanes vectorise. The order is fixed, so the result is too.
fn lane_sum<T: Float>(values: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    let tail = rest.iter().fold(T::zero(), |acc, &v| acc + v);
    lanes.iter().fold(tail, |acc, &v| acc + v)
}

/// Grows `buffer` to at least `len` values; never shrinks, so a warm step allocates
/// nothing.
fn grow<T: Float>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::zero());
    }
}
