//! Every layer's forward and backward against values computed by hand.

use backprop_runtime::Targets;
use backprop_runtime::autograd::Var;
use backprop_runtime::layers::{
    AddLayer, Affine, BatchNorm, BatchNormConfig, Context, Dropout, DropoutConfig, Layer, Loss,
    MulLayer, Pooling, Relu, Role, Sigmoid, SoftmaxWithLoss, Tanh,
};
use ndarray::{Array2, ArrayView2, array};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A layer's training forward, with a context no layer here draws from.
fn forward<L: Layer<f64>>(layer: &mut L, x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut rng = StdRng::seed_from_u64(0);
    layer
        .forward(x, &mut Context::training(&mut rng))
        .to_owned()
}

fn assert_close(actual: &Array2<f64>, expected: &Array2<f64>) {
    assert_eq!(actual.dim(), expected.dim());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual} != {expected}");
    }
}

#[test]
fn affine_forward_and_backward_by_hand() {
    let mut layer = Affine::<f64, 2, 3>::from_parameters(
        array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]],
        array![0.5, -0.5, 0.0],
    )
    .unwrap();
    let x = array![[1.0, 2.0], [3.0, 4.0]];
    let out = forward(&mut layer, x.view());
    assert_close(&out, &array![[5.5, 1.5, -1.0], [11.5, 3.5, -3.0]]);

    let dout = array![[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]];
    let dx = layer.backward(x.view(), dout.view()).to_owned();
    assert_close(&dx, &array![[-1.0, 2.0], [-1.0, 1.0]]);
    assert_close(&layer.dW, &array![[1.0, 3.0, 5.0], [2.0, 4.0, 8.0]]);
    assert_eq!(layer.db, array![1.0, 1.0, 3.0]);
}

#[test]
fn affine_infer_matches_forward_and_leaves_layer_alone() {
    let mut layer = Affine::<f64, 2, 3>::from_parameters(
        array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]],
        array![0.5, -0.5, 0.0],
    )
    .unwrap();
    let x = array![[1.0, 2.0], [3.0, 4.0]];
    let mut buffer = backprop_runtime::Buffer::new();
    let inferred = layer.infer(x.view(), &mut buffer).to_owned();
    assert_eq!(
        layer.output().dim(),
        (0, 0),
        "infer must not touch the layer"
    );
    assert_eq!(inferred, forward(&mut layer, x.view()));
}

#[test]
fn affine_rejects_parameters_of_the_wrong_shape() {
    let err = Affine::<f64, 2, 3>::from_parameters(Array2::zeros((3, 3)), array![0.0, 0.0, 0.0])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Affine<2, 3> weights W (in, out): expected shape [2, 3], found [3, 3]"
    );
    let err = Affine::<f64, 2, 3>::from_parameters(Array2::zeros((2, 3)), array![0.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Affine<2, 3> bias b (out): expected shape [3], found [1]"
    );
}

#[test]
fn relu_masks_non_positive_inputs_including_zero() {
    let mut relu = Relu::<f64, 3>::new();
    let x = array![[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]];
    let out = forward(&mut relu, x.view());
    assert_eq!(out, array![[0.0, 0.0, 2.0], [3.0, 0.0, 0.5]]);
    let dx = relu
        .backward(x.view(), array![[7.0, 7.0, 7.0], [1.0, 2.0, 3.0]].view())
        .to_owned();
    assert_eq!(dx, array![[0.0, 0.0, 7.0], [1.0, 0.0, 3.0]]);
}

#[test]
fn sigmoid_backward_uses_its_output() {
    let mut sigmoid = Sigmoid::<f64, 3>::new();
    let x = array![[0.0, 3f64.ln(), -1000.0]];
    let out = forward(&mut sigmoid, x.view());
    assert_close(&out, &array![[0.5, 0.75, 0.0]]);
    let dx = sigmoid
        .backward(x.view(), array![[1.0, 2.0, 1.0]].view())
        .to_owned();
    assert_close(&dx, &array![[0.25, 2.0 * 0.75 * 0.25, 0.0]]);
}

#[test]
fn tanh_forward_by_hand_and_backward_from_its_output() {
    // tanh(ln 2) = (2 − 1/2) / (2 + 1/2) = 3/5; its derivative there 1 − 9/25 = 16/25.
    let mut tanh = Tanh::<f64, 3>::new();
    let x = array![[2f64.ln(), 0.0, -40.0]];
    let out = forward(&mut tanh, x.view());
    assert_close(&out, &array![[0.6, 0.0, -1.0]]);
    let dx = tanh
        .backward(x.view(), array![[1.0, 3.0, 5.0]].view())
        .to_owned();
    assert_close(&dx, &array![[16.0 / 25.0, 3.0, 0.0]]);
    assert_eq!(<Tanh<f64, 3> as Layer<f64>>::describe(&()), "Tanh(3)");
    assert_eq!(<Tanh<f64, 3> as Layer<f64>>::PARAMETERS, 0);
}

#[test]
fn tanh_gradient_matches_central_differences() {
    let x = array![[-1.5, -0.2, 0.0], [0.3, 0.9, 2.5]];
    let dout = array![[0.7, -1.1, 0.4], [1.3, 0.2, -0.6]];
    let mut tanh = Tanh::<f64, 3>::new();
    forward(&mut tanh, x.view());
    let dx = tanh.backward(x.view(), dout.view()).to_owned();
    let h = 1e-5;
    for ((r, c), &d) in dx.indexed_iter() {
        let (above, below) = ((x[[r, c]] + h).tanh(), (x[[r, c]] - h).tanh());
        let numerical = dout[[r, c]] * (above - below) / (2.0 * h);
        assert!(
            (d - numerical).abs() < 1e-9,
            "[{r}, {c}]: {d} vs {numerical}"
        );
    }
}

/// Each layer's tape expression computes what its forward does, and its leaves are
/// its parameters in visiting order, with their roles.
#[test]
fn every_layers_tape_expression_is_its_forward() {
    fn agree<L: Layer<f64>>(mut layer: L, x: Array2<f64>) {
        let out = forward(&mut layer, x.view());
        let mut leaves = Vec::new();
        let tape = layer.tape(&Var::constant(x), &mut leaves).unwrap();
        let tape = tape.value().clone().into_dimensionality().unwrap();
        assert_close(&tape, &out);
        let mut visited = Vec::new();
        layer.visit_parameters(&mut |role, value, _| visited.push((role, value.to_owned())));
        assert_eq!(visited.len(), leaves.len());
        for ((_, value), leaf) in visited.iter().zip(&leaves) {
            assert_eq!(value, leaf.value());
        }
        let parameters: usize = visited.iter().map(|(_, v)| v.len()).sum();
        assert_eq!(parameters, L::PARAMETERS);
    }
    let x = array![[0.5, -1.0], [2.0, 0.25]];
    let affine = Affine::<f64, 2, 3>::from_parameters(
        array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]],
        array![0.5, -0.5, 0.0],
    )
    .unwrap();
    let mut roles = Vec::new();
    affine.visit_parameters(&mut |role, _, _| roles.push(role));
    assert_eq!(roles, [Role::Weight, Role::Bias]);
    agree(affine, x.clone());
    agree(Relu::<f64, 2>::new(), x.clone());
    agree(Sigmoid::<f64, 2>::new(), x.clone());
    agree(Tanh::<f64, 2>::new(), x);
    let image = Array2::from_shape_fn((2, 18), |(r, c)| ((r * 18 + c) * 7 % 19) as f64);
    agree(Pooling::<f64, 2, 3, 3, 2, 2, 1>::new(), image);
    let batch = Array2::from_shape_fn((5, 3), |(r, c)| ((r * 3 + c) * 5 % 7) as f64 - 2.5);
    agree(
        Dropout::<f64, 3>::with_config(DropoutConfig::default()),
        batch.clone(),
    );
    let mut bn = BatchNorm::<f64, 3>::with_config(BatchNormConfig::default());
    bn.gamma = array![1.5, -0.5, 2.0];
    bn.beta = array![0.1, 0.2, -0.3];
    agree(bn, batch);
}

#[test]
fn dropout_keeps_units_where_the_draw_exceeds_the_ratio_and_backward_uses_that_mask() {
    let x = Array2::from_elem((4, 250), 2.0);
    for inverted in [false, true] {
        let config = DropoutConfig {
            ratio: 0.3,
            inverted,
        };
        let mut dropout = Dropout::<f64, 250>::with_config(config);
        let out = forward(&mut dropout, x.view());
        let kept_value = if inverted { 2.0 / 0.7 } else { 2.0 };
        assert!(
            out.iter()
                .all(|&v| v == 0.0 || (v - kept_value).abs() < 1e-15)
        );
        let kept = out.iter().filter(|&&v| v != 0.0).count() as f64 / 1000.0;
        assert!((kept - 0.7).abs() < 0.05, "kept {kept}");
        // The same generator gives the same mask.
        assert_eq!(forward(&mut dropout, x.view()), out);
        let dx = dropout
            .backward(x.view(), Array2::ones((4, 250)).view())
            .to_owned();
        assert_eq!(dx, out / 2.0);
        let mut scratch = backprop_runtime::Buffer::new();
        let inferred = dropout.infer(x.view(), &mut scratch).to_owned();
        let expected = if inverted { 2.0 } else { 2.0 * 0.7 };
        assert!(inferred.iter().all(|&v| (v - expected).abs() < 1e-15));
    }
    assert_eq!(
        <Dropout<f32, 4> as Layer<f32>>::describe(&DropoutConfig {
            ratio: 0.2,
            inverted: true
        }),
        "Dropout(0.2, inverted = true)"
    );
}

#[test]
fn dropout_in_evaluation_mode_scales_like_inference() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut dropout = Dropout::<f64, 2>::with_config(DropoutConfig::default());
    let x = array![[1.0, -4.0]];
    let out = dropout
        .forward(x.view(), &mut Context::evaluating(&mut rng))
        .to_owned();
    assert_eq!(out, array![[0.5, -2.0]]);
    assert_eq!(
        dropout.backward(x.view(), array![[1.0, 1.0]].view()),
        array![[0.5, 0.5]]
    );
}

/// The book's formulas, evaluated here column by column.
fn normalised(column: &[f64], eps: f64) -> (Vec<f64>, f64, f64) {
    let n = column.len() as f64;
    let mean = column.iter().sum::<f64>() / n;
    let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let xn = column
        .iter()
        .map(|v| (v - mean) / (var + eps).sqrt())
        .collect();
    (xn, mean, var)
}

#[test]
fn batch_norm_normalises_each_feature_and_keeps_running_statistics() {
    let x = array![[1.0, 10.0], [2.0, -10.0], [6.0, 0.0], [-1.0, 4.0]];
    let mut bn = BatchNorm::<f64, 2>::with_config(BatchNormConfig::default());
    bn.gamma = array![2.0, 0.5];
    bn.beta = array![1.0, -1.0];
    let out = forward(&mut bn, x.view());
    for j in 0..2 {
        let column: Vec<f64> = x.column(j).to_vec();
        let (xn, mean, var) = normalised(&column, 1e-6);
        for (r, n) in xn.iter().enumerate() {
            assert!((out[[r, j]] - (bn.gamma[j] * n + bn.beta[j])).abs() < 1e-12);
        }
        assert!((bn.running_mean[j] - 0.1 * mean).abs() < 1e-12);
        assert!((bn.running_var[j] - 0.1 * var).abs() < 1e-12);
    }
    // Inference uses the running statistics, as an evaluation-mode forward does.
    let mut scratch = backprop_runtime::Buffer::new();
    let inferred = bn.infer(x.view(), &mut scratch).to_owned();
    let mut rng = StdRng::seed_from_u64(0);
    let evaluated = bn
        .forward(x.view(), &mut Context::evaluating(&mut rng))
        .to_owned();
    assert_close(&inferred, &evaluated);
    let expected = (x[[0, 0]] - bn.running_mean[0]) / (bn.running_var[0] + 1e-6).sqrt() * 2.0 + 1.0;
    assert!((inferred[[0, 0]] - expected).abs() < 1e-12);
}

#[test]
fn batch_norm_gradients_match_central_differences_in_training_mode() {
    let x = array![
        [0.3, -1.2, 2.0],
        [1.1, 0.4, -0.7],
        [-0.8, 0.9, 0.5],
        [2.2, -0.3, 1.4],
        [0.0, 1.7, -1.9]
    ];
    let dout = array![
        [0.5, -1.0, 0.3],
        [1.2, 0.7, -0.4],
        [-0.6, 0.2, 0.9],
        [0.1, -0.8, 1.1],
        [0.4, 0.6, -1.3]
    ];
    let fresh = || {
        let mut bn = BatchNorm::<f64, 3>::with_config(BatchNormConfig::default());
        bn.gamma = array![1.5, -0.5, 2.0];
        bn.beta = array![0.1, 0.2, -0.3];
        bn
    };
    let loss = |bn: &mut BatchNorm<f64, 3>, x: &Array2<f64>| (forward(bn, x.view()) * &dout).sum();
    let mut bn = fresh();
    forward(&mut bn, x.view());
    let dx = bn.backward(x.view(), dout.view()).to_owned();
    let h = 1e-5;
    for ((r, c), &d) in dx.indexed_iter() {
        let (mut above, mut below) = (x.clone(), x.clone());
        above[[r, c]] += h;
        below[[r, c]] -= h;
        let numerical = (loss(&mut fresh(), &above) - loss(&mut fresh(), &below)) / (2.0 * h);
        assert!(
            (d - numerical).abs() < 1e-8,
            "dx[{r}, {c}]: {d} vs {numerical}"
        );
    }
    for j in 0..3 {
        for (delta, gradient) in [(0, bn.dgamma[j]), (1, bn.dbeta[j])] {
            let perturbed = |step: f64| {
                let mut b = fresh();
                if delta == 0 {
                    b.gamma[j] += step;
                } else {
                    b.beta[j] += step;
                }
                loss(&mut b, &x)
            };
            let numerical = (perturbed(h) - perturbed(-h)) / (2.0 * h);
            assert!(
                (gradient - numerical).abs() < 1e-8,
                "{delta} {j}: {gradient} vs {numerical}"
            );
        }
    }
    let mut roles = Vec::new();
    bn.visit_parameters(&mut |role, _, _| roles.push(role));
    assert_eq!(roles, [Role::Scale, Role::Shift]);
    let mut state = 0;
    bn.visit_state(&mut |tensor| state += tensor.len());
    assert_eq!(state, 6);
}

#[test]
fn pooling_takes_each_windows_maximum_per_channel_and_sends_gradients_back_to_it() {
    // Two channels of 3 × 3, windows of 2 × 2 moved by 1: they overlap.
    let channel = |v: [f64; 9]| v;
    let a = channel([1.0, 2.0, 3.0, 4.0, 9.0, 6.0, 7.0, 8.0, 5.0]);
    let b = channel([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0]);
    let x = Array2::from_shape_vec((1, 18), a.iter().chain(&b).copied().collect()).unwrap();
    let mut pool = Pooling::<f64, 2, 3, 3, 2, 2, 1>::new();
    let out = forward(&mut pool, x.view());
    // The centre, 9, is the maximum of all four windows of channel a.
    assert_eq!(out, array![[9.0, 9.0, 9.0, 9.0, -1.0, -2.0, -4.0, -5.0]]);
    let dout = array![[1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]];
    let dx = pool.backward(x.view(), dout.view()).to_owned();
    let mut expected = Array2::zeros((1, 18));
    expected[[0, 4]] = 1.0 + 2.0 + 3.0 + 4.0;
    expected[[0, 9]] = 10.0;
    expected[[0, 10]] = 20.0;
    expected[[0, 12]] = 30.0;
    expected[[0, 13]] = 40.0;
    assert_eq!(dx, expected);
    let mut scratch = backprop_runtime::layers::PoolingScratch::default();
    assert_eq!(pool.infer(x.view(), &mut scratch), out);
    assert_eq!(
        <Pooling<f64, 2, 3, 3, 2, 2, 1> as Layer<f64>>::describe(&()),
        "Pooling(2, 2, stride = 1)"
    );
}

#[test]
fn pooling_gradient_matches_central_differences_away_from_ties() {
    // Distinct values at least 0.1 apart: no maximum changes within the step.
    let x = Array2::from_shape_fn((2, 32), |(r, c)| ((r * 32 + c) * 37 % 64) as f64 / 10.0);
    let dout = Array2::from_shape_fn((2, 8), |(r, c)| (r * 8 + c) as f64 * 0.25 - 1.0);
    let mut pool = Pooling::<f64, 2, 4, 4, 2, 2, 2>::new();
    let loss = |pool: &mut Pooling<f64, 2, 4, 4, 2, 2, 2>, x: &Array2<f64>| {
        (forward(pool, x.view()) * &dout).sum()
    };
    forward(&mut pool, x.view());
    let dx = pool.backward(x.view(), dout.view()).to_owned();
    let h = 1e-4;
    for ((r, c), &d) in dx.indexed_iter() {
        let (mut above, mut below) = (x.clone(), x.clone());
        above[[r, c]] += h;
        below[[r, c]] -= h;
        let numerical = (loss(&mut pool, &above) - loss(&mut pool, &below)) / (2.0 * h);
        assert!(
            (d - numerical).abs() < 1e-9,
            "[{r}, {c}]: {d} vs {numerical}"
        );
    }
}

#[test]
fn softmax_with_loss_with_labels() {
    // exp(scores) = 1, 2, 3: softmax = 1/6, 1/3, 1/2.
    let mut last = SoftmaxWithLoss::<f64, 3>::new();
    let labels = [2usize, 0];
    let scores = array![[0.0, 2f64.ln(), 3f64.ln()], [0.0, 2f64.ln(), 3f64.ln()]];
    let loss = last
        .forward(scores.view(), &Targets::from(&labels))
        .unwrap();
    let expected = (2f64.ln() + 6f64.ln()) / 2.0;
    assert!((loss - expected).abs() < 1e-12, "{loss} vs {expected}");
    let dx = last.backward().to_owned();
    let expected = array![
        [1.0 / 6.0, 1.0 / 3.0, -0.5],
        [1.0 / 6.0 - 1.0, 1.0 / 3.0, 0.5]
    ] / 2.0;
    assert_close(&dx, &expected);
}

#[test]
fn softmax_with_loss_one_hot_equals_labels() {
    let scores = array![[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]];
    let labels = [2usize, 1];
    let one_hot = array![[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]];
    let mut by_label = SoftmaxWithLoss::<f64, 3>::new();
    let mut by_row = SoftmaxWithLoss::<f64, 3>::new();
    let a = by_label
        .forward(scores.view(), &Targets::from(&labels))
        .unwrap();
    let b = by_row
        .forward(scores.view(), &Targets::from(&one_hot))
        .unwrap();
    assert!((a - b).abs() < 1e-15);
    assert_close(
        &by_label.backward().to_owned(),
        &by_row.backward().to_owned(),
    );
}

#[test]
fn softmax_with_loss_is_stable_for_huge_scores() {
    let mut last = SoftmaxWithLoss::<f32, 2>::new();
    let labels = [1usize];
    let loss = last
        .forward(array![[1000.0f32, 0.0]].view(), &Targets::from(&labels))
        .unwrap();
    assert_eq!(loss, 1000.0);
    assert_eq!(last.backward().to_owned(), array![[1.0f32, -1.0]]);
}

#[test]
fn softmax_with_loss_reports_bad_targets() {
    let mut last = SoftmaxWithLoss::<f64, 3>::new();
    let labels = [3usize];
    let err = last
        .forward(array![[0.0, 0.0, 0.0]].view(), &Targets::from(&labels))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "target row 0: class index 3 is out of range; expected an index below 3"
    );
}

#[test]
fn mul_and_add_nodes_swap_and_pass_gradients() {
    let mut mul = MulLayer::new();
    assert_eq!(mul.forward(3.0, 5.0), 15.0);
    assert_eq!(mul.backward(2.0), (10.0, 6.0));
    assert_eq!(AddLayer.forward(3.0, 5.0), 8.0);
    assert_eq!(AddLayer.backward(2.0), (2.0, 2.0));
}

/// A batch large enough to be shared between the threads (30×24×24 values a row, as
/// after SimpleConvNet's convolution) pools exactly as the definition says, on any
/// number of threads: each window's first maximum, and its gradient sent there.
#[test]
fn a_large_batch_pools_as_the_definition_on_any_number_of_threads() {
    use rand::RngExt;
    const C: usize = 30;
    const SIDE: usize = 24;
    let mut rng = StdRng::seed_from_u64(8);
    // Few distinct values, so that ties happen and the first maximum must be kept.
    let x = Array2::from_shape_fn((64, C * SIDE * SIDE), |_| {
        f32::from(rng.random_range(0u8..6))
    });
    let dout = Array2::from_shape_fn((64, C * 12 * 12), |_| rng.random_range(-1.0f32..1.0));
    let mut out = Array2::<f32>::zeros((64, C * 144));
    let mut dx = Array2::<f32>::zeros(x.raw_dim());
    for n in 0..64 {
        for c in 0..C {
            for (oh, ow) in (0..12).flat_map(|oh| (0..12).map(move |ow| (oh, ow))) {
                let positions = (0..2).flat_map(|i| (0..2).map(move |j| (i, j)));
                let at = |(i, j)| (c * SIDE + 2 * oh + i) * SIDE + 2 * ow + j;
                let best = positions.map(at).fold(at((0, 0)), |best, p| {
                    if x[[n, p]] > x[[n, best]] { p } else { best }
                });
                out[[n, (c * 12 + oh) * 12 + ow]] = x[[n, best]];
                dx[[n, best]] += dout[[n, (c * 12 + oh) * 12 + ow]];
            }
        }
    }
    for threads in [1, 2] {
        backprop_runtime::parallel::set_threads(threads);
        let mut pool = Pooling::<f32, C, SIDE, SIDE, 2, 2, 2>::new();
        let mut masks = StdRng::seed_from_u64(0);
        let forward = pool
            .forward(x.view(), &mut Context::training(&mut masks))
            .to_owned();
        assert_eq!(forward, out, "{threads} threads");
        assert_eq!(
            pool.backward(x.view(), dout.view()),
            dx,
            "{threads} threads"
        );
        let mut scratch = backprop_runtime::layers::PoolingScratch::default();
        assert_eq!(pool.infer(x.view(), &mut scratch), out, "{threads} threads");
    }
}
