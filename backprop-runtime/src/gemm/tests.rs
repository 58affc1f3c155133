//! Every kernel table against a naive triple loop accumulated in f64.

use super::*;

/// Deterministic xorshift generator: no dependency, same data on every run.
struct Lcg(u64);

impl Lcg {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// `len` values in [-1, 1), each zero with probability `zeros`.
    fn matrix<T: TestFloat>(&mut self, len: usize, zeros: f64) -> Vec<T> {
        (0..len)
            .map(|_| {
                if self.next_unit() < zeros {
                    T::GEMM_ZERO
                } else {
                    T::from_f64(2.0 * self.next_unit() - 1.0)
                }
            })
            .collect()
    }
}

trait TestFloat: GemmScalar {
    const EPSILON: f64;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// The kernel tables to check on this machine.
    /// Every path this CPU runs, called directly rather than through
    /// [`kernel_path`], which is fixed for the whole process.
    fn tables() -> Vec<(&'static str, &'static Kernels<Self>)> {
        KernelPath::ALL
            .into_iter()
            .filter(|path| path.is_supported())
            .filter_map(|path| Some((path.name(), Self::gemm_kernels_for(path)?)))
            .collect()
    }
}

impl TestFloat for f32 {
    const EPSILON: f64 = f32::EPSILON as f64;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl TestFloat for f64 {
    const EPSILON: f64 = f64::EPSILON;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// Naive `C(m×n) = bias + Σ_p A(i,p)·B(p,j)` over strided views, returning
/// the f64 result and the rounding-error scale `Σ_p |A(i,p)·B(p,j)| + |bias|`.
struct Reference {
    values: Vec<f64>,
    scale: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
fn reference<T: TestFloat>(
    (m, k, n): (usize, usize, usize),
    a: impl Fn(usize, usize) -> T,
    b: impl Fn(usize, usize) -> T,
    bias: Option<&[T]>,
) -> Reference {
    let mut values = vec![0.0; m * n];
    let mut scale = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut sum = bias.map_or(0.0, |bias| bias[j].to_f64());
            let mut magnitude = sum.abs();
            for p in 0..k {
                let product = a(i, p).to_f64() * b(p, j).to_f64();
                sum += product;
                magnitude += product.abs();
            }
            values[i * n + j] = sum;
            scale[i * n + j] = magnitude;
        }
    }
    Reference { values, scale }
}

/// Asserts `|c − ref| ≤ 2(k+2)·ε·scale` elementwise: the classic bound for a
/// length-k dot product, doubled to cover the f64 reference's own rounding.
fn assert_close<T: TestFloat>(what: &str, k: usize, c: &[T], expected: &Reference) {
    assert_eq!(c.len(), expected.values.len(), "{what}: length");
    for (index, ((&got, &want), &scale)) in c
        .iter()
        .zip(&expected.values)
        .zip(&expected.scale)
        .enumerate()
    {
        let tolerance = 2.0 * (k as f64 + 2.0) * T::EPSILON * scale + f64::MIN_POSITIVE;
        let error = (got.to_f64() - want).abs();
        assert!(
            error <= tolerance,
            "{what}: element {index}: got {got:?}, want {want}, error {error:e} > {tolerance:e}"
        );
    }
}

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (3, 7, 5),
    (0, 5, 3),
    (4, 0, 3),
    (5, 3, 0),
    (13, 37, 29),
    (7, 300, 19),
    (100, 50, 10),
    (200, 20, 150),
    (100, 784, 50),
    // Columns past whole panels (2 of 50, 1 to 4 past 16, alone) meet the
    // skinny kernels, in both layouts, with edge rows and several k blocks.
    (61, 100, 50),
    (37, 611, 18),
    (9, 53, 33),
    (100, 261, 2),
    (5, 300, 4),
    (50, 17, 19),
    (13, 9, 20),
    (784, 100, 10),
    (300, 70, 17),
    (520, 40, 50),
    // The AVX-512 tables' edges: 48-wide f32 and 24-wide f64 panels, 16- and
    // 8-wide narrow tiles, up to 8 skinny columns, 8-row tiles.
    (29, 130, 64),
    (17, 45, 60),
    (11, 300, 56),
    (8, 1, 30),
    (40, 257, 28),
    (23, 64, 97),
    // A last block of whole panels and skinny columns that together pass `nc`: 64
    // panel columns and 2 skinny ones in f64 (AVX2), 128 and 4 in f32.
    (7, 300, 62),
    (5, 260, 124),
];

/// Runs `check(table_name, kernels, sparsity, zeros)` for every table,
/// dense and sparse kernels, on dense and on 81 %-zero data.
fn for_each_variant<T: TestFloat>(mut check: impl FnMut(&str, &Kernels<T>, bool, f64)) {
    for (name, kernels) in T::tables() {
        for sparse in [false, true] {
            for zeros in [0.0, 0.81] {
                check(name, kernels, sparse, zeros);
            }
        }
    }
}

fn check_forward<T: TestFloat>() {
    let mut rng = Lcg(0x5eed);
    for_each_variant::<T>(|name, kernels, sparse, zeros| {
        for &(m, k, n) in SHAPES {
            let a = rng.matrix::<T>(m * k, zeros);
            let b = rng.matrix::<T>(k * n, 0.0);
            let bias = rng.matrix::<T>(n, 0.0);
            for bias in [None, Some(bias.as_slice())] {
                let mut c = rng.matrix::<T>(m * n, 0.0);
                if sparse {
                    sparse::forward(kernels, m, k, n, &a, &b, bias, &mut c);
                } else {
                    dense::forward(kernels, m, k, n, &a, &b, bias, &mut c);
                }
                let expected = reference((m, k, n), |i, p| a[i * k + p], |p, j| b[p * n + j], bias);
                let what = format!(
                    "forward {name} sparse={sparse} zeros={zeros} {m}×{k}·{k}×{n} bias={}",
                    bias.is_some()
                );
                assert_close(&what, k, &c, &expected);
            }
        }
    });
}

fn check_at_b<T: TestFloat>() {
    let mut rng = Lcg(0xa7b);
    for_each_variant::<T>(|name, kernels, sparse, zeros| {
        for &(m, k, n) in SHAPES {
            let a = rng.matrix::<T>(m * k, zeros);
            let d = rng.matrix::<T>(m * n, 0.0);
            let mut c = rng.matrix::<T>(k * n, 0.0);
            if sparse {
                sparse::at_b(kernels, m, k, n, &a, &d, &mut c);
            } else {
                dense::at_b(kernels, m, k, n, &a, &d, &mut c);
            }
            let expected = reference((k, m, n), |i, r| a[r * k + i], |r, j| d[r * n + j], None);
            let what = format!("at_b {name} sparse={sparse} zeros={zeros} ({m}×{k})ᵀ·{m}×{n}");
            assert_close(&what, m, &c, &expected);
        }
    });
}

fn check_a_bt<T: TestFloat>() {
    let mut rng = Lcg(0xb7);
    for (name, kernels) in T::tables() {
        for &(m, n, k) in SHAPES {
            let d = rng.matrix::<T>(m * n, 0.5);
            let b = rng.matrix::<T>(k * n, 0.0);
            let mut c = rng.matrix::<T>(m * k, 0.0);
            dense::a_bt(kernels, m, n, k, &d, &b, &mut c);
            let expected = reference((m, n, k), |i, p| d[i * n + p], |p, j| b[j * n + p], None);
            assert_close(&format!("a_bt {name} {m}×{n}·({k}×{n})ᵀ"), n, &c, &expected);
        }
    }
}

#[test]
fn forward_matches_naive_f32() {
    check_forward::<f32>();
}

#[test]
fn forward_matches_naive_f64() {
    check_forward::<f64>();
}

#[test]
fn weight_gradient_matches_naive_f32() {
    check_at_b::<f32>();
}

#[test]
fn weight_gradient_matches_naive_f64() {
    check_at_b::<f64>();
}

#[test]
fn input_gradient_matches_naive_f32() {
    check_a_bt::<f32>();
}

#[test]
fn input_gradient_matches_naive_f64() {
    check_a_bt::<f64>();
}

#[test]
fn public_functions_match_naive_with_two_threads() {
    // Large enough to be split (by column groups; the tall one also by row
    // chunks; the book's layer, with too few panels to share, by both, its
    // last two columns skinny). Other tests may hold the pool, in which case
    // the call runs serially and must give the same result.
    set_threads(2);
    let mut rng = Lcg(0x2);
    for (m, k, n) in [(192, 400, 120), (4400, 60, 40), (100, 784, 50)] {
        let a = rng.matrix::<f64>(m * k, 0.81);
        let b = rng.matrix::<f64>(k * n, 0.0);
        let d = rng.matrix::<f64>(m * n, 0.0);
        let bias = rng.matrix::<f64>(n, 0.0);
        for sparsity in [Sparsity::Dense, Sparsity::Sparse, Sparsity::Auto] {
            let mut c = vec![0.0; m * n];
            matmul_bias(m, k, n, &a, &b, Some(&bias), &mut c, sparsity).unwrap();
            let expected = reference(
                (m, k, n),
                |i, p| a[i * k + p],
                |p, j| b[p * n + j],
                Some(&bias),
            );
            assert_close(
                &format!("matmul_bias {m}×{k}×{n} {sparsity:?}"),
                k,
                &c,
                &expected,
            );

            let mut dw = vec![0.0; k * n];
            matmul_at_b(m, k, n, &a, &d, &mut dw, sparsity).unwrap();
            let expected = reference((k, m, n), |i, r| a[r * k + i], |r, j| d[r * n + j], None);
            assert_close(
                &format!("matmul_at_b {m}×{k}×{n} {sparsity:?}"),
                m,
                &dw,
                &expected,
            );
        }
        let mut dx = vec![0.0; m * k];
        matmul_a_bt(m, n, k, &d, &b, &mut dx).unwrap();
        let expected = reference((m, n, k), |i, p| d[i * n + p], |p, j| b[j * n + p], None);
        assert_close(&format!("matmul_a_bt {m}×{n}×{k}"), n, &dx, &expected);
    }
}

#[test]
fn pool_runs_every_part_once_on_distinct_threads() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    set_threads(2);
    // Parts are claimed, so a fast caller may run both itself; each part
    // therefore waits (briefly) for the other to start. Another test may
    // also hold the workers: retry until this job gets them.
    let mut distinct = false;
    for _ in 0..100 {
        let ran = Mutex::new(Vec::new());
        let started = AtomicUsize::new(0);
        pool::run(2, 2, &|part| {
            started.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_millis(20);
            while started.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            ran.lock()
                .unwrap()
                .push((part, std::thread::current().id()));
        });
        let mut ran = ran.into_inner().unwrap();
        ran.sort_by_key(|&(part, _)| part);
        assert_eq!(
            ran.iter().map(|&(part, _)| part).collect::<Vec<_>>(),
            [0, 1]
        );
        if ran[0].1 != ran[1].1 {
            distinct = true;
            break;
        }
    }
    assert!(distinct, "part 1 never ran on a worker thread");
}

#[test]
fn caller_claims_from_the_front_and_workers_from_the_back() {
    use std::sync::Mutex;
    set_threads(2);
    let caller = std::thread::current().id();
    for _ in 0..50 {
        let ran = Mutex::new(Vec::new());
        pool::run(8, 2, &|part| {
            // Long enough for a spinning worker to join in.
            std::thread::sleep(std::time::Duration::from_micros(50));
            let on_caller = std::thread::current().id() == caller;
            ran.lock().unwrap().push((part, on_caller));
        });
        let mut ran = ran.into_inner().unwrap();
        ran.sort_by_key(|&(part, _)| part);
        let parts: Vec<usize> = ran.iter().map(|&(part, _)| part).collect();
        assert_eq!(parts, (0..8).collect::<Vec<_>>(), "every part once");
        // The caller's parts are a prefix, the worker's the rest (whether or
        // not a worker joined in this time).
        let callers = ran.iter().take_while(|&&(_, on_caller)| on_caller).count();
        assert!(
            ran[callers..].iter().all(|&(_, on_caller)| !on_caller),
            "caller and worker parts interleave: {ran:?}"
        );
    }
}

#[test]
fn within_split_keeps_every_part_on_the_calling_thread() {
    use std::sync::Mutex;
    set_threads(2);
    let caller = std::thread::current().id();
    let ran = Mutex::new(Vec::new());
    // Each part lingers, so a worker would have ample time to claim one.
    within_split(|| {
        pool::run(8, 2, &|part| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            ran.lock()
                .unwrap()
                .push((part, std::thread::current().id()));
        })
    });
    let ran = ran.into_inner().unwrap();
    assert_eq!(
        ran.iter().map(|&(part, _)| part).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>(),
        "parts run in order, once each"
    );
    assert!(ran.iter().all(|&(_, thread)| thread == caller));
}

#[test]
fn sparse_kernels_treat_nan_as_non_zero() {
    for (name, kernels) in <f32 as TestFloat>::tables() {
        let a = [f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = [1.0_f32; 9 * 3];
        let mut c = [0.0_f32; 3];
        sparse::forward(kernels, 1, 9, 3, &a, &b, None, &mut c);
        assert!(c.iter().all(|x| x.is_nan()), "{name}: {c:?}");
        let mut dw = [0.0_f32; 9];
        sparse::at_b(kernels, 1, 9, 1, &a, &[1.0], &mut dw);
        assert!(
            dw[0].is_nan() && dw[1..].iter().all(|&x| x == 0.0),
            "{name}: {dw:?}"
        );
    }
}

#[test]
fn column_sums_match_naive() {
    let (m, n) = (7, 13);
    let d = Lcg(0x3).matrix::<f64>(m * n, 0.0);
    let mut sums = vec![1.0; n];
    column_sums(m, n, &d, &mut sums).unwrap();
    for (j, &sum) in sums.iter().enumerate() {
        let expected: f64 = (0..m).map(|i| d[i * n + j]).sum();
        assert!((sum - expected).abs() <= 1e-15 * m as f64, "column {j}");
    }
}

#[test]
fn length_errors_name_argument_and_sizes() {
    let mut c = [0.0_f32; 6];
    let error =
        matmul_bias(2, 3, 3, &[0.0; 6], &[0.0; 8], None, &mut c, Sparsity::Dense).unwrap_err();
    assert_eq!(
        error.to_string(),
        "matmul_bias: `b` must be 3×3 = 9 elements, found 8"
    );
    let error = matmul_at_b(
        2,
        3,
        1,
        &[0.0_f64; 6],
        &[0.0; 2],
        &mut [0.0; 4],
        Sparsity::Auto,
    )
    .unwrap_err();
    assert!(matches!(
        error,
        GemmError::Length {
            argument: "c",
            expected: 3,
            found: 4,
            ..
        }
    ));
    let error = matmul_a_bt(usize::MAX, 2, 1, &[0.0_f32], &[0.0; 2], &mut []).unwrap_err();
    assert!(matches!(error, GemmError::Overflow { argument: "d", .. }));
    let error = column_sums(2, 2, &[0.0_f32; 4], &mut [0.0; 3]).unwrap_err();
    assert!(matches!(
        error,
        GemmError::Length {
            argument: "sums",
            ..
        }
    ));
}

#[test]
fn zero_fraction_counts_small_and_samples_large() {
    assert_eq!(zero_fraction::<f32>(&[]), 0.0);
    assert_eq!(zero_fraction(&[0.0_f64, 1.0, 0.0, 0.0]), 0.75);
    let sparse = Lcg(0x4).matrix::<f32>(100 * 784, 0.81);
    let exact = sparse.iter().filter(|&&x| x == 0.0).count() as f64 / sparse.len() as f64;
    assert!(
        (zero_fraction(&sparse) - exact).abs() < 0.05,
        "{} vs {exact}",
        zero_fraction(&sparse)
    );
    // The samples cover the whole slice evenly: zeros in its first half only.
    let mut halves = vec![1.0_f32; 100 * 784];
    halves[..50 * 784].fill(0.0);
    assert_eq!(zero_fraction(&halves), 0.5);
}

#[test]
fn blocking_fits_the_stack_buffers() {
    fn check<T>(kernels: &Kernels<T>) {
        assert!(kernels.mr * kernels.nr <= dense::MAX_TILE);
        assert!(kernels.mr <= dense::MAX_MR);
        let skinny_room = kernels.nr / 2;
        let b_block = kernels.kc * (kernels.nc + skinny_room) * size_of::<T>();
        assert!(b_block <= dense::B_BLOCK_BYTES);
        assert_eq!(kernels.mc % kernels.mr, 0);
        assert_eq!(kernels.nc % kernels.nr, 0);
        if let Some(narrow) = &kernels.narrow_micro {
            assert!(narrow.width < kernels.nr);
        }
    }
    for path in KernelPath::ALL {
        <f32 as sealed::Sealed>::gemm_kernels_for(path).map(check);
        <f64 as sealed::Sealed>::gemm_kernels_for(path).map(check);
    }
}

/// The pieces `split_pass` hands to `body`, in order: (first element, length).
fn pieces_of_a_pass(len: usize, grain: usize) -> Vec<(usize, usize)> {
    use std::sync::Mutex;
    let mut data = vec![0_u32; len];
    let pieces = Mutex::new(Vec::new());
    split_pass(&mut data, grain, &|first, piece| {
        for (offset, value) in piece.iter_mut().enumerate() {
            *value += (first + offset) as u32 + 1;
        }
        pieces.lock().unwrap().push((first, piece.len()));
    });
    let expected: Vec<u32> = (1..=len as u32).collect();
    assert_eq!(
        data, expected,
        "len {len}, grain {grain}: every element once"
    );
    let mut pieces = pieces.into_inner().unwrap();
    pieces.sort();
    pieces
}

#[test]
fn a_pass_covers_every_element_once_in_whole_grains() {
    set_threads(2);
    for (len, grain) in [
        (0, 16),
        (1, 16),
        (100, 16),
        (784 * 100, 784),
        (1001, 7),
        (5000, 7),
    ] {
        let pieces = pieces_of_a_pass(len, grain);
        // From 16 KiB (4096 u32) a pass is shared between the two threads.
        let wanted = if len * 4 >= 16 * 1024 { 2 } else { 1 };
        assert_eq!(pieces.len(), wanted, "len {len}");
        for window in pieces.windows(2) {
            assert_eq!(window[0].1 % grain, 0, "only the last piece may be partial");
            assert_eq!(
                window[0].0 + window[0].1,
                window[1].0,
                "pieces are contiguous"
            );
        }
    }
}

#[test]
fn a_pass_inside_a_split_stays_on_its_thread() {
    set_threads(2);
    let pieces = within_split(|| pieces_of_a_pass(784 * 100, 784));
    assert_eq!(pieces, [(0, 784 * 100)]);
}

/// `product` on operands read through strides (a transpose, a block of a wider
/// matrix), into a block of a wider `C`, overwriting and accumulating, against the
/// naive sum; the columns of `C` past the block stay untouched.
#[test]
fn strided_products_overwrite_or_accumulate_into_a_block() {
    let mut rng = Lcg(0x51);
    for &(m, k, n) in &[
        (1, 1, 1),
        (7, 5, 3),
        (30, 25, 576),
        (144, 16, 50),
        (3, 300, 17),
    ] {
        // A is read as the transpose of a k×m matrix; B as the first n columns of k×(n+3).
        let a_t = rng.matrix::<f64>(k * m, 0.0);
        let b_wide = rng.matrix::<f64>(k * (n + 3), 0.0);
        let ldc = n + 2;
        let start = rng.matrix::<f64>(m * ldc, 0.0);
        let a = MatrixRef::row_major(&a_t, k, m).t();
        let b = MatrixRef {
            data: &b_wide,
            rows: k,
            cols: n,
            row_stride: n + 3,
            col_stride: 1,
        };
        let naive = |i: usize, j: usize| -> f64 {
            (0..k)
                .map(|p| a_t[p * m + i] * b_wide[p * (n + 3) + j])
                .sum()
        };
        for write in [Write::Overwrite, Write::Accumulate] {
            let mut c = start.clone();
            product(a, b, &mut c, ldc, write).unwrap();
            for i in 0..m {
                for j in 0..ldc {
                    let (found, before) = (c[i * ldc + j], start[i * ldc + j]);
                    let expected = match (j < n, write) {
                        (false, _) => before,
                        (true, Write::Overwrite) => naive(i, j),
                        (true, Write::Accumulate) => before + naive(i, j),
                    };
                    assert!(
                        (found - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
                        "{m}×{k}×{n} {write:?} at ({i}, {j}): {found} vs {expected}"
                    );
                }
            }
        }
    }
}

/// `product_of` with an operand whose rows start at listed, overlapping offsets (a
/// convolution's column matrix read in its image), as `A` and as `B`, against the
/// naive sum.
#[test]
fn products_read_rows_at_listed_starts() {
    let mut rng = Lcg(0x7a);
    for &(m, k, n) in &[
        (1, 1, 1),
        (16, 9, 838),
        (30, 25, 668),
        (144, 70, 16),
        (7, 300, 62),
    ] {
        let image = rng.matrix::<f64>(3 * (m.max(k) + n), 0.0);
        // Row r of the listed operand starts 3r/2 further on: rows overlap.
        let starts_for = |rows: usize| (0..rows).map(|r| 3 * r / 2).collect::<Vec<usize>>();
        let (a_starts, b_starts) = (starts_for(m), starts_for(k));
        let a_plain = rng.matrix::<f64>(m * k, 0.0);
        let b_plain = rng.matrix::<f64>(k * n, 0.0);
        let listed_a = Operand::RowsAt(RowsAt {
            data: &image,
            starts: &a_starts,
            cols: k,
        });
        let listed_b = Operand::RowsAt(RowsAt {
            data: &image,
            starts: &b_starts,
            cols: n,
        });
        let plain_a = Operand::Strided(MatrixRef::row_major(&a_plain, m, k));
        let plain_b = Operand::Strided(MatrixRef::row_major(&b_plain, k, n));
        let cases = [
            (
                "listed A",
                listed_a,
                plain_b,
                reference(
                    (m, k, n),
                    |i, p| image[a_starts[i] + p],
                    |p, j| b_plain[p * n + j],
                    None,
                ),
            ),
            (
                "listed B",
                plain_a,
                listed_b,
                reference(
                    (m, k, n),
                    |i, p| a_plain[i * k + p],
                    |p, j| image[b_starts[p] + j],
                    None,
                ),
            ),
        ];
        for (what, a, b, expected) in cases {
            let mut c = vec![0.0; m * n];
            product_of(a, b, &mut c, n, Write::Overwrite).unwrap();
            assert_close(&format!("{what} {m}×{k}×{n}"), k, &c, &expected);
        }
    }
}

#[test]
fn strided_products_refuse_operands_that_do_not_fit() {
    let values = [1.0_f32; 6];
    let a = MatrixRef::row_major(&values, 2, 3);
    let mut c = [0.0_f32; 4];
    let error = product(a, a, &mut c, 2, Write::Overwrite).unwrap_err();
    assert_eq!(
        error,
        GemmError::Inner {
            operation: "product",
            a_cols: 3,
            b_rows: 2
        }
    );
    let short = MatrixRef::row_major(&values[..5], 2, 3);
    let error = product(short, a.t(), &mut c, 2, Write::Overwrite).unwrap_err();
    assert!(matches!(
        error,
        GemmError::Extent {
            argument: "a",
            needed: 6,
            found: 5,
            ..
        }
    ));
    let error = product(a, a.t(), &mut c, 1, Write::Overwrite).unwrap_err();
    assert!(matches!(
        error,
        GemmError::RowStride {
            ldc: 1,
            cols: 2,
            ..
        }
    ));
    let error = product(a, a.t(), &mut c[..3], 2, Write::Overwrite).unwrap_err();
    assert!(matches!(error, GemmError::Extent { argument: "c", .. }));
    assert_eq!(c, [0.0; 4], "a refused product writes nothing");
}
