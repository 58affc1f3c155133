//! The book's two convolution shapes at batch 100, forward and backward, timed on
//! backprop's kernels: 1→30 filters 5×5 on 28×28 (SimpleConvNet's) and 16→16
//! filters 3×3 pad 1 on 28×28 (DeepConvNet's second). Prints GFLOP/s and the share
//! of the rate of backprop's own 2048² product on the same threads, the best rate
//! measured on this machine, as one JSON object.
//!
//! `cargo run --release --example convolution_layers -- --repeats 30`

use std::time::Instant;

use backprop::gemm::{Sparsity, matmul_bias};
use backprop::layers::{BackwardScratch, Geometry};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Time the book's convolution layers.
#[derive(Parser, Debug)]
struct Args {
    /// Timed repetitions of each measurement (the best and the median are reported).
    #[arg(long, default_value_t = 30)]
    repeats: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
}

/// The best and the median of `repeats` timings of `work`, in seconds, after one
/// untimed call.
fn timings(repeats: usize, mut work: impl FnMut()) -> (f64, f64) {
    work();
    let mut seconds: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    (seconds[0], seconds[seconds.len() / 2])
}

fn random(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// GFLOP/s of the 2048² product, best of `repeats`.
fn limit(repeats: usize, rng: &mut StdRng) -> f64 {
    let n = 2048;
    let (a, b) = (random(rng, n * n), random(rng, n * n));
    let mut c = vec![0.0; n * n];
    let (best, _) = timings(repeats.min(10), || {
        matmul_bias(n, n, n, &a, &b, None, &mut c, Sparsity::Dense).expect("square operands");
    });
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// Forward, backward with the input gradient, and backward without it (a first
/// layer), as JSON with milliseconds and GFLOP/s.
fn layer(
    name: &str,
    g: Geometry,
    batch: usize,
    repeats: usize,
    limit: f64,
    rng: &mut StdRng,
) -> String {
    let (w, b) = (random(rng, g.filters * g.depth()), random(rng, g.filters));
    let x = random(rng, batch * g.input_len());
    let dout = random(rng, batch * g.output_len());
    let mut out = vec![0.0; batch * g.output_len()];
    let mut columns = Vec::new();
    let (mut dw, mut db, mut dx) = (vec![0.0; w.len()], vec![0.0; b.len()], vec![0.0; x.len()]);
    let mut scratch = BackwardScratch::default();
    // One product of FN × C·FH·FW by C·FH·FW × OH·OW per image and pass.
    let flops = 2.0 * (batch * g.filters * g.depth() * g.pixels()) as f64;
    let forward = timings(repeats, || g.forward(&w, &b, &x, &mut out, &mut columns));
    let backward = timings(repeats, || {
        g.backward(&w, &x, &dout, &mut dw, &mut db, &mut dx, &mut scratch)
    });
    let parameters_only = timings(repeats, || {
        g.backward(&w, &x, &dout, &mut dw, &mut db, &mut [], &mut scratch)
    });
    let pass = |(best, median): (f64, f64), flops: f64| {
        let rate = flops / best / 1e9;
        format!(
            "{{\"best_ms\": {:.4}, \"median_ms\": {:.4}, \"gflops\": {rate:.2}, \"share_of_limit\": {:.3}}}",
            best * 1e3,
            median * 1e3,
            rate / limit
        )
    };
    format!(
        "\"{name}\": {{\"forward\": {}, \"backward\": {}, \"backward_parameters_only\": {}}}",
        pass(forward, flops),
        pass(backward, 2.0 * flops),
        pass(parameters_only, flops)
    )
}

fn main() {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(0);
    let limit = limit(args.repeats, &mut rng);
    let simple = Geometry {
        channels: 1,
        height: 28,
        width: 28,
        filters: 30,
        filter_height: 5,
        filter_width: 5,
        stride: 1,
        pad: 0,
    };
    let deep = Geometry {
        channels: 16,
        filters: 16,
        filter_height: 3,
        filter_width: 3,
        pad: 1,
        ..simple
    };
    println!(
        "{{\"batch\": {}, \"threads\": {}, \"kernels\": \"{}\", \"limit_gflops\": {limit:.2}, {}, {}}}",
        args.batch,
        backprop::parallel::threads(),
        backprop::gemm::kernel_path(),
        layer(
            "conv_1_30_5x5",
            simple,
            args.batch,
            args.repeats,
            limit,
            &mut rng
        ),
        layer(
            "conv_16_16_3x3_pad1",
            deep,
            args.batch,
            args.repeats,
            limit,
            &mut rng
        ),
    );
}
