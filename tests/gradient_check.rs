//! The book's gradient check (section 5.7.3) in f64: backpropagation against central
//! differences for every parameter, on the two-layer net and deeper nets, over many
//! random batch sizes, inputs and seeds.
//!
//! The one legitimate disagreement is a ReLU input that crosses zero inside the
//! finite-difference step (a kink, where the function has no derivative). Such a
//! point is not guessed: the test perturbs the parameter by ±h, and excuses the
//! element only if some ReLU mask actually differs between the two sides.

use backprop::gradient_check::{STEP, relative_error};
use backprop::prelude::*;
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

network! {
    struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }

    struct DeepRelu {
        Affine(12, 16) -> Relu -> Affine(16, 16) -> Relu -> Affine(16, 12) -> Relu
            -> Affine(12, 10) -> Relu -> Affine(10, 4) -> SoftmaxWithLoss
    }

    struct DeepSigmoid {
        Affine(12, 16) -> Sigmoid -> Affine(_, 16) -> Sigmoid -> Affine(_, 12) -> Sigmoid
            -> Affine(12, 10) -> Sigmoid -> Affine(10, 4) -> SoftmaxWithLoss
    }

    struct Mixed {
        Affine(9, 14) -> Relu -> Affine(14, 11) -> Sigmoid -> Affine(11, 8) -> Relu
            -> Affine(8, 3) -> SoftmaxWithLoss
    }
}

const MEAN_ABS_LIMIT: f64 = 1e-8;
const MAX_RELATIVE_LIMIT: f64 = 1e-5;

/// What one check needs from a network type, written out per type by `checkable!`.
trait Checkable: Network<f64> + Sized {
    fn make(init: WeightInit, rng: &mut StdRng) -> Self;
    fn backprop(&mut self, x: &[f64], t: &[usize]) -> Vec<(&'static str, ArrayD<f64>)>;
    fn numerical(&mut self, x: &[f64], t: &[usize]) -> Vec<(&'static str, ArrayD<f64>)>;
    /// Runs a forward pass and returns which ReLU outputs are positive.
    fn relu_mask(&mut self, x: &[f64], t: &[usize]) -> Vec<bool>;
}

macro_rules! checkable {
    ($net:ident, [$($relu:ident),*]) => {
        impl Checkable for $net<f64> {
            fn make(init: WeightInit, rng: &mut StdRng) -> Self {
                Self::with_weight_init(init, rng)
            }
            fn backprop(&mut self, x: &[f64], t: &[usize]) -> Vec<(&'static str, ArrayD<f64>)> {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x).unwrap();
                self.gradient(&x, t).unwrap();
                owned(&self.gradients())
            }
            fn numerical(&mut self, x: &[f64], t: &[usize]) -> Vec<(&'static str, ArrayD<f64>)> {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x).unwrap();
                owned(&self.numerical_gradient(&x, t).unwrap())
            }
            #[allow(unused_variables, unused_mut)]
            fn relu_mask(&mut self, x: &[f64], t: &[usize]) -> Vec<bool> {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x).unwrap();
                self.gradient(&x, t).unwrap();
                let mut mask = Vec::new();
                $(mask.extend(self.$relu.output().iter().map(|&v| v > 0.0));)*
                mask
            }
        }
    };
}

checkable!(TwoLayerNet, [relu1]);
checkable!(DeepRelu, [relu1, relu2, relu3, relu4]);
checkable!(DeepSigmoid, []);
checkable!(Mixed, [relu1, relu2]);

fn owned(gradients: &impl NamedTensors<f64>) -> Vec<(&'static str, ArrayD<f64>)> {
    gradients
        .tensors()
        .into_iter()
        .map(|(name, g)| (name, g.to_owned()))
        .collect()
}

/// Sets element `index` of parameter `name` to `value`.
fn set_parameter(net: &mut impl Network<f64>, name: &str, index: usize, value: f64) {
    net.visit_parameters_mut(&mut |mut p| {
        if p.name == name {
            *p.value.iter_mut().nth(index).unwrap() = value;
        }
    });
}

/// Whether moving parameter `name[index]` by ±h flips any ReLU.
fn crosses_kink<N: Checkable>(
    net: &mut N,
    name: &str,
    index: usize,
    x: &[f64],
    t: &[usize],
) -> bool {
    let mut original = 0.0;
    net.visit_parameters(&mut |p| {
        if p.name == name {
            original = *p.value.iter().nth(index).unwrap();
        }
    });
    set_parameter(net, name, index, original + STEP);
    let above = net.relu_mask(x, t);
    set_parameter(net, name, index, original - STEP);
    let below = net.relu_mask(x, t);
    set_parameter(net, name, index, original);
    above != below
}

/// Checks one random case; returns how many elements were excused as kinks, and how
/// many were compared.
fn check_case<N: Checkable>(seed: u64, init: WeightInit, max_rows: usize) -> (usize, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = N::make(init, &mut rng);
    let rows = rng.random_range(1..=max_rows);
    let x: Vec<f64> = (0..rows * N::INPUT_WIDTH)
        .map(|_| rng.sample(StandardNormal))
        .collect();
    let t: Vec<usize> = (0..rows)
        .map(|_| rng.random_range(0..N::OUTPUT_WIDTH))
        .collect();

    let backprop = net.backprop(&x, &t);
    let numerical = net.numerical(&x, &t);
    let mut excused = 0;
    let mut compared = 0;
    for ((name, a), (_, b)) in backprop.iter().zip(&numerical) {
        compared += a.len();
        let mut total = 0.0;
        let mut counted = 0;
        for (index, (&a, &b)) in a.iter().zip(b.iter()).enumerate() {
            if relative_error(a, b) > MAX_RELATIVE_LIMIT {
                assert!(
                    crosses_kink(&mut net, name, index, &x, &t),
                    "seed {seed}: {name}[{index}] backprop {a:e} vs numerical {b:e} \
                     (relative error {:e}) with no ReLU kink in the step",
                    relative_error(a, b)
                );
                excused += 1;
                continue;
            }
            total += (a - b).abs();
            counted += 1;
        }
        let mean = total / counted.max(1) as f64;
        assert!(
            mean < MEAN_ABS_LIMIT,
            "seed {seed}: {name} mean |backprop − numerical| = {mean:e}"
        );
    }
    (excused, compared)
}

/// Checks many seeds; a unit near its kink excuses every parameter upstream of it, so
/// some excused elements are expected in deep ReLU nets, but only a small share.
fn check_seeds<N: Checkable>(seeds: std::ops::Range<u64>, init: WeightInit) {
    let (excused, compared) = seeds
        .map(|seed| check_case::<N>(seed, init, 8))
        .fold((0, 0), |(e, c), (de, dc)| (e + de, c + dc));
    assert!(
        excused * 100 <= compared,
        "{excused} of {compared} elements excused as ReLU kinks"
    );
}

#[test]
fn two_layer_net_as_the_book() {
    // The book checks three MNIST-like samples at its own initialisation.
    let (excused, _) = check_case::<TwoLayerNet<f64>>(2024, WeightInit::default(), 3);
    assert_eq!(excused, 0);
}

#[test]
fn deep_relu_nets_over_random_cases() {
    check_seeds::<DeepRelu<f64>>(0..12, WeightInit::He);
}

#[test]
fn deep_sigmoid_nets_over_random_cases() {
    for seed in 0..12 {
        assert_eq!(
            check_case::<DeepSigmoid<f64>>(seed, WeightInit::Xavier, 8).0,
            0
        );
    }
}

#[test]
fn mixed_nets_over_random_cases() {
    check_seeds::<Mixed<f64>>(100..112, WeightInit::He);
}

#[test]
fn the_kink_detector_sees_a_relu_crossing_zero() {
    // A bias placed exactly at a ReLU's kink must be recognised as one.
    let mut rng = StdRng::seed_from_u64(7);
    let mut net = Mixed::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let x: Vec<f64> = (0..9).map(|_| rng.sample(StandardNormal)).collect();
    let t = [1usize];
    let xb = BatchView::<f64, 9>::from_slice(&x).unwrap();
    net.gradient(&xb, &t).unwrap();
    let z = net.affine1.output().row(0).to_owned();
    net.affine1.b[0] -= z[0];
    assert!(crosses_kink(&mut net, "b1", 0, &x, &t));
    // The unit farthest from its kink does not cross it.
    let far = (1..z.len())
        .max_by(|&a, &b| z[a].abs().total_cmp(&z[b].abs()))
        .unwrap();
    assert!(z[far].abs() > 0.1);
    assert!(!crosses_kink(&mut net, "b1", far, &x, &t));
}
