//! Packed, cache-blocked product `C (+)= A·B` over strided operands.
//!
//! The loop nest is the BLIS one. `B` is copied in `kc×nc` blocks into
//! `nr`-wide column panels, zero-padded to whole panels, so that the register
//! tile loads whole vectors of `B` whatever its layout (this is how the
//! transposed products reuse the same kernel: only the strides change). `A`
//! is read in place (see [`APanel`]). For each group of `mc` rows of `A`,
//! the tile sweeps every panel of the `B` block (in L2); a `kc·nr` panel of
//! `B` stays in L1 over the group's `mc / mr` row panels, and the group's
//! `A` rows stay in L1/L2 over the panels. A small `mc` (48) measured best:
//! equal at 100×784×50, 15–25 % faster than 96–384 at 1024³ and
//! 10000×784×50, where rows of `A` 4 KiB apart would otherwise evict each
//! other. The `B` buffer lives on the stack: no allocation, at any size.

use std::mem::MaybeUninit;

use super::{BLOCKS_PER_THREAD, GemmScalar, Kernels, MIN_FMAS_PER_THREAD, Write, pool};

/// Bytes of the packed `B` block: `kc·nc` elements (e.g. 256×128 f32) and, in the
/// last block, up to `nr / 2` skinny columns past the whole panels (a 62-wide f64
/// product packs 64 panel columns and 2 skinny ones).
pub(super) const B_BLOCK_BYTES: usize = 144 * 1024;
/// Largest `mr·nr` of any kernel table (8×48 for AVX-512 f32).
pub(super) const MAX_TILE: usize = 384;
/// Largest `mr` of any kernel table.
pub(super) const MAX_MR: usize = 8;

/// Taller outputs are cut into row chunks of at least this many rows (see
/// [`parallel`]): 512 rows of a 50-wide f32 `C` take 100 KiB of L2.
const ROW_CHUNK: usize = 512;

/// A read-only matrix: element `(i, j)` is `data[i * row_stride + j * col_stride]`,
/// or `data[row_starts[i] + j * col_stride]` when the rows are listed (a
/// convolution's column matrix read from the image, see [`super::RowsAt`]).
#[derive(Clone, Copy)]
pub(super) struct View<'a, T> {
    pub(super) data: &'a [T],
    pub(super) row_stride: usize,
    pub(super) col_stride: usize,
    pub(super) row_starts: Option<&'a [usize]>,
}

impl<'a, T> View<'a, T> {
    /// Element `(i, j)` at `data[i * row_stride + j * col_stride]`.
    pub(super) fn strided(data: &'a [T], row_stride: usize, col_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            col_stride,
            row_starts: None,
        }
    }

    /// Where row `i` starts in `data`.
    #[inline]
    pub(super) fn row_start(&self, i: usize) -> usize {
        match self.row_starts {
            Some(starts) => starts[i],
            None => i * self.row_stride,
        }
    }

    /// The rows from `first` on.
    fn rows_from(self, first: usize) -> Self {
        match self.row_starts {
            Some(starts) => Self {
                row_starts: Some(&starts[first..]),
                ..self
            },
            None => Self {
                data: &self.data[first * self.row_stride..],
                ..self
            },
        }
    }

    /// The columns from `first` on.
    fn cols_from(self, first: usize) -> Self {
        Self {
            data: &self.data[first * self.col_stride..],
            ..self
        }
    }
}

/// The output: a row-major block starting at `ptr` with row stride `ld`.
///
/// A raw pointer because the threads write disjoint blocks that can interleave
/// in memory (column splits), which `&mut` slices cannot express.
#[derive(Clone, Copy)]
struct Out<T> {
    ptr: *mut T,
    ld: usize,
}

impl<T> Out<T> {
    /// The block starting `offset` elements further.
    ///
    /// # Safety
    /// The offset stays inside the output.
    unsafe fn offset(self, offset: usize) -> Self {
        Self {
            // SAFETY: guaranteed by the caller.
            ptr: unsafe { self.ptr.add(offset) },
            ld: self.ld,
        }
    }
}

// SAFETY: parts running on different threads write disjoint elements.
unsafe impl<T: Send> Send for Out<T> {}
// SAFETY: as above; `Out` is only copied, never dereferenced concurrently
// at the same element.
unsafe impl<T: Send> Sync for Out<T> {}

/// How `C` is initialised before `A·B` is added.
#[derive(Clone, Copy)]
pub(super) enum Init<'a, T> {
    /// `C = A·B`.
    Overwrite,
    /// `C = A·B + bias` (one value per column).
    Bias(&'a [T]),
    /// `C += A·B`.
    Accumulate,
}

impl<T> From<Write> for Init<'_, T> {
    fn from(write: Write) -> Self {
        match write {
            Write::Overwrite => Init::Overwrite,
            Write::Accumulate => Init::Accumulate,
        }
    }
}

/// `C(m×n) = A(m×k)·B(k×n) + bias`, all row-major.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    bias: Option<&[T]>,
    c: &mut [T],
) {
    let a = View::strided(a, k, 1);
    let b = View::strided(b, n, 1);
    let init = bias.map_or(Init::Overwrite, Init::Bias);
    parallel(kernels, m, k, n, a, b, init, c, n);
}

/// `C(k×n) = Aᵀ·D` for row-major `A` (m×k) and `D` (m×n).
pub(super) fn at_b<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    d: &[T],
    c: &mut [T],
) {
    // Aᵀ is k×m: element (i, r) = A[r, i].
    let a_t = View::strided(a, 1, k);
    let d = View::strided(d, n, 1);
    parallel(kernels, k, m, n, a_t, d, Init::Overwrite, c, n);
}

/// `C(m×k) = D(m×n)·Bᵀ` for row-major `D` (m×n) and `B` (k×n).
pub(super) fn a_bt<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    n: usize,
    k: usize,
    d: &[T],
    b: &[T],
    c: &mut [T],
) {
    let d = View::strided(d, n, 1);
    // Bᵀ is n×k: element (p, j) = B[j, p].
    let b_t = View::strided(b, 1, n);
    parallel(kernels, m, n, k, d, b_t, Init::Overwrite, c, k);
}

/// `C = init + A·B`, `C` m×n with row stride `ldc`: splits `C` into blocks that
/// the threads claim one by one, and runs [`serial`] on each.
///
/// Tall outputs (inference) are cut into chunks of at least [`ROW_CHUNK`]
/// rows, even on one thread: a chunk's rows of `C` then stay in L2 while the
/// `k` blocks pass, instead of streaming from L3 once per block (12 % faster
/// at 10000×784×50). That re-packs `B` once per chunk, which is negligible.
///
/// With several threads the columns are also cut, into groups of whole `nr`
/// panels: since `A` is read in place, a column split duplicates no work.
/// There are a few blocks per thread, so that a thread that starts late or
/// is preempted (the machine is shared) delays one small block, not half
/// the product. When there are too few panels for that (3 for a 50-wide
/// layer, whose last 2 columns are skinny), the rows are cut too, into a
/// multiple of the thread count: each block then packs its panel again, but
/// the threads finish together.
#[allow(clippy::too_many_arguments)]
pub(super) fn parallel<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    k: usize,
    n: usize,
    a: View<'_, T>,
    b: View<'_, T>,
    init: Init<'_, T>,
    c: &mut [T],
    ldc: usize,
) {
    let out = Out {
        ptr: c.as_mut_ptr(),
        ld: ldc,
    };
    let threads = work_threads(m, k, n);
    if m <= ROW_CHUNK && threads == 1 {
        // SAFETY: `c` holds the m×n output with row stride `ldc`, exclusively borrowed.
        return unsafe { serial(kernels, m, k, n, a, b, init, out) };
    }
    let wanted_blocks = BLOCKS_PER_THREAD * threads;
    // Whole panels are what the column groups share out; skinny columns
    // (a fraction of a panel's work) ride with the last group.
    let skinny_cols = skinny_columns(kernels, a, n).map_or(0, |(_, cols)| cols);
    let panels = (n - skinny_cols).div_ceil(kernels.nr).max(1);
    let mut row_chunks = m.div_ceil(ROW_CHUNK).min(wanted_blocks);
    let col_groups = if threads == 1 {
        1
    } else {
        wanted_blocks.div_ceil(row_chunks).clamp(1, panels)
    };
    if threads > 1 {
        // Too few panels to share evenly (3 for a 50-wide layer): cut the
        // rows too, into chunks of at least `mc` rows.
        let max_chunks = (m / kernels.mc).max(1);
        row_chunks = row_chunks.max(wanted_blocks.div_ceil(col_groups));
        while !(row_chunks * col_groups).is_multiple_of(threads) && row_chunks < max_chunks {
            row_chunks += 1;
        }
        row_chunks = row_chunks.min(max_chunks);
    }
    let rows_per_chunk = m.div_ceil(row_chunks).next_multiple_of(kernels.mr);
    let row_chunks = m.div_ceil(rows_per_chunk);
    let panels_per_group = panels.div_ceil(col_groups);
    let cols_per_group = panels_per_group * kernels.nr;
    let col_groups = panels.div_ceil(panels_per_group);
    pool::run(row_chunks * col_groups, threads, &|block| {
        // Row chunk by row chunk: the caller, claiming from the front, runs
        // the first rows of C and the workers the last (see `pool`).
        let (first_row, group) = ((block / col_groups) * rows_per_chunk, block % col_groups);
        let first_col = group * cols_per_group;
        let rows = rows_per_chunk.min(m - first_row);
        let cols = if group + 1 == col_groups {
            n - first_col
        } else {
            cols_per_group
        };
        let (a_rows, b_cols) = (a.rows_from(first_row), b.cols_from(first_col));
        let init = match init {
            Init::Bias(bias) => Init::Bias(&bias[first_col..first_col + cols]),
            Init::Overwrite => Init::Overwrite,
            Init::Accumulate => Init::Accumulate,
        };
        // SAFETY: blocks are disjoint and inside `c`.
        unsafe {
            let block = out.offset(first_row * out.ld + first_col);
            serial(kernels, rows, k, cols, a_rows, b_cols, init, block);
        }
    });
}

/// Threads worth using for an m×k×n product.
fn work_threads(m: usize, k: usize, n: usize) -> usize {
    let work = m.saturating_mul(k).saturating_mul(n);
    pool::threads().min(work / MIN_FMAS_PER_THREAD).max(1)
}

/// Cache-aligned, uninitialised stack storage for a packed block.
#[repr(C, align(64))]
struct PackBuffer<const BYTES: usize>(MaybeUninit<[u8; BYTES]>);

impl<const BYTES: usize> PackBuffer<BYTES> {
    /// The buffer as `T` slots; `len` elements must fit.
    fn slots<T>(&mut self, len: usize) -> &mut [MaybeUninit<T>] {
        assert!(len * size_of::<T>() <= BYTES, "packed block exceeds buffer");
        // SAFETY: in bounds (checked), aligned (64 ≥ align_of::<T>() for f32/f64),
        // and MaybeUninit<T> may hold any bytes.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), len) }
    }
}

/// Up to `mr` rows of `A` as the register tile reads them, unpacked.
///
/// `A` is not copied: each row panel is used only `n / nr` times (4 times for
/// a 50-wide layer), too few to repay a transposing copy of all of `A`. The
/// tile reads row `r` at step `p` from `ptr + row_offsets[r] + p * step`;
/// rows past the edge of `C` repeat the last real row, so every read stays in
/// bounds and the kernel needs no edge case (those rows are discarded).
pub(super) struct APanel<T> {
    pub(super) ptr: *const T,
    pub(super) row_offsets: [usize; MAX_MR],
    pub(super) step: usize,
}

/// `C(m×n) = init + A·B` on one thread.
///
/// # Safety
/// `out` is valid for an m×n block with row stride `out.ld`, not accessed by
/// anyone else meanwhile; `a` and `b` hold m×k and k×n elements.
#[allow(clippy::too_many_arguments)]
unsafe fn serial<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    k: usize,
    n: usize,
    a: View<'_, T>,
    b: View<'_, T>,
    init: Init<'_, T>,
    out: Out<T>,
) {
    let &Kernels {
        mr, nr, kc, mc, nc, ..
    } = kernels;
    if m == 0 || n == 0 {
        return;
    }
    // C is set first with a bias (or zeros when k = 0), and every k block then
    // accumulates; when accumulating, C already holds what the blocks add to.
    let preset = match init {
        Init::Bias(_) | Init::Accumulate => true,
        Init::Overwrite => k == 0,
    };
    if preset && !matches!(init, Init::Accumulate) {
        for i in 0..m {
            // SAFETY: row i of the m×n block.
            let row = unsafe { std::slice::from_raw_parts_mut(out.ptr.add(i * out.ld), n) };
            match init {
                Init::Bias(bias) => row.copy_from_slice(bias),
                _ => row.fill(T::GEMM_ZERO),
            }
        }
    }
    let skinny = skinny_columns(kernels, a, n);
    let direct_columns = direct_columns(kernels, m, b);
    let mut b_buffer = PackBuffer::<B_BLOCK_BYTES>(MaybeUninit::uninit());
    for jc in (0..n).step_by(nc) {
        let nc_block = nc.min(n - jc);
        // The skinny columns, if any, are the last block's last ones.
        let (skinny_kernel, skinny_cols) = match skinny {
            Some((kernel, cols)) if jc + nc_block == n => (Some(kernel), cols),
            _ => (None, 0),
        };
        let panel_cols = nc_block - skinny_cols;
        // The first whole panels, where B is read in place; the rest are packed.
        let direct_cols = direct_columns.saturating_sub(jc).min(panel_cols) / nr * nr;
        let packed_cols = panel_cols - direct_cols;
        for pc in (0..k).step_by(kc) {
            let kc_block = kc.min(k - pc);
            let panels_len = packed_cols.div_ceil(nr) * nr * kc_block;
            let slots = b_buffer.slots::<T>(panels_len + skinny_cols * kc_block);
            let (panel_slots, skinny_slots) = slots.split_at_mut(panels_len);
            (kernels.pack_b)(b, pc, kc_block, jc + direct_cols, packed_cols, panel_slots);
            pack_transposed(b, pc, kc_block, jc + panel_cols, skinny_cols, skinny_slots);
            // SAFETY: pack_b and pack_transposed wrote every slot.
            let (b_packed, b_skinny): (&[T], &[T]) = unsafe {
                (
                    std::slice::from_raw_parts(panel_slots.as_ptr().cast(), panel_slots.len()),
                    std::slice::from_raw_parts(skinny_slots.as_ptr().cast(), skinny_slots.len()),
                )
            };
            let accumulate = preset || pc > 0;
            // mc rows of A (mc·kc values) stay in L2 while all B panels pass.
            for ic in (0..m).step_by(mc) {
                let mc_block = mc.min(m - ic);
                let packed = b_packed.chunks_exact(kc_block * nr).map(Panel::Packed);
                let direct = (jc..jc + direct_cols).step_by(nr).map(|j| {
                    Panel::Direct(BRows {
                        // SAFETY: column j < n of B, whose rows start at the listed offsets.
                        ptr: unsafe { b.data.as_ptr().add(j) },
                        starts: b.row_starts.map_or(std::ptr::null(), |s| s[pc..].as_ptr()),
                    })
                });
                for (jr, b_panel) in direct.chain(packed).enumerate() {
                    for i in (ic..ic + mc_block).step_by(mr) {
                        let j = jc + jr * nr;
                        let rows = mr.min(ic + mc_block - i);
                        let mut row_offsets = [0; MAX_MR];
                        for (r, offset) in row_offsets.iter_mut().enumerate().take(mr) {
                            *offset = a.row_start(i + r.min(rows - 1)) + pc * a.col_stride;
                        }
                        let a_panel = APanel {
                            ptr: a.data.as_ptr(),
                            row_offsets,
                            step: a.col_stride,
                        };
                        let tile = Tile {
                            rows,
                            cols: nr.min(jc + panel_cols - j),
                            // SAFETY: (i, j) lies in the m×n block.
                            c: unsafe { out.ptr.add(i * out.ld + j) },
                            ld: out.ld,
                            accumulate,
                        };
                        // SAFETY: the panel's reads stay inside `a` (rows < m,
                        // steps < k), the B panel holds kc_block steps (a direct
                        // one inside B, `direct_columns`), and the tile lies inside
                        // `out`.
                        unsafe { run_tile(kernels, kc_block, &a_panel, &b_panel, tile) };
                    }
                }
                if let Some(kernel) = skinny_kernel {
                    let a_block = View {
                        data: &a.data[ic * a.row_stride + pc * a.col_stride..],
                        ..a
                    };
                    let block = SkinnyBlock {
                        rows: mc_block,
                        depth: kc_block,
                        cols: skinny_cols,
                        a: a_block,
                        bt: b_skinny.as_ptr(),
                        // SAFETY: (ic, jc + panel_cols) lies in the m×n block.
                        c: unsafe { out.ptr.add(ic * out.ld + jc + panel_cols) },
                        ldc: out.ld,
                        accumulate,
                    };
                    // SAFETY: the kernel suits A's layout (`skinny_columns`), the
                    // block's reads stay inside `a`, `b_skinny` holds its
                    // columns, and the rows×cols block lies inside `out`.
                    unsafe { kernel(&block) };
                }
            }
        }
    }
}

/// `C[0..rows, 0..cols] (+)= A[0..rows, 0..depth] · B` for the last few
/// columns of a product (at most half a narrow tile; see [`skinny_columns`]).
pub(super) struct SkinnyBlock<'a, T> {
    pub(super) rows: usize,
    pub(super) depth: usize,
    pub(super) cols: usize,
    /// `A` from the block's first element.
    pub(super) a: View<'a, T>,
    /// Those columns of `B` transposed: `cols` rows of `depth` values.
    pub(super) bt: *const T,
    /// The block's top-left element of `C`, valid for rows×cols with row stride `ldc`.
    pub(super) c: *mut T,
    pub(super) ldc: usize,
    /// Add to `C` rather than replace it.
    pub(super) accumulate: bool,
}

/// The kernel for the columns past the last whole panel (and half-width
/// panel), and their count, when there are few enough of them and a kernel
/// suits `A`'s layout.
fn skinny_columns<T: GemmScalar>(
    kernels: &Kernels<T>,
    a: View<'_, T>,
    n: usize,
) -> Option<(super::SkinnyKernel<T>, usize)> {
    // Past the whole panels, narrow panels may come first: with AVX2 f32
    // (panels of 16, narrow tiles of 8) a 10-wide layer is 8 + 2 columns.
    let rest = n % kernels.nr;
    let (cols, most) = match kernels.narrow_micro {
        Some(narrow) => (rest % narrow.width, narrow.width / 2),
        None => (rest, kernels.nr / 4),
    };
    // The skinny kernels step from row to row by `row_stride`.
    if cols == 0 || cols > most || a.row_starts.is_some() {
        return None;
    }
    let kernel = if a.col_stride == 1 {
        kernels.skinny_dot
    } else if a.row_stride == 1 {
        kernels.skinny_axpy
    } else {
        None
    };
    kernel.map(|kernel| (kernel, cols))
}

/// A `rows×cols` corner of `C` (at most `mr×nr`) that one kernel call updates.
struct Tile<T> {
    rows: usize,
    cols: usize,
    c: *mut T,
    ld: usize,
    accumulate: bool,
}

/// Where a register tile reads its `kc` steps of `B`.
enum Panel<'a, T> {
    /// A packed panel: `kc` groups of `nr` values.
    Packed(&'a [T]),
    /// `B` where it lies (see [`super::DirectKernel`]).
    Direct(BRows<T>),
}

/// Step `p` of `B` for a direct tile: the values from `ptr + starts[p]` on.
pub(super) struct BRows<T> {
    pub(super) ptr: *const T,
    pub(super) starts: *const usize,
}

/// Row tiles of `A` up to which a panel of `B` is read where it lies rather than
/// packed. Each tile of a direct panel reads `B` unaligned, often across two cache
/// lines; packing copies `B` once and the tiles then read it aligned, which pays when
/// enough tiles read it. Convolutions at batch 100 (AMD EPYC Zen 3, AVX2, f32): 16
/// filters (3 tiles) 3.25 → 2.67 ms forward, 32 filters (6 tiles) 4.08 → 3.83 ms, 64
/// filters (11 tiles) 4.12 → 4.31 ms.
const DIRECT_MAX_ROW_TILES: usize = 6;

/// How many leading columns of `B` the tiles of `m` rows of `A` read where they lie:
/// those whose every row stays inside `B`'s slice, when `B`'s rows are listed
/// ([`View::row_starts`]) and contiguous, the kernels have direct tiles and few enough
/// row tiles read each panel ([`DIRECT_MAX_ROW_TILES`]); else none. Their whole panels
/// are read in place, the others packed.
fn direct_columns<T>(kernels: &Kernels<T>, m: usize, b: View<'_, T>) -> usize {
    let (Some(starts), Some(_), 1) = (b.row_starts, kernels.direct_micro, b.col_stride) else {
        return 0;
    };
    if m.div_ceil(kernels.mr) > DIRECT_MAX_ROW_TILES {
        return 0;
    }
    let last_start = starts.iter().copied().max().unwrap_or(0);
    b.data.len().saturating_sub(last_start)
}

/// Runs the register tile, through a scratch tile when `C`'s edge cuts it.
///
/// # Safety
/// As [`super::MicroKernel`] (or [`super::DirectKernel`] for a direct panel), with
/// `tile` valid for `rows×cols`.
unsafe fn run_tile<T: GemmScalar>(
    kernels: &Kernels<T>,
    kc: usize,
    a_panel: &APanel<T>,
    b_panel: &Panel<'_, T>,
    tile: Tile<T>,
) {
    let nr = kernels.nr;
    // The tile's shape: narrow (packed panels only), short or full.
    let (micro, direct, width, rows) = match (kernels.narrow_micro, kernels.short_micro) {
        (Some(narrow), _) if tile.cols <= narrow.width && matches!(b_panel, Panel::Packed(_)) => {
            (narrow.kernel, None, narrow.width, kernels.mr)
        }
        (_, Some(short)) if tile.rows <= short.rows => {
            (short.kernel, Some(short.direct), nr, short.rows)
        }
        _ => (kernels.micro, kernels.direct_micro, nr, kernels.mr),
    };
    let run = |c: *mut T, ld: usize, accumulate: bool| match b_panel {
        // SAFETY: as this function's contract, for the tile at `c`.
        Panel::Packed(b) => unsafe { micro(kc, a_panel, b.as_ptr(), c, ld, accumulate) },
        Panel::Direct(b) => {
            let direct = direct.expect("direct panels only with direct tiles (`direct_columns`)");
            // SAFETY: as above.
            unsafe { direct(kc, a_panel, b, c, ld, accumulate) }
        }
    };
    if tile.rows == rows && tile.cols == width {
        // A full tile inside C.
        return run(tile.c, tile.ld, tile.accumulate);
    }
    // Uninitialised: the kernel overwrites (accumulate false) the part read
    // back, and zeroing all of MAX_TILE per edge tile would cost more than
    // the tile itself for a small kc.
    let mut scratch = [MaybeUninit::<T>::uninit(); MAX_TILE];
    // Scratch holds mr×nr ≤ MAX_TILE values with row stride nr.
    run(scratch.as_mut_ptr().cast(), nr, false);
    for (i, scratch_row) in scratch.chunks_exact(nr).take(tile.rows).enumerate() {
        // SAFETY: row i of the rows×cols tile.
        let c_row = unsafe { std::slice::from_raw_parts_mut(tile.c.add(i * tile.ld), tile.cols) };
        for (c_value, value) in c_row.iter_mut().zip(scratch_row) {
            // SAFETY: the kernel wrote the first `width` ≥ cols values of each
            // of its rows, at least tile.rows of them.
            let value = unsafe { value.assume_init() };
            *c_value = if tile.accumulate {
                *c_value + value
            } else {
                value
            };
        }
    }
}

/// Packs `B[p0..p0+depth, j0..j0+cols]` into `NR`-column panels, step-major
/// (`depth` groups of `NR` values), zero-padding the last panel.
///
/// `NR` is a const so that the per-step copy compiles to a few vector moves.
pub(super) fn pack_b<T: GemmScalar, const NR: usize>(
    b: View<'_, T>,
    p0: usize,
    depth: usize,
    j0: usize,
    cols: usize,
    dst: &mut [MaybeUninit<T>],
) {
    for (panel, panel_dst) in dst.chunks_exact_mut(NR * depth).enumerate() {
        let first = j0 + panel * NR;
        let width = NR.min(j0 + cols - first);
        for (p, step) in panel_dst.chunks_exact_mut(NR).enumerate() {
            let row = b.row_start(p0 + p) + first * b.col_stride;
            if width == NR && b.col_stride == 1 {
                // Row-major B (forward, weight gradient): a contiguous copy, in
                // fixed 64-byte pieces. Each is inlined as a few vector moves,
                // where one copy of a 48-wide f32 row (192 bytes) was a call
                // to memcpy per row.
                let src = &b.data[row..row + NR];
                let piece = (64 / size_of::<T>()).max(1);
                for first in (0..NR).step_by(piece) {
                    // SAFETY: both regions hold the piece's elements and do not
                    // overlap (`dst` is our stack buffer); MaybeUninit<T> has
                    // T's layout.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            src.as_ptr().add(first),
                            step.as_mut_ptr().add(first).cast(),
                            piece.min(NR - first),
                        )
                    };
                }
            } else {
                // Transposed B (input gradient) or the last panel: gather.
                // Step-major order keeps the writes contiguous; the NR
                // strided reads per step hit the same NR rows of B, in L1.
                for (j, slot) in step.iter_mut().enumerate() {
                    slot.write(if j < width {
                        b.data[row + j * b.col_stride]
                    } else {
                        T::GEMM_ZERO
                    });
                }
            }
        }
    }
}

/// Packs `B[p0..p0+depth, j0..j0+cols]` transposed: column `j0 + c` becomes
/// `dst[c·depth..(c+1)·depth]`, the layout of the skinny kernels.
fn pack_transposed<T: GemmScalar>(
    b: View<'_, T>,
    p0: usize,
    depth: usize,
    j0: usize,
    cols: usize,
    dst: &mut [MaybeUninit<T>],
) {
    for (c, column) in dst.chunks_exact_mut(depth).take(cols).enumerate() {
        for (p, slot) in column.iter_mut().enumerate() {
            slot.write(b.data[b.row_start(p0 + p) + (j0 + c) * b.col_stride]);
        }
    }
}
