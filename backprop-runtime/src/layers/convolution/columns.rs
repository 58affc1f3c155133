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

    /// The output columns `ow` whose input column `ow·stride + j − pad` lies in the
    /// image, for filter column `j`: a range, as the first and one past the last.
    fn valid_columns(&self, j: usize) -> (usize, usize) {
        let ow = self.output_width();
        let first = self.pad.saturating_sub(j).div_ceil(self.stride).min(ow);
        let end = if self.width + self.pad > j {
            ((self.width + self.pad - j - 1) / self.stride + 1).min(ow)
        } else {
            0
        };
        (first, end.max(first))
    }

    /// The input row under output row `oh` for filter row `i`, if inside the image.
    fn input_row(&self, oh: usize, i: usize) -> Option<usize> {
        (oh * self.stride + i)
            .checked_sub(self.pad)
            .filter(|&row| row < self.height)
    }

    /// im2col for one image: `columns` (`depth × pixels`, row `(c, i, j)`, column
    /// `(oh, ow)`) receives `x[c, oh·stride + i − pad, ow·stride + j − pad]`, zero
    /// in the padding.
    pub fn im2col<T: Float>(&self, x: &[T], columns: &mut [T]) {
        let (oh_count, ow_count) = (self.output_height(), self.output_width());
        let rows = columns.chunks_exact_mut(self.pixels());
        let mut rows = rows.take(self.depth());
        for c in 0..self.channels {
            for i in 0..self.filter_height {
                for j in 0..self.filter_width {
                    let row = rows.next().expect("columns hold depth × pixels values");
                    let (first, end) = self.valid_columns(j);
                    for (oh, out) in row.chunks_exact_mut(ow_count).take(oh_count).enumerate() {
                        let Some(ih) = self.input_row(oh, i) else {
                            out.fill(T::zero());
                            continue;
                        };
                        let line = &x[(c * self.height + ih) * self.width..][..self.width];
                        out[..first].fill(T::zero());
                        out[end..].fill(T::zero());
                        if first == end {
                            continue;
                        }
                        let start = first * self.stride + j - self.pad;
                        if self.stride == 1 {
                            out[first..end].copy_from_slice(&line[start..start + end - first]);
                        } else {
                            for (o, v) in out[first..end]
                                .iter_mut()
                                .zip(line[start..].iter().step_by(self.stride))
                            {
                                *o = *v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im for one image: adds every value of `columns` to the input position
    /// im2col took it from (overlapping windows add up; padding is dropped).
    pub fn col2im_add<T: Float>(&self, columns: &[T], dx: &mut [T]) {
        let (oh_count, ow_count) = (self.output_height(), self.output_width());
        let mut rows = columns.chunks_exact(self.pixels());
        for c in 0..self.channels {
            for i in 0..self.filter_height {
                for j in 0..self.filter_width {
                    let row = rows.next().expect("columns hold depth × pixels values");
                    let (first, end) = self.valid_columns(j);
                    for (oh, d) in row.chunks_exact(ow_count).take(oh_count).enumerate() {
                        let Some(ih) = self.input_row(oh, i).filter(|_| first < end) else {
                            continue;
                        };
                        let line = &mut dx[(c * self.height + ih) * self.width..][..self.width];
                        let start = first * self.stride + j - self.pad;
                        for (o, v) in line[start..]
                            .iter_mut()
                            .step_by(self.stride)
                            .zip(&d[first..end])
                        {
                            *o += *v;
                        }
                    }
                }
            }
        }
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
                    self.forward_image(w, b, x, out, columns);
                }
            },
        );
    }

    fn forward_image<T: Float>(&self, w: &[T], b: &[T], x: &[T], out: &mut [T], columns: &mut [T]) {
        let (depth, pixels) = (self.depth(), self.pixels());
        let columns: &[T] = if self.is_pointwise() {
            x
        } else {
            self.im2col(x, columns);
            columns
        };
        for (channel, &bias) in out.chunks_exact_mut(pixels).zip(b) {
            channel.fill(bias);
        }
        product(
            MatrixRef::row_major(w, self.filters, depth),
            MatrixRef::row_major(columns, depth, pixels),
            out,
            Write::Accumulate,
        );
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
        let column_gradients = if with_dx {
            self.depth() * self.pixels()
        } else {
            0
        };
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
                let (dw, db) = sums.split_at_mut(filters * depth);
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
                    // dW += dout · colᵀ
                    product(
                        dout_m,
                        MatrixRef::row_major(cols, depth, pixels).t(),
                        dw,
                        Write::Accumulate,
                    );
                    for (sum, channel) in db.iter_mut().zip(dout.chunks_exact(pixels)) {
                        *sum += channel.iter().fold(T::zero(), |acc, &v| acc + v);
                    }
                    if !with_dx {
                        continue;
                    }
                    let dx = &mut dx[n * self.input_len()..][..self.input_len()];
                    let w_t = MatrixRef::row_major(w, filters, depth).t();
                    if self.is_pointwise() {
                        product(w_t, dout_m, dx, Write::Overwrite);
                    } else {
                        // dcol = Wᵀ · dout, then col2im adds each value back.
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
            let (part_dw, part_db) = sums.split_at(filters * depth);
            dw.iter_mut().zip(part_dw).for_each(|(d, &s)| *d += s);
            db.iter_mut().zip(part_db).for_each(|(d, &s)| *d += s);
        }
    }
}

/// What [`Geometry::backward`] works in: kept by the layer between steps.
#[derive(Clone, Debug, Default)]
pub struct BackwardScratch<T> {
    columns: Vec<T>,
    column_gradients: Vec<T>,
    /// Per part, its sums of `dW` then `db`.
    sums: Vec<T>,
}

/// `C (+)= A·B` with `C` row-major and dense; the shapes agree by construction.
fn product<T: Float>(a: MatrixRef<'_, T>, b: MatrixRef<'_, T>, c: &mut [T], write: Write) {
    let ldc = b.cols;
    gemm::product(a, b, c, ldc, write).expect("a convolution's operands agree by construction");
}

/// Grows `buffer` to at least `len` values; never shrinks, so a warm step allocates
/// nothing.
fn grow<T: Float>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::zero());
    }
}
