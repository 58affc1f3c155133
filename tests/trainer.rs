//! The trainer: the book's semantics, checked settings, caught divergence, a history
//! that is the same bit for bit from the same seed, and runs that resume exactly.

use std::sync::atomic::{AtomicBool, Ordering};

use backprop::data::{Dataset, SamplingMode};
use backprop::optim::{self, Optimizer, Sgd};
use backprop::prelude::*;
use backprop::train::{self, Checkpoint, Length, Outcome, Progress, Streams, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    struct Small(64) {
        Affine(_, 20) -> BatchNorm -> Relu -> Dropout(0.2) -> Affine(20, 10) -> SoftmaxWithLoss
    }

    struct Other(64) {
        Affine(_, 12) -> Relu -> Affine(12, 10) -> SoftmaxWithLoss
    }
}

/// 8×8 images whose class is where the brightest pixel is, so that a net can learn.
fn data(len: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pixels = vec![0u8; len * 64];
    let mut labels = vec![0u8; len];
    for (image, label) in pixels.chunks_exact_mut(64).zip(&mut labels) {
        *label = rng.random_range(0..10);
        for p in image.iter_mut() {
            *p = rng.random_range(0..100);
        }
        image[usize::from(*label) * 6] = 255;
    }
    Dataset::from_raw(pixels, labels, 8, 8, 10).unwrap()
}

fn config(seed: u64) -> TrainerConfig {
    TrainerConfig {
        length: Length::Epochs(3),
        batch_size: 25,
        evaluation_samples: Some(60),
        weight_decay: 1e-3,
        seed,
        ..TrainerConfig::default()
    }
}

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

fn finished(outcome: Outcome) -> train::History {
    match outcome {
        Outcome::Finished(history) => history,
        Outcome::Stopped { steps_done, .. } => panic!("stopped after {steps_done} steps"),
    }
}

fn run(config: &TrainerConfig, sets: (&Dataset, &Dataset)) -> (Small<f32>, train::History) {
    let mut net = Small::<f32>::with_weight_init(
        WeightInit::He,
        &mut Streams::new(config.seed).initialisation(),
    );
    let mut adam = optim::Adam::<f32>::default();
    let outcome = train::train(
        &mut net,
        &mut adam,
        sets,
        config,
        None,
        &never(),
        &mut |_| {},
    )
    .unwrap();
    (net, finished(outcome))
}

#[test]
fn the_books_schedule_one_evaluation_per_epoch_then_the_full_sets() {
    let (train_set, test_set) = (data(200, 1), data(100, 2));
    let config = config(3);
    let mut events = Vec::new();
    let mut unoptimised = 0;
    let mut net =
        Small::<f32>::with_weight_init(WeightInit::He, &mut Streams::new(3).initialisation());
    let mut sgd = Sgd { lr: 0.1 };
    let outcome = train::train(
        &mut net,
        &mut sgd,
        (&train_set, &test_set),
        &config,
        None,
        &never(),
        &mut |event| match event {
            Progress::Evaluated(record) => events.push(*record),
            Progress::Unoptimised => unoptimised += 1,
            _ => {}
        },
    )
    .unwrap();
    let history = finished(outcome);
    // 200 / 25 = 8 steps an epoch, 3 epochs: evaluations after steps 0, 8, 16, then
    // the final one on the full sets.
    assert_eq!(history.losses.len(), 24);
    let steps: Vec<(usize, usize, bool)> = history
        .evaluations
        .iter()
        .map(|e| (e.step, e.epoch, e.end_of_epoch))
        .collect();
    assert_eq!(
        steps,
        [(0, 0, true), (8, 1, true), (16, 2, true), (23, 3, false)]
    );
    assert_eq!(events, history.evaluations);
    assert_eq!(
        unoptimised,
        usize::from(!train::OPTIMISED),
        "reported once if at all"
    );
    let last = history.evaluations[3];
    assert_eq!(last.test_accuracy, net.accuracy_on(&test_set));
    assert_eq!(last.train_accuracy, net.accuracy_on(&train_set));
    // The per-epoch ones are on the first 60 samples only.
    assert!(history.losses.iter().all(|l| l.is_finite()));
    assert!(
        history.losses[23] < history.losses[0],
        "it learns: {:?}",
        history.losses
    );
}

trait AccuracyOn {
    fn accuracy_on(&self, data: &Dataset) -> f64;
}

impl AccuracyOn for Small<f32> {
    fn accuracy_on(&self, data: &Dataset) -> f64 {
        backprop::data::evaluate(self, data).unwrap().accuracy
    }
}

#[test]
fn the_same_seed_gives_the_same_history_bit_for_bit() {
    let (train_set, test_set) = (data(200, 4), data(100, 5));
    let (a, history_a) = run(&config(7), (&train_set, &test_set));
    let (b, history_b) = run(&config(7), (&train_set, &test_set));
    assert_eq!(history_a, history_b);
    assert_eq!(a.affine1.W, b.affine1.W);
    let (_, history_c) = run(&config(8), (&train_set, &test_set));
    assert_ne!(history_a.losses, history_c.losses);
}

#[test]
fn settings_that_make_no_sense_are_refused_before_the_first_step() {
    let (train_set, test_set) = (data(50, 6), data(50, 7));
    let mut net = Small::<f32>::new(&mut StdRng::seed_from_u64(0));
    let before = net.affine1.W.clone();
    let mut refused = |config: TrainerConfig, optimizer: &mut dyn Optimizer<f32>| {
        let sets = (&train_set, &test_set);
        train::train(
            &mut net,
            optimizer,
            sets,
            &config,
            None,
            &never(),
            &mut |_| {},
        )
        .unwrap_err()
        .to_string()
    };
    let mut sgd = Sgd { lr: 0.1 };
    let zero_batch = TrainerConfig {
        batch_size: 0,
        ..config(0)
    };
    assert_eq!(
        refused(zero_batch, &mut sgd),
        "batch size = 0: expected a whole number of at least 1"
    );
    let no_epochs = TrainerConfig {
        length: Length::Epochs(0),
        ..config(0)
    };
    assert_eq!(
        refused(no_epochs, &mut sgd),
        "epochs = 0: expected a whole number of at least 1"
    );
    let decay = TrainerConfig {
        weight_decay: f64::NAN,
        ..config(0)
    };
    assert_eq!(
        refused(decay, &mut sgd),
        "weight decay = NaN: expected a finite number of at least 0"
    );
    let nan_init = Small::<f32>::with_weight_init_std(f64::NAN, &mut StdRng::seed_from_u64(0));
    let error = train::train(
        &mut nan_init.clone(),
        &mut Sgd { lr: 0.1 },
        (&train_set, &test_set),
        &config(0),
        None,
        &never(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("the network's parameter `W1` holds NaN before training"),
        "{error}"
    );
    let mut bad_lr = Sgd { lr: -1.0 };
    assert_eq!(
        refused(config(0), &mut bad_lr),
        "learning rate = -1: expected a finite number above 0"
    );
    assert_eq!(net.affine1.W, before, "nothing was trained");
}

#[test]
fn a_loss_that_stops_being_finite_ends_the_run_naming_the_step() {
    let (train_set, test_set) = (data(100, 8), data(50, 9));
    let mut net =
        Other::<f32>::with_weight_init(WeightInit::Std(1.0), &mut StdRng::seed_from_u64(0));
    let mut sgd = Sgd { lr: 1e30 };
    let config = TrainerConfig {
        weight_decay: 0.0,
        ..config(1)
    };
    let error = train::train(
        &mut net,
        &mut sgd,
        (&train_set, &test_set),
        &config,
        None,
        &never(),
        &mut |_| {},
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("training diverged at step "),
        "{message}"
    );
    assert!(
        message.contains("the learning rate is too large"),
        "{message}"
    );
}

/// Stops a run after `stop_after` steps, resumes it from its checkpoint, and compares
/// with a run never interrupted.
fn resumes_exactly(sampling: SamplingMode, optimizer: &str, stop_after: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let (train_set, test_set) = (data(200, 10), data(100, 11));
    let config = TrainerConfig {
        sampling,
        checkpoint: Some(path.clone()),
        ..config(12)
    };
    let fresh =
        || Small::<f32>::with_weight_init(WeightInit::He, &mut Streams::new(12).initialisation());

    let mut whole = fresh();
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let expected = finished(
        train::train(
            &mut whole,
            &mut opt,
            (&train_set, &test_set),
            &config,
            None,
            &never(),
            &mut |_| {},
        )
        .unwrap(),
    );

    let mut first = fresh();
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let stop = never();
    let outcome = train::train(
        &mut first,
        &mut opt,
        (&train_set, &test_set),
        &config,
        None,
        &stop,
        &mut |event| {
            if let Progress::Step { step, .. } = event
                && step + 1 == stop_after
            {
                stop.store(true, Ordering::Relaxed);
            }
        },
    )
    .unwrap();
    assert!(matches!(outcome, Outcome::Stopped { steps_done, .. } if steps_done == stop_after));

    let mut resumed = Small::<f32>::new(&mut StdRng::seed_from_u64(99));
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let checkpoint = Checkpoint::read(&path).unwrap();
    assert_eq!(checkpoint.steps_done().unwrap(), stop_after);
    let history = finished(
        train::train(
            &mut resumed,
            &mut opt,
            (&train_set, &test_set),
            &config,
            Some(checkpoint),
            &never(),
            &mut |_| {},
        )
        .unwrap(),
    );
    assert_eq!(history, expected, "{optimizer}, {sampling:?}");
    assert_eq!(resumed.affine1.W, whole.affine1.W);
    assert_eq!(resumed.batchnorm1.running_var, whole.batchnorm1.running_var);
}

#[test]
fn a_stopped_run_resumes_to_exactly_the_uninterrupted_result() {
    resumes_exactly(SamplingMode::WithReplacement, "adam", 11);
    resumes_exactly(SamplingMode::ShuffledEpochs, "momentum", 5);
}

#[test]
fn a_checkpoint_of_another_network_run_or_no_checkpoint_at_all_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let (train_set, test_set) = (data(100, 13), data(50, 14));
    let config = TrainerConfig {
        length: Length::Iterations(3),
        checkpoint: Some(path.clone()),
        ..config(15)
    };
    let mut net = Small::<f32>::new(&mut StdRng::seed_from_u64(0));
    let mut sgd = Sgd { lr: 0.1 };
    train::train(
        &mut net,
        &mut sgd,
        (&train_set, &test_set),
        &config,
        None,
        &never(),
        &mut |_| {},
    )
    .unwrap();

    let mut other = Other::<f32>::new(&mut StdRng::seed_from_u64(0));
    let checkpoint = Checkpoint::read(&path).unwrap();
    let error = train::train(
        &mut other,
        &mut sgd,
        (&train_set, &test_set),
        &config,
        Some(checkpoint),
        &never(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("it is of another network"), "{error}");

    let checkpoint = Checkpoint::read(&path).unwrap();
    let reseeded = TrainerConfig {
        seed: 16,
        ..config.clone()
    };
    let error = train::train(
        &mut net,
        &mut sgd,
        (&train_set, &test_set),
        &reseeded,
        Some(checkpoint),
        &never(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("a run with seed 15, not 16"), "{error}");

    std::fs::write(&path, b"not a checkpoint").unwrap();
    let error = Checkpoint::<f32>::read(&path).unwrap_err().to_string();
    assert!(error.contains("not a readable checkpoint"), "{error}");
    let model = dir.path().join("model.safetensors");
    backprop::model_file::save(&net, &model, backprop::model_file::Overwrite::Never).unwrap();
    let error = Checkpoint::<f32>::read(&model).unwrap_err().to_string();
    assert!(
        error.contains("a model file is not a checkpoint"),
        "{error}"
    );
}
