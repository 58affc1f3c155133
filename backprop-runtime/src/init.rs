//! Weight initialisation, as the book's `weight_init_std * randn`.

use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::Float;

/// The book's default `weight_init_std`.
pub const DEFAULT_WEIGHT_INIT_STD: f64 = 0.01;

/// A `rows × cols` matrix of `std · N(0, 1)` samples drawn from `rng`.
///
/// Samples are drawn in f64 and rounded, so an f32 and an f64 network built from the
/// same seed start from the same weights (up to rounding).
pub fn scaled_normal<T: Float, R: rand::Rng + ?Sized>(
    rows: usize,
    cols: usize,
    std: T,
    rng: &mut R,
) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || {
        let z: f64 = rng.sample(StandardNormal);
        std * T::from_f64(z)
    })
}

/// He initialisation's standard deviation, `√(2 / fan_in)`, for ReLU networks
/// (the book's `'relu'`/`'he'`).
pub fn he_std(fan_in: usize) -> f64 {
    (2.0 / fan_in as f64).sqrt()
}

/// The book's "Xavier" standard deviation, `√(1 / fan_in)`, for sigmoid networks
/// (not Glorot's `√(2 / (fan_in + fan_out))`).
pub fn xavier_std(fan_in: usize) -> f64 {
    (1.0 / fan_in as f64).sqrt()
}
