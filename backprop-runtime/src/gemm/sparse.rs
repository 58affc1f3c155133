//! Zero-skipping products: work proportional to the non-zeros of `A`.
//!
//! The kernels themselves (per instruction set) handle one block of output
//! rows; this file splits the output between threads.

use super::pool::{self, SharedOut};
use super::{BLOCKS_PER_THREAD, GemmScalar, Kernels, MIN_FMAS_PER_THREAD};

/// Number of threads for `work` multiply-adds over `rows` output rows.
fn thread_count(work: usize, rows: usize) -> usize {
    pool::threads()
        .min(work / MIN_FMAS_PER_THREAD)
        .min(rows)
        .max(1)
}

/// Runs `body(first_row, rows_of_c)` on disjoint row blocks of `c` (rows of `n`).
fn split_output_rows<T: GemmScalar>(
    threads: usize,
    rows: usize,
    n: usize,
    c: &mut [T],
    body: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    if threads == 1 {
        return body(0, c);
    }
    let out = SharedOut::new(c);
    let per_part = rows.div_ceil(BLOCKS_PER_THREAD * threads);
    pool::run(rows.div_ceil(per_part), threads, &|part| {
        let start = (part * per_part).min(rows);
        let end = (start + per_part).min(rows);
        // SAFETY: rows start..end of the rows×n output, disjoint per part.
        let block = unsafe { out.range(start * n, (end - start) * n) };
        body(start, block);
    });
}

/// Zero-skipping `C(m×n) = A(m×k)·B(k×n) + bias`.
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
    let threads = thread_count(m.saturating_mul(k).saturating_mul(n), m);
    split_output_rows(threads, m, n, c, &|first_row, c_block| {
        let rows = c_block.len().checked_div(n).unwrap_or(0);
        let a_block = &a[first_row * k..(first_row + rows) * k];
        // SAFETY: the table's kernels run on this CPU; shapes are rows×k, k×n, rows×n.
        unsafe { (kernels.sparse_forward)(k, n, a_block, b, bias, c_block) };
    });
}

/// Zero-skipping `C(k×n) = Aᵀ·D` for `A` (m×k) and `D` (m×n).
pub(super) fn at_b<T: GemmScalar>(
    kernels: &Kernels<T>,
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    d: &[T],
    c: &mut [T],
) {
    let threads = thread_count(m.saturating_mul(k).saturating_mul(n), k);
    split_output_rows(threads, k, n, c, &|first_col, c_block| {
        // SAFETY: the table's kernels run on this CPU; `c_block` is rows
        // first_col.. of the k×n output.
        unsafe { (kernels.sparse_at_b)(m, k, n, a, d, first_col, c_block) };
    });
}
