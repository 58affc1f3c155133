// The zero-skipping kernels, written once for both element types: `sparse_f32.rs` and
// `sparse_f64.rs` include this file after naming `Elem`, `Vector`, `LANES` and the
// type's intrinsics, so the two can never drift apart.

use std::arch::x86_64::*;

use super::{
    CHUNK_VECTORS, Indices, L1_BLOCK_BYTES, L2_BLOCK_BYTES, SCRATCH_LEN, SEGMENT, Scratch, WINDOW,
};
const CHUNK: usize = LANES * CHUNK_VECTORS;

/// Loads `NV` vectors from `src`, the last one through the `tail` lane mask.
///
/// # Safety
/// AVX2 is available; `src` is valid for the lanes selected.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load<const NV: usize>(src: *const Elem, tail: __m256i) -> [Vector; NV] {
    let mut vectors = [setzero(); NV];
    for (v, vector) in vectors.iter_mut().enumerate() {
        // SAFETY: full vectors precede the masked last one.
        *vector = unsafe {
            if v + 1 == NV {
                maskload(src.add(LANES * v), tail)
            } else {
                loadu(src.add(LANES * v))
            }
        };
    }
    vectors
}

/// Stores `NV` vectors to `dst`, the last one through the `tail` lane mask.
///
/// # Safety
/// AVX2 is available; `dst` is valid for the lanes selected.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store<const NV: usize>(dst: *mut Elem, vectors: &[Vector; NV], tail: __m256i) {
    for (v, &vector) in vectors.iter().enumerate() {
        // SAFETY: full vectors precede the masked last one.
        unsafe {
            if v + 1 == NV {
                maskstore(dst.add(LANES * v), tail, vector);
            } else {
                storeu(dst.add(LANES * v), vector);
            }
        }
    }
}

/// See [`super::super::SparseForward`].
///
/// # Safety
/// AVX2 and FMA are available; the shapes are as documented there.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn sparse_forward(
    k: usize,
    n: usize,
    a: &[Elem],
    b: &[Elem],
    bias: Option<&[Elem]>,
    c: &mut [Elem],
) {
    if n == 0 {
        return;
    }
    let mut indices: Indices = [0; SEGMENT];
    // Rows of B in blocks that stay in L1 pass over groups of rows of C
    // that stay in L2.
    let block = block_rows(n);
    let group = (L2_BLOCK_BYTES / (n * size_of::<Elem>())).max(1);
    for (group_index, c_group) in c.chunks_mut(group * n).enumerate() {
        for c_row in c_group.chunks_exact_mut(n) {
            match bias {
                Some(bias) => c_row.copy_from_slice(bias),
                None => c_row.fill(0.0),
            }
        }
        for first_p in (0..k).step_by(block) {
            let b_rows = &b[first_p * n..];
            for (offset, c_row) in c_group.chunks_exact_mut(n).enumerate() {
                let a_row = (group_index * group + offset) * k;
                let segment = &a[a_row + first_p..a_row + k.min(first_p + block)];
                // SAFETY: AVX2 is available; the segment has at most SEGMENT values.
                let count = unsafe { compact_nonzeros(segment, &mut indices) };
                for first in (0..n).step_by(CHUNK) {
                    let width = CHUNK.min(n - first);
                    let chunk = Chunk { n, first, width };
                    let nonzeros = &indices[..count];
                    // SAFETY: `chunk` lies inside rows of n values.
                    unsafe {
                        with_vectors!(
                            width.div_ceil(LANES),
                            forward_chunk::<NV>(segment, nonzeros, b_rows, chunk, c_row)
                        );
                    }
                }
            }
        }
    }
}

/// Rows of `n` values that fit in [`L1_BLOCK_BYTES`], within `8..=SEGMENT`.
fn block_rows(n: usize) -> usize {
    (L1_BLOCK_BYTES / (n * size_of::<Elem>())).clamp(8, SEGMENT)
}

/// Columns `first..first + width` of rows `n` values long.
#[derive(Clone, Copy)]
struct Chunk {
    n: usize,
    first: usize,
    width: usize,
}

/// `c_row[chunk] += Σ_{p ∈ nonzeros} a_segment[p]·b_rows[p, chunk]`.
///
/// # Safety
/// AVX2 and FMA are available; `chunk.width` is in `(NV-1)·LANES+1 ..= NV·LANES`;
/// every `p` in `nonzeros` indexes `a_segment` and a row of `b_rows`.
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_chunk<const NV: usize>(
    a_segment: &[Elem],
    nonzeros: &[u32],
    b_rows: &[Elem],
    Chunk { n, first, width }: Chunk,
    c_row: &mut [Elem],
) {
    let tail = first_lanes(width - (NV - 1) * LANES);
    // SAFETY: the chunk lies inside c_row.
    let c_chunk = unsafe { c_row.as_mut_ptr().add(first) };
    // SAFETY: as above.
    let mut sums = unsafe { load::<NV>(c_chunk, tail) };
    let b = b_rows.as_ptr();
    for &p in nonzeros {
        let p = p as usize;
        // SAFETY: p indexes a_segment and a row of b_rows.
        unsafe {
            let scale = broadcast(a_segment.get_unchecked(p));
            let b_row = load::<NV>(b.add(p * n + first), tail);
            for (sum, b_value) in sums.iter_mut().zip(b_row) {
                *sum = fmadd(scale, b_value, *sum);
            }
        }
    }
    // SAFETY: as above.
    unsafe { store::<NV>(c_chunk, &sums, tail) };
}

/// See [`super::super::SparseAtB`].
///
/// The sums are kept in a stack scratch block of rows of `C` whose stride is
/// rounded up to whole vectors and that fits in L1, then copied out: rows
/// of `n` = 50 values are not 32-byte aligned, and the vector loads and
/// stores that straddle cache lines (and a scalar or masked tail) made the
/// scatter about 30 % slower.
///
/// # Safety
/// AVX2 and FMA are available; the shapes are as documented there.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn sparse_at_b(
    m: usize,
    k: usize,
    n: usize,
    a: &[Elem],
    d: &[Elem],
    first_col: usize,
    c: &mut [Elem],
) {
    if n == 0 {
        return;
    }
    let cols = c.len() / n;
    let mut indices: Indices = [0; SEGMENT];
    let mut scratch = Scratch::<Elem>::new();
    // Very wide outputs are done a window of columns at a time.
    for window_start in (0..n).step_by(WINDOW) {
        let window = WINDOW.min(n - window_start);
        let stride = window.next_multiple_of(LANES);
        let block = (SCRATCH_LEN / stride).min(SEGMENT);
        for first_i in (0..cols).step_by(block) {
            let last_i = cols.min(first_i + block);
            let sums = scratch.zeroed((last_i - first_i) * stride);
            for row in 0..m {
                let d_row = &d[row * n + window_start..row * n + window_start + window];
                let a_row = row * k + first_col;
                let segment = &a[a_row + first_i..a_row + last_i];
                // SAFETY: AVX2 is available; the segment has at most SEGMENT values.
                let count = unsafe { compact_nonzeros(segment, &mut indices) };
                for first in (0..window).step_by(CHUNK) {
                    let width = CHUNK.min(window - first);
                    let chunk = Chunk {
                        n: stride,
                        first,
                        width,
                    };
                    // SAFETY: the chunk, rounded up to whole vectors, lies
                    // inside rows of `stride` values.
                    unsafe {
                        with_vectors!(
                            width.div_ceil(LANES),
                            at_b_chunk::<NV>(segment, &indices[..count], d_row, chunk, sums)
                        );
                    }
                }
            }
            for (i, sum_row) in sums.chunks_exact(stride).enumerate() {
                let c_row = (first_i + i) * n + window_start;
                c[c_row..c_row + window].copy_from_slice(&sum_row[..window]);
            }
        }
    }
}

/// For each `i` in `nonzeros`: `sums[i, chunk] += a_segment[i]·d_row[chunk]`,
/// with the `d_row` chunk in `NV` registers, zero-padded past its width (the
/// padding lanes of `sums` are never copied out).
///
/// # Safety
/// AVX2 and FMA are available; `chunk.width` is in `(NV-1)·LANES+1 ..= NV·LANES`
/// and `chunk.first + NV·LANES <= chunk.n`; every `i` in `nonzeros` indexes
/// `a_segment` and a row of `sums`, whose rows are `chunk.n` long.
#[target_feature(enable = "avx2,fma")]
unsafe fn at_b_chunk<const NV: usize>(
    a_segment: &[Elem],
    nonzeros: &[u32],
    d_row: &[Elem],
    Chunk {
        n: stride,
        first,
        width,
    }: Chunk,
    sums: &mut [Elem],
) {
    let tail = first_lanes(width - (NV - 1) * LANES);
    // SAFETY: the chunk lies inside d_row; lanes past it load as zeros.
    let d_chunk = unsafe { load::<NV>(d_row.as_ptr().add(first), tail) };
    let sums = sums.as_mut_ptr();
    for &i in nonzeros {
        let i = i as usize;
        // SAFETY: i indexes a_segment and a row of sums, which holds the
        // chunk rounded up to whole vectors.
        unsafe {
            let scale = broadcast(a_segment.get_unchecked(i));
            let row = sums.add(i * stride + first);
            for (v, &d_vector) in d_chunk.iter().enumerate() {
                let sum = fmadd(scale, d_vector, loadu(row.add(LANES * v)));
                storeu(row.add(LANES * v), sum);
            }
        }
    }
}
