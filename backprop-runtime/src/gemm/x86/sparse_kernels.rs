// The zero-skipping kernels, written once for both element types and every
// instruction set they run on: `sparse_f32.rs` and `sparse_f64.rs` include this file
// after naming `Elem`, `Vector`, `Mask` (a tail's lane mask), `LANES`, `REGISTERS` and
// the intrinsics, then expand `sparse_kernels!` once per set of target features, so
// the variants can never drift apart.

macro_rules! sparse_kernels {
    ($features:literal, $registers:literal) => {

        /// Vector registers the kernels may use.
        const REGISTERS: usize = $registers;

        use super::super::{
            CHUNK_VECTORS, Indices, L1_BLOCK_BYTES, L2_BLOCK_BYTES, SCRATCH_LEN, SEGMENT, Scratch, WINDOW,
        };
        const CHUNK: usize = LANES * CHUNK_VECTORS;

        /// Loads `NV` vectors from `src`, the last one through the `tail` lane mask.
        ///
        /// # Safety
        /// The CPU has the kernels' features; `src` is valid for the lanes selected.
        #[target_feature(enable = $features)]
        #[inline]
        unsafe fn load<const NV: usize>(src: *const Elem, tail: Mask) -> [Vector; NV] {
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
        /// The CPU has the kernels' features; `dst` is valid for the lanes selected.
        #[target_feature(enable = $features)]
        #[inline]
        unsafe fn store<const NV: usize>(dst: *mut Elem, vectors: &[Vector; NV], tail: Mask) {
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
        /// The CPU has the kernels' features; the shapes are as documented there.
        #[target_feature(enable = $features)]
        pub(in super::super) unsafe fn sparse_forward(
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
                        // SAFETY: the CPU has the kernels' features; the segment has at most SEGMENT values.
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
        /// The CPU has the kernels' features; `chunk.width` is in `(NV-1)·LANES+1 ..= NV·LANES`;
        /// every `p` in `nonzeros` indexes `a_segment` and a row of `b_rows`.
        #[target_feature(enable = $features)]
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
            // SAFETY (both closures' callers): p indexes a_segment and a row of b_rows.
            let row = |p: u32| unsafe { b.add(p as usize * n + first) };
            let scale = |p: u32| unsafe { a_segment.get_unchecked(p as usize) };
            // Each non-zero's FMAs wait for the previous one's, so with one set of
            // sums the FMA latency, not its throughput, bounds the loop. Where the
            // registers allow, a second set takes every other non-zero.
            let mut rest = nonzeros;
            if 2 * NV + 3 <= REGISTERS {
                let mut odd = [setzero(); NV];
                let mut pairs = nonzeros.chunks_exact(2);
                for pair in pairs.by_ref() {
                    // SAFETY: as above.
                    unsafe {
                        add_row::<NV>(&mut sums, scale(pair[0]), row(pair[0]), tail);
                        add_row::<NV>(&mut odd, scale(pair[1]), row(pair[1]), tail);
                    }
                }
                for (sum, odd_sum) in sums.iter_mut().zip(odd) {
                    *sum = add(*sum, odd_sum);
                }
                rest = pairs.remainder();
            }
            for &p in rest {
                // SAFETY: as above.
                unsafe { add_row::<NV>(&mut sums, scale(p), row(p), tail) };
            }
            // SAFETY: as above.
            unsafe { store::<NV>(c_chunk, &sums, tail) };
        }

        /// `sums += scale · row`, the row's `NV` vectors read as [`load`] does.
        ///
        /// # Safety
        /// The CPU has the kernels' features; `row` is valid for the lanes selected.
        #[target_feature(enable = $features)]
        #[inline]
        unsafe fn add_row<const NV: usize>(sums: &mut [Vector; NV], scale: &Elem, row: *const Elem, tail: Mask) {
            let scale = broadcast(scale);
            // SAFETY: guaranteed by the caller.
            let row = unsafe { load::<NV>(row, tail) };
            for (sum, value) in sums.iter_mut().zip(row) {
                *sum = fmadd(scale, value, *sum);
            }
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
        /// The CPU has the kernels' features; the shapes are as documented there.
        #[target_feature(enable = $features)]
        pub(in super::super) unsafe fn sparse_at_b(
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
                        // SAFETY: the CPU has the kernels' features; the segment has at most SEGMENT values.
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
        /// The CPU has the kernels' features; `chunk.width` is in `(NV-1)·LANES+1 ..= NV·LANES`
        /// and `chunk.first + NV·LANES <= chunk.n`; every `i` in `nonzeros` indexes
        /// `a_segment` and a row of `sums`, whose rows are `chunk.n` long.
        #[target_feature(enable = $features)]
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
    };
}
