//! Kernels in plain Rust, for every target and for x86-64 CPUs without
//! AVX2/FMA (the tests check them against the naive product on every machine).

use super::dense::{APanel, pack_b};
use super::{Crossover, GemmScalar, Kernels};

/// 4×8 (f32) and 4×4 (f64) tiles keep 8 SSE2 registers of accumulators, so the
/// baseline x86-64 and AArch64 vector units can hold them without spilling.
pub(super) static F32: Kernels<f32> = Kernels {
    mr: 4,
    nr: 8,
    kc: 256,
    mc: 96,
    nc: 128,
    micro: micro::<f32, 4, 8>,
    direct_micro: None,
    short_micro: None,
    narrow_micro: None,
    skinny_dot: None,
    skinny_axpy: None,
    pack_b: pack_b::<f32, 8>,
    sparse_forward: sparse_forward::<f32>,
    sparse_at_b: sparse_at_b::<f32>,
    sparse_forward_from: Crossover {
        small: 0.62,
        large: 0.65,
    },
    sparse_at_b_from: Crossover {
        small: 0.60,
        large: 0.65,
    },
};

/// The f64 twin (crossovers measured like the f32 ones; see the module docs).
pub(super) static F64: Kernels<f64> = Kernels {
    mr: 4,
    nr: 4,
    kc: 128,
    mc: 96,
    nc: 128,
    micro: micro::<f64, 4, 4>,
    direct_micro: None,
    short_micro: None,
    narrow_micro: None,
    skinny_dot: None,
    skinny_axpy: None,
    pack_b: pack_b::<f64, 4>,
    sparse_forward: sparse_forward::<f64>,
    sparse_at_b: sparse_at_b::<f64>,
    sparse_forward_from: Crossover {
        small: 0.42,
        large: 0.55,
    },
    sparse_at_b_from: Crossover {
        small: 0.42,
        large: 0.40,
    },
};

/// Portable register tile; see [`super::MicroKernel`] for the contract.
///
/// # Safety
/// `a` is valid for `kc` steps of `MR` rows, `b` holds `kc·NR` values, and
/// `c` is valid for `MR×NR` with row stride `ldc`.
unsafe fn micro<T: GemmScalar, const MR: usize, const NR: usize>(
    kc: usize,
    a: &APanel<T>,
    b: *const T,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller guarantees the panel length.
    let b = unsafe { std::slice::from_raw_parts(b, kc * NR) };
    let mut acc = [[T::GEMM_ZERO; NR]; MR];
    for (p, b_step) in b.chunks_exact(NR).enumerate() {
        for (acc_row, &offset) in acc.iter_mut().zip(&a.row_offsets) {
            // SAFETY: the caller guarantees kc valid steps for every row.
            let a_value = unsafe { *a.ptr.add(offset + p * a.step) };
            for (acc_value, &b_value) in acc_row.iter_mut().zip(b_step) {
                *acc_value += a_value * b_value;
            }
        }
    }
    for (row, acc_row) in acc.iter().enumerate() {
        // SAFETY: the caller guarantees an MR×NR tile with row stride `ldc`.
        let c_row = unsafe { std::slice::from_raw_parts_mut(c.add(row * ldc), NR) };
        for (c_value, &acc_value) in c_row.iter_mut().zip(acc_row) {
            *c_value = if accumulate {
                *c_value + acc_value
            } else {
                acc_value
            };
        }
    }
}

/// Non-zeros are gathered at most this many at a time.
const SEGMENT: usize = 1024;

/// Writes the positions of the non-zeros of `values` (at most [`SEGMENT`])
/// to the front of `indices` and returns their count.
///
/// Branch-free: a branch per element mispredicts on irregular zeros, which
/// made the sparse kernels slower than the dense ones even at 60 % zeros.
fn compact_nonzeros<T: GemmScalar>(values: &[T], indices: &mut [u32; SEGMENT]) -> usize {
    let mut count = 0;
    for (position, &value) in values.iter().enumerate() {
        // Always written, kept (by advancing `count`) only for a non-zero.
        indices[count] = position as u32;
        count += usize::from(value != T::GEMM_ZERO);
    }
    count
}

/// `C = A·B (+ bias)`, adding a row of `B` for each non-zero of `A`.
///
/// # Safety
/// Always safe; `unsafe` only to share the kernel table's signature.
unsafe fn sparse_forward<T: GemmScalar>(
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    bias: Option<&[T]>,
    c: &mut [T],
) {
    if n == 0 {
        return;
    }
    let mut indices = [0; SEGMENT];
    for (row, c_row) in c.chunks_exact_mut(n).enumerate() {
        match bias {
            Some(bias) => c_row.copy_from_slice(bias),
            None => c_row.fill(T::GEMM_ZERO),
        }
        for first_p in (0..k).step_by(SEGMENT) {
            let segment = &a[row * k + first_p..row * k + k.min(first_p + SEGMENT)];
            let count = compact_nonzeros(segment, &mut indices);
            for &p in &indices[..count] {
                let p = p as usize;
                let b_row = &b[(first_p + p) * n..(first_p + p + 1) * n];
                for (c_value, &b_value) in c_row.iter_mut().zip(b_row) {
                    *c_value += segment[p] * b_value;
                }
            }
        }
    }
}

/// `C = A[:, cols]ᵀ · D`: for each non-zero `A[r, i]`, `C[i, :] += A[r, i]·D[r, :]`.
///
/// # Safety
/// Always safe; `unsafe` only to share the kernel table's signature.
unsafe fn sparse_at_b<T: GemmScalar>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    d: &[T],
    first_col: usize,
    c: &mut [T],
) {
    c.fill(T::GEMM_ZERO);
    if n == 0 {
        return;
    }
    let cols = c.len() / n;
    let mut indices = [0; SEGMENT];
    for row in 0..m {
        let d_row = &d[row * n..(row + 1) * n];
        for first_i in (0..cols).step_by(SEGMENT) {
            let start = row * k + first_col + first_i;
            let segment = &a[start..start + (cols - first_i).min(SEGMENT)];
            let count = compact_nonzeros(segment, &mut indices);
            for &i in &indices[..count] {
                let i = i as usize;
                let c_row = &mut c[(first_i + i) * n..(first_i + i + 1) * n];
                for (c_value, &d_value) in c_row.iter_mut().zip(d_row) {
                    *c_value += segment[i] * d_value;
                }
            }
        }
    }
}
