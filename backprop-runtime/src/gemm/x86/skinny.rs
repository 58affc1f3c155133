//! The skinny kernels (see [`super::super::SkinnyKernel`]): the last few columns of a
//! product as dot products or as broadcasts down the columns of `A`, and the AVX2
//! helpers they share (lane masks, the horizontal sums of a tile).

use std::arch::x86_64::*;

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
pub(super) fn lane_mask_f32(live: usize) -> __m256i {
    let live = i32::try_from(live).unwrap_or(i32::MAX);
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(live),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Lanes `0..live` of an f64 vector set, for `_mm256_maskload_pd`.
#[target_feature(enable = "avx2,fma")]
pub(super) fn lane_mask_f64(live: usize) -> __m256i {
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
