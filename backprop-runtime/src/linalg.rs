//! The three matrix products of a dense layer, writing into preallocated outputs.
//!
//! Layers call these and nothing else for their heavy arithmetic. They hand row-major
//! slices to the [`gemm`] kernels, which allocate nothing and skip the
//! zeros of a mostly-zero input (MNIST pixels, ReLU outputs) when that is faster.

use ndarray::{ArrayBase, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Data, Dimension};

use crate::Float;
use crate::gemm::{self, Sparsity};

/// `out = x · w + b`, with `b` added to every row.
pub fn affine_forward<T: Float>(
    x: ArrayView2<'_, T>,
    w: ArrayView2<'_, T>,
    b: ArrayView1<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
) {
    let (m, k) = x.dim();
    let n = w.ncols();
    let x = x.as_standard_layout();
    gemm::matmul_bias(
        m,
        k,
        n,
        slice(&x),
        slice(&w),
        Some(slice(&b)),
        slice_mut(&mut out),
        Sparsity::Auto,
    )
    .expect("the layer's shapes agree by construction");
}

/// `dw = xᵀ · dout` and `db = Σ_rows dout`: the parameter gradients of `x · w + b`.
pub fn affine_parameter_gradients<T: Float>(
    x: ArrayView2<'_, T>,
    dout: ArrayView2<'_, T>,
    mut dw: ArrayViewMut2<'_, T>,
    mut db: ArrayViewMut1<'_, T>,
) {
    let (m, k) = x.dim();
    let n = dout.ncols();
    let (x, dout) = (x.as_standard_layout(), dout.as_standard_layout());
    gemm::matmul_at_b(
        m,
        k,
        n,
        slice(&x),
        slice(&dout),
        slice_mut(&mut dw),
        Sparsity::Auto,
    )
    .expect("the layer's shapes agree by construction");
    let db = db.as_slice_mut().expect("bias gradients are contiguous");
    gemm::column_sums(m, n, slice(&dout), db).expect("the layer's shapes agree by construction");
}

/// `dx = dout · wᵀ`: the input gradient of `x · w + b`.
pub fn affine_input_gradient<T: Float>(
    dout: ArrayView2<'_, T>,
    w: ArrayView2<'_, T>,
    mut dx: ArrayViewMut2<'_, T>,
) {
    let (m, n) = dout.dim();
    let k = w.nrows();
    let dout = dout.as_standard_layout();
    gemm::matmul_a_bt(m, n, k, slice(&dout), slice(&w), slice_mut(&mut dx))
        .expect("the layer's shapes agree by construction");
}

// Parameters and buffers are created in standard layout, and inputs are made so above
// (copied only if a caller passed, say, a transposed view).
fn slice<S: Data, D: Dimension>(a: &ArrayBase<S, D>) -> &[S::Elem] {
    a.as_slice().expect("standard layout")
}

fn slice_mut<'a, T>(a: &'a mut ArrayViewMut2<'_, T>) -> &'a mut [T] {
    a.as_slice_mut().expect("standard layout")
}
