//! The products allocate nothing once warm, on one thread and on two.
//!
//! A counting global allocator sees every allocation in the process, so this
//! file holds a single test, and allocations of the test harness's main
//! thread (which runs concurrently with the test's own thread, e.g. to track
//! running tests) are not counted. Finding the main thread needs `gettid`,
//! hence Linux only.
#![cfg(target_os = "linux")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use backprop_runtime::gemm::{
    GemmError, GemmScalar, Sparsity, column_sums, matmul_a_bt, matmul_at_b, matmul_bias,
    set_threads,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// Thread id whose allocations are not counted (0: none).
static IGNORED_THREAD: AtomicI32 = AtomicI32::new(0);

unsafe extern "C" {
    fn gettid() -> i32;
}

thread_local! {
    static THREAD_ID: Cell<i32> = const { Cell::new(0) };
}

fn current_thread_id() -> i32 {
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            // SAFETY: gettid has no preconditions.
            id.set(unsafe { gettid() });
        }
        id.get()
    })
}

fn count() {
    if current_thread_id() != IGNORED_THREAD.load(Ordering::SeqCst) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Operands of a 784→50 layer at batch 100 (large enough to be split over
/// two threads) with 81 % zeros in `x`.
struct Operands<T> {
    x: Vec<T>,
    w: Vec<T>,
    bias: Vec<T>,
    dout: Vec<T>,
    y: Vec<T>,
    dw: Vec<T>,
    db: Vec<T>,
    dx: Vec<T>,
}

// Rows enough for the products to be split between two threads.
const M: usize = 400;
const K: usize = 784;
const N: usize = 50;

impl<T: GemmScalar> Operands<T> {
    fn new(one: T) -> Self {
        let sparse_ones = |len: usize| {
            (0..len)
                .map(|i| if i % 16 < 3 { one } else { T::default() })
                .collect()
        };
        Self {
            x: sparse_ones(M * K),
            w: vec![one; K * N],
            bias: vec![one; N],
            dout: vec![one; M * N],
            y: vec![T::default(); M * N],
            dw: vec![T::default(); K * N],
            db: vec![T::default(); N],
            dx: vec![T::default(); M * K],
        }
    }

    fn run_all(&mut self) -> Result<(), GemmError> {
        for sparsity in [Sparsity::Dense, Sparsity::Sparse, Sparsity::Auto] {
            let bias = Some(self.bias.as_slice());
            matmul_bias(M, K, N, &self.x, &self.w, bias, &mut self.y, sparsity)?;
            matmul_at_b(M, K, N, &self.x, &self.dout, &mut self.dw, sparsity)?;
            // Small products take the single-thread path.
            matmul_bias(
                3,
                7,
                5,
                &self.x[..21],
                &self.w[..35],
                None,
                &mut self.y[..15],
                sparsity,
            )?;
        }
        matmul_a_bt(M, N, K, &self.dout, &self.w, &mut self.dx)?;
        column_sums(M, N, &self.dout, &mut self.db)
    }
}

fn allocations_while(mut body: impl FnMut() -> Result<(), GemmError>) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..3 {
        body().expect("valid shapes");
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

/// Whether a thread named `name` exists in this process.
fn thread_named(name: &str) -> bool {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
}

#[test]
fn products_allocate_nothing_once_warm() {
    // The main thread's id is the process id; when the test runs on it
    // (--test-threads=1) there is no concurrent harness work to ignore.
    let main_thread = std::process::id() as i32;
    if current_thread_id() != main_thread {
        IGNORED_THREAD.store(main_thread, Ordering::SeqCst);
    }
    let mut single = Operands::new(1.0_f32);
    let mut double = Operands::new(1.0_f64);
    for threads in [2, 1] {
        set_threads(threads);
        // Warm-up: reads the environment, detects the CPU, starts workers.
        single.run_all().expect("valid shapes");
        double.run_all().expect("valid shapes");
        assert_eq!(
            allocations_while(|| single.run_all()),
            0,
            "f32, {threads} threads"
        );
        assert_eq!(
            allocations_while(|| double.run_all()),
            0,
            "f64, {threads} threads"
        );
    }
    // Each output element of x·W + b sums 3 ones per 16 inputs, plus the bias.
    let expected = (K / 16 * 3 + 1) as f32;
    assert!(single.y[..M * N].iter().skip(15).all(|&v| v == expected));
    assert!(
        thread_named("backprop-gemm-1"),
        "the two-thread runs never started a worker"
    );
}
