//! A short training run on the real MNIST. It needs the data, so it is ignored by
//! default; `.ci/run` runs it with `MNIST_DIR=../shared/mnist`.

use std::path::PathBuf;

use backprop::data::{MiniBatch, Sampler, SamplingMode, evaluate, load_mnist};
use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn twelve_hundred_steps_reach_ninety_percent_on_the_test_set() {
    let dir =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let mnist = load_mnist(&dir).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let mut sampler = Sampler::new(mnist.train.len(), 100, SamplingMode::WithReplacement).unwrap();
    let mut batch = MiniBatch::<f32, 784>::new();
    let mut sgd = Sgd { lr: 0.1 };
    let before = evaluate(&net, &mnist.test).unwrap();
    for _ in 0..1200 {
        batch
            .fill(&mnist.train, sampler.next_batch(&mut rng))
            .unwrap();
        net.gradient(&batch.x, batch.targets()).unwrap();
        sgd.update(&mut net);
    }
    let after = evaluate(&net, &mnist.test).unwrap();
    assert!(
        before.accuracy < 0.3,
        "an untrained net should be near chance: {before:?}"
    );
    assert!(
        after.accuracy > 0.90,
        "test accuracy after 1,200 steps: {after:?}"
    );
    assert!(after.loss < before.loss / 3.0, "{before:?} → {after:?}");
}
