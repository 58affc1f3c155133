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

network! {
    /// Chapter 7's network, as examples/simple_convnet declares it.
    struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn a_short_simple_convnet_run_learns_and_its_saved_model_predicts_the_same_anywhere() {
    use backprop::model_file::{self, Overwrite};
    use backprop::train::Trainer;

    let dir =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let mnist = load_mnist(&dir).unwrap();
    let test = mnist.test.first(1000);
    // The book's settings, shortened to 400 steps.
    let trainer = Trainer::new()
        .iterations(400)
        .evaluation_samples(1000)
        .seed(1);
    let mut net = SimpleConvNet::<f32>::new(&mut trainer.initialisation());
    let outcome = trainer
        .fit(
            &mut net,
            &mut backprop::optim::Adam::default(),
            &mnist.train,
            &test,
        )
        .unwrap();
    let losses = &outcome.history.losses;
    let mean = |l: &[f64]| l.iter().sum::<f64>() / l.len() as f64;
    assert!(
        mean(&losses[350..]) < mean(&losses[..50]) / 4.0,
        "the loss falls: {} → {}",
        mean(&losses[..50]),
        mean(&losses[350..])
    );
    let accuracy = net.evaluate(&test).unwrap().accuracy;
    assert!(accuracy >= 0.9, "test accuracy on 1000 images: {accuracy}");

    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("simple_convnet.safetensors");
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let mut loaded = SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(9));
    model_file::load(&mut loaded, &path).unwrap();
    let all = MiniBatch::<f32, 784>::all(&test).unwrap();
    let expected = net.predict(&all.x);
    assert_eq!(loaded.predict(&all.x), expected);
    // Inference needs only `&self`: two threads share the loaded network at once.
    let predicted = std::thread::scope(|scope| {
        let (loaded, x) = (&loaded, &all.x);
        let handles = [(); 2].map(|()| scope.spawn(move || loaded.predict(x)));
        handles.map(|h| h.join().unwrap())
    });
    for p in predicted {
        assert_eq!(p, expected);
    }
}
