//! What the zero-skipping kernels (`sparse_f32.rs`, `sparse_f64.rs`) share: finding
//! the non-zeros of a row (AVX2 or AVX-512 compaction), the sizes of their blocks and
//! their stack scratch.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// Non-zeros of `A` are gathered at most this many at a time.
pub(super) const SEGMENT: usize = 1024;

/// The forward kernel visits rows of `B` in an order only the data knows, so
/// it works on blocks of rows of `B` of about the size of the 32 KiB L1
/// rather than fetch four cache lines of a 50-wide f32 row from L2 per
/// non-zero. (Measured on Zen 4: 16 KiB blocks were slower, from the
/// per-block overhead; 32 and 64 KiB were equal.)
pub(super) const L1_BLOCK_BYTES: usize = 32 * 1024;

/// Values of the weight-gradient kernels' scratch block of rows of `C`:
/// 32 KiB in f32 (the size of L1), 64 KiB in f64.
pub(super) const SCRATCH_LEN: usize = 8 * 1024;

/// Columns of `C` the weight-gradient kernels handle at a time, so that a
/// scratch block holds at least 16 rows.
pub(super) const WINDOW: usize = SCRATCH_LEN / 16;

/// A 64-byte aligned, uninitialised stack block of [`SCRATCH_LEN`] values.
#[repr(C, align(64))]
pub(super) struct Scratch<T>([MaybeUninit<T>; SCRATCH_LEN]);

impl<T: Copy + Default> Scratch<T> {
    pub(super) fn new() -> Self {
        Self([MaybeUninit::uninit(); SCRATCH_LEN])
    }

    /// The first `len` values, set to zero.
    pub(super) fn zeroed(&mut self, len: usize) -> &mut [T] {
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
pub(super) const L2_BLOCK_BYTES: usize = 256 * 1024;

/// Positions of the non-zeros of one segment.
pub(super) type Indices = [u32; SEGMENT];

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
        pub(super) unsafe fn $name(values: &[$t], indices: &mut Indices) -> usize {
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
pub(super) fn first_lanes_f32(count: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(count as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Lane mask selecting the first `count` (1..=4) f64 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) fn first_lanes_f64(count: usize) -> __m256i {
    _mm256_cmpgt_epi64(
        _mm256_set1_epi64x(count as i64),
        _mm256_setr_epi64x(0, 1, 2, 3),
    )
}

/// Registers per column chunk of the sparse kernels: the chunk's sums (or,
/// for the weight gradient, its row of `D`) stay in registers, next to a
/// broadcast, a load and the tail mask. Seven f32 vectors cover a 50-wide
/// layer in one chunk.
pub(super) const CHUNK_VECTORS: usize = 7;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemm::x86::has_avx2_fma;

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
