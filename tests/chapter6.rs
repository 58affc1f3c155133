//! Chapter 6 of the book, its outcomes checked on CI-sized settings.

use backprop::optim::{AdaGrad, Adam, Momentum, Optimizer, Sgd};

/// f(x, y) = x²/20 + y², the book's elongated bowl, and its gradient.
fn gradient([x, y]: [f64; 2]) -> [f64; 2] {
    [x / 10.0, 2.0 * y]
}

/// Where `optimizer` ends after 30 steps from (−7, 2), as `optimizer_paths` runs it.
fn end_point(optimizer: &mut dyn Optimizer<f64>) -> [f64; 2] {
    let mut point = [-7.0, 2.0];
    for _ in 0..30 {
        optimizer.begin_update();
        let g = gradient(point);
        optimizer.update_parameter(0, &mut point, &g);
    }
    point
}

/// The book's update rule, 30 times, evaluated here.
fn by_hand(mut rule: impl FnMut(usize, &mut f64, f64, &mut [f64; 2])) -> [f64; 2] {
    let mut point = [-7.0, 2.0];
    let mut state = [[0.0; 2]; 2];
    for t in 1..=30 {
        let g = gradient(point);
        for i in 0..2 {
            rule(t, &mut point[i], g[i], &mut state[i]);
        }
    }
    point
}

#[test]
fn the_four_optimizers_on_the_books_bowl_end_where_its_formulas_do() {
    let eps = 1e-7;
    // Each: the library's optimizer, the book's rule by hand, the distance from the
    // minimum the book's figure shows.
    type Case = (&'static str, Box<dyn Optimizer<f64>>, [f64; 2], f64);
    let cases: [Case; 4] = [
        (
            "SGD",
            Box::new(Sgd { lr: 0.95 }),
            by_hand(|_, p, g, _| *p -= 0.95 * g),
            0.36,
        ),
        (
            "Momentum",
            Box::new(Momentum::<f64>::new(0.1, 0.9).unwrap()),
            by_hand(|_, p, g, [v, _]| {
                *v = 0.9 * *v - 0.1 * g;
                *p += *v;
            }),
            0.90,
        ),
        (
            "AdaGrad",
            Box::new(AdaGrad::<f64>::new(1.5).unwrap()),
            by_hand(|_, p, g, [h, _]| {
                *h += g * g;
                *p -= 1.5 * g / (h.sqrt() + eps);
            }),
            0.12,
        ),
        (
            "Adam",
            Box::new(Adam::<f64>::new(0.3, 0.9, 0.999).unwrap()),
            by_hand(|t, p, g, [m, v]| {
                let t = t as f64;
                let lr_t = 0.3 * (1.0 - 0.999f64.powf(t)).sqrt() / (1.0 - 0.9f64.powf(t));
                *m += 0.1 * (g - *m);
                *v += 0.001 * (g * g - *v);
                *p -= lr_t * *m / (v.sqrt() + eps);
            }),
            0.35,
        ),
    ];
    let mut distances = Vec::new();
    for (name, mut optimizer, expected, book_distance) in cases {
        let end = end_point(optimizer.as_mut());
        for (a, b) in end.iter().zip(expected) {
            assert!((a - b).abs() < 1e-9, "{name}: {end:?} vs {expected:?}");
        }
        let distance = end[0].hypot(end[1]);
        println!("{name}: ends at {end:?}, {distance:.4} from the minimum");
        assert!(
            (distance - book_distance).abs() < 0.01,
            "{name}: {distance} from the minimum, the book's figure about {book_distance}"
        );
        distances.push((distance, name));
    }
    distances.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(distances[0].1, "AdaGrad", "{distances:?}");
}

mod on_mnist {
    //! MNIST outcomes of the book's chapter 6 comparisons, on shortened schedules.
    //! They need the data, so they are ignored by default; `.ci/run` runs them with
    //! `MNIST_DIR=../shared/mnist`.

    use std::path::PathBuf;

    use backprop::data::{MiniBatch, Mnist, Sampler, SamplingMode, load_mnist};
    use backprop::layers::Context;
    use backprop::optim::{self, Optimizer};
    use backprop::prelude::*;
    use backprop::train::{Streams, smooth_curve};

    network! {
        /// The book's 784-[100×4]-10 ReLU net of sections 6.1.8 and 6.2.4.
        struct DeepNet(784) {
            Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
                -> Affine(100, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
        }
    }

    fn mnist() -> Mnist {
        let dir = PathBuf::from(
            std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"),
        );
        load_mnist(&dir).unwrap()
    }

    /// Every step's loss of `optimizer` on the book's net from `init`, on the batches of
    /// 128 that the seed draws (the same for every call with that seed).
    fn losses(
        mnist: &Mnist,
        init: WeightInit,
        optimizer: &mut impl Optimizer<f32>,
        iters: usize,
    ) -> Vec<f64> {
        let streams = Streams::new(6);
        let mut net = DeepNet::<f32>::with_weight_init(init, &mut streams.initialisation());
        let mut sampler =
            Sampler::new(mnist.train.len(), 128, SamplingMode::WithReplacement).unwrap();
        let mut batch = MiniBatch::<f32, 784>::new();
        (0..iters)
            .map(|step| {
                batch
                    .fill(
                        &mnist.train,
                        sampler.next_batch(&mut streams.sampling(step)),
                    )
                    .unwrap();
                let mut masks = streams.dropout(step);
                let loss = net
                    .gradient_with(
                        &batch.x,
                        batch.targets(),
                        &mut Context::training(&mut masks),
                        0.0,
                    )
                    .unwrap();
                optimizer.update(&mut net);
                loss.as_f64()
            })
            .collect()
    }

    fn smoothed_end(losses: &[f64]) -> f64 {
        *smooth_curve(losses).last().unwrap()
    }

    #[test]
    #[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
    fn adam_and_adagrad_end_below_sgd() {
        let mnist = mnist();
        let end = |name: &str| {
            let mut optimizer = optim::by_name::<f32>(name).unwrap();
            smoothed_end(&losses(&mnist, WeightInit::He, &mut optimizer, 300))
        };
        let (sgd, adagrad, adam) = (end("sgd"), end("adagrad"), end("adam"));
        println!(
            "smoothed loss after 300 steps: sgd {sgd:.4}, adagrad {adagrad:.4}, adam {adam:.4}"
        );
        assert!(
            adam < sgd && adagrad < sgd,
            "sgd {sgd}, adagrad {adagrad}, adam {adam}"
        );
    }

    #[test]
    #[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
    fn a_tiny_initialisation_does_not_learn_where_he_does() {
        let mnist = mnist();
        let end = |init| smoothed_end(&losses(&mnist, init, &mut optim::Sgd { lr: 0.01 }, 500));
        let (tiny, he) = (end(WeightInit::Std(0.01)), end(WeightInit::He));
        println!("smoothed loss after 500 steps of SGD 0.01: std 0.01 {tiny:.4}, He {he:.4}");
        assert!((tiny - 10f64.ln()).abs() < 0.05, "std 0.01: {tiny}");
        assert!(he < 1.0, "He: {he}");
    }

    network! {
        struct Plain(784) {
            Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
                -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 10)
                -> SoftmaxWithLoss
        }

        struct Normalised(784) {
            Affine(_, 100) -> BatchNorm -> Relu -> Affine(100, 100) -> BatchNorm -> Relu
                -> Affine(100, 100) -> BatchNorm -> Relu -> Affine(100, 100) -> BatchNorm
                -> Relu -> Affine(100, 100) -> BatchNorm -> Relu -> Affine(100, 10)
                -> SoftmaxWithLoss
        }
    }

    /// The final training accuracy of `net` after `epochs` of `batch_norm_compare`'s
    /// schedule; 0 if its loss diverged.
    fn final_accuracy<N: Network<f32>>(
        net: &mut N,
        data: &backprop::data::Dataset,
        epochs: usize,
        seed: u64,
    ) -> f64 {
        use backprop::train::{End, Trainer};
        let trainer = Trainer::new().epochs(epochs).seed(seed);
        match trainer.fit(net, &mut optim::Sgd { lr: 0.01 }, data, data) {
            Ok(outcome) if outcome.end == End::Finished => {
                outcome.history.evaluations.last().unwrap().train.accuracy
            }
            Err(backprop::Error::Diverged { .. }) => 0.0,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    #[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
    fn batch_norm_trains_better_at_most_of_the_books_weight_scales() {
        let data = mnist().train.first(1000);
        let mut better = Vec::new();
        for i in 0..16u32 {
            let scale = 10f64.powf(-4.0 * f64::from(i) / 15.0);
            let streams = Streams::new(u64::from(i));
            let init = WeightInit::Std(scale);
            let plain = final_accuracy(
                &mut Plain::<f32>::with_weight_init(init, &mut streams.initialisation()),
                &data,
                12,
                u64::from(i),
            );
            let normed = final_accuracy(
                &mut Normalised::<f32>::with_weight_init(init, &mut streams.initialisation()),
                &data,
                12,
                u64::from(i),
            );
            println!("std {scale:.4}: without {plain:.3}, with BatchNorm {normed:.3}");
            if normed > plain {
                better.push(scale);
            }
        }
        assert!(
            better.len() >= 12,
            "BatchNorm better at only {} scales: {better:?}",
            better.len()
        );
    }

    #[test]
    #[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
    fn weight_decay_narrows_the_gap_between_training_and_test_accuracy() {
        use backprop::train::Trainer;
        let mnist = mnist();
        let train_set = mnist.train.first(300);
        let gap = |weight_decay: f64| {
            let trainer = Trainer::new()
                .epochs(100)
                .weight_decay(weight_decay)
                .evaluation_samples(300)
                .seed(1);
            let mut net =
                Plain::<f32>::with_weight_init(WeightInit::He, &mut trainer.initialisation());
            let outcome = trainer
                .fit(
                    &mut net,
                    &mut optim::Sgd { lr: 0.01 },
                    &train_set,
                    &mnist.test,
                )
                .unwrap();
            let last = outcome.history.evaluations.last().unwrap();
            last.train.accuracy - last.validation.accuracy
        };
        let (plain, decayed) = (gap(0.0), gap(0.1));
        println!("train − test accuracy after 100 epochs: as is {plain:.3}, λ = 0.1 {decayed:.3}");
        assert!(
            decayed < plain,
            "as is {plain}, with weight decay {decayed}"
        );
    }
}
