//! The two loops every activation is made of: its function applied to each input, and
//! its derivative read off the kept output.

use ndarray::{ArrayView2, Zip};

use crate::gemm::split_pass;
use crate::{Buffer, Float};

/// Writes `f(x)` for every element of `x` into `out`.
pub(super) fn map_into<'b, T: Float>(
    x: ArrayView2<'_, T>,
    out: &'b mut Buffer<T>,
    f: impl Fn(T) -> T + Sync,
) -> ArrayView2<'b, T> {
    let (rows, cols) = x.dim();
    let mut y = out.prepare(rows, cols);
    match (x.as_slice(), y.as_slice_mut()) {
        // Whole rows per piece (see `split_pass`).
        (Some(x), Some(y)) => split_pass(y, cols.max(1), &|first, part| {
            for (y, &v) in part.iter_mut().zip(&x[first..]) {
                *y = f(v);
            }
        }),
        _ => Zip::from(y).and(&x).for_each(|y, &v| *y = f(v)),
    }
    out.view()
}

/// Writes `gradient(dout, y)` for every element into `dx`, with `y` the output the
/// forward pass kept.
pub(super) fn gradient_from_output<'b, T: Float>(
    dout: ArrayView2<'_, T>,
    y: &Buffer<T>,
    dx: &'b mut Buffer<T>,
    gradient: impl Fn(T, T) -> T + Sync,
) -> ArrayView2<'b, T> {
    let (rows, cols) = dout.dim();
    let y = y.view();
    let mut out = dx.prepare(rows, cols);
    match (dout.as_slice(), y.as_slice(), out.as_slice_mut()) {
        // Split as the forward pass was (see `map_into`).
        (Some(dout), Some(y), Some(out)) => split_pass(out, cols.max(1), &|first, part| {
            let inputs = dout[first..].iter().zip(&y[first..]);
            for (dx, (&d, &y)) in part.iter_mut().zip(inputs) {
                *dx = gradient(d, y);
            }
        }),
        _ => Zip::from(out)
            .and(&dout)
            .and(&y)
            .for_each(|dx, &d, &y| *dx = gradient(d, y)),
    }
    dx.view()
}
