//! The float types a network computes in.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A float type a network can compute in: `f32` (fast training) or `f64` (the book's
/// precision, and what gradient checks need).
///
/// Sealed in spirit: it is implemented for `f32` and `f64`, the two types every layer,
/// loss and optimizer is tested with.
pub trait Float:
    num_traits::Float
    + crate::gemm::GemmScalar
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// The type's name as the safetensors format spells it (`F32`, `F64`).
    const DTYPE_NAME: &'static str;

    /// Converts from `f64`, rounding to the nearest value of `Self`.
    fn from_f64(value: f64) -> Self;

    /// Widens to `f64` (exact for both implementations).
    fn as_f64(self) -> f64;

    /// Writes `pixel / 255` for every pixel byte into `out`, each rounded exactly as
    /// that division rounds: the book's `normalize=True`.
    ///
    /// # Panics
    /// When `out` and `pixels` differ in length.
    ///
    /// ```
    /// use backprop_runtime::Float;
    /// let mut out = [0.0_f32; 3];
    /// f32::from_pixels(&[0, 51, 255], &mut out);
    /// assert_eq!(out, [0.0, 0.2, 1.0]);
    /// ```
    fn from_pixels(pixels: &[u8], out: &mut [Self]);
}

impl Float for f32 {
    const DTYPE_NAME: &'static str = "F32";

    fn from_f64(value: f64) -> Self {
        value as f32
    }

    fn as_f64(self) -> f64 {
        f64::from(self)
    }

    fn from_pixels(pixels: &[u8], out: &mut [Self]) {
        crate::data::pixels::to_unit_f32(pixels, out);
    }
}

impl Float for f64 {
    const DTYPE_NAME: &'static str = "F64";

    fn from_f64(value: f64) -> Self {
        value
    }

    fn as_f64(self) -> f64 {
        self
    }

    fn from_pixels(pixels: &[u8], out: &mut [Self]) {
        crate::data::pixels::to_unit_f64(pixels, out);
    }
}
