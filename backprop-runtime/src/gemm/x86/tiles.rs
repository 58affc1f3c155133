//! The register tiles of the dense products, written once as macros for every
//! instruction set and element type (`avx512` expands them too): the full `mr×nr` tile
//! and its four-row twin for the last rows of `A`, each reading `B` packed or where it
//! lies, and the one-vector narrow tile.

/// Writes two `mr×(nv·lanes)` register-tile kernels for one instruction set and
/// element type: `$name` reads a packed panel of `B` (see [`super::MicroKernel`]),
/// `$direct` reads `B` where it lies (see [`super::DirectKernel`]). The kernels differ
/// only in their vector intrinsics, tile shape and where step `p` of `B` is.
/// `$broadcast` takes a reference.
macro_rules! micro_kernel {
    ($name:ident, $direct:ident, $features:literal, $t:ty, $lanes:literal, $mr:literal, $nv:literal,
     $setzero:ident, $loadu:ident, $broadcast:ident, $fmadd:ident, $add:ident, $storeu:ident) => {
        /// See [`super::MicroKernel`].
        ///
        /// # Safety
        #[doc = concat!("The CPU has ", $features, "; the contract of [`super::MicroKernel`] holds for ",
                        $mr, " rows of ", $nv, " vectors.")]
        #[target_feature(enable = $features)]
        unsafe fn $name(kc: usize, a: &APanel<$t>, b: *const $t, c: *mut $t, ldc: usize, accumulate: bool) {
            // SAFETY: step p of the packed panel is its p-th group of nv vectors.
            unsafe {
                micro_kernel!(@tile p, b.add($nv * $lanes * p), kc, a, c, ldc, accumulate,
                    $lanes, $mr, $nv, $setzero, $loadu, $broadcast, $fmadd, $add, $storeu)
            }
        }

        /// See [`super::DirectKernel`].
        ///
        /// # Safety
        #[doc = concat!("The CPU has ", $features, "; the contract of [`super::DirectKernel`] holds for ",
                        $mr, " rows of ", $nv, " vectors.")]
        #[target_feature(enable = $features)]
        unsafe fn $direct(kc: usize, a: &APanel<$t>, b: &BRows<$t>, c: *mut $t, ldc: usize, accumulate: bool) {
            // SAFETY: step p of B starts `starts[p]` values after `ptr`.
            unsafe {
                micro_kernel!(@tile p, b.ptr.add(*b.starts.add(p)), kc, a, c, ldc, accumulate,
                    $lanes, $mr, $nv, $setzero, $loadu, $broadcast, $fmadd, $add, $storeu)
            }
        }
    };
    // The tile: `$b_step` is where step `$p` of `B` starts. Unsafe: the caller's contract.
    (@tile $p:ident, $b_step:expr, $kc:ident, $a:ident, $c:ident, $ldc:ident, $accumulate:ident,
     $lanes:literal, $mr:literal, $nv:literal,
     $setzero:ident, $loadu:ident, $broadcast:ident, $fmadd:ident, $add:ident, $storeu:ident) => {{
        let mut acc = [[$setzero(); $nv]; $mr];
        let offsets = $a.row_offsets;
        let mut a_step = $a.ptr;
        for $p in 0..$kc {
            let b_step = $b_step;
            let mut b_vectors = [$setzero(); $nv];
            for (v, b_vector) in b_vectors.iter_mut().enumerate() {
                *b_vector = $loadu(b_step.add(v * $lanes));
            }
            for (acc_row, &offset) in acc.iter_mut().zip(&offsets) {
                let a_value = $broadcast(&*a_step.add(offset));
                for (sum, &b_vector) in acc_row.iter_mut().zip(&b_vectors) {
                    *sum = $fmadd(a_value, b_vector, *sum);
                }
            }
            a_step = a_step.wrapping_add($a.step);
        }
        for (r, acc_row) in acc.iter().enumerate() {
            for (v, &sum) in acc_row.iter().enumerate() {
                // Vector v of row r < mr of the tile with row stride ldc.
                let out = $c.add(r * $ldc + v * $lanes);
                let value = if $accumulate { $add(sum, $loadu(out)) } else { sum };
                $storeu(out, value);
            }
        }
    }};
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
