//! Each optimizer against the book's update rules, evaluated here step by step in f64
//! from the formulas of `common/optimizer.py`; names, checks and saved state.

use backprop_runtime::optim::{self, AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd};

const EPS: f64 = 1e-7;

/// Gradients that change sign and size from step to step, for two parameters.
fn gradients(step: usize) -> [Vec<f64>; 2] {
    let s = step as f64;
    [
        vec![0.5 - 0.3 * s, -1.2 + 0.1 * s * s, 2.0 / (1.0 + s)],
        vec![(s * 0.7).sin(), -0.4],
    ]
}

fn start() -> [Vec<f64>; 2] {
    [vec![1.0, -2.0, 0.25], vec![0.5, 3.0]]
}

/// Runs `optimizer` for `steps` steps and returns the parameters.
fn run(optimizer: &mut dyn Optimizer<f64>, steps: usize) -> [Vec<f64>; 2] {
    let mut parameters = start();
    for step in 0..steps {
        optimizer.begin_update();
        for (index, (p, g)) in parameters.iter_mut().zip(gradients(step)).enumerate() {
            optimizer.update_parameter(index, p, &g);
        }
    }
    parameters
}

/// The book's rule, one parameter element at a time, with its per-element state.
fn by_hand(
    steps: usize,
    mut rule: impl FnMut(usize, &mut f64, f64, &mut [f64; 2]),
) -> [Vec<f64>; 2] {
    let mut parameters = start();
    let mut state: Vec<Vec<[f64; 2]>> =
        parameters.iter().map(|p| vec![[0.0; 2]; p.len()]).collect();
    for step in 0..steps {
        for ((p, g), s) in parameters.iter_mut().zip(gradients(step)).zip(&mut state) {
            for ((p, g), s) in p.iter_mut().zip(g).zip(s) {
                rule(step + 1, p, g, s);
            }
        }
    }
    parameters
}

fn assert_close(a: &[Vec<f64>; 2], b: &[Vec<f64>; 2]) {
    for (a, b) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((a - b).abs() <= 1e-14 * a.abs().max(1.0), "{a:?} vs {b:?}");
    }
}

const STEPS: usize = 7;

#[test]
fn sgd_steps_down_the_gradient() {
    let expected = by_hand(STEPS, |_, p, g, _| *p -= 0.01 * g);
    assert_close(&run(&mut Sgd::default(), STEPS), &expected);
}

#[test]
fn momentum_keeps_a_velocity() {
    let expected = by_hand(STEPS, |_, p, g, [v, _]| {
        *v = 0.9 * *v - 0.01 * g;
        *p += *v;
    });
    assert_close(&run(&mut Momentum::<f64>::default(), STEPS), &expected);
}

#[test]
fn nesterov_uses_the_velocity_before_the_step() {
    let expected = by_hand(STEPS, |_, p, g, [v, _]| {
        *p += 0.81 * *v - 1.9 * 0.01 * g;
        *v = 0.9 * *v - 0.01 * g;
    });
    assert_close(&run(&mut Nesterov::<f64>::default(), STEPS), &expected);
}

#[test]
fn adagrad_divides_by_the_root_of_all_squares() {
    let expected = by_hand(STEPS, |_, p, g, [h, _]| {
        *h += g * g;
        *p -= 0.01 * g / (h.sqrt() + EPS);
    });
    assert_close(&run(&mut AdaGrad::<f64>::default(), STEPS), &expected);
}

#[test]
fn rmsprop_divides_by_the_root_of_a_running_mean_of_squares() {
    let expected = by_hand(STEPS, |_, p, g, [h, _]| {
        *h = 0.99 * *h + 0.01 * g * g;
        *p -= 0.01 * g / (h.sqrt() + EPS);
    });
    assert_close(&run(&mut RmsProp::<f64>::default(), STEPS), &expected);
}

#[test]
fn adam_folds_its_bias_correction_into_the_step_size() {
    let expected = by_hand(STEPS, |t, p, g, [m, v]| {
        let t = t as f64;
        let lr_t = 0.001 * (1.0 - 0.999f64.powf(t)).sqrt() / (1.0 - 0.9f64.powf(t));
        *m += 0.1 * (g - *m);
        *v += 0.001 * (g * g - *v);
        *p -= lr_t * *m / (v.sqrt() + EPS);
    });
    assert_close(&run(&mut Adam::<f64>::default(), STEPS), &expected);
}

#[test]
fn adams_first_step_moves_each_value_by_about_the_learning_rate() {
    // With t = 1: m = 0.1 g, v = 0.001 g², lr_t = lr·√0.001 / 0.1, so the step is
    // lr·g / (|g| + ε/√0.001): lr times the sign of g, up to ε.
    let mut adam = Adam::<f64>::default();
    let mut p = vec![0.0, 0.0, 0.0];
    let g = [4.0, -0.5, 1e-3];
    adam.begin_update();
    adam.update_parameter(0, &mut p, &g);
    for (p, g) in p.iter().zip(g) {
        let expected = -0.001 * g / (g.abs() + EPS / 0.001f64.sqrt());
        assert!((p - expected).abs() < 1e-18, "{p} vs {expected}");
    }
    assert_eq!(adam.steps(), 1);
}

#[test]
fn optimizers_are_found_by_name_in_any_case_with_the_books_defaults() {
    let expected = [
        ("sgd", 0.01),
        ("momentum", 0.01),
        ("nesterov", 0.01),
        ("adagrad", 0.01),
        ("rmsprop", 0.01),
        ("adam", 0.001),
    ];
    assert_eq!(optim::NAMES, expected.map(|(name, _)| name));
    for (name, lr) in expected {
        let optimizer = optim::by_name::<f32>(&name.to_uppercase()).unwrap();
        assert_eq!((optimizer.name(), optimizer.learning_rate()), (name, lr));
        assert!(optimizer.validate().is_ok());
    }
    let error = optim::by_name::<f32>("rmsprpo").unwrap_err().to_string();
    assert_eq!(
        error,
        "unknown optimizer `rmsprpo`; the optimizers are sgd, momentum, nesterov, adagrad, rmsprop, adam"
    );
}

#[test]
fn hyper_parameters_that_make_no_sense_are_refused() {
    let mut optimizer = optim::by_name::<f64>("adam").unwrap();
    for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        optimizer.set_learning_rate(lr);
        let error = optimizer.validate().unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "learning rate = {lr}: expected a finite number above 0"
            )),
            "{error}"
        );
    }
    let mut momentum = Momentum::<f64>::default();
    momentum.momentum = 1.0;
    assert_eq!(
        Optimizer::validate(&momentum).unwrap_err().to_string(),
        "momentum = 1: expected a number in [0, 1)"
    );
    assert_eq!(
        Adam::<f64>::new(0.001, 0.9, -0.1).unwrap_err().to_string(),
        "beta2 = -0.1: expected a number in [0, 1)"
    );
    assert!(RmsProp::<f32>::new(0.01, 1.5).is_err());
    assert!(AdaGrad::<f32>::new(f64::NAN).is_err());
    assert!(Nesterov::<f32>::new(0.01, 0.9).is_ok());
}

#[test]
fn restored_state_continues_exactly_as_if_never_interrupted() {
    for name in optim::NAMES {
        let mut uninterrupted = optim::by_name::<f64>(name).unwrap();
        let expected = run(uninterrupted.as_mut(), 6);

        let mut first = optim::by_name::<f64>(name).unwrap();
        let mut parameters = start();
        let mut resumed = optim::by_name::<f64>(name).unwrap();
        for step in 0..6 {
            if step == 3 {
                resumed.load_state(&first.state()).unwrap();
                first = resumed;
                resumed = optim::by_name::<f64>(name).unwrap();
            }
            first.begin_update();
            for (index, (p, g)) in parameters.iter_mut().zip(gradients(step)).enumerate() {
                first.update_parameter(index, p, &g);
            }
        }
        assert_eq!(parameters, expected, "{name}");
    }
}

#[test]
fn state_from_elsewhere_is_refused_and_leaves_the_optimizer_unchanged() {
    let mut adam = Adam::<f64>::default();
    run(&mut adam, 2);
    let before = Optimizer::<f64>::state(&adam);
    let mut momentum = Momentum::<f64>::default();
    run(&mut momentum, 1);
    let error = adam
        .load_state(&Optimizer::<f64>::state(&momentum))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`t` (Adam's step count) is missing"),
        "{error}"
    );
    let mut gap = before.clone();
    gap.retain(|(name, _)| name != "m.0");
    assert!(
        adam.load_state(&gap)
            .unwrap_err()
            .to_string()
            .contains("`m.0` is missing")
    );
    let mut foreign = before.clone();
    foreign.push(("velocity".to_owned(), vec![1.0]));
    assert!(
        adam.load_state(&foreign)
            .unwrap_err()
            .to_string()
            .contains("unexpected tensor `velocity`")
    );
    assert_eq!(Optimizer::<f64>::state(&adam), before);
}
