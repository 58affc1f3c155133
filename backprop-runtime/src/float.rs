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
    /// Converts from `f64`, rounding to the nearest value of `Self`.
    fn from_f64(value: f64) -> Self;

    /// Widens to `f64` (exact for both implementations).
    fn as_f64(self) -> f64;

    /// Replaces every value `v ≤ 0` by `e^v`, as a softmax needs after
    /// subtracting the row's maximum; NaN stays NaN. Positive values are not
    /// supported: the f32 version gives 1 for them.
    ///
    /// f64 calls `exp`. f32 evaluates the exponential in plain arithmetic that
    /// the compiler vectorises (a degree-6 polynomial after range reduction,
    /// less than 1 unit in the last place from the exact value, and 0 below −87.3, where
    /// `e^v` is not a normal f32): the library `expf`, one call per value,
    /// took most of a training step's softmax.
    ///
    /// ```
    /// use backprop::Float;
    /// let mut values = [0.0_f32, -1.0, f32::NEG_INFINITY];
    /// f32::exp_non_positive(&mut values);
    /// assert_eq!(values[0], 1.0);
    /// assert!((values[1] - (-1.0_f32).exp()).abs() <= f32::EPSILON * values[1]);
    /// assert_eq!(values[2], 0.0);
    /// ```
    fn exp_non_positive(values: &mut [Self]) {
        for value in values {
            *value = value.exp();
        }
    }
}

impl Float for f32 {
    fn from_f64(value: f64) -> Self {
        value as f32
    }

    fn as_f64(self) -> f64 {
        f64::from(self)
    }

    fn exp_non_positive(values: &mut [Self]) {
        exp_non_positive_f32_on(crate::gemm::kernel_path(), values);
    }
}

/// The loop of [`Float::exp_non_positive`] for f32 with the instruction set of
/// `path` (the products', see `gemm::kernel_path`), which the CPU supports.
fn exp_non_positive_f32_on(path: crate::gemm::KernelPath, values: &mut [f32]) {
    use crate::gemm::KernelPath;
    debug_assert!(path.is_supported());
    match path {
        // SAFETY (both): the CPU runs `path`.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { exp_non_positive_f32_avx512(values) },
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { exp_non_positive_f32_avx2(values) },
        _ => {
            for value in values {
                *value = exp_non_positive_f32(*value);
            }
        }
    }
}

/// The loop of [`Float::exp_non_positive`] for f32, compiled for AVX2: eight
/// values per instruction instead of four. The arithmetic is the same (no
/// fused multiply-adds), so are the results.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_non_positive_f32_avx2(values: &mut [f32]) {
    for value in values {
        *value = exp_non_positive_f32(*value);
    }
}

/// The same loop compiled for AVX-512F: sixteen values per instruction.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp_non_positive_f32_avx512(values: &mut [f32]) {
    for value in values {
        *value = exp_non_positive_f32(*value);
    }
}

/// `e^x` for `x ≤ 0` (see [`Float::exp_non_positive`]): Cephes' `expf`
/// polynomial, without branches or float-to-integer conversions, so that a
/// loop over it vectorises.
#[inline]
fn exp_non_positive_f32(x: f32) -> f32 {
    // Below this, e^x is subnormal; it is flushed to 0.
    const SMALLEST: f32 = -87.336_55;
    // ln 2 in two parts, so that k·LN2_HIGH is exact for the k that occur.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5·2^23 rounds to an integer k, which then sits in the low
    // mantissa bits: the sum's bits are ROUNDER's plus k.
    const ROUNDER: f32 = 12_582_912.0;
    // NaN stays NaN.
    let clamped = x.clamp(SMALLEST, 0.0);
    let rounded = clamped * std::f32::consts::LOG2_E + ROUNDER;
    let k = rounded - ROUNDER;
    let r = clamped - k * LN2_HIGH - k * LN2_LOW;
    let polynomial =
        (((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
            + 1.666_666_5e-1)
            * r
            + 0.5)
            * r
            * r
            + r
            + 1.0;
    // 2^k from its exponent bits; k ∈ [−126, 0] here. For NaN these bits are
    // garbage, but the polynomial is NaN already, and so is the product.
    let k_bits = rounded
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(127);
    let scale = f32::from_bits(k_bits << 23);
    if x < SMALLEST {
        0.0
    } else {
        polynomial * scale
    }
}

impl Float for f64 {
    fn from_f64(value: f64) -> Self {
        value
    }

    fn as_f64(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemm::KernelPath;

    /// Units in the last place between `got` and the exact `want`.
    fn ulps(got: f32, want: f64) -> f64 {
        let nearest = want as f32;
        let ulp = f64::from(f32::from_bits(nearest.to_bits() + 1) - nearest);
        (f64::from(got) - want).abs() / ulp
    }

    #[test]
    fn f32_exp_of_non_positive_values_is_within_one_ulp() {
        let mut worst = 0.0_f64;
        let steps = 1 << 21;
        let inputs: Vec<f32> = (0..=steps)
            .map(|i| -87.3 * i as f32 / steps as f32)
            .chain([0.0, -0.0, -1e-30, -f32::MIN_POSITIVE, -87.336_5])
            .collect();
        for path in KernelPath::ALL
            .into_iter()
            .filter(|path| path.is_supported())
        {
            let mut values = inputs.clone();
            exp_non_positive_f32_on(path, &mut values);
            for (&x, &got) in inputs.iter().zip(&values) {
                let error = ulps(got, f64::from(x).exp());
                assert!(
                    error < 1.0,
                    "{path}: exp({x:e}) = {got:e}: {error} ulps from {:e}",
                    f64::from(x).exp()
                );
                worst = worst.max(error);
            }
        }
        assert!(worst > 0.0, "compared against an independent exp");
    }

    #[test]
    fn f32_exp_flushes_subnormal_results_and_keeps_nan() {
        let mut values = [-87.4_f32, -100.0, -1e30, f32::NEG_INFINITY, f32::NAN];
        f32::exp_non_positive(&mut values);
        assert_eq!(values[..4], [0.0; 4]);
        assert!(values[4].is_nan());
    }

    #[test]
    fn f64_exp_is_the_library_exp() {
        let inputs = [0.0, -1.0, -700.0, -745.5, f64::NEG_INFINITY];
        let mut values = inputs;
        f64::exp_non_positive(&mut values);
        for (x, got) in inputs.into_iter().zip(values) {
            assert_eq!(got.to_bits(), x.exp().to_bits());
        }
    }
}
