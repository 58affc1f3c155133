//! Allocation-free matrix products for the dense layers of a training step.
//!
//! All matrices are row-major slices with explicit dimensions. Every product
//! writes into a caller-provided output and allocates nothing: the packing
//! buffer is a fixed-size array on the stack (128 KiB per call and per
//! thread), and the optional worker threads are persistent.
//!
//! | product | function | shapes |
//! | --- | --- | --- |
//! | forward `x·W + b` | [`matmul_bias`] | `A` m×k, `B` k×n, `bias` n, `C` m×n |
//! | weight gradient `xᵀ·dout` | [`matmul_at_b`] | `A` m×k, `D` m×n, `C` k×n |
//! | bias gradient `Σ_rows dout` | [`column_sums`] | `D` m×n, `sums` n |
//! | input gradient `dout·Wᵀ` | [`matmul_a_bt`] | `D` m×n, `B` k×n, `C` m×k |
//! | any `C (+)= A·B` | [`product`] | strided [`MatrixRef`]s, `C` with row stride `ldc` |
//!
//! # Zero skipping
//!
//! [`matmul_bias`] and [`matmul_at_b`] take a [`Sparsity`]: with
//! [`Sparsity::Sparse`] they visit only the non-zero entries of `A` (MNIST
//! pixels are ~81 % zeros, ReLU outputs ~50 %) and add the matching row of the
//! other operand, which gives the same result up to rounding order. (One
//! difference: a zero in `A` times an infinite or NaN entry of the other
//! operand is skipped, where the dense product would give NaN.)
//! [`Sparsity::Auto`] estimates the zero fraction of `A` with
//! [`zero_fraction`] and uses the sparse kernel when that fraction is at least
//! the crossover measured by `examples/sparse_crossover.rs` for the book's
//! 784→50 layer with randomly placed zeros, at a training batch (100 rows;
//! AVX2 and portable on an AMD EPYC Zen 4, one thread, AVX-512 on a Zen 5,
//! two threads) and at an inference batch (10,000 rows; Zen 5, two threads).
//! The first figure applies below 1,000 rows, the second from there:
//!
//! | kernels | forward | weight gradient |
//! | --- | --- | --- |
//! | AVX-512 f32 | 0.55, 0.60 | 0.80, 0.60 |
//! | AVX-512 f64 | 0.65, never | 0.85, 0.60 |
//! | AVX2 f32 | 0.55, 0.45 | 0.60, 0.40 |
//! | AVX2 f64 | 0.52, 0.55 | 0.60, 0.30 |
//! | portable f32 | 0.62, 0.65 | 0.60, 0.65 |
//! | portable f64 | 0.42, 0.55 | 0.42, 0.40 |
//!
//! On real MNIST batches (81 % zeros) the AVX2 sparse kernels take about
//! 0.45× (forward) and 0.5× (weight gradient) the time of the dense ones.
//!
//! # Instruction sets
//!
//! On x86-64 the dense register tiles use AVX-512F when the CPU has it (Intel
//! since Skylake-SP, AMD since Zen 4: 16 f32 lanes per FMA), else AVX2 and FMA,
//! checked at run time with `is_x86_feature_detected!`; everywhere else, and on
//! older x86-64 CPUs, portable Rust kernels compute the same products. The
//! environment variable `BACKPROP_KERNELS` (`avx512`, `avx2` or `portable`)
//! forces a path, e.g. to compare them in a benchmark; [`kernel_path`] says
//! which one runs. AVX-512 also finds the non-zeros for zero skipping (one
//! compress instruction per 16 values) whenever the CPU has it.
//!
//! # Threads
//!
//! Products large enough to amortise a hand-off (about a million
//! multiply-adds per thread, e.g. the book's batch of 100 through the 784→50
//! layer, counted before zero skipping) are split into a few blocks per
//! thread, which the caller and persistent workers (started on first use,
//! then waiting for work) claim one at a time. The thread count
//! comes from the environment variable `BACKPROP_THREADS` when set (a positive
//! integer), otherwise from [`std::thread::available_parallelism`], and can be
//! changed at any time with [`set_threads`]. When another thread is already
//! using the workers, a call simply runs on its own thread.
//!
//! Two threads pay only if a core is idle: on a machine busy with other
//! processes a training step measured up to twice as slow on two threads as
//! on one, so set `BACKPROP_THREADS=1` there (e.g. on shared CI runners).
//!
//! ```
//! # use backprop::gemm;
//! use gemm::{matmul_bias, Sparsity};
//! // x (2×3) · W (3×2) + b
//! let x = [1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let w = [1.0_f32, 0.0, 0.0, 1.0, 1.0, 1.0];
//! let b = [0.5_f32, -0.5];
//! let mut y = [0.0_f32; 4];
//! matmul_bias(2, 3, 2, &x, &w, Some(&b), &mut y, Sparsity::Dense)?;
//! assert_eq!(y, [4.5, 4.5, 10.5, 10.5]);
//! # Ok::<(), gemm::GemmError>(())
//! ```

mod dense;
mod path;
mod pool;
mod portable;
mod sparse;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul};

pub use path::{KernelPath, UnknownKernelPath, kernel_path};
pub(crate) use pool::{ALWAYS_SPLIT_BYTES, SharedOut, run as run_parts, split_pass, within_split};
pub use pool::{set_threads, threads};

/// Error for operands whose length does not match the given dimensions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    /// A slice argument does not hold `rows × cols` elements.
    #[error("{operation}: `{argument}` must be {rows}×{cols} = {expected} elements, found {found}")]
    Length {
        /// The function that was called, e.g. `matmul_bias`.
        operation: &'static str,
        /// The parameter name, e.g. `b`.
        argument: &'static str,
        /// Expected number of rows.
        rows: usize,
        /// Expected number of columns.
        cols: usize,
        /// `rows * cols`.
        expected: usize,
        /// The slice's actual length.
        found: usize,
    },
    /// `rows × cols` does not fit in `usize`.
    #[error("{operation}: `{argument}` of {rows}×{cols} elements overflows usize")]
    Overflow {
        /// The function that was called.
        operation: &'static str,
        /// The parameter name.
        argument: &'static str,
        /// Requested number of rows.
        rows: usize,
        /// Requested number of columns.
        cols: usize,
    },
    /// The inner dimensions of a product differ.
    #[error("{operation}: `a` has {a_cols} columns but `b` has {b_rows} rows; they must be equal")]
    Inner {
        /// The function that was called.
        operation: &'static str,
        /// Columns of `a`.
        a_cols: usize,
        /// Rows of `b`.
        b_rows: usize,
    },
    /// A strided operand reaches past the end of its slice.
    #[error(
        "{operation}: `{argument}` as {rows}×{cols} with strides ({row_stride}, {col_stride}) needs {needed} elements, found {found}"
    )]
    Extent {
        /// The function that was called.
        operation: &'static str,
        /// The parameter name.
        argument: &'static str,
        /// Rows of the operand.
        rows: usize,
        /// Columns of the operand.
        cols: usize,
        /// Elements between consecutive rows.
        row_stride: usize,
        /// Elements between consecutive columns.
        col_stride: usize,
        /// Elements the operand reaches (`usize::MAX` when that overflows).
        needed: usize,
        /// The slice's length.
        found: usize,
    },
    /// The output's row stride is shorter than its rows, so they would overlap.
    #[error("{operation}: `ldc` = {ldc} is less than C's {cols} columns; rows would overlap")]
    RowStride {
        /// The function that was called.
        operation: &'static str,
        /// The row stride given.
        ldc: usize,
        /// Columns of `C`.
        cols: usize,
    },
}

/// A matrix read in place: element `(i, j)` is `data[i · row_stride + j · col_stride]`.
///
/// A row-major matrix has strides `(cols, 1)`; its transpose is the same data with the
/// strides swapped ([`MatrixRef::t`]); a block of a larger matrix keeps the larger
/// matrix's row stride (its leading dimension).
#[derive(Clone, Copy, Debug)]
pub struct MatrixRef<'a, T> {
    /// The elements, from the matrix's first.
    pub data: &'a [T],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Elements from one row to the next.
    pub row_stride: usize,
    /// Elements from one column to the next.
    pub col_stride: usize,
}

impl<'a, T> MatrixRef<'a, T> {
    /// A `rows × cols` matrix stored row by row.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, reading the same elements.
    #[must_use]
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Elements the matrix reaches from its first, or `None` on overflow.
    fn extent(&self) -> Option<usize> {
        if self.rows == 0 || self.cols == 0 {
            return Some(0);
        }
        let last_row = (self.rows - 1).checked_mul(self.row_stride)?;
        let last_col = (self.cols - 1).checked_mul(self.col_stride)?;
        last_row.checked_add(last_col)?.checked_add(1)
    }

    fn check(&self, operation: &'static str, argument: &'static str) -> Result<(), GemmError> {
        match self.extent() {
            Some(needed) if needed <= self.data.len() => Ok(()),
            needed => Err(GemmError::Extent {
                operation,
                argument,
                rows: self.rows,
                cols: self.cols,
                row_stride: self.row_stride,
                col_stride: self.col_stride,
                needed: needed.unwrap_or(usize::MAX),
                found: self.data.len(),
            }),
        }
    }
}

/// Whether [`product`] replaces `C` or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// `C = A·B`.
    Overwrite,
    /// `C += A·B`.
    Accumulate,
}

/// How [`matmul_bias`] and [`matmul_at_b`] treat zeros in `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sparsity {
    /// Packed, register-blocked product: best for dense `A`.
    Dense,
    /// Visit only the non-zero entries of `A`: best when most of `A` is zero.
    Sparse,
    /// Sample `A` with [`zero_fraction`] and pick the faster of the two.
    #[default]
    Auto,
}

/// Element types the kernels are implemented for: `f32` and `f64`.
///
/// The trait is sealed; its hidden items select the kernels for the running CPU.
pub trait GemmScalar:
    Copy
    + Debug
    + Default
    + PartialEq
    + Send
    + Sync
    + Add<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + 'static
    + sealed::Sealed
{
}

impl GemmScalar for f32 {}

impl GemmScalar for f64 {}

mod sealed {
    use super::{KernelPath, Kernels};

    /// Kernel selection, hidden from the public API. The `gemm_` prefixes
    /// keep these items from clashing with those of traits that require
    /// `GemmScalar` (e.g. a `ZERO` of the crate's own float trait).
    pub trait Sealed: Sized + 'static {
        /// Additive identity.
        const GEMM_ZERO: Self;
        /// The kernels of `path`, if it exists on this target (whether the
        /// CPU runs it is [`KernelPath::is_supported`]).
        fn gemm_kernels_for(path: KernelPath) -> Option<&'static Kernels<Self>>;
        /// The kernels of [`super::kernel_path`].
        fn gemm_kernels() -> &'static Kernels<Self> {
            Self::gemm_kernels_for(super::kernel_path())
                .or_else(|| Self::gemm_kernels_for(KernelPath::Portable))
                .expect("the portable kernels exist on every target")
        }
    }

    /// The kernel tables of each path for `$t`, which each module names `$table`.
    macro_rules! sealed {
        ($t:ty, $table:ident) => {
            impl Sealed for $t {
                const GEMM_ZERO: Self = 0.0;
                fn gemm_kernels_for(path: KernelPath) -> Option<&'static Kernels<$t>> {
                    match path {
                        #[cfg(target_arch = "x86_64")]
                        KernelPath::Avx512 => Some(&super::x86::avx512::$table),
                        #[cfg(target_arch = "x86_64")]
                        KernelPath::Avx2 => Some(&super::x86::$table),
                        KernelPath::Portable => Some(&super::portable::$table),
                        #[allow(unreachable_patterns)] // reachable off x86-64
                        _ => None,
                    }
                }
            }
        };
    }

    sealed!(f32, F32);
    sealed!(f64, F64);
}

/// `MR×NR` register tile: `C[0..MR, 0..NR] (+)= A · Bp` over `kc` steps.
///
/// `a` gives `MR` rows of `A` in place, `b` is a packed panel (`kc` groups of
/// `NR` values), `c` the tile's top-left element with row stride `ldc`. With
/// `accumulate` the tile is added to `C`, else it replaces it.
///
/// # Safety
/// The CPU supports the kernel's instruction set, `a` is valid for `kc` steps,
/// `b` holds `kc` groups, and `c` is valid for an `MR×NR` tile with row stride `ldc`.
type MicroKernel<T> = unsafe fn(
    kc: usize,
    a: &dense::APanel<T>,
    b: *const T,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
);

/// The [`MicroKernel`] tile over `B` read where it lies rather than packed: step `p`
/// of `B` is the `NR` values from `b.ptr + b.starts[p]` on. A convolution's column
/// matrix ([`RowsAt`]) is read this way straight from the image: packing it would copy
/// every value once for only `FN / MR` tiles (3 for 16 filters) to read.
///
/// # Safety
/// As [`MicroKernel`], with `b.starts` valid for `kc` steps and each step's `NR` values
/// inside `B`'s slice.
type DirectKernel<T> = unsafe fn(
    kc: usize,
    a: &dense::APanel<T>,
    b: &dense::BRows<T>,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
);

/// Computes a [`dense::SkinnyBlock`]: the last few columns of a product.
///
/// # Safety
/// The CPU supports the kernel's instruction set, `A` has the layout the
/// kernel is for (see [`Kernels::skinny_dot`], [`Kernels::skinny_axpy`]), and
/// the block's pointers are valid as its fields say.
type SkinnyKernel<T> = unsafe fn(block: &dense::SkinnyBlock<'_, T>);

/// Packs a `depth×cols` block of `B` at `(p0, j0)` into `nr`-wide panels.
type PackB<T> = fn(
    b: dense::View<'_, T>,
    p0: usize,
    depth: usize,
    j0: usize,
    cols: usize,
    dst: &mut [std::mem::MaybeUninit<T>],
);

/// Zero-skipping forward rows: `C = A·B (+ bias)` for the rows of `a`/`c`.
///
/// # Safety
/// The CPU supports the kernel's instruction set; `a` is rows×k, `b` k×n,
/// `c` rows×n, `bias` (if any) n.
type SparseForward<T> =
    unsafe fn(k: usize, n: usize, a: &[T], b: &[T], bias: Option<&[T]>, c: &mut [T]);

/// Zero-skipping weight-gradient slice: `C = A[:, cols]ᵀ · D` for the `A`
/// columns `cols.start..cols.start + c.len() / n`, where `a` is m×k, `d` m×n.
///
/// # Safety
/// The CPU supports the kernel's instruction set; the slices have those shapes.
type SparseAtB<T> =
    unsafe fn(m: usize, k: usize, n: usize, a: &[T], d: &[T], first_col: usize, c: &mut [T]);

/// A register tile `rows` rows tall, `rows` less than the table's `mr`, over whole
/// `nr`-wide panels.
#[derive(Clone, Copy)]
struct ShortTile<T> {
    kernel: MicroKernel<T>,
    /// `kernel` reading `B` where it lies.
    direct: DirectKernel<T>,
    rows: usize,
}

/// A register tile `width` columns wide, `width` less than the table's `nr`,
/// that reads the first `width` columns of an `nr`-wide packed panel.
#[derive(Clone, Copy)]
struct NarrowTile<T> {
    kernel: MicroKernel<T>,
    width: usize,
}

/// The zero fraction of `A` from which a zero-skipping kernel beats the dense
/// one, measured by `examples/sparse_crossover.rs` at a training batch (100
/// rows) and at an inference batch (10,000 rows) of the book's 784→50 layer.
/// The dense kernels run closer to the machine's peak on many rows, so the
/// crossover moves up there; `f64::INFINITY` means the dense kernel was never
/// slower.
#[derive(Clone, Copy, Debug)]
struct Crossover {
    /// At 100 rows, and up to [`Crossover::LARGE_FROM`].
    small: f64,
    /// At 10,000 rows, and from [`Crossover::LARGE_FROM`].
    large: f64,
}

impl Crossover {
    /// Rows from which the `large` crossover applies: the geometric middle of
    /// the two batches measured.
    const LARGE_FROM: usize = 1000;

    /// The crossover for a product over `rows` rows of the batch.
    fn at(self, rows: usize) -> f64 {
        if rows >= Self::LARGE_FROM {
            self.large
        } else {
            self.small
        }
    }
}

/// One instruction set's kernels and cache blocking for one element type.
#[doc(hidden)]
pub struct Kernels<T> {
    /// Register tile rows.
    mr: usize,
    /// Register tile columns.
    nr: usize,
    /// Depth of a packed block (k direction).
    kc: usize,
    /// Rows of `A` per pass over the packed `B` block.
    mc: usize,
    /// Columns of a packed `B` block.
    nc: usize,
    micro: MicroKernel<T>,
    /// `micro` reading `B` where it lies, for a [`RowsAt`] `B` (see [`DirectKernel`]).
    direct_micro: Option<DirectKernel<T>>,
    /// A tile narrower than `nr` for the last panel when that panel's real
    /// columns fit in it (e.g. the 2 columns past 48 of a 50-wide layer with
    /// AVX2's 16-wide panels): it costs a fraction of the FMAs of `micro`,
    /// which would multiply padding zeros there.
    narrow_micro: Option<NarrowTile<T>>,
    /// A full-width tile of fewer rows than `mr`, for the last rows of `A` when they
    /// fit in it: 16 filters are 6 + 6 + 4 rows of AVX2 tiles, and the last tile would
    /// otherwise spend six rows of FMAs on four (a ninth of the products of 16 and 32
    /// filters).
    short_micro: Option<ShortTile<T>>,
    /// The last columns past whole panels and narrow tiles when there are at
    /// most half a narrow tile of them (`nr / 4` without one) and `A`'s rows
    /// are contiguous (forward, input gradient): dot products along those
    /// rows cost FMAs for the real columns only, where even `narrow_micro`
    /// spends them on its whole width. A 50-wide f32 layer's 2 last columns
    /// took a fifth of its forward product with `narrow_micro`.
    skinny_dot: Option<SkinnyKernel<T>>,
    /// The same, when `A`'s columns are contiguous (the weight gradient's
    /// `xᵀ`): vectors down the columns of `A` times broadcast values of `B`.
    skinny_axpy: Option<SkinnyKernel<T>>,
    pack_b: PackB<T>,
    sparse_forward: SparseForward<T>,
    sparse_at_b: SparseAtB<T>,
    /// Zero fraction of `A` from which `sparse_forward` beats the dense product.
    sparse_forward_from: Crossover,
    /// Zero fraction of `A` from which `sparse_at_b` beats the dense product.
    sparse_at_b_from: Crossover,
}

/// Checks that `slice` holds a `rows × cols` matrix.
fn check_len<T>(
    operation: &'static str,
    argument: &'static str,
    slice: &[T],
    rows: usize,
    cols: usize,
) -> Result<(), GemmError> {
    let expected = rows.checked_mul(cols).ok_or(GemmError::Overflow {
        operation,
        argument,
        rows,
        cols,
    })?;
    if slice.len() == expected {
        Ok(())
    } else {
        Err(GemmError::Length {
            operation,
            argument,
            rows,
            cols,
            expected,
            found: slice.len(),
        })
    }
}

/// Forward product `C(m×n) = A(m×k) · B(k×n) + bias` (bias broadcast over rows).
///
/// This is `x·W + b` of an affine layer. Without `bias` it is a plain product.
///
/// # Errors
/// [`GemmError::Length`] when a slice's length is not the product of its dimensions.
///
/// ```
/// # use backprop::gemm::{matmul_bias, Sparsity};
/// let a = [1.0_f64, 0.0, 2.0]; // 1×3
/// let b = [1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3×2
/// let mut c = [0.0_f64; 2];
/// matmul_bias(1, 3, 2, &a, &b, None, &mut c, Sparsity::Sparse)?;
/// assert_eq!(c, [11.0, 14.0]);
/// # Ok::<(), backprop::gemm::GemmError>(())
/// ```
#[allow(clippy::too_many_arguments)] // BLAS-style: dimensions, operands, output, mode
pub fn matmul_bias<T: GemmScalar>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    bias: Option<&[T]>,
    c: &mut [T],
    sparsity: Sparsity,
) -> Result<(), GemmError> {
    const OP: &str = "matmul_bias";
    check_len(OP, "a", a, m, k)?;
    check_len(OP, "b", b, k, n)?;
    if let Some(bias) = bias {
        check_len(OP, "bias", bias, 1, n)?;
    }
    check_len(OP, "c", c, m, n)?;
    let kernels = T::gemm_kernels();
    if use_sparse(a, sparsity, kernels.sparse_forward_from.at(m)) {
        sparse::forward(kernels, m, k, n, a, b, bias, c);
    } else {
        dense::forward(kernels, m, k, n, a, b, bias, c);
    }
    Ok(())
}

/// Weight gradient `C(k×n) = Aᵀ · D` for `A` m×k and `D` m×n.
///
/// This is `dW = xᵀ·dout`; pair it with [`column_sums`] for `db`.
///
/// # Errors
/// [`GemmError::Length`] when a slice's length is not the product of its dimensions.
///
/// ```
/// # use backprop::gemm::{matmul_at_b, Sparsity};
/// let x = [1.0_f32, 2.0, 3.0, 4.0]; // 2×2
/// let dout = [1.0_f32, 1.0]; // 2×1
/// let mut dw = [0.0_f32; 2];
/// matmul_at_b(2, 2, 1, &x, &dout, &mut dw, Sparsity::Auto)?;
/// assert_eq!(dw, [4.0, 6.0]);
/// # Ok::<(), backprop::gemm::GemmError>(())
/// ```
pub fn matmul_at_b<T: GemmScalar>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    d: &[T],
    c: &mut [T],
    sparsity: Sparsity,
) -> Result<(), GemmError> {
    const OP: &str = "matmul_at_b";
    check_len(OP, "a", a, m, k)?;
    check_len(OP, "d", d, m, n)?;
    check_len(OP, "c", c, k, n)?;
    let kernels = T::gemm_kernels();
    if use_sparse(a, sparsity, kernels.sparse_at_b_from.at(m)) {
        sparse::at_b(kernels, m, k, n, a, d, c);
    } else {
        dense::at_b(kernels, m, k, n, a, d, c);
    }
    Ok(())
}

/// Input gradient `C(m×k) = D(m×n) · Bᵀ` for `B` k×n (the layer's weight).
///
/// This is `dx = dout·Wᵀ`.
///
/// # Errors
/// [`GemmError::Length`] when a slice's length is not the product of its dimensions.
///
/// ```
/// # use backprop::gemm::matmul_a_bt;
/// let dout = [1.0_f32, 2.0]; // 1×2
/// let w = [1.0_f32, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3×2
/// let mut dx = [0.0_f32; 3];
/// matmul_a_bt(1, 2, 3, &dout, &w, &mut dx)?;
/// assert_eq!(dx, [1.0, 2.0, 3.0]);
/// # Ok::<(), backprop::gemm::GemmError>(())
/// ```
pub fn matmul_a_bt<T: GemmScalar>(
    m: usize,
    n: usize,
    k: usize,
    d: &[T],
    b: &[T],
    c: &mut [T],
) -> Result<(), GemmError> {
    const OP: &str = "matmul_a_bt";
    check_len(OP, "d", d, m, n)?;
    check_len(OP, "b", b, k, n)?;
    check_len(OP, "c", c, m, k)?;
    dense::a_bt(T::gemm_kernels(), m, n, k, d, b, c);
    Ok(())
}

/// `C (+)= A·B` for strided operands: `A` m×k, `B` k×n, and `C` m×n stored with row
/// stride `ldc` (at least n) in `c`, which may hold more (a block of a larger matrix).
///
/// The same packed kernels as the other products, on any layout: a transposed
/// operand is [`MatrixRef::t`], a block of a larger matrix keeps that matrix's row
/// stride. With [`Write::Accumulate`] the product is added to what `C` holds.
///
/// # Errors
/// [`GemmError::Inner`] when `a`'s columns differ from `b`'s rows;
/// [`GemmError::Extent`] when an operand reaches past its slice, or `C` does;
/// [`GemmError::RowStride`] when `ldc` is less than n (and C has several rows).
///
/// ```
/// # use backprop::gemm::{product, MatrixRef, Write};
/// let a = [1.0_f32, 2.0, 3.0, 4.0]; // 2×2
/// let mut c = [1.0_f32, 1.0, 9.0, 1.0, 1.0, 9.0]; // 2×2 inside a 2×3 block
/// // C += Aᵀ · A
/// let a = MatrixRef::row_major(&a, 2, 2);
/// product(a.t(), a, &mut c, 3, Write::Accumulate)?;
/// assert_eq!(c, [11.0, 15.0, 9.0, 15.0, 21.0, 9.0]);
/// # Ok::<(), backprop::gemm::GemmError>(())
/// ```
pub fn product<T: GemmScalar>(
    a: MatrixRef<'_, T>,
    b: MatrixRef<'_, T>,
    c: &mut [T],
    ldc: usize,
    write: Write,
) -> Result<(), GemmError> {
    product_of(Operand::Strided(a), Operand::Strided(b), c, ldc, write)
}

/// A matrix whose rows start at listed offsets of one slice, `cols` contiguous values
/// each: row `r` is `data[starts[r]..starts[r] + cols]`. A convolution's column matrix
/// is one over the padded image, row `(c, i, j)` starting at `(c·Hp + i)·Wp + j`: the
/// products read it where it lies instead of from an unfolded copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowsAt<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) starts: &'a [usize],
    pub(crate) cols: usize,
}

/// An operand of [`product_of`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operand<'a, T> {
    Strided(MatrixRef<'a, T>),
    RowsAt(RowsAt<'a, T>),
}

impl<'a, T> Operand<'a, T> {
    fn rows(&self) -> usize {
        match self {
            Operand::Strided(m) => m.rows,
            Operand::RowsAt(r) => r.starts.len(),
        }
    }

    fn cols(&self) -> usize {
        match self {
            Operand::Strided(m) => m.cols,
            Operand::RowsAt(r) => r.cols,
        }
    }

    fn check(&self, operation: &'static str, argument: &'static str) -> Result<(), GemmError> {
        match self {
            Operand::Strided(m) => m.check(operation, argument),
            // Built inside the crate (a convolution's geometry), never from user input.
            Operand::RowsAt(r) => {
                let fits = |&start: &usize| r.cols == 0 || start + r.cols <= r.data.len();
                assert!(
                    r.starts.iter().all(fits),
                    "{operation}: a row of {argument} passes its slice"
                );
                Ok(())
            }
        }
    }

    fn view(self) -> dense::View<'a, T> {
        match self {
            Operand::Strided(m) => dense::View::strided(m.data, m.row_stride, m.col_stride),
            Operand::RowsAt(r) => dense::View {
                row_starts: Some(r.starts),
                ..dense::View::strided(r.data, 0, 1)
            },
        }
    }
}

/// [`product`] over operands that may be [`RowsAt`].
pub(crate) fn product_of<T: GemmScalar>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [T],
    ldc: usize,
    write: Write,
) -> Result<(), GemmError> {
    const OP: &str = "product";
    if a.cols() != b.rows() {
        return Err(GemmError::Inner {
            operation: OP,
            a_cols: a.cols(),
            b_rows: b.rows(),
        });
    }
    a.check(OP, "a")?;
    b.check(OP, "b")?;
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    if ldc < n && m > 1 {
        return Err(GemmError::RowStride {
            operation: OP,
            ldc,
            cols: n,
        });
    }
    let ldc = ldc.max(n);
    let out = MatrixRef {
        data: &*c,
        rows: m,
        cols: n,
        row_stride: ldc,
        col_stride: 1,
    };
    out.check(OP, "c")?;
    // A zero-sized product reads nothing (its views may be empty slices).
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if write == Write::Overwrite {
            c.chunks_mut(ldc)
                .take(m)
                .for_each(|row| row[..n].fill(T::GEMM_ZERO));
        }
        return Ok(());
    }
    let (a, b, init) = (a.view(), b.view(), write.into());
    dense::parallel(T::gemm_kernels(), m, k, n, a, b, init, c, ldc);
    Ok(())
}

/// Column sums of `D` (m×n) into `sums` (n): the bias gradient `db = Σ_rows dout`.
///
/// # Errors
/// [`GemmError::Length`] when a slice's length is not the product of its dimensions.
///
/// ```
/// # use backprop::gemm::column_sums;
/// let mut db = [0.0_f32; 2];
/// column_sums(2, 2, &[1.0, 2.0, 3.0, 4.0], &mut db)?;
/// assert_eq!(db, [4.0, 6.0]);
/// # Ok::<(), backprop::gemm::GemmError>(())
/// ```
pub fn column_sums<T: GemmScalar>(
    m: usize,
    n: usize,
    d: &[T],
    sums: &mut [T],
) -> Result<(), GemmError> {
    check_len("column_sums", "d", d, m, n)?;
    check_len("column_sums", "sums", sums, 1, n)?;
    sums.fill(T::GEMM_ZERO);
    if n > 0 {
        // Row by row keeps the inner loop contiguous, so it vectorises.
        for row in d.chunks_exact(n) {
            for (sum, &value) in sums.iter_mut().zip(row) {
                *sum += value;
            }
        }
    }
    Ok(())
}

/// Runs of consecutive elements that [`zero_fraction`] samples in a long slice.
const ZERO_FRACTION_RUNS: usize = 64;

/// Elements per sampled run: a cache line of f32.
const ZERO_FRACTION_RUN_LEN: usize = 16;

/// Below this many multiply-adds per thread, handing part of a product to another
/// thread costs more than it saves: the book's batch-100 products (3.9 M) are split,
/// a 50×10 layer's are not. `docs/performance.md` has the measurements.
const MIN_FMAS_PER_THREAD: usize = 1 << 20;

/// Blocks of rows per thread when a product is split: a thread that starts late or
/// is preempted (the machine may be shared) delays one small block, not half the
/// product.
const BLOCKS_PER_THREAD: usize = 4;

/// Estimated fraction of exact zeros in `a` (0.0 for an empty slice).
///
/// Slices of up to 4096 elements are counted exactly; longer ones are sampled
/// in 64 evenly spaced runs of 16 consecutive elements (1,024 values; on
/// uncorrelated zeros the standard error is at most 1.6 percentage points,
/// more where zeros cluster, as on an image's border). Runs rather than
/// scattered values read 64 cache lines, not a thousand: the batch was just
/// written by several cores, and pulling its lines into this one's cache would
/// make the next writes take them back.
///
/// ```
/// # use backprop::gemm::zero_fraction;
/// assert_eq!(zero_fraction(&[0.0_f32, 1.0, 0.0, 2.0]), 0.5);
/// ```
pub fn zero_fraction<T: GemmScalar>(a: &[T]) -> f64 {
    let count_zeros = |values: &[T]| values.iter().filter(|&&x| x == T::GEMM_ZERO).count();
    if a.len() <= 4096 {
        return if a.is_empty() {
            0.0
        } else {
            count_zeros(a) as f64 / a.len() as f64
        };
    }
    let spacing = a.len() / ZERO_FRACTION_RUNS;
    let zeros: usize = a
        .chunks_exact(spacing)
        .take(ZERO_FRACTION_RUNS)
        .map(|chunk| count_zeros(&chunk[..ZERO_FRACTION_RUN_LEN]))
        .sum();
    zeros as f64 / (ZERO_FRACTION_RUNS * ZERO_FRACTION_RUN_LEN) as f64
}

fn use_sparse<T: GemmScalar>(a: &[T], sparsity: Sparsity, crossover: f64) -> bool {
    match sparsity {
        Sparsity::Dense => false,
        Sparsity::Sparse => true,
        Sparsity::Auto => zero_fraction(a) >= crossover,
    }
}
