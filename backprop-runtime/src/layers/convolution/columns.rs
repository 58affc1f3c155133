//! The products of a convolution over a batch, at run-time sizes. With stride 1 they
//! read the column matrix where it lies in the padded image; with a larger stride they
//! unfold it first (the book's im2col) and fold the column gradients back (col2im).

use crate::Float;
use crate::gemm::{self, MatrixRef, Operand, RowsAt, Write};
use crate::parallel::for_each_part;

/// The sizes of one convolution: input `channels × height × width`, `filters` of
/// `channels × filter_height × filter_width`, moved by `stride` over the input
/// padded with `pad` zeros on every side.
///
/// With stride 1, the products read an image's column matrix where it lies in the
/// padded image: row `(c, i, j)` is the run of the padded image that starts at
/// `(c, i, j)`, when the output is taken as wide as the padded image and its extra
/// columns dropped. Nothing is unfolded: the extra columns cost 7 % more arithmetic
/// for 3×3 filters with pad 1 on 28×28 and save writing, then packing, a column
/// matrix `FH·FW` times the image (`docs/performance.md` has the measurements).
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
/// pad 1 took 6.4 ms turned against 7.0 ms folded; with few input channels the turned
/// product is a few rows tall and wastes most of each register tile.
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

    /// Whether the column matrix is read from the padded image where it lies: with
    /// stride 1, row `(c, i, j)` of the column matrix, from output pixel `(oh, ow)` on,
    /// is the padded image from `(c, i + oh, j + ow)` on. Taking the output `Wp` wide
    /// (`Wp = W + 2·pad`, the columns past `OW` of each row computed and dropped) makes
    /// every row of the column matrix one contiguous run of the padded image, which the
    /// products read in place: nothing is unfolded, and the input gradient folds back
    /// with one contiguous addition per row. The extra columns cost `Wp / OW − 1` more
    /// arithmetic (7 % for 3×3 filters with pad 1 on 28×28) and save writing and
    /// reading the `FH·FW` times larger column matrix.
    const fn in_place(&self) -> bool {
        self.stride == 1
    }

    /// Rows of the padded input, `H + 2·pad`.
    const fn padded_height(&self) -> usize {
        self.height + 2 * self.pad
    }

    /// Columns of the padded input, `W + 2·pad`.
    const fn padded_width(&self) -> usize {
        self.width + 2 * self.pad
    }

    /// Values of one padded image, none without padding (the image is its own).
    const fn padded_len(&self) -> usize {
        if self.pad == 0 {
            0
        } else {
            self.channels * self.padded_height() * self.padded_width()
        }
    }

    /// Columns of the wide output of [`Geometry::in_place`]: `OH − 1` rows of `Wp`,
    /// then the last row's `OW` (so the last row of the column matrix ends inside the
    /// padded image).
    const fn wide_pixels(&self) -> usize {
        (self.output_height() - 1) * self.padded_width() + self.output_width()
    }

    /// Values of one image's wide output, none when it is as narrow as the output.
    const fn wide_len(&self) -> usize {
        if self.wide_pixels() == self.pixels() {
            0
        } else {
            self.filters * self.wide_pixels()
        }
    }

    /// Scratch one image's forward pass takes: the padded image and the wide output,
    /// or the unfolded column matrix.
    pub const fn forward_len(&self) -> usize {
        if self.in_place() {
            self.padded_len() + self.wide_len()
        } else {
            self.depth() * self.pixels()
        }
    }

    /// Where each row `(c, i, j)` of the column matrix starts in the padded image:
    /// `(c·Hp + i)·Wp + j` (empty with a stride above 1, whose rows are unfolded).
    fn row_starts(&self, starts: &mut Vec<usize>) {
        starts.clear();
        if !self.in_place() {
            return;
        }
        let (hp, wp) = (self.padded_height(), self.padded_width());
        for c in 0..self.channels {
            for i in 0..self.filter_height {
                starts.extend((0..self.filter_width).map(|j| (c * hp + i) * wp + j));
            }
        }
    }

    /// Copies `x` into the middle of `padded`, zeros around it.
    fn pad_image<T: Float>(&self, x: &[T], padded: &mut [T]) {
        let (w, pad) = (self.width, self.pad);
        // Row by row, each value written once: filling the whole image with zeros
        // first would write it twice.
        let channels = padded.chunks_exact_mut(self.padded_height() * self.padded_width());
        for (padded, x) in channels.zip(x.chunks_exact(self.height * w)) {
            let rows = padded.chunks_exact_mut(self.padded_width()).enumerate();
            for (r, row) in rows {
                match r.checked_sub(pad).filter(|&r| r < self.height) {
                    Some(r) => {
                        row[..pad].fill(T::zero());
                        row[pad..pad + w].copy_from_slice(&x[r * w..(r + 1) * w]);
                        row[pad + w..].fill(T::zero());
                    }
                    None => row.fill(T::zero()),
                }
            }
        }
    }

    /// The middle of `padded` (what [`Geometry::pad_image`] wrote) back into `x`.
    fn crop_image<T: Float>(&self, padded: &[T], x: &mut [T]) {
        let (wp, pad) = (self.padded_width(), self.pad);
        for (row, x_row) in x.chunks_exact_mut(self.width).enumerate() {
            let (c, r) = (row / self.height, row % self.height);
            let start = (c * self.padded_height() + r + pad) * wp + pad;
            x_row.copy_from_slice(&padded[start..start + self.width]);
        }
    }

    /// Copies each `OW`-wide output row of `dout` to the start of its `Wp` columns of
    /// `wide`, zeros in the columns between.
    fn widen<T: Float>(&self, dout: &[T], wide: &mut [T]) {
        let ow = self.output_width();
        let channels = wide.chunks_exact_mut(self.wide_pixels());
        for (channel, wide) in dout.chunks_exact(self.pixels()).zip(channels) {
            // Rows of Wp values but the last, which ends after its OW.
            for (row, wide) in channel
                .chunks_exact(ow)
                .zip(wide.chunks_mut(self.padded_width()))
            {
                wide[..ow].copy_from_slice(row);
                wide[ow..].fill(T::zero());
            }
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
    /// rows of `output_len`, `w` is `filters × depth`; `scratch` grows as needed.
    pub fn forward<T: Float>(
        &self,
        w: &[T],
        b: &[T],
        x: &[T],
        out: &mut [T],
        scratch: &mut ForwardScratch<T>,
    ) {
        let rows = out.len() / self.output_len();
        let (parts, per_part) = Self::parts(rows);
        grow(&mut scratch.work, parts * self.forward_len());
        self.row_starts(&mut scratch.row_starts);
        let starts = &scratch.row_starts[..];
        for_each_part(
            parts,
            [
                (out, per_part * self.output_len()),
                (&mut scratch.work[..], self.forward_len()),
            ],
            &|part, [out, work]| {
                let first = part * per_part;
                for (n, out) in out.chunks_exact_mut(self.output_len()).enumerate() {
                    let x = &x[(first + n) * self.input_len()..][..self.input_len()];
                    self.forward_image(w, Some(b), x, out, work, starts);
                }
            },
        );
    }

    /// One image's `out = W ⊛ x (+ b)`, in `work` of [`Geometry::forward_len`] values,
    /// with the [`Geometry::row_starts`].
    fn forward_image<T: Float>(
        &self,
        w: &[T],
        b: Option<&[T]>,
        x: &[T],
        out: &mut [T],
        work: &mut [T],
        starts: &[usize],
    ) {
        let (depth, pixels) = (self.depth(), self.pixels());
        let filters = Operand::Strided(MatrixRef::row_major(w, self.filters, depth));
        let wide_pixels = self.wide_pixels();
        // The column matrix, and where the product goes when it is wider than the
        // output (nowhere: straight into `out`).
        let (columns, wide) = if self.in_place() {
            let (padded, wide) = work.split_at_mut(self.padded_len());
            let image: &[T] = if self.pad == 0 {
                x
            } else {
                self.pad_image(x, padded);
                padded
            };
            let columns = RowsAt {
                data: image,
                starts,
                cols: wide_pixels,
            };
            (Operand::RowsAt(columns), wide)
        } else {
            self.im2col(x, work);
            let columns = MatrixRef::row_major(&*work, depth, pixels);
            (Operand::Strided(columns), &mut [][..])
        };
        if wide.is_empty() {
            let write = preset_bias(out, b, pixels);
            return product(filters, columns, out, pixels, write);
        }
        product(filters, columns, wide, wide_pixels, Write::Overwrite);
        // Keep the first OW of every Wp columns, adding the bias.
        let (wp, ow) = (self.padded_width(), self.output_width());
        for (f, (out, wide)) in out
            .chunks_exact_mut(pixels)
            .zip(wide.chunks_exact(wide_pixels))
            .enumerate()
        {
            let bias = b.map_or(T::zero(), |b| b[f]);
            for (oh, out) in out.chunks_exact_mut(ow).enumerate() {
                for (o, &v) in out.iter_mut().zip(&wide[oh * wp..]) {
                    *o = v + bias;
                }
            }
        }
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
        // Per part: the turned convolution's forward scratch, or the column gradients.
        let column_gradients = match turned {
            Some(turned) => turned.forward_len(),
            None if with_dx && self.in_place() => self.depth() * self.wide_pixels(),
            None if with_dx => self.depth() * self.pixels(),
            None => 0,
        };
        if let Some(turned) = turned {
            grow(&mut scratch.turned_filters, w.len());
            self.turn_filters(w, &mut scratch.turned_filters);
            turned.row_starts(&mut scratch.turned_starts);
        }
        self.row_starts(&mut scratch.row_starts);
        let (turned_filters, turned_starts) =
            (&scratch.turned_filters[..], &scratch.turned_starts[..]);
        let starts = &scratch.row_starts[..];
        grow(&mut scratch.columns, parts * self.forward_len());
        grow(&mut scratch.column_gradients, parts * column_gradients);
        grow(&mut scratch.sums, parts * self.parameters());
        let (depth, filters) = (self.depth(), self.filters);
        for_each_part(
            parts,
            [
                (&mut scratch.sums[..], self.parameters()),
                (&mut scratch.columns[..], self.forward_len()),
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
                    for (sum, channel) in db.iter_mut().zip(dout.chunks_exact(self.pixels())) {
                        *sum += lane_sum(channel);
                    }
                    let dx = match with_dx {
                        true => Some(&mut dx[n * self.input_len()..][..self.input_len()]),
                        false => None,
                    };
                    let gradients = match turned {
                        Some(turned) => InputGradient::Turned {
                            turned,
                            filters: turned_filters,
                            starts: turned_starts,
                            work: &mut *column_gradients,
                        },
                        None => InputGradient::Folded(&mut *column_gradients),
                    };
                    let image = Image { x, dout, dx };
                    if self.in_place() {
                        self.backward_in_place(w, image, dw_t, columns, starts, gradients);
                    } else {
                        self.backward_unfolded(w, image, dw_t, columns, gradients);
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

    /// One image's `dWᵀ += col · doutᵀ` and input gradient, the column matrix read in
    /// the padded image (see [`Geometry::in_place`]). `work` holds the padded image
    /// then the wide `dout`.
    fn backward_in_place<T: Float>(
        &self,
        w: &[T],
        image: Image<'_, T>,
        dw_t: &mut [T],
        work: &mut [T],
        starts: &[usize],
        gradients: InputGradient<'_, T>,
    ) {
        let Image { x, dout, dx } = image;
        let (depth, filters, wide_pixels) = (self.depth(), self.filters, self.wide_pixels());
        let (padded, wide) = work.split_at_mut(self.padded_len());
        let columns = |data| {
            Operand::RowsAt(RowsAt {
                data,
                starts,
                cols: wide_pixels,
            })
        };
        let image: &[T] = if self.pad == 0 {
            x
        } else {
            self.pad_image(x, padded);
            padded
        };
        let dout_wide: &[T] = if wide.is_empty() {
            dout
        } else {
            self.widen(dout, wide);
            wide
        };
        let dout_wide = MatrixRef::row_major(dout_wide, filters, wide_pixels);
        // dWᵀ += col · doutᵀ: the product packs doutᵀ (FN columns), not colᵀ (C·FH·FW
        // columns, 9 times as many for the deep net's).
        let dout_t = Operand::Strided(dout_wide.t());
        product(columns(image), dout_t, dw_t, filters, Write::Accumulate);
        let Some(dx) = dx else { return };
        match gradients {
            InputGradient::Turned {
                turned,
                filters,
                starts,
                work,
            } => turned.forward_image(filters, None, dout, dx, work, starts),
            InputGradient::Folded(column_gradients) => {
                // dcol = Wᵀ · dout, then each row adds onto its run of the padded dx
                // (the padded image's room, free again, or dx itself).
                let w_t = MatrixRef::row_major(w, filters, depth).t();
                let (w_t, dout_wide) = (Operand::Strided(w_t), Operand::Strided(dout_wide));
                product(
                    w_t,
                    dout_wide,
                    column_gradients,
                    wide_pixels,
                    Write::Overwrite,
                );
                let fold = |dx_padded: &mut [T]| {
                    dx_padded.fill(T::zero());
                    let rows = column_gradients.chunks_exact(wide_pixels);
                    for (&start, row) in starts.iter().zip(rows) {
                        let run = &mut dx_padded[start..start + wide_pixels];
                        run.iter_mut().zip(row).for_each(|(d, &v)| *d += v);
                    }
                };
                if self.pad == 0 {
                    fold(dx);
                } else {
                    fold(padded);
                    self.crop_image(padded, dx);
                }
            }
        }
    }

    /// One image's `dWᵀ += col · doutᵀ` and input gradient through the unfolded column
    /// matrix (im2col into `columns`, col2im from the column gradients).
    fn backward_unfolded<T: Float>(
        &self,
        w: &[T],
        image: Image<'_, T>,
        dw_t: &mut [T],
        columns: &mut [T],
        gradients: InputGradient<'_, T>,
    ) {
        let Image { x, dout, dx } = image;
        let (depth, pixels, filters) = (self.depth(), self.pixels(), self.filters);
        self.im2col(x, columns);
        let dout_m = MatrixRef::row_major(dout, filters, pixels);
        let (cols, dout_t) = (
            Operand::Strided(MatrixRef::row_major(columns, depth, pixels)),
            Operand::Strided(dout_m.t()),
        );
        product(cols, dout_t, dw_t, filters, Write::Accumulate);
        let Some(dx) = dx else { return };
        // Only stride 1 turns (Geometry::turned), and stride 1 runs in place.
        let InputGradient::Folded(column_gradients) = gradients else {
            unreachable!("a turned input gradient has stride 1")
        };
        // dcol = Wᵀ · dout, then col2im adds each value back.
        let w_t = Operand::Strided(MatrixRef::row_major(w, filters, depth).t());
        product(
            w_t,
            Operand::Strided(dout_m),
            column_gradients,
            pixels,
            Write::Overwrite,
        );
        dx.fill(T::zero());
        self.col2im_add(column_gradients, dx);
    }
}

/// One image's operands in [`Geometry::backward`].
struct Image<'a, T> {
    x: &'a [T],
    dout: &'a [T],
    /// Where its input gradient goes, if wanted.
    dx: Option<&'a mut [T]>,
}

/// How [`Geometry::backward`] computes an image's input gradient.
enum InputGradient<'a, T> {
    /// As the forward pass of the turned convolution, in `work`.
    Turned {
        turned: Geometry,
        filters: &'a [T],
        starts: &'a [usize],
        work: &'a mut [T],
    },
    /// From the column gradients, computed into this, folded back onto the input.
    Folded(&'a mut [T]),
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

/// What [`Geometry::forward`] works in: kept by the layer, or by the caller of
/// inference, between batches.
#[derive(Clone, Debug, Default)]
pub struct ForwardScratch<T> {
    /// Per part, [`Geometry::forward_len`] values.
    work: Vec<T>,
    row_starts: Vec<usize>,
}

/// What [`Geometry::backward`] works in: kept by the layer between steps.
#[derive(Clone, Debug, Default)]
pub struct BackwardScratch<T> {
    /// Per part, [`Geometry::forward_len`] values: the padded image and the wide
    /// output gradient, or the unfolded column matrix.
    columns: Vec<T>,
    row_starts: Vec<usize>,
    /// The filters of [`Geometry::turned`], for the input gradient, and its row starts.
    turned_filters: Vec<T>,
    turned_starts: Vec<usize>,
    column_gradients: Vec<T>,
    /// Per part, its sums of `dW` (transposed, `depth × filters`) then `db`.
    sums: Vec<T>,
}

/// `C (+)= A·B` with `C` row-major; the shapes agree by construction.
fn product<T: Float>(a: Operand<'_, T>, b: Operand<'_, T>, c: &mut [T], ldc: usize, write: Write) {
    gemm::product_of(a, b, c, ldc, write).expect("a convolution's operands agree by construction");
}

/// Sets each output channel of `out` (`pixels` values each) to its bias: the product
/// then adds to it. Without biases there is nothing to add to.
fn preset_bias<T: Float>(out: &mut [T], b: Option<&[T]>, pixels: usize) -> Write {
    let Some(b) = b else {
        return Write::Overwrite;
    };
    for (channel, &bias) in out.chunks_exact_mut(pixels).zip(b) {
        channel.fill(bias);
    }
    Write::Accumulate
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
