//! One training step (gradient + SGD update) and `predict` throughput, for the book's
//! 784-50-10 net and a deeper 784-100-100-100-100-10 net, in f32 and f64.
//!
//! The inputs are MNIST-like (about 81 % zeros, like MNIST's pixels) unless
//! `BACKPROP_BENCH_DENSE=1`, which makes every input non-zero. Run with
//! `cargo bench --bench training`.

use std::hint::black_box;

use backprop::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }

    struct DeepNet {
        Affine(784, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

fn inputs<T: Float>(rows: usize, rng: &mut StdRng) -> (Batch<T, 784>, Vec<usize>) {
    let dense = std::env::var("BACKPROP_BENCH_DENSE").is_ok_and(|v| v == "1");
    let x = (0..rows * 784)
        .map(|_| {
            if dense || rng.random_range(0..100) < 19 {
                T::from_f64(rng.random_range(0.01..1.0))
            } else {
                T::zero()
            }
        })
        .collect();
    let t = (0..rows).map(|_| rng.random_range(0..10)).collect();
    (Batch::from_vec(x).expect("rows × 784 values"), t)
}

macro_rules! bench_network {
    ($c:expr, $name:literal, $net:ident, $float:ty) => {{
        let mut rng = StdRng::seed_from_u64(0);
        let mut net = $net::<$float>::new(&mut rng);
        let (x, t) = inputs::<$float>(100, &mut rng);
        let mut sgd = Sgd { lr: 0.1 };
        $c.bench_function(
            concat!("train step ", $name, " batch 100 ", stringify!($float)),
            |b| {
                b.iter(|| {
                    black_box(net.gradient(&x, &t).expect("valid batch"));
                    sgd.update(&mut net);
                })
            },
        );

        let (x, _) = inputs::<$float>(10_000, &mut rng);
        let mut buffers = Default::default();
        let mut out = Batch::zeros(0);
        let mut group = $c.benchmark_group(concat!("predict ", $name));
        group.throughput(Throughput::Elements(10_000));
        group.bench_with_input(BenchmarkId::new(stringify!($float), 10_000), &x, |b, x| {
            b.iter(|| net.predict_into(x, &mut buffers, &mut out))
        });
        group.finish();
    }};
}

fn benches(c: &mut Criterion) {
    bench_network!(c, "784-50-10", TwoLayerNet, f32);
    bench_network!(c, "784-50-10", TwoLayerNet, f64);
    bench_network!(c, "784-100x4-10", DeepNet, f32);
    bench_network!(c, "784-100x4-10", DeepNet, f64);
}

criterion_group! {
    name = training;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(training);
