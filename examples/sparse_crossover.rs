//! Where zero skipping starts to pay: times the dense and the zero-skipping kernels of
//! the book's first layer (784→50) on inputs with a growing share of zeros, placed at
//! random, and prints the share from which the zero-skipping one is faster. The
//! crossovers in the kernel tables (`sparse_forward_from`, `sparse_at_b_from`) come
//! from this program.
//!
//! `cargo run --release --example sparse_crossover -- --rows 100`
//! (`BACKPROP_KERNELS=avx2` measures another path; `BACKPROP_THREADS=1` one thread.)

use std::time::Instant;

use backprop::Float;
use backprop::gemm::{Sparsity, kernel_path, matmul_at_b, matmul_bias};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Time the dense and zero-skipping products over a range of zero shares.
#[derive(Parser, Debug)]
struct Args {
    /// Rows of the batch (the forward product's m, the weight gradient's depth).
    #[arg(long, default_value_t = 100)]
    rows: usize,
    /// Timed repetitions per point (the best is kept).
    #[arg(long, default_value_t = 30)]
    repeats: usize,
}

const INPUTS: usize = 784;
const OUTPUTS: usize = 50;

/// The best of `repeats` timings of `work`, in seconds, after one untimed call.
fn best_seconds(repeats: usize, mut work: impl FnMut()) -> f64 {
    work();
    (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Prints, for each zero share, sparse time / dense time of the forward and the weight
/// gradient products, then the first share from which each ratio stays below 1.
fn measure<T: Float>(args: &Args, rng: &mut StdRng) {
    let rows = args.rows;
    let random = |rng: &mut StdRng, len: usize| -> Vec<T> {
        (0..len)
            .map(|_| T::from_f64(rng.random::<f64>() - 0.5))
            .collect()
    };
    let (w, dout) = (random(rng, INPUTS * OUTPUTS), random(rng, rows * OUTPUTS));
    let mut y = vec![T::zero(); rows * OUTPUTS];
    let mut dw = vec![T::zero(); INPUTS * OUTPUTS];
    let shares: Vec<f64> = (6..=19).map(|step| f64::from(step) * 0.05).collect();
    let mut crossover = [None, None];
    println!(
        "{}, {rows} rows, kernels {}: zero share, forward sparse/dense, weight gradient sparse/dense",
        std::any::type_name::<T>(),
        kernel_path()
    );
    for &share in &shares {
        let x: Vec<T> = (0..rows * INPUTS)
            .map(|_| {
                if rng.random::<f64>() < share {
                    T::zero()
                } else {
                    T::from_f64(rng.random::<f64>())
                }
            })
            .collect();
        let time = |sparsity: Sparsity, y: &mut [T], dw: &mut [T]| {
            let forward = best_seconds(args.repeats, || {
                matmul_bias(rows, INPUTS, OUTPUTS, &x, &w, None, y, sparsity).expect("shapes");
            });
            let gradient = best_seconds(args.repeats, || {
                matmul_at_b(rows, INPUTS, OUTPUTS, &x, &dout, dw, sparsity).expect("shapes");
            });
            [forward, gradient]
        };
        let dense = time(Sparsity::Dense, &mut y, &mut dw);
        let sparse = time(Sparsity::Sparse, &mut y, &mut dw);
        let ratios = [sparse[0] / dense[0], sparse[1] / dense[1]];
        println!("{share:.2}, {:.2}, {:.2}", ratios[0], ratios[1]);
        for (found, ratio) in crossover.iter_mut().zip(ratios) {
            match found {
                None if ratio < 1.0 => *found = Some(share),
                Some(_) if ratio >= 1.0 => *found = None,
                _ => {}
            }
        }
    }
    let show = |found: Option<f64>| found.map_or("never".to_owned(), |share| format!("{share:.2}"));
    println!(
        "zero skipping pays from: forward {}, weight gradient {}\n",
        show(crossover[0]),
        show(crossover[1])
    );
}

fn main() {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(0);
    measure::<f32>(&args, &mut rng);
    measure::<f64>(&args, &mut rng);
}
