//! Test support: compares backprop gradients with central differences.

use ndarray::{ArrayD, Dimension};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::error::TapeError;
use super::var::Var;

/// Step of the central difference: truncation error ~h², rounding error ~ε/h ≈ 1e-10.
///
/// Smaller than the book's `h = 1e-4` (`crate::gradient_check::STEP`) because the
/// tape works in f64 only: there, h = 1e-6 balances the two errors near 1e-12 and
/// lets [`TOLERANCE`] be tight, while the book's step is sized for f32, where a
/// smaller h would drown the difference in rounding.
const STEP: f64 = 1e-6;
/// Largest accepted |backprop − numerical| / max(|backprop|, |numerical|, 1e-6).
const TOLERANCE: f64 = 1e-6;

/// A reproducible array of the given shape with entries uniform in [−1, 1).
pub(super) fn random_array(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

/// `Σ w ⊙ y` with fixed, unequal weights in [0.5, 1.5): reduces a non-scalar result to a loss
/// whose upstream gradient differs per element, so an operation that ignored it would fail.
pub(super) fn weighted_sum(y: &Var<f64>) -> Result<Var<f64>, TapeError> {
    let weights = random_array(y.shape(), 0xC0FFEE).mapv(|w| 1.0 + 0.5 * w);
    Ok(y.mul(&Var::constant(weights))?.sum())
}

/// Asserts that backprop through `loss` (which must return a single element) agrees with
/// central differences for every element of every input.
pub(super) fn assert_gradients_match(
    inputs: &[ArrayD<f64>],
    loss: impl Fn(&[Var<f64>]) -> Result<Var<f64>, TapeError>,
) {
    let leaves: Vec<Var<f64>> = inputs.iter().cloned().map(Var::leaf).collect();
    let result = loss(&leaves).expect("the loss builds");
    result.backward().expect("the loss is a scalar");

    let evaluate = |arrays: Vec<ArrayD<f64>>| -> f64 {
        let constants: Vec<Var<f64>> = arrays.into_iter().map(Var::constant).collect();
        loss(&constants)
            .and_then(|value| value.item())
            .expect("the perturbed loss builds")
    };
    for (input_index, (input, leaf)) in inputs.iter().zip(&leaves).enumerate() {
        let backprop = leaf
            .grad()
            .unwrap_or_else(|| panic!("input {input_index} received no gradient"));
        assert_eq!(
            backprop.shape(),
            input.shape(),
            "gradient shape of input {input_index}"
        );
        for (position, &analytic) in backprop.indexed_iter() {
            let shifted = |delta: f64| {
                let mut arrays = inputs.to_vec();
                arrays[input_index][position.slice()] += delta;
                evaluate(arrays)
            };
            let numerical = (shifted(STEP) - shifted(-STEP)) / (2.0 * STEP);
            let scale = analytic.abs().max(numerical.abs()).max(1e-6);
            let relative_error = (analytic - numerical).abs() / scale;
            assert!(
                relative_error < TOLERANCE,
                "input {input_index} at {:?}: backprop {analytic}, numerical {numerical}, \
                 relative error {relative_error:e}",
                position.slice()
            );
        }
    }
}

/// [`assert_gradients_match`] for a loss of a single input.
pub(super) fn assert_gradient_matches(
    input: &ArrayD<f64>,
    loss: impl Fn(&Var<f64>) -> Result<Var<f64>, TapeError>,
) {
    assert_gradients_match(std::slice::from_ref(input), |vars| loss(&vars[0]));
}
