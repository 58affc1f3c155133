//! Three-way agreement in f64: the backward pass that `network!` generates, the
//! autograd tape run on the network's own parameters, and central differences.
//!
//! The generated code and the tape compute exact gradients by two unrelated routes
//! (straight-line code written at compile time, a graph walked at run time), so they
//! must agree to rounding: about 1e-12, far tighter than the gradient check. Both must
//! also pass the book's gradient check against central differences.
//!
//! The tape is built by the network itself (`Network::tape`), from each layer's own tape
//! expression on the network's parameters, so the two cannot drift apart by a
//! hand-written copy.
//! Biases are randomised, not left at their initial zeros, so a bias lost on either
//! side shows.
//!
//! The one legitimate disagreement with central differences is a ReLU input that
//! crosses zero inside the step. It is detected, not guessed: the parameter is moved
//! by ±h and the element is excused only if some ReLU mask (read on the tape, whose
//! forward pass is checked against the network's) differs between the two sides.

use backprop::gradient_check::{STEP, relative_error};
use backprop::layers::{Context, Role};
use backprop::prelude::*;
use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

network! {
    struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }

    struct Relu3 {
        Affine(7, 12) -> Relu -> Affine(12, 9) -> Relu -> Affine(9, 4) -> SoftmaxWithLoss
    }

    struct Sigmoid3 {
        Affine(10, 8) -> Sigmoid -> Affine(8, 16) -> Sigmoid -> Affine(16, 5) -> SoftmaxWithLoss
    }

    struct Relu4 {
        Affine(6, 16) -> Relu -> Affine(16, 14) -> Relu -> Affine(14, 10) -> Relu
            -> Affine(10, 6) -> SoftmaxWithLoss
    }

    struct Sigmoid4 {
        Affine(11, 13) -> Sigmoid -> Affine(13, 9) -> Sigmoid -> Affine(9, 12) -> Sigmoid
            -> Affine(12, 3) -> SoftmaxWithLoss
    }

    struct Mixed4 {
        Affine(8, 10) -> Relu -> Affine(10, 15) -> Sigmoid -> Affine(15, 8) -> Relu
            -> Affine(8, 5) -> SoftmaxWithLoss
    }

    struct Relu5 {
        Affine(9, 12) -> Relu -> Affine(12, 16) -> Relu -> Affine(16, 11) -> Relu
            -> Affine(11, 8) -> Relu -> Affine(8, 4) -> SoftmaxWithLoss
    }

    struct Mixed5 {
        Affine(12, 8) -> Sigmoid -> Affine(8, 14) -> Relu -> Affine(14, 10) -> Sigmoid
            -> Affine(10, 12) -> Relu -> Affine(12, 7) -> SoftmaxWithLoss
    }

    struct Tanh3 {
        Affine(10, 8) -> Tanh -> Affine(8, 16) -> Tanh -> Affine(16, 5) -> SoftmaxWithLoss
    }

    /// A three-axis input, flattened by the first Affine; layers with their own init.
    struct Image(2, 3, 3) {
        Affine(_, 12, init = Xavier) -> Sigmoid -> Affine(12, 9, init = He) -> Relu
            -> Affine(9, 4) -> Tanh -> Affine(4, 3) -> SoftmaxWithLoss
    }

    struct Normed {
        Affine(6, 12) -> BatchNorm -> Relu -> Affine(12, 8) -> BatchNorm -> Sigmoid
            -> Affine(8, 4) -> SoftmaxWithLoss
    }

    struct Dropped {
        Affine(7, 12) -> Sigmoid -> Dropout(0.3) -> Affine(12, 9) -> Sigmoid
            -> Dropout(0.5, inverted = true) -> Affine(9, 3) -> SoftmaxWithLoss
    }

    /// The book's MultiLayerNetExtend order: Affine → BatchNorm → activation → Dropout.
    struct Extended {
        Affine(8, 10) -> BatchNorm -> Relu -> Dropout(0.2) -> Affine(10, 6)
            -> BatchNorm(momentum = 0.5) -> Sigmoid -> Dropout(0.4) -> Affine(6, 3)
            -> SoftmaxWithLoss
    }

    /// Max pooling of a two-channel image before the first Affine.
    struct Pooled(2, 6, 6) {
        Pooling(2, 2, stride = 2) -> Affine(_, 5) -> Sigmoid -> Affine(5, 3) -> SoftmaxWithLoss
    }

    /// The book's `ch07/gradient_check.py` setting: SimpleConvNet on 1 × 10 × 10 with 10
    /// filters of 3 × 3 and a hidden layer of 10.
    struct BookConvCheck(1, 10, 10) {
        Convolution(10, 3, 3) -> Relu -> Pooling(2, 2, stride = 2) -> Affine(_, 10) -> Relu
            -> Affine(10, 10) -> SoftmaxWithLoss
    }

    /// Several channels, a non-square kernel, stride 2 and pad 2, then pooling.
    struct Strided(3, 9, 8) {
        Convolution(5, 3, 2, stride = 2, pad = 2) -> Tanh -> Pooling(2, 2, stride = 2)
            -> Affine(_, 4) -> SoftmaxWithLoss
    }

    /// A second convolution with 8 input channels, whose input gradient comes from its
    /// turned filters.
    struct Turned(2, 6, 6) {
        Convolution(8, 3, 3, pad = 1) -> Tanh -> Convolution(3, 3, 3, pad = 2) -> Tanh
            -> Affine(_, 3) -> SoftmaxWithLoss
    }

    /// 1 × 1 filters, where the image is its own column matrix.
    struct Pointwise(2, 3, 3) {
        Convolution(3, 1, 1) -> Sigmoid -> Affine(_, 3) -> SoftmaxWithLoss
    }

    /// A scaled-down chapter 8 net: stacked padded 3 × 3 convolutions, pools, Dropout.
    struct DeepConv(1, 8, 8) {
        Convolution(4, 3, 3, pad = 1) -> Relu -> Convolution(4, 3, 3, pad = 1) -> Relu
            -> Pooling(2, 2, stride = 2) -> Convolution(6, 3, 3, pad = 2) -> Relu
            -> Pooling(2, 2, stride = 2) -> Affine(_, 8) -> Relu -> Dropout(0.5) -> Affine(8, 3)
            -> Dropout(0.5) -> SoftmaxWithLoss
    }
}

/// Generated backward against the tape, per element: rounding only.
const EXACT_RELATIVE_LIMIT: f64 = 1e-10;
/// Both exact gradients against central differences (the gradient check).
const MEAN_ABS_LIMIT: f64 = 1e-8;
const MAX_RELATIVE_LIMIT: f64 = 1e-5;
/// The gradient check as the book states it, for batches of a few rows (with the
/// rounding noise of central differences, see [`difference_noise`], as the only
/// allowance).
const BOOK_CHECK: Numerical = Numerical::Compare { rounding: 0.0 };

/// The rounding noise of a central difference of the mean loss `loss` over `rows`
/// rows, ten times over: a mean over m rows is rounded by about √m·ε·|L| (more when
/// the products' summation order changes with the kernels), and central
/// differences divide that by 2h. A gradient near zero, below the relative limit's
/// 1e-6 floor, is held to this instead of the 1e-11 that floor leaves it.
fn difference_noise(loss: f64, rows: usize) -> f64 {
    10.0 * (rows as f64).sqrt() * f64::EPSILON * loss.abs() / (2.0 * STEP)
}

type Named = Vec<(&'static str, ArrayD<f64>)>;

/// What a check needs from a declared network type, written out per type by `declared!`.
trait Declared: Network<f64> + Sized {
    fn make(init: WeightInit, rng: &mut StdRng) -> Self;
    /// Whether a layer computes differently in training (Dropout, BatchNorm).
    fn trains_differently() -> bool;
    /// The generated forward and backward: the loss and every parameter's gradient.
    fn backprop(&mut self, x: &[f64], t: Targets<'_, f64>) -> (f64, Named);
    /// The network's own central differences.
    fn numerical(&mut self, x: &[f64], t: Targets<'_, f64>) -> Named;
    /// The loss by inference (`&self`, in chunks), the path central differences take.
    fn inference_loss(&self, x: &[f64], t: Targets<'_, f64>) -> f64;
}

macro_rules! declared {
    ($($net:ident),*) => {$(
        impl Declared for $net<f64> {
            fn make(init: WeightInit, rng: &mut StdRng) -> Self {
                Self::with_weight_init(init, rng)
            }
            fn trains_differently() -> bool {
                $net::summary()
                    .layers
                    .iter()
                    .any(|l| l.layer.starts_with("Dropout") || l.layer.starts_with("BatchNorm"))
            }
            fn backprop(&mut self, x: &[f64], t: Targets<'_, f64>) -> (f64, Named) {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x)
                    .unwrap();
                // A seeded training step: Dropout's masks are then those of the
                // network's central differences, which seed every pass the same way.
                let mut rng = StdRng::seed_from_u64(0);
                let mut context = Context::training(&mut rng);
                let loss = self.train_step(x.as_array(), &t, &mut context).unwrap();
                (loss, owned(&self.gradients()))
            }
            fn numerical(&mut self, x: &[f64], t: Targets<'_, f64>) -> Named {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x)
                    .unwrap();
                owned(&self.numerical_gradient(&x, t).unwrap())
            }
            fn inference_loss(&self, x: &[f64], t: Targets<'_, f64>) -> f64 {
                let x = BatchView::<f64, { <Self as Network<f64>>::INPUT_WIDTH }>::from_slice(x)
                    .unwrap();
                self.loss(&x, t).unwrap()
            }
        }
    )*};
}

declared!(
    TwoLayerNet,
    Relu3,
    Sigmoid3,
    Relu4,
    Sigmoid4,
    Mixed4,
    Relu5,
    Mixed5,
    Tanh3,
    Image,
    Pooled,
    BookConvCheck,
    Strided,
    Pointwise,
    Turned,
    DeepConv,
    Normed,
    Dropped,
    Extended
);

fn owned(gradients: &impl NamedTensors<f64>) -> Named {
    gradients
        .tensors()
        .into_iter()
        .map(|(name, g)| (name, g.to_owned()))
        .collect()
}

/// The three kinds of target the network and the tape both accept.
enum Target {
    Labels(Vec<usize>),
    /// One-hot rows, or soft rows (probability distributions).
    Rows(Array2<f64>),
}

impl Target {
    fn random(rng: &mut StdRng, rows: usize, classes: usize, kind: u64) -> Self {
        let labels: Vec<usize> = (0..rows).map(|_| rng.random_range(0..classes)).collect();
        match kind % 3 {
            0 => Target::Labels(labels),
            1 => Target::Rows(Array2::from_shape_fn((rows, classes), |(r, c)| {
                f64::from(u8::from(labels[r] == c))
            })),
            _ => {
                let mut soft = Array2::from_shape_fn((rows, classes), |_| rng.random::<f64>());
                for mut row in soft.rows_mut() {
                    let mass = row.sum();
                    row /= mass;
                }
                Target::Rows(soft)
            }
        }
    }

    fn for_network(&self) -> Targets<'_, f64> {
        match self {
            Target::Labels(labels) => labels.as_slice().into(),
            Target::Rows(rows) => rows.into(),
        }
    }
}

/// One forward and backward pass on the tape.
struct TapeRun {
    loss: f64,
    gradients: Named,
    /// Whether each ReLU output, layer after layer, is positive; then, for each
    /// max-pooling layer, whether each of its inputs is the maximum of a window: the
    /// choices of the piecewise-linear layers, whose change inside the step is a kink.
    relu_mask: Vec<bool>,
}

/// The network's computation on the tape, each layer's own expression with the
/// parameters as leaves and `x` as a constant, differentiated.
fn run_tape<N: Declared>(net: &N, x: &[f64], target: &Target) -> TapeRun {
    let rows = x.len() / N::INPUT_WIDTH;
    let x = Array2::from_shape_vec((rows, N::INPUT_WIDTH), x.to_vec()).unwrap();
    let tape = net.tape(x.view(), &target.for_network()).unwrap();
    tape.loss.backward().unwrap();
    let mut relu_mask: Vec<bool> = tape
        .outputs
        .iter()
        .filter(|(layer, _)| layer.starts_with("Relu"))
        .flat_map(|(_, output)| output.value().iter().map(|&v| v > 0.0))
        .collect();
    // A window's maximum is copied to the output exactly: an input chosen by some
    // window of its row equals one of that row's outputs.
    for pair in tape.outputs.windows(2) {
        let [(_, input), (layer, output)] = pair else {
            unreachable!("windows of two")
        };
        if !layer.starts_with("Pooling") {
            continue;
        }
        let (input, output) = (input.value(), output.value());
        for (row_in, row_out) in input.outer_iter().zip(output.outer_iter()) {
            relu_mask.extend(row_in.iter().map(|v| row_out.iter().any(|o| o == v)));
        }
    }
    TapeRun {
        loss: tape.loss.item().unwrap(),
        gradients: tape
            .parameters
            .iter()
            .map(|(name, _, p)| {
                let grad = p.grad();
                (
                    *name,
                    grad.unwrap_or_else(|| panic!("no gradient reached {name}")),
                )
            })
            .collect(),
        relu_mask,
    }
}

/// Adds `N(0, 0.1²)` to every bias, so that no bias is zero.
fn randomise_biases(net: &mut impl Network<f64>, rng: &mut StdRng) {
    net.visit_parameters_mut(&mut |mut p| {
        if p.role == Role::Bias {
            p.value
                .map_inplace(|v| *v += 0.1 * rng.sample::<f64, _>(StandardNormal));
        }
    });
}

/// Element `index` of parameter `name`.
fn parameter(net: &impl Network<f64>, name: &str, index: usize) -> f64 {
    let mut value = None;
    net.visit_parameters(&mut |p| {
        if p.name == name {
            value = p.value.iter().nth(index).copied();
        }
    });
    value.unwrap()
}

/// Sets element `index` of parameter `name` to `value`.
fn set_parameter(net: &mut impl Network<f64>, name: &str, index: usize, value: f64) {
    net.visit_parameters_mut(&mut |mut p| {
        if p.name == name {
            *p.value.iter_mut().nth(index).unwrap() = value;
        }
    });
}

/// Whether moving parameter `name[index]` by ±h flips any ReLU or changes any
/// max-pooling window's choice.
fn crosses_kink<N: Declared>(
    net: &mut N,
    name: &str,
    index: usize,
    x: &[f64],
    target: &Target,
) -> bool {
    let original = parameter(net, name, index);
    set_parameter(net, name, index, original + STEP);
    let above = run_tape(net, x, target).relu_mask;
    set_parameter(net, name, index, original - STEP);
    let below = run_tape(net, x, target).relu_mask;
    set_parameter(net, name, index, original);
    above != below
}

/// The largest differences seen, and how many elements were compared and excused.
#[derive(Clone, Copy, Debug, Default)]
struct Observed {
    cases: usize,
    /// Largest relative error, generated backward against the tape.
    tape_vs_backprop: f64,
    /// Largest relative difference of the two losses.
    loss: f64,
    /// Largest mean |exact − numerical| of a parameter, over both exact gradients.
    mean_abs_vs_numerical: f64,
    /// Largest relative error against central differences, kinks excluded (it exceeds
    /// the limit only where the rounding allowance let an element pass).
    relative_vs_numerical: f64,
    compared: usize,
    excused: usize,
}

impl Observed {
    fn merge(self, other: Observed) -> Observed {
        Observed {
            cases: self.cases + other.cases,
            tape_vs_backprop: self.tape_vs_backprop.max(other.tape_vs_backprop),
            loss: self.loss.max(other.loss),
            mean_abs_vs_numerical: self.mean_abs_vs_numerical.max(other.mean_abs_vs_numerical),
            relative_vs_numerical: self.relative_vs_numerical.max(other.relative_vs_numerical),
            compared: self.compared + other.compared,
            excused: self.excused + other.excused,
        }
    }
}

/// A network of type `N` with weights from `init` and random biases, `rows` random
/// inputs and targets of kind `target_kind` (labels, one-hot, soft), all from `seed`.
fn random_case<N: Declared>(
    seed: u64,
    init: WeightInit,
    rows: usize,
    target_kind: u64,
) -> (N, Vec<f64>, Target) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = N::make(init, &mut rng);
    randomise_biases(&mut net, &mut rng);
    let x: Vec<f64> = (0..rows * N::INPUT_WIDTH)
        .map(|_| rng.sample(StandardNormal))
        .collect();
    let target = Target::random(&mut rng, rows, N::OUTPUT_WIDTH, target_kind);
    (net, x, target)
}

/// Whether `check_case` also compares with central differences, and how.
#[derive(Clone, Copy)]
enum Numerical {
    Skip,
    /// Compare; an element also passes when its absolute error is below `rounding`
    /// or [`difference_noise`], whichever is larger.
    Compare {
        rounding: f64,
    },
}

/// Checks the generated backward against the tape, and, unless `numerical` says to
/// skip it, both against central differences.
fn check_case<N: Declared>(
    label: &str,
    net: &mut N,
    x: &[f64],
    target: &Target,
    numerical: Numerical,
) -> Observed {
    let (loss, backprop) = net.backprop(x, target.for_network());
    // Inference computes the training loss too, unless a layer trains differently.
    let inference_loss = if N::trains_differently() {
        loss
    } else {
        net.inference_loss(x, target.for_network())
    };
    let tape = run_tape(net, x, target);
    let mut observed = Observed {
        cases: 1,
        loss: relative_error(loss, tape.loss).max(relative_error(inference_loss, tape.loss)),
        ..Observed::default()
    };
    assert!(
        observed.loss < EXACT_RELATIVE_LIMIT,
        "{label}: loss {loss:e} generated, {inference_loss:e} by inference, {:e} tape",
        tape.loss
    );
    assert_eq!(
        names(&backprop),
        names(&tape.gradients),
        "{label}: parameters"
    );
    for ((name, a), (_, b)) in backprop.iter().zip(&tape.gradients) {
        assert_eq!(a.shape(), b.shape(), "{label}: shape of {name}");
        for (index, (&a, &b)) in a.iter().zip(b.iter()).enumerate() {
            let error = relative_error(a, b);
            assert!(
                error < EXACT_RELATIVE_LIMIT,
                "{label}: {name}[{index}] generated {a:e} vs tape {b:e} (relative error {error:e})"
            );
            observed.tape_vs_backprop = observed.tape_vs_backprop.max(error);
        }
    }
    let Numerical::Compare { rounding } = numerical else {
        return observed;
    };
    let rows = x.len() / <N as Network<f64>>::INPUT_WIDTH;
    let rounding = rounding.max(difference_noise(inference_loss, rows));

    let numerical = net.numerical(x, target.for_network());
    assert_eq!(names(&numerical), names(&backprop), "{label}: parameters");
    for (((name, a), (_, b)), (_, n)) in backprop.iter().zip(&tape.gradients).zip(&numerical) {
        observed.compared += n.len();
        let (mut total_a, mut total_b, mut counted) = (0.0, 0.0, 0);
        for (index, ((&a, &b), &n)) in a.iter().zip(b.iter()).zip(n.iter()).enumerate() {
            let error = relative_error(a, n).max(relative_error(b, n));
            let within_rounding = (a - n).abs().max((b - n).abs()) < rounding;
            if error > MAX_RELATIVE_LIMIT && !within_rounding {
                assert!(
                    crosses_kink(net, name, index, x, target),
                    "{label}: {name}[{index}] generated {a:e}, tape {b:e}, numerical {n:e} \
                     (relative error {error:e}) with no ReLU or pooling kink in the step"
                );
                observed.excused += 1;
                continue;
            }
            observed.relative_vs_numerical = observed.relative_vs_numerical.max(error);
            total_a += (a - n).abs();
            total_b += (b - n).abs();
            counted += 1;
        }
        let mean = total_a.max(total_b) / counted.max(1) as f64;
        assert!(
            mean < MEAN_ABS_LIMIT,
            "{label}: {name} mean |exact − numerical| = {mean:e}"
        );
        observed.mean_abs_vs_numerical = observed.mean_abs_vs_numerical.max(mean);
    }
    observed
}

fn names(tensors: &Named) -> Vec<&'static str> {
    tensors.iter().map(|(name, _)| *name).collect()
}

/// Three-way checks over `seeds`, each with a random batch of 1 to 8 rows, a weight
/// initialisation taken in turn from `inits`, and labels, one-hot or soft targets in
/// turn.
fn check_seeds<N: Declared>(seeds: std::ops::Range<u64>, inits: &[WeightInit]) -> Observed {
    check_seeds_with::<N>(seeds, inits, BOOK_CHECK)
}

/// [`check_seeds`] with another comparison against central differences.
fn check_seeds_with<N: Declared>(
    seeds: std::ops::Range<u64>,
    inits: &[WeightInit],
    numerical: Numerical,
) -> Observed {
    check_seeds_rows::<N>(seeds, inits, numerical, 1..=8)
}

/// [`check_seeds_with`] over batches of `rows` rows.
fn check_seeds_rows<N: Declared>(
    seeds: std::ops::Range<u64>,
    inits: &[WeightInit],
    numerical: Numerical,
    rows: std::ops::RangeInclusive<usize>,
) -> Observed {
    let observed = seeds
        .map(|seed| {
            let rows = StdRng::seed_from_u64(seed ^ 0x5eed).random_range(rows.clone());
            let init = inits[seed as usize % inits.len()];
            let (mut net, x, target) = random_case::<N>(seed, init, rows, seed);
            check_case(&format!("seed {seed}"), &mut net, &x, &target, numerical)
        })
        .fold(Observed::default(), Observed::merge);
    // A unit near its kink excuses every parameter upstream of it, so a few excused
    // elements are expected in ReLU nets, but only a small share.
    assert!(
        observed.excused * 100 <= observed.compared,
        "{} of {} elements excused as ReLU kinks",
        observed.excused,
        observed.compared
    );
    println!("{}: {observed:?}", std::any::type_name::<N>());
    observed
}

const RELU_INITS: &[WeightInit] = &[WeightInit::He, WeightInit::Std(0.3)];
const SIGMOID_INITS: &[WeightInit] = &[WeightInit::Xavier, WeightInit::Std(1.0)];
const MIXED_INITS: &[WeightInit] = &[WeightInit::He, WeightInit::Xavier];
const TANH_INITS: &[WeightInit] = &[WeightInit::Xavier, WeightInit::Std(0.5)];
/// Central differences err by h²·f‴/6 themselves. tanh's third derivative reaches 2
/// (sigmoid's 1/8), and a first-layer weight's carries x² with inputs up to about 3:
/// about 1e-10 at h = 1e-4, which the relative limit's 1e-6 floor turns into 1e-4 for a
/// gradient near zero. Such elements are held to that truncation instead; the exact
/// comparison with the tape is unchanged.
const TANH_CHECK: Numerical = Numerical::Compare { rounding: 2e-10 };
/// A BatchNorm loss passes through the batch's mean and variance: each value carries
/// the rounding of sums over the batch, and central differences divide the loss's
/// rounding (a few hundred ε for these nets) by 2h. Gradients near zero are held to
/// that noise, 5e-11, instead of the relative limit's floor; the tape comparison is
/// unchanged.
const BATCH_NORM_CHECK: Numerical = Numerical::Compare { rounding: 5e-11 };

#[test]
fn three_layer_nets_agree_three_ways() {
    check_seeds::<Relu3<f64>>(0..20, RELU_INITS);
    let sigmoid = check_seeds::<Sigmoid3<f64>>(100..120, SIGMOID_INITS);
    assert_eq!(sigmoid.excused, 0, "a sigmoid net has no kink to excuse");
}

#[test]
fn four_layer_nets_agree_three_ways() {
    check_seeds::<Relu4<f64>>(200..220, RELU_INITS);
    let sigmoid = check_seeds::<Sigmoid4<f64>>(300..320, SIGMOID_INITS);
    assert_eq!(sigmoid.excused, 0, "a sigmoid net has no kink to excuse");
    check_seeds::<Mixed4<f64>>(400..420, MIXED_INITS);
}

#[test]
fn five_layer_nets_agree_three_ways() {
    check_seeds::<Relu5<f64>>(500..520, RELU_INITS);
    check_seeds::<Mixed5<f64>>(600..620, MIXED_INITS);
}

#[test]
fn tanh_image_and_pooling_nets_agree_three_ways() {
    let tanh = check_seeds_with::<Tanh3<f64>>(800..820, TANH_INITS, TANH_CHECK);
    assert_eq!(tanh.excused, 0, "a tanh net has no kink to excuse");
    check_seeds::<Image<f64>>(900..920, MIXED_INITS);
    let pooled = check_seeds::<Pooled<f64>>(1000..1020, SIGMOID_INITS);
    assert_eq!(
        pooled.excused, 0,
        "no ReLU, and pooling sees only the input"
    );
}

/// A convolutional net's first Affine adds up a hundred or more pooled responses, each
/// a sum over a filter's window, so its scores and the loss's third derivative are
/// larger than a dense net's: central differences at h = 1e-4 then err by up to about
/// 1e-9 on a gradient near zero (seen: 7e-10 on a W2 element of 5e-5 with no kink in
/// the step). Such elements are held to that truncation; the tape comparison is
/// unchanged.
const CONV_CHECK: Numerical = Numerical::Compare { rounding: 2e-9 };

#[test]
fn convolutional_nets_agree_three_ways() {
    check_seeds_with::<BookConvCheck<f64>>(1400..1410, RELU_INITS, CONV_CHECK);
    // Tanh, but pooled: a window whose choice changes inside the step is excused.
    check_seeds_with::<Strided<f64>>(1500..1510, TANH_INITS, TANH_CHECK);
    let pointwise = check_seeds::<Pointwise<f64>>(1600..1610, SIGMOID_INITS);
    assert_eq!(pointwise.excused, 0, "a sigmoid net has no kink to excuse");
    let turned = check_seeds_with::<Turned<f64>>(1650..1660, TANH_INITS, TANH_CHECK);
    assert_eq!(
        turned.excused, 0,
        "a tanh net without pooling has no kink to excuse"
    );
    // Three stacked convolutions at He's scale make the loss curved enough that
    // central differences at h = 1e-4 err by 2e-8 on average, past the book's limit;
    // at std 0.1 they stay within it. The exact comparison with the tape holds at any
    // scale (the other nets use He).
    check_seeds_with::<DeepConv<f64>>(1700..1710, &[WeightInit::Std(0.1)], CONV_CHECK);
}

#[test]
fn batch_norm_and_dropout_nets_agree_three_ways_in_training_mode() {
    // BatchNorm over one row normalises to exactly 0 and the next ReLU sits on its
    // kink; over very few rows its curvature makes central differences themselves
    // err by more than the limit: batches of 8 to 16 rows.
    check_seeds_rows::<Normed<f64>>(1100..1120, MIXED_INITS, BATCH_NORM_CHECK, 8..=16);
    let dropped = check_seeds_rows::<Dropped<f64>>(1200..1220, SIGMOID_INITS, BOOK_CHECK, 1..=8);
    assert_eq!(dropped.excused, 0, "no ReLU");
    check_seeds_rows::<Extended<f64>>(1300..1320, MIXED_INITS, BATCH_NORM_CHECK, 8..=16);
}

#[test]
fn weight_decay_adds_half_lambda_w_squared_to_the_loss_and_lambda_w_to_weights_only() {
    const LAMBDA: f64 = 0.3;
    let (mut net, x, target) = random_case::<Normed<f64>>(77, WeightInit::He, 5, 1);
    let x = Array2::from_shape_vec((5, 6), x).unwrap();
    let t = target.for_network();
    let step = |net: &mut Normed<f64>| {
        let mut rng = StdRng::seed_from_u64(0);
        let mut context = Context::training(&mut rng);
        net.train_step_with_weight_decay(x.view(), &t, &mut context, LAMBDA)
            .unwrap()
    };
    let mut plain = net.clone();
    let mut rng = StdRng::seed_from_u64(0);
    let plain_loss = plain
        .train_step(x.view(), &t, &mut Context::training(&mut rng))
        .unwrap();
    let loss = step(&mut net);
    let mut squares = 0.0;
    net.visit_parameters(&mut |p| {
        if p.role == Role::Weight {
            squares += p.value.iter().map(|w| w * w).sum::<f64>();
        }
    });
    assert!((loss - plain_loss - 0.5 * LAMBDA * squares).abs() < 1e-12);
    // Each gradient: λ·W added to weights, nothing to biases, γ or β; and the
    // regularised loss's central differences agree with it.
    let (mut decayed, mut undecayed) = (Vec::new(), Vec::new());
    net.visit_parameters(&mut |p| {
        decayed.push((p.name, p.role, p.value.to_owned(), p.gradient.to_owned()))
    });
    plain.visit_parameters(&mut |p| undecayed.push(p.gradient.to_owned()));
    for ((name, role, value, gradient), plain) in decayed.iter().zip(&undecayed) {
        let added = if *role == Role::Weight { LAMBDA } else { 0.0 };
        for ((g, p), w) in gradient.iter().zip(plain).zip(value) {
            assert!((g - p - added * w).abs() < 1e-12, "{name}");
        }
        for index in [0, value.len() / 2] {
            let original = parameter(&net, name, index);
            set_parameter(&mut net, name, index, original + STEP);
            let above = step(&mut net.clone());
            set_parameter(&mut net, name, index, original - STEP);
            let below = step(&mut net.clone());
            set_parameter(&mut net, name, index, original);
            let numerical = (above - below) / (2.0 * STEP);
            let exact = gradient.iter().nth(index).copied().unwrap();
            assert!(
                relative_error(exact, numerical) < MAX_RELATIVE_LIMIT,
                "{name}[{index}]: {exact:e} vs {numerical:e}"
            );
        }
    }
}

#[test]
fn two_layer_net_agrees_with_the_tape_over_random_cases() {
    // Exact against exact is cheap even at the book's size: many cases, batches up to 100.
    for seed in 0..10 {
        let rows = StdRng::seed_from_u64(seed ^ 0x5eed).random_range(1..=100);
        let (mut net, x, target) =
            random_case::<TwoLayerNet<f64>>(seed, WeightInit::default(), rows, seed);
        check_case(
            &format!("seed {seed}"),
            &mut net,
            &x,
            &target,
            Numerical::Skip,
        );
    }
}

#[test]
fn two_layer_net_agrees_three_ways() {
    // Central differences over its 39,760 parameters take seconds: one small case.
    let (mut net, x, target) = random_case::<TwoLayerNet<f64>>(2024, WeightInit::He, 3, 0);
    let observed = check_case("two-layer net", &mut net, &x, &target, BOOK_CHECK);
    assert!(observed.excused * 100 <= observed.compared, "{observed:?}");
    println!("{observed:?}");
}

#[test]
fn a_batch_larger_than_an_evaluation_chunk_agrees_three_ways() {
    // Central differences evaluate the loss in chunks of EVALUATION_CHUNK_ROWS rows,
    // possibly on several threads; a batch of more than one chunk checks that path.
    // Sigmoid only: over a thousand rows, some ReLU input is always within h of zero,
    // so a ReLU net would excuse much of the comparison.
    let rows = backprop::network::EVALUATION_CHUNK_ROWS + 300;
    for (seed, target_kind) in [(700, 0), (701, 2)] {
        let (mut net, x, target) =
            random_case::<Sigmoid4<f64>>(seed, WeightInit::Xavier, rows, target_kind);
        // Over a thousand rows the rounding noise of central differences (see
        // `difference_noise`) exceeds the 1e-11 that the relative limit leaves a
        // gradient below its 1e-6 floor: check_case holds such gradients to it.
        let loss = net.inference_loss(&x, target.for_network());
        let observed = check_case(&format!("seed {seed}"), &mut net, &x, &target, BOOK_CHECK);
        assert_eq!(observed.excused, 0, "{observed:?}");
        println!(
            "{observed:?}, rounding allowance {:e}",
            difference_noise(loss, rows)
        );
    }
}

#[test]
fn a_relu_kink_inside_the_step_is_detected_and_only_then_excused() {
    // A bias placed exactly at a ReLU's kink makes the exact gradients and central
    // differences disagree; the detector must see that kink, and no other.
    let (mut net, x, target) = random_case::<Relu3<f64>>(11, WeightInit::He, 1, 0);
    net.gradient(
        &BatchView::<f64, 7>::from_slice(&x).unwrap(),
        target.for_network(),
    )
    .unwrap();
    let z = net.affine1.output().row(0).to_owned();
    let at_kink = (0..z.len())
        .find(|&j| z[j] > 0.0)
        .expect("some unit is active");
    net.affine1.b[at_kink] -= z[at_kink];
    assert!(crosses_kink(&mut net, "b1", at_kink, &x, &target));

    let (_, backprop) = net.backprop(&x, target.for_network());
    let numerical = net.numerical(&x, target.for_network());
    let (a, n) = (backprop[1].1[at_kink], numerical[1].1[at_kink]);
    assert!(
        relative_error(a, n) > MAX_RELATIVE_LIMIT,
        "at the kink, generated {a:e} and numerical {n:e} should disagree"
    );

    let far = (0..z.len())
        .filter(|&j| j != at_kink)
        .max_by(|&i, &j| z[i].abs().total_cmp(&z[j].abs()))
        .unwrap();
    assert!(z[far].abs() > 0.1);
    assert!(!crosses_kink(&mut net, "b1", far, &x, &target));
}

/// The code of docs/tape_vs_network.md, which `doc_code_is_this_files_code` keeps
/// identical to the document.
#[test]
fn doc_example_both_ways() -> Result<(), Box<dyn std::error::Error>> {
    use backprop::autograd::Var;
    use backprop::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    network! {
        struct Tiny {
            Affine(4, 8) -> Relu -> Affine(8, 3) -> SoftmaxWithLoss
        }
    }

    let mut rng = StdRng::seed_from_u64(42);
    let mut net = Tiny::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let x = Batch::<f64, 4>::from_rows(&[[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, 1.0]]);
    let t = [2usize, 0];

    let loss = net.gradient(&x, &t)?; // forward, then the generated backward
    let grads = net.gradients(); // grads.W1, grads.b1, grads.W2, grads.b2
    // A Batch<f64, 5> in place of x would not compile: Tiny takes 4 features.

    let w1 = Var::leaf(net.affine1.W.clone());
    let b1 = Var::leaf(net.affine1.b.clone());
    let w2 = Var::leaf(net.affine2.W.clone());
    let b2 = Var::leaf(net.affine2.b.clone());

    let scores = Var::constant(x.as_array().clone())
        .matmul(&w1)?
        .add(&b1)?
        .relu()
        .matmul(&w2)?
        .add(&b2)?;
    let tape_loss = scores.softmax_cross_entropy(&t)?;
    tape_loss.backward()?; // walks the recorded graph in reverse

    assert!((tape_loss.item()? - loss).abs() < 1e-12);
    let dw1 = w1.grad().ok_or("no gradient reached W1")?;
    assert!((dw1 - &grads.W1).iter().all(|d| d.abs() < 1e-12));
    Ok(())
}

/// Every fenced Rust block of docs/tape_vs_network.md must appear, line for line
/// (indentation aside), in this file, so the document shows code that compiles and runs.
#[test]
fn doc_code_is_this_files_code() {
    let doc = include_str!("../docs/tape_vs_network.md");
    let this_file: Vec<&str> = include_str!("three_way.rs")
        .lines()
        .map(str::trim)
        .collect();
    let mut blocks = 0;
    let mut lines = doc.lines();
    while lines.any(|l| l.trim() == "```rust") {
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim() != "```")
            .map(str::trim)
            .collect();
        assert!(!block.is_empty(), "empty code block in the document");
        assert!(
            this_file
                .windows(block.len())
                .any(|w| w == block.as_slice()),
            "this code block of docs/tape_vs_network.md is not in tests/three_way.rs:\n{}",
            block.join("\n")
        );
        blocks += 1;
    }
    assert!(blocks >= 2, "the document shows both ways");
}
