//! The trainer: the book's semantics, checked settings, caught divergence, a history
//! that is the same bit for bit from the same seed, checkpoints at the end of every
//! epoch that resume and extend a run exactly and never replace another file, early
//! stopping, the best model, and learning-rate schedules.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use backprop::data::{Dataset, SamplingMode};
use backprop::model_file::{self, Overwrite};
use backprop::optim::{self, Optimizer, Sgd};
use backprop::prelude::*;
use backprop::train::{
    self, Checkpoint, End, Monitor, Outcome, Progress, Schedule, StepDecay, Trainer, WarmupCosine,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    struct Small(64) {
        Affine(_, 20) -> BatchNorm -> Relu -> Dropout(0.2) -> Affine(20, 10) -> SoftmaxWithLoss
    }

    struct Other(64) {
        Affine(_, 12) -> Relu -> Affine(12, 10) -> SoftmaxWithLoss
    }

    struct Convolved(1, 8, 8) {
        Convolution(4, 3, 3, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 10) -> SoftmaxWithLoss
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

/// 200 / 25 = 8 steps an epoch, 3 epochs.
fn trainer(seed: u64) -> Trainer {
    Trainer::new()
        .epochs(3)
        .batch_size(25)
        .evaluation_samples(60)
        .weight_decay(1e-3)
        .seed(seed)
}

fn fresh(trainer: &Trainer) -> Small<f32> {
    Small::<f32>::with_weight_init(WeightInit::He, &mut trainer.initialisation())
}

fn run(trainer: &Trainer, sets: (&Dataset, &Dataset)) -> (Small<f32>, Outcome) {
    let mut net = fresh(trainer);
    let mut adam = optim::Adam::<f32>::default();
    let outcome = trainer.fit(&mut net, &mut adam, sets.0, sets.1).unwrap();
    (net, outcome)
}

/// A run with Adam that must succeed.
fn with_adam<N: Network<f32>>(
    trainer: &Trainer,
    net: &mut N,
    sets: (&Dataset, &Dataset),
) -> Outcome {
    let adam = &mut optim::Adam::default();
    trainer.fit(net, adam, sets.0, sets.1).unwrap()
}

/// The error of a run refused before its first step, with Adam.
fn refusal<N: Network<f32>>(trainer: &Trainer, net: &mut N, sets: (&Dataset, &Dataset)) -> String {
    let adam = &mut optim::Adam::default();
    trainer
        .fit(net, adam, sets.0, sets.1)
        .unwrap_err()
        .to_string()
}

/// The steps after which checkpoints were written.
fn checkpoint_steps(trainer: &Trainer, sets: (&Dataset, &Dataset)) -> Vec<usize> {
    let mut written = Vec::new();
    let mut net = fresh(trainer);
    trainer
        .fit_reporting(
            &mut net,
            &mut Sgd { lr: 0.1 },
            sets.0,
            sets.1,
            &mut |event| {
                if let Progress::Checkpointed { steps_done, .. } = event {
                    written.push(steps_done)
                }
            },
        )
        .unwrap();
    written
}

#[test]
fn the_books_evaluation_points_one_per_epoch_then_the_full_validation_set() {
    let (train_set, validation_set) = (data(200, 1), data(100, 2));
    let trainer = trainer(3);
    let mut events = Vec::new();
    let mut unoptimised = 0;
    let mut net = fresh(&trainer);
    let outcome = trainer
        .fit_reporting(
            &mut net,
            &mut Sgd { lr: 0.1 },
            &train_set,
            &validation_set,
            &mut |event| match event {
                Progress::Evaluated(record) => events.push(*record),
                Progress::Unoptimised => unoptimised += 1,
                _ => {}
            },
        )
        .unwrap();
    assert_eq!((outcome.end, outcome.steps_done), (End::Finished, 24));
    let history = outcome.history;
    // Evaluations after steps 0, 8, 16 (the book's: after the first step of each
    // epoch), then the final one on the full sets.
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
    assert_eq!(unoptimised, usize::from(!train::OPTIMISED));
    // Each record's mean loss is that of the steps since the evaluation before.
    let mean = |losses: &[f64]| losses.iter().sum::<f64>() / losses.len() as f64;
    let ranges = [0..1, 1..9, 9..17, 17..24];
    for (record, range) in history.evaluations.iter().zip(ranges) {
        assert_eq!(record.mean_loss, mean(&history.losses[range]));
    }
    // The final one: the full validation set, the training set as the epochs saw it
    // (its first 60 samples).
    let last = history.evaluations[3];
    assert_eq!(last.validation, net.evaluate(&validation_set).unwrap());
    assert_eq!(last.train, net.evaluate(&train_set.first(60)).unwrap());
    assert_ne!(
        last.validation,
        net.evaluate(&validation_set.first(60)).unwrap()
    );
    assert!(history.losses[23] < history.losses[0], "it learns");
}

#[test]
fn checkpoints_come_after_the_last_step_of_every_epoch() {
    // 60,000 images in batches of 100: the book's 600 steps an epoch.
    let (train_set, validation_set) = (data(60_000, 20), data(100, 21));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let base = Trainer::new()
        .batch_size(100)
        .evaluation_samples(100)
        .checkpoint(&path)
        .replace_checkpoint(true);
    let sets = (&train_set, &validation_set);
    assert_eq!(checkpoint_steps(&base.clone().epochs(1), sets), [600]);
    assert_eq!(
        Checkpoint::<f32>::read(&path)
            .unwrap()
            .steps_done()
            .unwrap(),
        600
    );
    assert_eq!(
        checkpoint_steps(&base.clone().epochs(3), sets),
        [600, 1200, 1800]
    );
    // A length that is not whole epochs ends with one at its last step.
    assert_eq!(checkpoint_steps(&base.iterations(1000), sets), [600, 1000]);
}

#[test]
fn the_same_seed_gives_the_same_history_bit_for_bit() {
    let (train_set, validation_set) = (data(200, 4), data(100, 5));
    let sets = (&train_set, &validation_set);
    let (a, outcome_a) = run(&trainer(7), sets);
    let (b, outcome_b) = run(&trainer(7), sets);
    assert_eq!(outcome_a, outcome_b);
    assert_eq!(a.affine1.W, b.affine1.W);
    let (c, outcome_c) = run(&trainer(8), sets);
    assert_ne!(outcome_a.history.losses, outcome_c.history.losses);
    // The one seed drives the initialisation too.
    assert_ne!(fresh(&trainer(7)).affine1.W, fresh(&trainer(8)).affine1.W);
    assert_ne!(a.affine1.W, c.affine1.W);
}

#[test]
fn settings_that_make_no_sense_are_refused_before_the_first_step() {
    let (train_set, validation_set) = (data(50, 6), data(50, 7));
    let mut net = Small::<f32>::new(&mut StdRng::seed_from_u64(0));
    let before = net.affine1.W.clone();
    let mut refused = |trainer: Trainer, optimizer: &mut dyn Optimizer<f32>| {
        trainer
            .fit(&mut net, optimizer, &train_set, &validation_set)
            .unwrap_err()
            .to_string()
    };
    let mut sgd = Sgd { lr: 0.1 };
    let cases = [
        (
            trainer(0).batch_size(0),
            "batch size = 0: expected a whole number of at least 1",
        ),
        (
            trainer(0).epochs(0),
            "epochs = 0: expected a whole number of at least 1",
        ),
        (
            trainer(0).weight_decay(f64::NAN),
            "weight decay = NaN: expected a finite number of at least 0",
        ),
        (
            trainer(0).patience(0),
            "patience = 0: expected a whole number of at least 1",
        ),
        (
            trainer(0).schedule(StepDecay::new(100, 1.5)),
            "decay factor = 1.5: expected a number above 0 and at most 1",
        ),
        (
            trainer(0).schedule(WarmupCosine::new(50, 50, 0.0)),
            "warm-up steps = 50: expected fewer steps than the cosine's horizon",
        ),
    ];
    for (trainer, message) in cases {
        assert_eq!(refused(trainer, &mut sgd), message);
    }
    assert_eq!(
        refused(trainer(0), &mut Sgd { lr: -1.0 }),
        "learning rate = -1: expected a finite number above 0"
    );
    assert_eq!(net.affine1.W, before, "nothing was trained");
    let mut nan_init = Small::<f32>::with_weight_init_std(f64::NAN, &mut StdRng::seed_from_u64(0));
    let error = trainer(0)
        .fit(&mut nan_init, &mut sgd, &train_set, &validation_set)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("the network's parameter `W1` holds NaN before training"),
        "{error}"
    );
}

#[test]
fn a_loss_that_stops_being_finite_ends_the_run_naming_the_step() {
    let (train_set, validation_set) = (data(100, 8), data(50, 9));
    let mut net =
        Other::<f32>::with_weight_init(WeightInit::Std(1.0), &mut StdRng::seed_from_u64(0));
    let mut sgd = Sgd { lr: 1e30 };
    let message = trainer(1)
        .weight_decay(0.0)
        .fit(&mut net, &mut sgd, &train_set, &validation_set)
        .unwrap_err()
        .to_string();
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
    let (train_set, validation_set) = (data(200, 10), data(100, 11));
    let base = trainer(12).sampling(sampling);

    let mut whole = fresh(&base);
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let expected = base
        .fit(&mut whole, &mut opt, &train_set, &validation_set)
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let stopping = base.clone().checkpoint(&path).stop_when(Arc::clone(&stop));
    let mut first = fresh(&base);
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let outcome = stopping
        .fit_reporting(
            &mut first,
            &mut opt,
            &train_set,
            &validation_set,
            &mut |event| {
                if let Progress::Step { step, .. } = event
                    && step + 1 == stop_after
                {
                    stop.store(true, Ordering::Relaxed);
                }
            },
        )
        .unwrap();
    assert_eq!(
        (outcome.end, outcome.steps_done),
        (End::Stopped, stop_after)
    );

    // A network of other weights: the checkpoint replaces them all.
    let mut resumed = Small::<f32>::new(&mut StdRng::seed_from_u64(99));
    let mut opt = optim::by_name::<f32>(optimizer).unwrap();
    let outcome = base
        .clone()
        .checkpoint(&path)
        .resume(&path)
        .fit(&mut resumed, &mut opt, &train_set, &validation_set)
        .unwrap();
    assert_eq!(outcome, expected, "{optimizer}, {sampling:?}");
    assert_eq!(resumed.affine1.W, whole.affine1.W);
    assert_eq!(resumed.batchnorm1.running_var, whole.batchnorm1.running_var);
}

#[test]
fn a_stopped_run_resumes_to_exactly_the_uninterrupted_result() {
    resumes_exactly(SamplingMode::WithReplacement, "adam", 11);
    resumes_exactly(SamplingMode::ShuffledEpochs, "momentum", 5);
}

#[test]
fn a_stopped_convolutional_run_resumes_to_exactly_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let (train_set, validation_set) = (data(200, 60), data(100, 61));
    let base = trainer(62);
    let fresh = || Convolved::<f32>::new(&mut base.initialisation());
    let mut whole = fresh();
    let expected = with_adam(&base, &mut whole, (&train_set, &validation_set));

    let stop = Arc::new(AtomicBool::new(false));
    let stopping = base.clone().checkpoint(&path).stop_when(Arc::clone(&stop));
    let mut first = fresh();
    let outcome = stopping
        .fit_reporting(
            &mut first,
            &mut optim::Adam::default(),
            &train_set,
            &validation_set,
            &mut |event| {
                if let Progress::Step { step: 12, .. } = event {
                    stop.store(true, Ordering::Relaxed);
                }
            },
        )
        .unwrap();
    assert_eq!((outcome.end, outcome.steps_done), (End::Stopped, 13));
    let mut resumed = Convolved::<f32>::new(&mut StdRng::seed_from_u64(5));
    let outcome = with_adam(
        &base.resume(&path),
        &mut resumed,
        (&train_set, &validation_set),
    );
    assert_eq!(outcome, expected);
    assert_eq!(resumed.conv1.W, whole.conv1.W);
    assert_eq!(resumed.affine1.W, whole.affine1.W);
}

#[test]
fn a_finished_run_extended_ends_where_the_longer_run_ends_bit_for_bit() {
    for sampling in [SamplingMode::WithReplacement, SamplingMode::ShuffledEpochs] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.checkpoint");
        let (train_set, validation_set) = (data(200, 30), data(100, 31));
        // A schedule whose horizon is its own, so extending does not bend it.
        let base = trainer(32)
            .sampling(sampling)
            .schedule(WarmupCosine::new(4, 40, 0.1));

        let mut longer = fresh(&base);
        let expected = with_adam(
            &base.clone().epochs(2),
            &mut longer,
            (&train_set, &validation_set),
        );

        let mut net = fresh(&base);
        let one = base.clone().epochs(1).checkpoint(&path);
        let outcome = with_adam(&one, &mut net, (&train_set, &validation_set));
        assert_eq!((outcome.end, outcome.steps_done), (End::Finished, 8));
        let extended = base.clone().epochs(2).checkpoint(&path).resume(&path);
        let outcome = with_adam(&extended, &mut net, (&train_set, &validation_set));
        assert_eq!(outcome, expected, "{sampling:?}");
        assert_eq!(net.affine2.W, longer.affine2.W);
        // Shortening is refused, naming the steps done.
        let error = refusal(
            &base.clone().iterations(10).resume(&path),
            &mut net,
            (&train_set, &validation_set),
        );
        assert!(
            error.contains("the checkpoint has done 16 steps, more than this run's 10"),
            "{error}"
        );
    }
}

#[test]
fn a_checkpoint_path_holding_another_file_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let (train_set, validation_set) = (data(100, 13), data(50, 14));
    let seed_42 = trainer(42).iterations(3).checkpoint(&path);
    run(&seed_42, (&train_set, &validation_set));
    let written = std::fs::read(&path).unwrap();

    let mut net = fresh(&trainer(7));
    let before = net.affine1.W.clone();
    let seed_7 = trainer(7).iterations(3).checkpoint(&path);
    let error = seed_7
        .fit(&mut net, &mut Sgd { lr: 0.1 }, &train_set, &validation_set)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("already holds another run's checkpoint (seed 42, 3 steps done)"),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), written);
    assert_eq!(net.affine1.W, before, "refused before the first step");

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes").unwrap();
    let error = trainer(7)
        .checkpoint(&notes)
        .fit(&mut net, &mut Sgd { lr: 0.1 }, &train_set, &validation_set)
        .unwrap_err()
        .to_string();
    assert!(error.contains("a file that is not a checkpoint"), "{error}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");

    // Asked to, it replaces the file.
    seed_7
        .replace_checkpoint(true)
        .fit(&mut net, &mut Sgd { lr: 0.1 }, &train_set, &validation_set)
        .unwrap();
    assert_ne!(std::fs::read(&path).unwrap(), written);
}

#[test]
fn a_checkpoint_of_another_network_or_run_is_refused_and_its_model_can_be_taken_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let (train_set, validation_set) = (data(100, 13), data(50, 14));
    let base = trainer(15).iterations(3);
    let (trained, _) = run(
        &base.clone().checkpoint(&path),
        (&train_set, &validation_set),
    );

    let mut other = Other::<f32>::new(&mut StdRng::seed_from_u64(0));
    let error = refusal(
        &base.clone().resume(&path),
        &mut other,
        (&train_set, &validation_set),
    );
    assert!(
        error.contains("the checkpoint is of another network"),
        "{error}"
    );
    // Every difference at once.
    for part in [
        "`W1` has shape [64, 20], expected [64, 12]",
        "`gamma1`",
        "`running_var1`",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }

    let mut net = fresh(&base);
    let error = refusal(
        &base.clone().seed(16).resume(&path),
        &mut net,
        (&train_set, &validation_set),
    );
    assert!(error.contains("a run with seed 15, not 16"), "{error}");

    // The model, out of the checkpoint, is the trained one.
    let checkpoint = Checkpoint::<f32>::read(&path).unwrap();
    checkpoint.restore_model(&mut net).unwrap();
    assert_eq!(net.affine1.W, trained.affine1.W);
    assert_eq!(net.batchnorm1.running_mean, trained.batchnorm1.running_mean);
    assert!(
        checkpoint.restore_best_model(&mut net).is_err(),
        "none kept"
    );
    // Given as a model file, it says what it is and how to get the model.
    let error = model_file::load(&mut net, &path).unwrap_err().to_string();
    assert!(
        error.contains("is a training checkpoint, not a model file")
            && error.contains("restore_model"),
        "{error}"
    );

    std::fs::write(&path, b"not a checkpoint").unwrap();
    let error = Checkpoint::<f32>::read(&path).unwrap_err().to_string();
    assert!(error.contains("not a readable checkpoint"), "{error}");
    let model = dir.path().join("model.safetensors");
    model_file::save(&net, &model, Overwrite::Never).unwrap();
    let error = Checkpoint::<f32>::read(&model).unwrap_err().to_string();
    assert!(
        error.contains("a model file is not a checkpoint"),
        "{error}"
    );
}

/// Trains on 40 images against a validation set with unrelated labels: the model
/// overfits and the validation loss climbs after its first epochs.
fn overfitting_run(trainer: &Trainer) -> (Small<f32>, Outcome) {
    let train_set = data(40, 40);
    let mut shuffled = data(200, 41).labels().to_vec();
    shuffled.rotate_left(3);
    let pixels = data(200, 41).pixels().to_vec();
    let validation_set = Dataset::from_raw(pixels, shuffled, 8, 8, 10).unwrap();
    let mut net = fresh(trainer);
    let outcome = with_adam(trainer, &mut net, (&train_set, &validation_set));
    (net, outcome)
}

#[test]
fn early_stopping_stops_where_the_patience_runs_out() {
    let patient = Trainer::new().epochs(60).batch_size(10).seed(3).patience(3);
    let (_, outcome) = overfitting_run(&patient);
    assert_eq!(outcome.end, End::EarlyStopped);
    let per_epoch: Vec<f64> = outcome
        .history
        .evaluations
        .iter()
        .filter(|r| r.end_of_epoch)
        .map(|r| r.validation.loss)
        .collect();
    // The rule, from the definition: stop at the first evaluation that is the third
    // in a row not below the best before it.
    let mut best = f64::INFINITY;
    let mut since = 0;
    let mut stop_at = None;
    for (i, &loss) in per_epoch.iter().enumerate() {
        if loss < best {
            (best, since) = (loss, 0);
        } else {
            since += 1;
        }
        if since == 3 {
            stop_at = Some(i);
            break;
        }
    }
    assert_eq!(stop_at, Some(per_epoch.len() - 1), "{per_epoch:?}");
    assert!(per_epoch.len() < 60, "it stopped before the end");
    // The final evaluation still runs, after the step of the last one.
    let last = outcome.history.evaluations.last().unwrap();
    assert!(!last.end_of_epoch);
    assert_eq!(outcome.steps_done, (per_epoch.len() - 1) * 4 + 1);
}

#[test]
fn the_best_model_is_restored_and_a_resumed_run_decides_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    let keeping = Trainer::new()
        .epochs(60)
        .batch_size(10)
        .seed(3)
        .patience(3)
        .keep_best(true)
        .checkpoint(&path);
    let (net, outcome) = overfitting_run(&keeping);
    let best = outcome.best.expect("a best model");
    let records = &outcome.history.evaluations;
    assert_eq!(Some(best), outcome.history.best(Monitor::ValidationLoss));
    // The final evaluation, on the same full sets, is of the best evaluation's model.
    assert_eq!(records.last().unwrap().validation, records[best].validation);
    assert_ne!(best, records.len() - 2, "the best is not the last");
    // The checkpoint keeps it too, and the last model to continue from.
    let checkpoint = Checkpoint::<f32>::read(&path).unwrap();
    let mut best_model = fresh(&keeping);
    checkpoint.restore_best_model(&mut best_model).unwrap();
    assert_eq!(best_model.affine1.W, net.affine1.W);
    let mut last_model = fresh(&keeping);
    checkpoint.restore_model(&mut last_model).unwrap();
    assert_ne!(last_model.affine1.W, net.affine1.W);

    // Resumed with a longer length, the run stops where it stopped, with the same best.
    let (resumed_net, resumed) = overfitting_run(&keeping.clone().epochs(80).resume(&path));
    assert_eq!(resumed, outcome);
    assert_eq!(resumed_net.affine1.W, net.affine1.W);
}

#[test]
fn schedules_follow_their_formulas_and_the_optimizer_keeps_its_rate() {
    let decay = StepDecay::new(10, 0.5);
    assert_eq!(
        [0, 9, 10, 25].map(|s| decay.factor(s)),
        [1.0, 1.0, 0.5, 0.25]
    );
    let cosine = WarmupCosine::new(4, 14, 0.1);
    let expected = |s: usize| {
        if s < 4 {
            (s + 1) as f64 / 4.0
        } else {
            let t = ((s - 4) as f64 / 10.0).min(1.0);
            0.1 + 0.9 * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
        }
    };
    for step in [0, 3, 4, 9, 14, 100] {
        assert!(
            (cosine.factor(step) - expected(step)).abs() < 1e-15,
            "{step}"
        );
    }
    assert_eq!(
        (cosine.factor(4), cosine.factor(9), cosine.factor(14)),
        (1.0, 0.55, 0.1)
    );

    let (train_set, validation_set) = (data(200, 50), data(50, 51));
    let mut rates = Vec::new();
    let mut adam = optim::Adam::<f32>::default();
    let base = adam.learning_rate();
    let mut net = fresh(&trainer(5));
    trainer(5)
        .schedule(cosine)
        .fit_reporting(
            &mut net,
            &mut adam,
            &train_set,
            &validation_set,
            &mut |event| {
                if let Progress::Step { learning_rate, .. } = event {
                    rates.push(learning_rate)
                }
            },
        )
        .unwrap();
    let wanted: Vec<f64> = (0..24).map(|s| base * cosine.factor(s)).collect();
    assert_eq!(rates, wanted);
    assert_eq!(adam.learning_rate(), base, "left as it was given");

    // The schedule is part of the run: a checkpoint resumes only under the same one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.checkpoint");
    run(
        &trainer(5).iterations(3).schedule(cosine).checkpoint(&path),
        (&train_set, &validation_set),
    );
    let error = refusal(
        &trainer(5).resume(&path),
        &mut net,
        (&train_set, &validation_set),
    );
    assert!(
        error.contains("schedule warm-up over 4 steps, cosine to 0.1 at step 14, not constant"),
        "{error}"
    );
}
