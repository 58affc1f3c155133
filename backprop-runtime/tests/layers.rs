//! Every layer's forward and backward against values computed by hand.

use backprop_runtime::Targets;
use backprop_runtime::autograd::Var;
use backprop_runtime::layers::{
    AddLayer, Affine, Context, Layer, Loss, MulLayer, Pooling, Relu, Role, Sigmoid,
    SoftmaxWithLoss, Tanh,
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
    assert!(
        err.to_string()
            .contains("expected rows of 2 values, found 3"),
        "{err}"
    );
    let err = Affine::<f64, 2, 3>::from_parameters(Array2::zeros((2, 3)), array![0.0]).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected rows of 3 values, found 1"),
        "{err}"
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
    let mut scratch = backprop_runtime::Buffer::new();
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
