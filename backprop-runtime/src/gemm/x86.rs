//! AVX2 + FMA kernels for x86-64, selected at run time, and (in `avx512`)
//! their AVX-512 twins, written from the same macros.
//!
//! Every AVX2 core since Haswell retires two 256-bit FMAs per cycle with a
//! 4-cycle latency, so a kernel needs at least 8 independent accumulators to
//! keep both pipes busy, and there are 16 ymm registers.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::dense::{APanel, SkinnyBlock, pack_b};
use super::{Crossover, Kernels, NarrowTile, ShortTile};

/// True when this CPU runs the kernels of this file.
pub(super) fn has_avx2_fma() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// 6×16 tile: 12 accumulators, 2 `B` vectors and 1 broadcast fill 15 of the 16
/// registers, and each `B` load feeds 6 FMAs. `kc`=256 keeps a 16 KiB `B`
/// panel in the 32 KiB L1 (see `dense` for `mc`). The sparse crossovers are
/// measured at 100×784×50 with randomly placed zeros (see the module docs).
pub(super) static F32: Kernels<f32> = Kernels {
    mr: 6,
    nr: 16,
    kc: 256,
    mc: 48,
    nc: 128,
    micro: micro_f32,
    short_micro: Some(ShortTile {
        kernel: short_micro_f32,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f32,
        width: 8,
    }),
    skinny_dot: Some(skinny_dot_f32),
    skinny_axpy: Some(skinny_axpy_f32),
    pack_b: pack_b::<f32, 16>,
    sparse_forward: sparse_forward_f32,
    sparse_at_b: sparse_at_b_f32,
    sparse_forward_from: Crossover {
        small: 0.55,
        large: 0.45,
    },
    sparse_at_b_from: Crossover {
        small: 0.60,
        large: 0.40,
    },
};

/// 6×8 tile, the f64 twin of the f32 one (4 lanes per register), with the
/// same 16 KiB `B` panel. `kc`=256 beat 128 by 20 % at 10000×784×50 (longer
/// runs along each row of `A` for the prefetcher); `nc`=64 keeps the `B`
/// block within its 128 KiB buffer.
pub(super) static F64: Kernels<f64> = Kernels {
    mr: 6,
    nr: 8,
    kc: 256,
    mc: 48,
    nc: 64,
    micro: micro_f64,
    short_micro: Some(ShortTile {
        kernel: short_micro_f64,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f64,
        width: 4,
    }),
    skinny_dot: Some(skinny_dot_f64),
    skinny_axpy: Some(skinny_axpy_f64),
    pack_b: pack_b::<f64, 8>,
    sparse_forward: sparse_forward_f64,
    sparse_at_b: sparse_at_b_f64,
    sparse_forward_from: Crossover {
        small: 0.52,
        large: 0.55,
    },
    sparse_at_b_from: Crossover {
        small: 0.60,
        large: 0.30,
    },
};

/// Writes an `mr×(nv·lanes)` register-tile kernel (see [`super::MicroKernel`])
/// for one instruction set and element type: the kernels differ only in their
/// vector intrinsics and tile shape. `$broadcast` takes a reference.
macro_rules! micro_kernel {
    ($name:ident, $features:literal, $t:ty, $lanes:literal, $mr:literal, $nv:literal,
     $setzero:ident, $loadu:ident, $broadcast:ident, $fmadd:ident, $add:ident, $storeu:ident) => {
        /// See [`super::MicroKernel`].
        ///
        /// # Safety
        #[doc = concat!("The CPU has ", $features, "; the contract of [`super::MicroKernel`] holds for ",
                        $mr, " rows of ", $nv, " vectors.")]
        #[target_feature(enable = $features)]
        unsafe fn $name(kc: usize, a: &APanel<$t>, b: *const $t, c: *mut $t, ldc: usize, accumulate: bool) {
            const WIDTH: usize = $nv * $lanes;
            let mut acc = [[$setzero(); $nv]; $mr];
            let offsets = a.row_offsets;
            let mut a_step = a.ptr;
            for p in 0..kc {
                // SAFETY: step p < kc of A rows valid for kc steps and a B panel of kc·WIDTH.
                unsafe {
                    let mut b_step = [$setzero(); $nv];
                    for (v, b_vector) in b_step.iter_mut().enumerate() {
                        *b_vector = $loadu(b.add(WIDTH * p + v * $lanes));
                    }
                    for (acc_row, &offset) in acc.iter_mut().zip(&offsets) {
                        let a_value = $broadcast(&*a_step.add(offset));
                        for (sum, &b_vector) in acc_row.iter_mut().zip(&b_step) {
                            *sum = $fmadd(a_value, b_vector, *sum);
                        }
                    }
                    a_step = a_step.wrapping_add(a.step);
                }
            }
            for (r, acc_row) in acc.iter().enumerate() {
                for (v, &sum) in acc_row.iter().enumerate() {
                    // SAFETY: vector v of row r < mr of the tile with row stride ldc.
                    unsafe {
                        let out = c.add(r * ldc + v * $lanes);
                        let value = if accumulate { $add(sum, $loadu(out)) } else { sum };
                        $storeu(out, value);
                    }
                }
            }
        }
    };
}

/// Writes the `mr×lanes` kernel that covers the first vector of a packed
/// panel: one register per row, and two sets of sums (even and odd steps),
/// because `mr` FMA chains alone would wait on the FMA latency.
macro_rules! narrow_micro_kernel {
    ($name:ident, $features:literal, $t:ty, $lanes:literal, $mr:literal, $nr:literal,
     $setzero:ident, $loadu:ident, $broadcast:ident, $fmadd:ident, $add:ident, $storeu:ident) => {
        /// See [`super::MicroKernel`], for a tile one vector wide over wider panels.
        ///
        /// # Safety
        #[doc = concat!("The CPU has ", $features, "; the contract of [`super::MicroKernel`] holds for ",
                        $mr, " rows of one vector over panels ", $nr, " wide.")]
        #[target_feature(enable = $features)]
        unsafe fn $name(kc: usize, a: &APanel<$t>, b: *const $t, c: *mut $t, ldc: usize, accumulate: bool) {
            const WIDTH: usize = $nr;
            let mut even = [$setzero(); $mr];
            let mut odd = [$setzero(); $mr];
            let offsets = a.row_offsets;
            let mut a_step = a.ptr;
            for p in (0..kc / 2).map(|pair| 2 * pair) {
                // SAFETY: steps p, p + 1 < kc of A rows valid for kc steps and a B panel of kc·WIDTH.
                unsafe {
                    let b_even = $loadu(b.add(WIDTH * p));
                    let b_odd = $loadu(b.add(WIDTH * (p + 1)));
                    let a_next = a_step.wrapping_add(a.step);
                    for r in 0..$mr {
                        even[r] = $fmadd($broadcast(&*a_step.add(offsets[r])), b_even, even[r]);
                        odd[r] = $fmadd($broadcast(&*a_next.add(offsets[r])), b_odd, odd[r]);
                    }
                    a_step = a_next.wrapping_add(a.step);
                }
            }
            if kc % 2 == 1 {
                // SAFETY: the last step, kc - 1, as above.
                unsafe {
                    let b_last = $loadu(b.add(WIDTH * (kc - 1)));
                    for r in 0..$mr {
                        even[r] = $fmadd($broadcast(&*a_step.add(offsets[r])), b_last, even[r]);
                    }
                }
            }
            for r in 0..$mr {
                // SAFETY: row r < mr of an mr×lanes tile with row stride ldc.
                unsafe {
                    let row = c.add(r * ldc);
                    let mut sum = $add(even[r], odd[r]);
                    if accumulate {
                        sum = $add(sum, $loadu(row));
                    }
                    $storeu(row, sum);
                }
            }
        }
    };
}

micro_kernel!(
    micro_f32,
    "avx2,fma",
    f32,
    8,
    6,
    2,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
micro_kernel!(
    micro_f64,
    "avx2,fma",
    f64,
    4,
    6,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

// Four rows at full width: the last rows of A when they fit (see `Kernels::short_micro`).
micro_kernel!(
    short_micro_f32,
    "avx2,fma",
    f32,
    8,
    4,
    2,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
micro_kernel!(
    short_micro_f64,
    "avx2,fma",
    f64,
    4,
    4,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

narrow_micro_kernel!(
    narrow_micro_f32,
    "avx2,fma",
    f32,
    8,
    6,
    16,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
narrow_micro_kernel!(
    narrow_micro_f64,
    "avx2,fma",
    f64,
    4,
    6,
    8,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

/// The sums of a 6×2 skinny dot tile: `sums[r][c]` is the sum of the lanes of
/// `acc[r][c]`. Horizontal adds reduce two rows at once.
#[target_feature(enable = "avx2,fma")]
pub(super) fn tile_sums_f32(acc: &[[__m256; 2]; 6]) -> [[f32; 2]; 6] {
    let mut sums = [[0.0; 2]; 6];
    for pair in 0..3 {
        let (top, bottom) = (&acc[2 * pair], &acc[2 * pair + 1]);
        // Lanes 0..4 then hold partial sums of top[0], top[1], bottom[0], bottom[1].
        let both = _mm256_hadd_ps(
            _mm256_hadd_ps(top[0], top[1]),
            _mm256_hadd_ps(bottom[0], bottom[1]),
        );
        let four = _mm_add_ps(_mm256_castps256_ps128(both), _mm256_extractf128_ps(both, 1));
        let mut values = [0.0; 4];
        // SAFETY: `values` holds four f32.
        unsafe { _mm_storeu_ps(values.as_mut_ptr(), four) };
        sums[2 * pair] = [values[0], values[1]];
        sums[2 * pair + 1] = [values[2], values[3]];
    }
    sums
}

/// The f64 twin of [`tile_sums_f32`], one row at a time.
#[target_feature(enable = "avx2,fma")]
pub(super) fn tile_sums_f64(acc: &[[__m256d; 2]; 6]) -> [[f64; 2]; 6] {
    let mut sums = [[0.0; 2]; 6];
    for (row_sums, row) in sums.iter_mut().zip(acc) {
        let pairs = _mm256_hadd_pd(row[0], row[1]);
        let two = _mm_add_pd(
            _mm256_castpd256_pd128(pairs),
            _mm256_extractf128_pd(pairs, 1),
        );
        // SAFETY: `row_sums` holds two f64.
        unsafe { _mm_storeu_pd(row_sums.as_mut_ptr(), two) };
    }
    sums
}

/// Lanes `0..live` of an f32 vector set, for `_mm256_maskload_ps`.
#[target_feature(enable = "avx2,fma")]
fn lane_mask_f32(live: usize) -> __m256i {
    let live = i32::try_from(live).unwrap_or(i32::MAX);
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(live),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Lanes `0..live` of an f64 vector set, for `_mm256_maskload_pd`.
#[target_feature(enable = "avx2,fma")]
fn lane_mask_f64(live: usize) -> __m256i {
    let live = i64::try_from(live).unwrap_or(i64::MAX);
    _mm256_cmpgt_epi64(_mm256_set1_epi64x(live), _mm256_setr_epi64x(0, 1, 2, 3))
}

/// Writes the two skinny kernels (see [`super::SkinnyKernel`]) for one
/// instruction set and element type. Both cover two columns at a time (a lone last column is computed twice
/// and written once) with 12 accumulators.
macro_rules! skinny_kernels {
    ($dot:ident, $axpy:ident, $features:literal, $t:ty, $lanes:literal, $setzero:ident, $loadu:ident,
     $maskload:ident, $lane_mask:ident, $storeu:ident, $broadcast:ident, $fmadd:ident,
     $tile_sums:ident) => {
        /// [`super::SkinnyKernel`] for `A` with contiguous rows: a 6×2 tile of
        /// dot products, vectorised along the rows of `A` and of `bt`.
        ///
        /// # Safety
        /// As [`super::SkinnyKernel`], with `a.col_stride == 1`.
        #[target_feature(enable = $features)]
        unsafe fn $dot(block: &SkinnyBlock<'_, $t>) {
            let &SkinnyBlock {
                rows,
                depth,
                cols,
                a,
                bt,
                c,
                ldc,
                accumulate,
            } = block;
            debug_assert_eq!(a.col_stride, 1);
            let vector_depth = depth - depth % $lanes;
            for i0 in (0..rows).step_by(6) {
                let tile_rows = 6.min(rows - i0);
                // Rows past the edge repeat the last real one; their sums are dropped.
                let mut a_rows = [a.data.as_ptr(); 6];
                for (r, row) in a_rows.iter_mut().enumerate() {
                    *row = row.wrapping_add((i0 + r.min(tile_rows - 1)) * a.row_stride);
                }
                for c0 in (0..cols).step_by(2) {
                    let tile_cols = 2.min(cols - c0);
                    // SAFETY: columns c0 and c0 + tile_cols - 1 < cols of `bt`.
                    let b = unsafe { [bt.add(c0 * depth), bt.add((c0 + tile_cols - 1) * depth)] };
                    let mut acc = [[$setzero(); 2]; 6];
                    for p in (0..vector_depth).step_by($lanes) {
                        // SAFETY: p + lanes ≤ depth, inside each row of A and of `bt`.
                        unsafe {
                            let b_values = [$loadu(b[0].add(p)), $loadu(b[1].add(p))];
                            for (acc_row, a_row) in acc.iter_mut().zip(a_rows) {
                                let a_values = $loadu(a_row.add(p));
                                acc_row[0] = $fmadd(a_values, b_values[0], acc_row[0]);
                                acc_row[1] = $fmadd(a_values, b_values[1], acc_row[1]);
                            }
                        }
                    }
                    let mut sums = $tile_sums(&acc);
                    for p in vector_depth..depth {
                        for (row_sums, a_row) in sums.iter_mut().zip(a_rows) {
                            // SAFETY: p < depth, inside each row of A and of `bt`.
                            unsafe {
                                row_sums[0] += *a_row.add(p) * *b[0].add(p);
                                row_sums[1] += *a_row.add(p) * *b[1].add(p);
                            }
                        }
                    }
                    for (r, row_sums) in sums.iter().enumerate().take(tile_rows) {
                        for (col, &sum) in row_sums.iter().enumerate().take(tile_cols) {
                            // SAFETY: (i0 + r, c0 + col) lies in the rows×cols block.
                            unsafe {
                                let out = c.add((i0 + r) * ldc + c0 + col);
                                *out = if accumulate { *out + sum } else { sum };
                            }
                        }
                    }
                }
            }
        }

        /// [`super::SkinnyKernel`] for `A` with contiguous columns: tiles of
        /// six vectors down a column of `C` (then single vectors, then a
        /// masked one), each step adding a column of `A` times a broadcast
        /// value of `bt`.
        ///
        /// # Safety
        /// As [`super::SkinnyKernel`], with `a.row_stride == 1`.
        #[target_feature(enable = $features)]
        unsafe fn $axpy(block: &SkinnyBlock<'_, $t>) {
            /// Rows `i0..i0 + (V - 1)·lanes + live` of the block: `V`
            /// vectors, the last with `live` rows (masked loads when that is
            /// fewer than a vector).
            ///
            /// # Safety
            /// As the enclosing kernel, with those rows inside the block.
            #[target_feature(enable = $features)]
            unsafe fn tile<const V: usize, const MASKED: bool>(
                block: &SkinnyBlock<'_, $t>,
                i0: usize,
                live: usize,
            ) {
                let &SkinnyBlock {
                    depth,
                    cols,
                    a,
                    bt,
                    c,
                    ldc,
                    accumulate,
                    ..
                } = block;
                let mask = $lane_mask(live);
                for c0 in (0..cols).step_by(2) {
                    let tile_cols = 2.min(cols - c0);
                    // SAFETY: columns c0 and c0 + tile_cols - 1 < cols of `bt`.
                    let b = unsafe { [bt.add(c0 * depth), bt.add((c0 + tile_cols - 1) * depth)] };
                    let mut acc = [[$setzero(); 2]; V];
                    let mut a_column = a.data.as_ptr().wrapping_add(i0);
                    for p in 0..depth {
                        // SAFETY: step p < depth of rows inside the block (the
                        // live ones only, where masked), and of `bt`.
                        unsafe {
                            let b_values = [$broadcast(&*b[0].add(p)), $broadcast(&*b[1].add(p))];
                            for (v, acc_vector) in acc.iter_mut().enumerate() {
                                let a_vector = a_column.add(v * $lanes);
                                let a_values = if MASKED {
                                    $maskload(a_vector, mask)
                                } else {
                                    $loadu(a_vector)
                                };
                                acc_vector[0] = $fmadd(a_values, b_values[0], acc_vector[0]);
                                acc_vector[1] = $fmadd(a_values, b_values[1], acc_vector[1]);
                            }
                        }
                        a_column = a_column.wrapping_add(a.col_stride);
                    }
                    for (v, acc_vector) in acc.iter().enumerate() {
                        let rows = if v + 1 == V { live } else { $lanes };
                        for (col, &sums) in acc_vector.iter().enumerate().take(tile_cols) {
                            let mut values = [0.0; $lanes];
                            // SAFETY: `values` holds one vector.
                            unsafe { $storeu(values.as_mut_ptr(), sums) };
                            for (lane, &sum) in values.iter().enumerate().take(rows) {
                                // SAFETY: row i0 + v·lanes + lane and column
                                // c0 + col lie in the rows×cols block.
                                unsafe {
                                    let out = c.add((i0 + v * $lanes + lane) * ldc + c0 + col);
                                    *out = if accumulate { *out + sum } else { sum };
                                }
                            }
                        }
                    }
                }
            }

            let &SkinnyBlock { rows, a, .. } = block;
            debug_assert_eq!(a.row_stride, 1);
            let mut i0 = 0;
            while i0 + 6 * $lanes <= rows {
                // SAFETY: the six vectors' rows lie in the block.
                unsafe { tile::<6, false>(block, i0, $lanes) };
                i0 += 6 * $lanes;
            }
            while i0 + $lanes <= rows {
                // SAFETY: the vector's rows lie in the block.
                unsafe { tile::<1, false>(block, i0, $lanes) };
                i0 += $lanes;
            }
            if i0 < rows {
                // SAFETY: rows i0..rows lie in the block; the masked loads
                // read no further.
                unsafe { tile::<1, true>(block, i0, rows - i0) };
            }
        }
    };
}

skinny_kernels!(
    skinny_dot_f32,
    skinny_axpy_f32,
    "avx2,fma",
    f32,
    8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_maskload_ps,
    lane_mask_f32,
    _mm256_storeu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    tile_sums_f32
);
skinny_kernels!(
    skinny_dot_f64,
    skinny_axpy_f64,
    "avx2,fma",
    f64,
    4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_maskload_pd,
    lane_mask_f64,
    _mm256_storeu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    tile_sums_f64
);

/// Non-zeros of `A` are gathered at most this many at a time.
const SEGMENT: usize = 1024;

/// The forward kernel visits rows of `B` in an order only the data knows, so
/// it works on blocks of rows of `B` of about the size of the 32 KiB L1
/// rather than fetch four cache lines of a 50-wide f32 row from L2 per
/// non-zero. (Measured on Zen 4: 16 KiB blocks were slower, from the
/// per-block overhead; 32 and 64 KiB were equal.)
const L1_BLOCK_BYTES: usize = 32 * 1024;

/// Values of the weight-gradient kernels' scratch block of rows of `C`:
/// 32 KiB in f32 (the size of L1), 64 KiB in f64.
const SCRATCH_LEN: usize = 8 * 1024;

/// Columns of `C` the weight-gradient kernels handle at a time, so that a
/// scratch block holds at least 16 rows.
const WINDOW: usize = SCRATCH_LEN / 16;

/// A 64-byte aligned, uninitialised stack block of [`SCRATCH_LEN`] values.
#[repr(C, align(64))]
struct Scratch<T>([MaybeUninit<T>; SCRATCH_LEN]);

impl<T: Copy + Default> Scratch<T> {
    fn new() -> Self {
        Self([MaybeUninit::uninit(); SCRATCH_LEN])
    }

    /// The first `len` values, set to zero.
    fn zeroed(&mut self, len: usize) -> &mut [T] {
        let slots = &mut self.0[..len];
        for slot in slots.iter_mut() {
            slot.write(T::default());
        }
        // SAFETY: every slot of `slots` was just written.
        unsafe { std::slice::from_raw_parts_mut(slots.as_mut_ptr().cast(), len) }
    }
}

/// Rows of `C` that the forward kernel keeps in the 1 MiB L2 while blocks of
/// `B` pass over them (matters from about a thousand rows, e.g. inference).
const L2_BLOCK_BYTES: usize = 256 * 1024;

/// Positions of the non-zeros of one segment.
type Indices = [u32; SEGMENT];

/// True when this CPU has the AVX-512 compress instructions the compaction
/// uses (Zen 4, and Intel cores since Skylake-SP).
fn has_avx512_compress() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl")
}

/// Writes `$name`, which writes the positions `i` of `values[i] != 0` (NaN
/// counts as non-zero) to the front of `indices` and returns their count, with
/// AVX-512 where the CPU has it, else with AVX2.
macro_rules! compaction {
    ($name:ident, $t:ty, $avx512:ident, $avx2:ident) => {
        /// See [`compaction`].
        ///
        /// # Safety
        /// AVX2 is available; `values.len() <= SEGMENT`.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(values: &[$t], indices: &mut Indices) -> usize {
            // SAFETY: the CPU has the features checked; the length bound is ours.
            unsafe {
                if has_avx512_compress() {
                    $avx512(values, indices)
                } else {
                    $avx2(values, indices)
                }
            }
        }
    };
}

compaction!(
    compact_nonzeros_f32,
    f32,
    compact_nonzeros_f32_avx512,
    compact_nonzeros_f32_avx2
);
compaction!(
    compact_nonzeros_f64,
    f64,
    compact_nonzeros_f64_avx512,
    compact_nonzeros_f64_avx2
);

/// `compact_nonzeros_f32` with AVX2 alone, branch-free: each block of 8 is
/// compared at once and its non-zero positions are packed to the front with a table-driven permutation. A
/// branch per element (or per set bit) would mispredict on MNIST's irregular
/// zeros, costing more than the multiply-adds it saves.
///
/// # Safety
/// AVX2 is available; `values.len() <= SEGMENT`.
#[target_feature(enable = "avx2,fma")]
unsafe fn compact_nonzeros_f32_avx2(values: &[f32], indices: &mut Indices) -> usize {
    let mut count = 0;
    let mut blocks = values.chunks_exact(8);
    for (block_index, block) in blocks.by_ref().enumerate() {
        // SAFETY: `block` holds 8 values; count <= 8 * block_index, so the
        // 8 positions stored fit in the first values.len() <= SEGMENT slots.
        unsafe {
            let v = _mm256_loadu_ps(block.as_ptr());
            let nonzero = _mm256_cmp_ps::<_CMP_NEQ_UQ>(v, _mm256_setzero_ps());
            let mask = _mm256_movemask_ps(nonzero) as usize;
            let packed = _mm256_srlv_epi32(
                _mm256_set1_epi32(LEFT_PACK_8[mask] as i32),
                _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28),
            );
            let positions = _mm256_add_epi32(
                _mm256_and_si256(packed, _mm256_set1_epi32(0xF)),
                _mm256_set1_epi32((block_index * 8) as i32),
            );
            _mm256_storeu_si256(indices.as_mut_ptr().add(count).cast(), positions);
            // A table, not count_ones: without the popcnt feature that is a
            // multiply chain, and `count` is the loop's critical path.
            count += usize::from(SET_BITS_8[mask]);
        }
    }
    let done = values.len() - blocks.remainder().len();
    compact_rest(blocks.remainder(), done, indices, count)
}

/// The f64 twin of [`compact_nonzeros_f32_avx2`], four values per block.
///
/// # Safety
/// AVX2 is available; `values.len() <= SEGMENT`.
#[target_feature(enable = "avx2,fma")]
unsafe fn compact_nonzeros_f64_avx2(values: &[f64], indices: &mut Indices) -> usize {
    let mut count = 0;
    let mut blocks = values.chunks_exact(4);
    for (block_index, block) in blocks.by_ref().enumerate() {
        // SAFETY: `block` holds 4 values; count <= 4 * block_index, so the
        // 4 positions stored fit in the first values.len() <= SEGMENT slots.
        unsafe {
            let v = _mm256_loadu_pd(block.as_ptr());
            let nonzero = _mm256_cmp_pd::<_CMP_NEQ_UQ>(v, _mm256_setzero_pd());
            let mask = _mm256_movemask_pd(nonzero) as usize;
            let packed = _mm_srlv_epi32(
                _mm_set1_epi32(LEFT_PACK_8[mask] as i32),
                _mm_setr_epi32(0, 4, 8, 12),
            );
            let positions = _mm_add_epi32(
                _mm_and_si128(packed, _mm_set1_epi32(0xF)),
                _mm_set1_epi32((block_index * 4) as i32),
            );
            _mm_storeu_si128(indices.as_mut_ptr().add(count).cast(), positions);
            count += usize::from(SET_BITS_8[mask]);
        }
    }
    let done = values.len() - blocks.remainder().len();
    compact_rest(blocks.remainder(), done, indices, count)
}

/// `compact_nonzeros_f32` with AVX-512, sixteen values at a time: one compare gives a
/// mask and one compress packs the selected positions, where the AVX2 form
/// needs about seventeen instructions per eight values. Both sparse kernels
/// compact every row of `x` once per product, so at batch 100 this was about
/// a third of their time.
///
/// # Safety
/// AVX-512 F and VL are available; `values.len() <= SEGMENT`.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn compact_nonzeros_f32_avx512(values: &[f32], indices: &mut Indices) -> usize {
    let mut count = 0;
    let mut positions = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let mut blocks = values.chunks_exact(16);
    for block in blocks.by_ref() {
        // SAFETY: `block` holds 16 values; count <= 16 * blocks so far, so
        // the 16 positions stored fit in the first values.len() slots.
        unsafe {
            let v = _mm512_loadu_ps(block.as_ptr());
            let nonzero = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_ps());
            let packed = _mm512_maskz_compress_epi32(nonzero, positions);
            _mm512_storeu_si512(indices.as_mut_ptr().add(count).cast(), packed);
            count += nonzero.count_ones() as usize;
        }
        positions = _mm512_add_epi32(positions, _mm512_set1_epi32(16));
    }
    let done = values.len() - blocks.remainder().len();
    compact_rest(blocks.remainder(), done, indices, count)
}

/// The f64 twin of [`compact_nonzeros_f32_avx512`], eight values at a time.
///
/// # Safety
/// AVX-512 F and VL are available; `values.len() <= SEGMENT`.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn compact_nonzeros_f64_avx512(values: &[f64], indices: &mut Indices) -> usize {
    let mut count = 0;
    let mut positions = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut blocks = values.chunks_exact(8);
    for block in blocks.by_ref() {
        // SAFETY: `block` holds 8 values; count <= 8 * blocks so far, so
        // the 8 positions stored fit in the first values.len() slots.
        unsafe {
            let v = _mm512_loadu_pd(block.as_ptr());
            let nonzero = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_pd());
            let packed = _mm256_maskz_compress_epi32(nonzero, positions);
            _mm256_storeu_si256(indices.as_mut_ptr().add(count).cast(), packed);
            count += nonzero.count_ones() as usize;
        }
        positions = _mm256_add_epi32(positions, _mm256_set1_epi32(8));
    }
    let done = values.len() - blocks.remainder().len();
    compact_rest(blocks.remainder(), done, indices, count)
}

/// The scalar end of a compaction: appends the positions (from `done`) of the
/// non-zeros of `rest` after the `count` found so far, and returns the new count.
fn compact_rest<T: Copy + Default + PartialEq>(
    rest: &[T],
    done: usize,
    indices: &mut Indices,
    mut count: usize,
) -> usize {
    for (offset, &value) in rest.iter().enumerate() {
        indices[count] = (done + offset) as u32;
        // NaN != 0 holds, so NaN counts as non-zero, as in the vector compares.
        count += usize::from(value != T::default());
    }
    count
}

/// For each 8-bit mask, the positions of its set bits, lowest first, one per
/// nibble (the 4-bit masks of f64 use the first 16 entries).
static LEFT_PACK_8: [u32; 256] = left_pack_table();

/// Number of set bits of each 8-bit mask.
static SET_BITS_8: [u8; 256] = set_bits_table();

const fn set_bits_table() -> [u8; 256] {
    let mut table = [0; 256];
    let mut mask = 0;
    while mask < 256 {
        table[mask] = (mask as u32).count_ones() as u8;
        mask += 1;
    }
    table
}

const fn left_pack_table() -> [u32; 256] {
    let mut table = [0; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut bit, mut slot, mut entry) = (0, 0, 0_u32);
        while bit < 8 {
            if mask & (1 << bit) != 0 {
                entry |= (bit as u32) << (4 * slot);
                slot += 1;
            }
            bit += 1;
        }
        table[mask] = entry;
        mask += 1;
    }
    table
}

/// Lane mask selecting the first `count` (1..=8) f32 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn first_lanes_f32(count: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(count as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Lane mask selecting the first `count` (1..=4) f64 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn first_lanes_f64(count: usize) -> __m256i {
    _mm256_cmpgt_epi64(
        _mm256_set1_epi64x(count as i64),
        _mm256_setr_epi64x(0, 1, 2, 3),
    )
}

/// Registers per column chunk of the sparse kernels: the chunk's sums (or,
/// for the weight gradient, its row of `D`) stay in registers, next to a
/// broadcast, a load and the tail mask. Seven f32 vectors cover a 50-wide
/// layer in one chunk.
const CHUNK_VECTORS: usize = 7;

/// Calls `$kernel::<NV>(...)` with the number of vectors (1..=7) as a const
/// generic, so that the chunk's accumulator arrays have a fixed size and live
/// in registers.
macro_rules! with_vectors {
    ($vectors:expr, $kernel:ident::<NV>($($arg:expr),* $(,)?)) => {
        match $vectors {
            1 => $kernel::<1>($($arg),*),
            2 => $kernel::<2>($($arg),*),
            3 => $kernel::<3>($($arg),*),
            4 => $kernel::<4>($($arg),*),
            5 => $kernel::<5>($($arg),*),
            6 => $kernel::<6>($($arg),*),
            _ => $kernel::<7>($($arg),*),
        }
    };
}

mod sparse_f32;
mod sparse_f64;

use sparse_f32::avx2::{sparse_at_b as sparse_at_b_f32, sparse_forward as sparse_forward_f32};
use sparse_f64::avx2::{sparse_at_b as sparse_at_b_f64, sparse_forward as sparse_forward_f64};

pub(super) mod avx512;

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with zeros, negative zeros (zero too), NaNs and infinities (non-zero),
    /// of every length up to past two AVX-512 blocks, then a whole segment.
    fn rows() -> Vec<Vec<f64>> {
        let pattern = |i: usize| match (i * 7 + i / 3) % 9 {
            0 => f64::NAN,
            1 => -0.0,
            2 => f64::INFINITY,
            3 | 4 => 1.5,
            _ => 0.0,
        };
        (0..=40)
            .chain([SEGMENT])
            .map(|len| (0..len).map(pattern).collect())
            .collect()
    }

    fn expected(row: &[f64]) -> Vec<u32> {
        (0..row.len() as u32)
            .filter(|&i| row[i as usize] != 0.0 || row[i as usize].is_nan())
            .collect()
    }

    #[test]
    fn every_compaction_finds_exactly_the_non_zeros() {
        if !has_avx2_fma() {
            return;
        }
        let avx512 = has_avx512_compress();
        for row in rows() {
            let single: Vec<f32> = row.iter().map(|&v| v as f32).collect();
            let want = expected(&row);
            let mut indices = [u32::MAX; SEGMENT];
            // SAFETY (all calls): AVX2 checked above, AVX-512 where `avx512`;
            // rows hold at most SEGMENT values.
            let found = |count: usize, indices: &Indices| indices[..count].to_vec();
            let count = unsafe { compact_nonzeros_f32_avx2(&single, &mut indices) };
            assert_eq!(
                found(count, &indices),
                want,
                "f32 AVX2, {} values",
                row.len()
            );
            let count = unsafe { compact_nonzeros_f64_avx2(&row, &mut indices) };
            assert_eq!(
                found(count, &indices),
                want,
                "f64 AVX2, {} values",
                row.len()
            );
            if avx512 {
                let count = unsafe { compact_nonzeros_f32_avx512(&single, &mut indices) };
                assert_eq!(
                    found(count, &indices),
                    want,
                    "f32 AVX-512, {} values",
                    row.len()
                );
                let count = unsafe { compact_nonzeros_f64_avx512(&row, &mut indices) };
                assert_eq!(
                    found(count, &indices),
                    want,
                    "f64 AVX-512, {} values",
                    row.len()
                );
            }
        }
    }
}
