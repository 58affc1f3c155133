//! A short training run on the real MNIST. It needs the data, so it is ignored by
//! default; `.ci/run` runs it with `MNIST_DIR=../shared/mnist`.

use std::path::PathBuf;

use backprop::data::{MiniBatch, Sampler, SamplingMode, evaluate, load_mnist};
use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

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

#[path = "../examples/common/book_nets.rs"]
mod book_nets;

use book_nets::{DeepConvNet, SimpleConvNet, TwoLayerNet};

/// Trains `net` with the book's chapter 7–8 settings for `steps` steps on MNIST, then
/// checks that the loss of the last third is below `falls` times the first third's,
/// that at least `accuracy` of the first 1000 test images are right, and that the model
/// saved and loaded into `fresh` predicts the same, also from two threads at once.
fn short_run<N: Network<f32> + Sync>(
    mut net: N,
    fresh: N,
    steps: usize,
    falls: f64,
    accuracy: f64,
) {
    use backprop::model_file::{self, Overwrite};
    use backprop::train::Trainer;

    let dir =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let mnist = load_mnist(&dir).unwrap();
    let test = mnist.test.first(1000);
    let trainer = Trainer::new()
        .iterations(steps)
        .evaluation_samples(500)
        .seed(1);
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
    let (first, last) = (
        mean(&losses[..steps / 3]),
        mean(&losses[steps - steps / 3..]),
    );
    assert!(last < falls * first, "the loss falls: {first} → {last}");
    let reached = net.evaluate(&test).unwrap().accuracy;
    assert!(
        reached >= accuracy,
        "test accuracy on 1000 images: {reached}"
    );

    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("model.safetensors");
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let mut loaded = fresh;
    model_file::load(&mut loaded, &path).unwrap();
    let all = MiniBatch::<f32, 784>::all(&test).unwrap();
    let x = all.x.as_array().view();
    let scores = |net: &N| net.infer(x, &mut N::Scratch::default()).to_owned();
    let expected = scores(&net);
    assert_eq!(scores(&loaded), expected);
    // Inference needs only `&self`: two threads share the loaded network at once.
    let predicted = std::thread::scope(|scope| {
        let (loaded, scores) = (&loaded, &scores);
        let handles = [(); 2].map(|()| scope.spawn(move || scores(loaded)));
        handles.map(|h| h.join().unwrap())
    });
    for p in predicted {
        assert_eq!(p, expected);
    }
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn a_short_simple_convnet_run_learns_and_its_saved_model_predicts_the_same_anywhere() {
    let mut rng = StdRng::seed_from_u64(9);
    let net =
        SimpleConvNet::<f32>::new(&mut backprop::train::Trainer::new().seed(1).initialisation());
    short_run(net, SimpleConvNet::new(&mut rng), 400, 0.5, 0.9);
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn a_short_deep_convnet_run_learns_and_its_saved_model_predicts_the_same_anywhere() {
    let mut rng = StdRng::seed_from_u64(9);
    let net =
        DeepConvNet::<f32>::new(&mut backprop::train::Trainer::new().seed(1).initialisation());
    // The training loss keeps the Dropout after the last Affine: it falls less.
    short_run(net, DeepConvNet::new(&mut rng), 120, 0.75, 0.8);
}
