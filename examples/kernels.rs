//! backprop's own figures for `bench/run.sh`: the matrix-product rate at a large square
//! size (all threads), the book's network predicting a large batch, both in f32 and
//! f64, on dense and on MNIST-like inputs, and the book's two convolution shapes at a
//! training batch (forward, backward, and backward without the input gradient, as a
//! first layer runs it), as one JSON object on standard output, with the kernel path
//! used (see `BACKPROP_KERNELS` in the `gemm` docs).
//!
//! `cargo run --release --example kernels -- --size 2048 --repeats 20 --rows 10000`

use std::time::Instant;

use backprop::gemm::{Sparsity, matmul_bias};
use backprop::layers::{BackwardScratch, ForwardScratch, Geometry};
use backprop::prelude::*;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

/// Time backprop's matrix product and the book's network's `predict`.
#[derive(Parser, Debug)]
struct Args {
    /// Side of the square matrices multiplied.
    #[arg(long, default_value_t = 2048)]
    size: usize,
    /// Timed repetitions of each measurement (the best and the median are reported).
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Rows of the batch given to `predict`.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    /// Images per batch through the convolution layers.
    #[arg(long, default_value_t = 100)]
    conv_batch: usize,
}

/// The best and the median of `repeats` timings of `work`, in seconds, after one
/// untimed call (thread start, page faults).
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

fn matmul_rate<T: Float>(n: usize, repeats: usize, rng: &mut StdRng) -> String {
    let a: Vec<T> = (0..n * n)
        .map(|_| T::from_f64(rng.random::<f64>() - 0.5))
        .collect();
    let b: Vec<T> = (0..n * n)
        .map(|_| T::from_f64(rng.random::<f64>() - 0.5))
        .collect();
    let mut c = vec![T::zero(); n * n];
    let (best, median) = timings(repeats, || {
        matmul_bias(n, n, n, &a, &b, None, &mut c, Sparsity::Dense).expect("square operands")
    });
    let flops = 2.0 * (n as f64).powi(3);
    format!(
        "{{\"best\": {}, \"median\": {}}}",
        flops / best / 1e9,
        flops / median / 1e9
    )
}

/// `predict` on inputs uniform in (0, 1) where a fraction `zeros` of them (placed at
/// random) is 0: 0 gives dense inputs, 0.81 MNIST's share of blank pixels.
fn predict_seconds<T: Float>(rows: usize, zeros: f64, repeats: usize, rng: &mut StdRng) -> String {
    let net = TwoLayerNet::<T>::new(rng);
    let values: Vec<T> = (0..rows * 784)
        .map(|_| {
            if rng.random::<f64>() < zeros {
                T::zero()
            } else {
                T::from_f64(rng.random_range(f64::EPSILON..1.0))
            }
        })
        .collect();
    let x = Batch::<T, 784>::from_vec(values).expect("whole rows");
    let mut scratch = TwoLayerNetScratch::default();
    let mut out = Batch::zeros(0);
    let (best, median) = timings(repeats, || net.predict_into(&x, &mut scratch, &mut out));
    format!("{{\"best\": {best}, \"median\": {median}}}")
}

/// The convolutions of the book's networks timed here: SimpleConvNet's 1→30 filters
/// 5×5 on 28×28, and DeepConvNet's second, 16→16 filters 3×3 pad 1 on 28×28. The same
/// shapes as `bench/conv_layers.py`.
fn book_convolutions() -> [(&'static str, Geometry); 2] {
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
    [("conv_1_30_5x5", simple), ("conv_16_16_3x3_pad1", deep)]
}

/// One convolution's forward, backward with the input gradient and backward without
/// it (a first layer's), in f32 on random values: the seconds of each, best and median.
fn convolution_seconds(g: Geometry, batch: usize, repeats: usize, rng: &mut StdRng) -> String {
    let mut random =
        |len: usize| -> Vec<f32> { (0..len).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let (w, b) = (random(g.filters * g.depth()), random(g.filters));
    let (x, dout) = (
        random(batch * g.input_len()),
        random(batch * g.output_len()),
    );
    let mut out = vec![0.0; dout.len()];
    let mut columns = ForwardScratch::default();
    let (mut dw, mut db, mut dx) = (vec![0.0; w.len()], vec![0.0; b.len()], vec![0.0; x.len()]);
    let mut scratch = BackwardScratch::default();
    let forward = timings(repeats, || g.forward(&w, &b, &x, &mut out, &mut columns));
    let backward = timings(repeats, || {
        g.backward(&w, &x, &dout, &mut dw, &mut db, &mut dx, &mut scratch)
    });
    let backward_parameters = timings(repeats, || {
        g.backward(&w, &x, &dout, &mut dw, &mut db, &mut [], &mut scratch)
    });
    let seconds =
        |(best, median): (f64, f64)| format!("{{\"best\": {best}, \"median\": {median}}}");
    format!(
        "{{\"forward\": {}, \"backward\": {}, \"backward_parameters\": {}}}",
        seconds(forward),
        seconds(backward),
        seconds(backward_parameters)
    )
}

/// The share of MNIST's pixels that are 0.
const MNIST_ZEROS: f64 = 0.81;

fn main() {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(0);
    let convolutions: Vec<String> = book_convolutions()
        .into_iter()
        .map(|(name, g)| {
            let seconds = convolution_seconds(g, args.conv_batch, args.repeats, &mut rng);
            format!("\"{name}\": {seconds}")
        })
        .collect();
    println!(
        "{{\"size\": {}, \"rows\": {}, \"threads\": {}, \"kernels\": \"{}\", \"float32_gflops\": {}, \"float64_gflops\": {}, \"predict_float32_seconds\": {}, \"predict_float64_seconds\": {}, \"predict_mnist_like_float32_seconds\": {}, \"predict_mnist_like_float64_seconds\": {}, \"conv_batch\": {}, \"convolution_seconds\": {{{}}}}}",
        args.size,
        args.rows,
        backprop::parallel::threads(),
        backprop::gemm::kernel_path(),
        matmul_rate::<f32>(args.size, args.repeats, &mut rng),
        matmul_rate::<f64>(args.size, args.repeats, &mut rng),
        predict_seconds::<f32>(args.rows, 0.0, args.repeats, &mut rng),
        predict_seconds::<f64>(args.rows, 0.0, args.repeats, &mut rng),
        predict_seconds::<f32>(args.rows, MNIST_ZEROS, args.repeats, &mut rng),
        predict_seconds::<f64>(args.rows, MNIST_ZEROS, args.repeats, &mut rng),
        args.conv_batch,
        convolutions.join(", "),
    );
}
