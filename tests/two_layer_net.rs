use backprop::gradient_check::compare;
use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    /// The two-layer net of Deep Learning from Scratch, chapter 5.
    pub struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

#[test]
fn smoke() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = TwoLayerNet::<f64>::new(&mut rng);
    let x =
        Batch::<f64, 784>::from_vec((0..3 * 784).map(|i| (i % 7) as f64 / 7.0).collect()).unwrap();
    let t = vec![1usize, 2, 3];
    let loss = net.gradient(&x, &t).unwrap();
    let numerical = net.numerical_gradient(&x, &t).unwrap();
    for d in compare(&net.gradients(), &numerical) {
        println!("{d:?}");
    }
    println!("{loss} {}", TwoLayerNet::<f32>::summary());
}
