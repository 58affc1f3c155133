//! Convolution against a naive reference written from the definition (nested loops
//! over the book's formula), in f32 and f64, on every kernel path this CPU has, over
//! random shapes; and the book's SimpleConvNet as the macro declares it.

use std::ops::RangeInclusive;

use backprop::gemm::KernelPath;
use backprop::layers::{BackwardScratch, ForwardScratch, Geometry};
use backprop::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    /// The book's chapter 7 network.
    struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2) -> Affine(_, 100) -> Relu
            -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// `out[n, f, oh, ow] = b[f] + Σ_{c,i,j} W[f, c, i, j] · x[n, c, oh·s + i − p, ow·s + j − p]`,
/// zero outside the image.
fn naive_forward(g: &Geometry, w: &[f64], b: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
    let (oh, ow) = (g.output_height(), g.output_width());
    let mut out = vec![0.0; rows * g.output_len()];
    for n in 0..rows {
        for f in 0..g.filters {
            for y in 0..oh {
                for z in 0..ow {
                    let mut sum = b[f];
                    for c in 0..g.channels {
                        for i in 0..g.filter_height {
                            for j in 0..g.filter_width {
                                let (r, col) = (y * g.stride + i, z * g.stride + j);
                                if r < g.pad || col < g.pad {
                                    continue;
                                }
                                let (r, col) = (r - g.pad, col - g.pad);
                                if r >= g.height || col >= g.width {
                                    continue;
                                }
                                let wi = ((f * g.channels + c) * g.filter_height + i)
                                    * g.filter_width
                                    + j;
                                let xi = n * g.input_len() + (c * g.height + r) * g.width + col;
                                sum += w[wi] * x[xi];
                            }
                        }
                    }
                    out[n * g.output_len() + (f * oh + y) * ow + z] = sum;
                }
            }
        }
    }
    out
}

/// The gradients of `Σ dout · out` by the same loops: each product `W·x` sends
/// `dout · x` to W and `dout · W` to x.
fn naive_backward(
    g: &Geometry,
    w: &[f64],
    x: &[f64],
    dout: &[f64],
    rows: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (oh, ow) = (g.output_height(), g.output_width());
    let mut dw = vec![0.0; g.filters * g.depth()];
    let mut db = vec![0.0; g.filters];
    let mut dx = vec![0.0; rows * g.input_len()];
    for n in 0..rows {
        for f in 0..g.filters {
            for y in 0..oh {
                for z in 0..ow {
                    let d = dout[n * g.output_len() + (f * oh + y) * ow + z];
                    db[f] += d;
                    for c in 0..g.channels {
                        for i in 0..g.filter_height {
                            for j in 0..g.filter_width {
                                let (r, col) = (y * g.stride + i, z * g.stride + j);
                                if r < g.pad
                                    || col < g.pad
                                    || r - g.pad >= g.height
                                    || col - g.pad >= g.width
                                {
                                    continue;
                                }
                                let (r, col) = (r - g.pad, col - g.pad);
                                let wi = ((f * g.channels + c) * g.filter_height + i)
                                    * g.filter_width
                                    + j;
                                let xi = n * g.input_len() + (c * g.height + r) * g.width + col;
                                dw[wi] += d * x[xi];
                                dx[xi] += d * w[wi];
                            }
                        }
                    }
                }
            }
        }
    }
    (dw, db, dx)
}

/// A random geometry with `channels`, filters 1–40, kernels 1×1 to 7×5, strides 1–3,
/// pads 0–3; the image sized so that the stride tiles it.
fn random_geometry(rng: &mut StdRng, channels: RangeInclusive<usize>) -> Geometry {
    let (filter_height, filter_width) = (rng.random_range(1..=7), rng.random_range(1..=5));
    let (stride, pad) = (rng.random_range(1..=3), rng.random_range(0..=3));
    let side = |filter: usize, rng: &mut StdRng| {
        let positions: usize = rng.random_range(1..=9);
        // (side + 2·pad − filter) = stride · (positions − 1), with side ≥ 1.
        (stride * (positions - 1) + filter)
            .saturating_sub(2 * pad)
            .max(1)
    };
    let mut g = Geometry {
        channels: rng.random_range(channels),
        height: side(filter_height, rng),
        width: side(filter_width, rng),
        filters: rng.random_range(1..=40),
        filter_height,
        filter_width,
        stride,
        pad,
    };
    // A side clamped to 1 may leave a remainder: grow it until the stride tiles.
    while !(g.height + 2 * g.pad - g.filter_height).is_multiple_of(g.stride) {
        g.height += 1;
    }
    while !(g.width + 2 * g.pad - g.filter_width).is_multiple_of(g.stride) {
        g.width += 1;
    }
    g
}

fn random(rng: &mut StdRng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// The largest |a − b| relative to the largest |b| (1 at least).
fn max_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// `g` with stride 1, a square filter and less padding than the filter: the shapes
/// whose input gradient comes from the turned filters (with 8 channels or more).
fn turnable(mut g: Geometry) -> Geometry {
    g.filter_width = g.filter_height;
    g.stride = 1;
    g.pad = g.pad.min(g.filter_height - 1);
    g.width = g.width.max(g.filter_width);
    g.height = g.height.max(g.filter_height);
    g
}

/// Forward and backward of `T` against the naive reference in f64, over random cases
/// with `channels`, each made `shape`.
fn check_against_naive<T: Float>(
    seed: u64,
    cases: usize,
    channels: RangeInclusive<usize>,
    shape: fn(Geometry) -> Geometry,
    limit: f64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    for case in 0..cases {
        let g = shape(random_geometry(&mut rng, channels.clone()));
        let rows = rng.random_range(1..=17);
        check_case::<T>(&format!("case {case}"), g, rows, &mut rng, limit);
    }
}

/// Forward and backward of `T` on `rows` random images of geometry `g` against the
/// naive reference in f64: every output and gradient within `limit` of the largest.
fn check_case<T: Float>(what: &str, g: Geometry, rows: usize, rng: &mut StdRng, limit: f64) {
    let cast = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
    let back = |v: &[T]| v.iter().map(|x| x.to_f64().unwrap()).collect::<Vec<f64>>();
    let (w, b) = (random(rng, g.filters * g.depth()), random(rng, g.filters));
    let x = random(rng, rows * g.input_len());
    let dout = random(rng, rows * g.output_len());
    let expected = naive_forward(&g, &w, &b, &x, rows);
    let (dw_expected, db_expected, dx_expected) = naive_backward(&g, &w, &x, &dout, rows);

    let (wt, bt, xt, doutt) = (cast(&w), cast(&b), cast(&x), cast(&dout));
    let mut out = vec![T::zero(); rows * g.output_len()];
    let mut columns = ForwardScratch::default();
    g.forward(&wt, &bt, &xt, &mut out, &mut columns);
    let (mut dw, mut db) = (vec![T::zero(); wt.len()], vec![T::zero(); g.filters]);
    let mut dx = vec![T::zero(); xt.len()];
    let mut scratch = BackwardScratch::default();
    g.backward(&wt, &xt, &doutt, &mut dw, &mut db, &mut dx, &mut scratch);
    // Without the input gradient, the parameters' gradients are the same.
    let (mut dw_only, mut db_only) = (vec![T::zero(); wt.len()], vec![T::zero(); g.filters]);
    g.backward(
        &wt,
        &xt,
        &doutt,
        &mut dw_only,
        &mut db_only,
        &mut [],
        &mut scratch,
    );

    let what = format!("{what}: {g:?}, {rows} rows, {}", std::any::type_name::<T>());
    for (name, found, expected) in [
        ("out", back(&out), &expected),
        ("dW", back(&dw), &dw_expected),
        ("db", back(&db), &db_expected),
        ("dx", back(&dx), &dx_expected),
        ("dW without dx", back(&dw_only), &dw_expected),
        ("db without dx", back(&db_only), &db_expected),
    ] {
        let error = max_error(&found, expected);
        assert!(error <= limit, "{what}: {name} differs by {error:e}");
    }
}

/// The book's own layers at a training part's size (13 of a batch of 100): their
/// products take the paths random shapes may miss (the 64-filter layers' packed
/// panels, the direct ones of 16 and 32 filters, several blocks of depth).
#[test]
fn the_book_networks_layers_match_the_naive_reference() {
    let layer = |channels, side, filters, size, pad| Geometry {
        channels,
        height: side,
        width: side,
        filters,
        filter_height: size,
        filter_width: size,
        stride: 1,
        pad,
    };
    let layers = [
        ("SimpleConvNet conv1", layer(1, 28, 30, 5, 0)),
        ("DeepConvNet conv1", layer(1, 28, 16, 3, 1)),
        ("DeepConvNet conv2", layer(16, 28, 16, 3, 1)),
        ("DeepConvNet conv3", layer(16, 14, 32, 3, 1)),
        ("DeepConvNet conv4", layer(32, 14, 32, 3, 2)),
        ("DeepConvNet conv5", layer(32, 8, 64, 3, 1)),
        ("DeepConvNet conv6", layer(64, 8, 64, 3, 1)),
    ];
    let mut rng = StdRng::seed_from_u64(6);
    for (name, g) in layers {
        check_case::<f64>(name, g, 13, &mut rng, 1e-12);
        check_case::<f32>(name, g, 13, &mut rng, 1e-5);
    }
}

/// Runs the naive comparison on this process's kernel path (`BACKPROP_KERNELS`).
#[test]
fn matches_the_naive_reference_on_this_path() {
    let any = |g| g;
    check_against_naive::<f64>(1, 60, 1..=5, any, 1e-12);
    check_against_naive::<f32>(2, 60, 1..=5, any, 1e-5);
    // From 8 input channels, stride-1 square filters take the input gradient from the
    // turned filters instead of folding column gradients back: both ways are checked.
    check_against_naive::<f64>(3, 30, 8..=12, turnable, 1e-12);
    check_against_naive::<f32>(4, 30, 8..=12, turnable, 1e-5);
    check_against_naive::<f64>(5, 20, 8..=12, any, 1e-12);
}

/// Runs [`matches_the_naive_reference_on_this_path`] again in a process of its own for
/// every other kernel path the CPU supports, forced by `BACKPROP_KERNELS`.
#[test]
fn matches_the_naive_reference_on_every_kernel_path() {
    let supported: Vec<KernelPath> = KernelPath::ALL
        .into_iter()
        .filter(|path| path.is_supported())
        .collect();
    assert!(supported.contains(&KernelPath::Portable));
    for path in supported {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "matches_the_naive_reference_on_this_path"])
            .env("BACKPROP_KERNELS", path.name())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "on {path}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_macro_computes_every_shape_of_simple_conv_net() {
    let summary = SimpleConvNet::summary();
    let shapes: Vec<&[usize]> = summary.layers.iter().map(|l| &l.output_shape[..]).collect();
    assert_eq!(
        shapes,
        [
            &[30, 24, 24][..],
            &[30, 24, 24],
            &[30, 12, 12],
            &[100],
            &[100],
            &[10],
            &[10]
        ]
    );
    assert_eq!(summary.layers[0].layer, "Convolution(30, 5, 5)");
    assert_eq!(summary.layers[0].parameters, 30 * 25 + 30);
    assert_eq!(summary.layers[3].parameters, 4320 * 100 + 100);
    assert_eq!(<SimpleConvNet as Network<f32>>::PARAMETER_COUNT, 433_890);
    assert_eq!(<SimpleConvNet as Network<f32>>::INPUT_WIDTH, 784);
    // The widest row, 30×24×24, bounds the rows evaluated at once to 8 MiB a buffer.
    assert_eq!(<SimpleConvNet as Network<f32>>::WIDEST_ROW, 17_280);
    use backprop::network::evaluation_chunk_rows;
    assert_eq!(evaluation_chunk_rows::<f32, SimpleConvNet<f32>>(), 121);
    assert_eq!(evaluation_chunk_rows::<f64, SimpleConvNet<f64>>(), 60);
}

#[test]
fn evaluating_in_chunks_agrees_with_predicting_the_whole_batch() {
    use backprop::data::{Dataset, MiniBatch};
    let mut rng = StdRng::seed_from_u64(11);
    let (len, classes) = (300, 10);
    let pixels = (0..len * 784)
        .map(|_| rng.random_range(0..=255u8))
        .collect();
    let labels = (0..len)
        .map(|_| rng.random_range(0..classes as u8))
        .collect();
    let data = Dataset::from_raw(pixels, labels, 28, 28, classes).unwrap();
    let net = SimpleConvNet::<f64>::with_weight_init(WeightInit::He, &mut rng);
    // 300 rows: five chunks of 60, shared between the threads.
    let evaluation = net.evaluate(&data).unwrap();
    let all = MiniBatch::<f64, 784>::all(&data).unwrap();
    let predicted = net.predict(&all.x).classes();
    let correct = predicted
        .iter()
        .zip(&all.labels)
        .filter(|(p, t)| p == t)
        .count();
    assert_eq!(evaluation.accuracy, correct as f64 / len as f64);
    let loss = net.loss(&all.x, &all.labels[..]).unwrap();
    assert!(
        (evaluation.loss - loss).abs() < 1e-12 * loss,
        "{evaluation:?} against {loss}"
    );
}

#[test]
fn filters_are_named_and_shaped_as_the_books() {
    let mut rng = StdRng::seed_from_u64(3);
    let net = SimpleConvNet::<f64>::new(&mut rng);
    let mut seen = Vec::new();
    net.visit_parameters(&mut |p| seen.push((p.name, p.value.shape().to_vec())));
    assert_eq!(
        seen,
        [
            ("W1", vec![30, 1, 5, 5]),
            ("b1", vec![30]),
            ("W2", vec![4320, 100]),
            ("b2", vec![100]),
            ("W3", vec![100, 10]),
            ("b3", vec![10]),
        ]
    );
    // The book's initialisation: every weight 0.01 · N(0, 1).
    let w = &net.conv1.W;
    let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
    assert!((0.007..0.013).contains(&std), "W1's std is {std}");
}

#[test]
fn he_initialisation_uses_the_fan_in_of_a_filter() {
    network! {
        struct Wide(4, 12, 12) {
            Convolution(64, 3, 3, pad = 1, init = He) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
        }
    }
    let net = Wide::<f64>::new(&mut StdRng::seed_from_u64(4));
    let w = &net.conv1.W;
    let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
    let expected = (2.0_f64 / (4 * 3 * 3) as f64).sqrt();
    assert!(
        (std / expected - 1.0).abs() < 0.05,
        "std {std}, He for fan-in 36 is {expected}"
    );
}

#[test]
fn filters_of_another_shape_are_refused_with_both_shapes() {
    use backprop::layers::Convolution;
    use ndarray::{Array1, Array4};
    let error = Convolution::<f64, 2, 5, 5, 3, 3, 3, 1, 0>::from_parameters(
        Array4::zeros((3, 1, 3, 3)),
        Array1::zeros(3),
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("weights W (FN, C, FH, FW)"), "{message}");
    assert!(
        message.contains("expected shape [3, 2, 3, 3], found [3, 1, 3, 3]"),
        "{message}"
    );
    let error = Convolution::<f64, 2, 5, 5, 3, 3, 3, 1, 0>::from_parameters(
        Array4::zeros((3, 2, 3, 3)),
        Array1::zeros(4),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("bias b (FN): expected shape [3], found [4]")
    );
}

#[test]
fn a_trained_step_is_the_same_on_one_thread_and_two() {
    use backprop::layers::Context;
    let mut rng = StdRng::seed_from_u64(5);
    let net = SimpleConvNet::<f64>::new(&mut rng);
    let x: Vec<f64> = (0..23 * 784).map(|_| rng.random_range(0.0..1.0)).collect();
    let t: Vec<usize> = (0..23).map(|_| rng.random_range(0..10)).collect();
    let x = BatchView::<f64, 784>::from_slice(&x).unwrap();
    let step = |threads| {
        backprop::parallel::set_threads(threads);
        let mut net = net.clone();
        let mut rng = StdRng::seed_from_u64(0);
        let loss = net
            .train_step(
                x.as_array(),
                &(&t[..]).into(),
                &mut Context::training(&mut rng),
            )
            .unwrap();
        (loss, net.gradients())
    };
    let threads = backprop::parallel::threads();
    let (one, two) = (step(1), step(2));
    backprop::parallel::set_threads(threads);
    assert_eq!(one.0, two.0);
    assert_eq!(
        one.1, two.1,
        "the gradients do not depend on the thread count"
    );
}
