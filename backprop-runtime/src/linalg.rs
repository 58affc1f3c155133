//! The three matrix products of a dense layer, writing into preallocated outputs.
//!
//! Layers call these and nothing else for their heavy arithmetic, so the kernel behind
//! them can change without touching any layer's maths.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use crate::Float;

/// `out = x · w + b`, with `b` added to every row.
pub fn affine_forward<T: Float>(
    x: ArrayView2<'_, T>,
    w: ArrayView2<'_, T>,
    b: ArrayView1<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
) {
    for mut row in out.rows_mut() {
        row.assign(&b);
    }
    general_mat_mul(T::one(), &x, &w, T::one(), &mut out);
}

/// `dw = xᵀ · dout` and `db = Σ_rows dout`: the parameter gradients of `x · w + b`.
pub fn affine_parameter_gradients<T: Float>(
    x: ArrayView2<'_, T>,
    dout: ArrayView2<'_, T>,
    mut dw: ArrayViewMut2<'_, T>,
    mut db: ArrayViewMut1<'_, T>,
) {
    general_mat_mul(T::one(), &x.t(), &dout, T::zero(), &mut dw);
    db.fill(T::zero());
    for row in dout.axis_iter(Axis(0)) {
        db += &row;
    }
}

/// `dx = dout · wᵀ`: the input gradient of `x · w + b`.
pub fn affine_input_gradient<T: Float>(
    dout: ArrayView2<'_, T>,
    w: ArrayView2<'_, T>,
    mut dx: ArrayViewMut2<'_, T>,
) {
    general_mat_mul(T::one(), &dout, &w.t(), T::zero(), &mut dx);
}
