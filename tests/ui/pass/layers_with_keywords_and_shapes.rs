//! Tanh, keyword arguments, a three-axis input and named constants compile into the
//! same API as any other declaration.
use backprop::prelude::*;
use rand::SeedableRng;

const CHANNELS: usize = 1;
const SIDE: usize = 28;

network! {
    /// A three-axis input, flattened by the first Affine.
    pub struct Image(CHANNELS, SIDE, SIDE) {
        Affine(_, 100, init = He) -> Relu -> Affine(100, 50, init = 0.05) -> Tanh
            -> Affine(50, 10, init = Xavier) -> SoftmaxWithLoss
    }

    /// A flat input declared after the name instead of in the first layer.
    pub struct Flat(4) {
        Tanh -> Affine(_, 3) -> SoftmaxWithLoss(3)
    }
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let net = Image::<f32>::new(&mut rng);
    let x = Batch::<f32, { CHANNELS * SIDE * SIDE }>::zeros(2);
    let scores: Batch<f32, 10> = net.predict(&x);
    assert_eq!(scores.rows(), 2);
    assert_eq!(<Image as Network<f32>>::INPUT_WIDTH, 784);
    let summary = Image::summary();
    assert_eq!(summary.input_shape, [1, 28, 28]);
    assert_eq!(summary.layers[0].layer, "Affine(784, 100, init = He)");
    assert_eq!(summary.layers[3].layer, "Tanh(50)");

    let mut flat = Flat::<f64>::new(&mut rng);
    let x = Batch::<f64, 4>::zeros(1);
    assert!(flat.gradient(&x, &[2usize]).is_ok());
    assert_eq!(Flat::summary().layers[0].layer, "Tanh(4)");
}
