//! Pixel bytes to floats in `[0, 1]`: `p / 255`, rounded exactly as that division.
//!
//! Every mini-batch and every evaluation chunk converts its pixels, so this is on
//! the training step's path: 78,400 values per batch of 100. With AVX2 and FMA the
//! conversion runs eight pixels at a time without a division: `q = p · (1/255)`
//! is off by one unit in the last place for about half of the bytes, and one
//! FMA-based correction step, `q + (p − 255·q) · (1/255)`, makes it the correctly
//! rounded quotient for all 256 of them (checked exhaustively in the tests). With
//! AVX-512F the same steps take sixteen pixels at a time. Other CPUs look the
//! quotients up in a table of the 256 divisions. The instruction set follows the
//! products' (`gemm::kernel_path`, which `BACKPROP_KERNELS` can force).

use std::any::TypeId;

use crate::Float;
use crate::gemm::{KernelPath, kernel_path};

/// Writes `p / 255` for every pixel byte `p` into `out`, each rounded exactly as that
/// division rounds: the book's `normalize=True`.
///
/// # Panics
/// When `out` and `pixels` differ in length.
pub(crate) fn to_unit<T: Float>(pixels: &[u8], out: &mut [T]) {
    if let Some(out) = same_type_slice::<T, f32>(out) {
        return to_unit_f32(pixels, out);
    }
    if let Some(out) = same_type_slice::<T, f64>(out) {
        return to_unit_f64(pixels, out);
    }
    assert_eq!(pixels.len(), out.len(), "one value per pixel");
    by_table(pixels, out, &table::<T>());
}

/// `values` as a slice of `U`, when `U` is `T`: the vectorised conversions are
/// written per type.
fn same_type_slice<T: 'static, U: 'static>(values: &mut [T]) -> Option<&mut [U]> {
    (TypeId::of::<T>() == TypeId::of::<U>()).then(|| {
        // SAFETY: `T` and `U` are the same type, so the pointer, length and
        // lifetime of `values` describe a valid `[U]`.
        unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<U>(), values.len()) }
    })
}

/// `p / 255` for every pixel `p`, in f32.
fn to_unit_f32(pixels: &[u8], out: &mut [f32]) {
    to_unit_f32_on(kernel_path(), pixels, out);
}

/// [`to_unit_f32`] with the instruction set of `path`, which the CPU supports.
fn to_unit_f32_on(path: KernelPath, pixels: &[u8], out: &mut [f32]) {
    assert_eq!(pixels.len(), out.len(), "one value per pixel");
    debug_assert!(path.is_supported());
    match path {
        // SAFETY (both): the CPU runs `path` (`kernel_path` only gives such a
        // path); the lengths are equal.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { x86::to_unit_f32_avx512(pixels, out) },
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { x86::to_unit_f32(pixels, out) },
        _ => by_table(pixels, out, &table::<f32>()),
    }
}

/// `p / 255` for every pixel `p`, in f64.
fn to_unit_f64(pixels: &[u8], out: &mut [f64]) {
    to_unit_f64_on(kernel_path(), pixels, out);
}

/// [`to_unit_f64`] with the instruction set of `path`, which the CPU supports.
fn to_unit_f64_on(path: KernelPath, pixels: &[u8], out: &mut [f64]) {
    assert_eq!(pixels.len(), out.len(), "one value per pixel");
    debug_assert!(path.is_supported());
    match path {
        // SAFETY (both): the CPU runs `path`; the lengths are equal.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { x86::to_unit_f64_avx512(pixels, out) },
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { x86::to_unit_f64(pixels, out) },
        _ => by_table(pixels, out, &table::<f64>()),
    }
}

/// `table[p] == p / 255` for every byte `p`.
///
/// The integers 0..=255 are built by repeated addition of one, which is exact in any
/// binary float, so no fallible numeric cast is needed for a generic `T`.
fn table<T: num_traits::Float>() -> [T; 256] {
    let mut integers = [T::zero(); 256];
    for i in 1..256 {
        integers[i] = integers[i - 1] + T::one();
    }
    let max = integers[255];
    integers.map(|value| value / max)
}

fn by_table<T: Copy>(pixels: &[u8], out: &mut [T], table: &[T; 256]) {
    for (value, &pixel) in out.iter_mut().zip(pixels) {
        *value = table[usize::from(pixel)];
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The scalar form of the vector loops below, for the last few pixels.
    #[target_feature(enable = "avx2,fma")]
    fn divide_f32(pixel: u8) -> f32 {
        let (x, inverse) = (f32::from(pixel), 1.0 / 255.0);
        let q = x * inverse;
        (-q).mul_add(255.0, x).mul_add(inverse, q)
    }

    #[target_feature(enable = "avx2,fma")]
    fn divide_f64(pixel: u8) -> f64 {
        let (x, inverse) = (f64::from(pixel), 1.0 / 255.0);
        let q = x * inverse;
        (-q).mul_add(255.0, x).mul_add(inverse, q)
    }

    /// Writes `$name`: the conversion, `$step` pixels at a time, with the
    /// intrinsics of one instruction set. `$integers` widens the step's bytes at
    /// `$source` to 32-bit integers, and `$vectors` turns those into vectors of
    /// `$lanes` floats, each corrected as the module docs say.
    macro_rules! to_unit_kernel {
        ($name:ident, $features:literal, $t:ty, $divide:ident, $step:literal, $lanes:literal,
         |$source:ident| $integers:expr, |$widened:ident| [$($vectors:expr),+],
         $set1:ident, $mul:ident, $fnmadd:ident, $fmadd:ident, $storeu:ident) => {
            /// # Safety
            #[doc = concat!("The CPU has ", $features, "; `pixels` and `out` have the same length.")]
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $name(pixels: &[u8], out: &mut [$t]) {
                let inverse = $set1(1.0 / 255.0);
                let divisor = $set1(255.0);
                let mut sources = pixels.chunks_exact($step);
                let mut targets = out.chunks_exact_mut($step);
                for (source, target) in (&mut sources).zip(&mut targets) {
                    // SAFETY: `source` holds one step of bytes and `target` of floats.
                    unsafe {
                        let $source = source.as_ptr();
                        let $widened = $integers;
                        for (v, x) in [$($vectors),+].into_iter().enumerate() {
                            let q = $mul(x, inverse);
                            let residual = $fnmadd(q, divisor, x);
                            let value = $fmadd(residual, inverse, q);
                            $storeu(target.as_mut_ptr().add(v * $lanes), value);
                        }
                    }
                }
                for (value, &pixel) in targets.into_remainder().iter_mut().zip(sources.remainder()) {
                    *value = $divide(pixel);
                }
            }
        };
    }

    to_unit_kernel!(
        to_unit_f32,
        "avx2,fma",
        f32,
        divide_f32,
        8,
        8,
        |source| _mm256_cvtepu8_epi32(_mm_loadl_epi64(source.cast())),
        |integers| [_mm256_cvtepi32_ps(integers)],
        _mm256_set1_ps,
        _mm256_mul_ps,
        _mm256_fnmadd_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps
    );
    to_unit_kernel!(
        to_unit_f64,
        "avx2,fma",
        f64,
        divide_f64,
        8,
        4,
        |source| _mm256_cvtepu8_epi32(_mm_loadl_epi64(source.cast())),
        |integers| [
            _mm256_cvtepi32_pd(_mm256_castsi256_si128(integers)),
            _mm256_cvtepi32_pd(_mm256_extracti128_si256::<1>(integers))
        ],
        _mm256_set1_pd,
        _mm256_mul_pd,
        _mm256_fnmadd_pd,
        _mm256_fmadd_pd,
        _mm256_storeu_pd
    );
    to_unit_kernel!(
        to_unit_f32_avx512,
        "avx512f,avx2,fma",
        f32,
        divide_f32,
        16,
        16,
        |source| _mm512_cvtepu8_epi32(_mm_loadu_si128(source.cast())),
        |integers| [_mm512_cvtepi32_ps(integers)],
        _mm512_set1_ps,
        _mm512_mul_ps,
        _mm512_fnmadd_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps
    );
    to_unit_kernel!(
        to_unit_f64_avx512,
        "avx512f,avx2,fma",
        f64,
        divide_f64,
        16,
        8,
        |source| _mm512_cvtepu8_epi32(_mm_loadu_si128(source.cast())),
        |integers| [
            _mm512_cvtepi32_pd(_mm512_castsi512_si256(integers)),
            _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64::<1>(integers))
        ],
        _mm512_set1_pd,
        _mm512_mul_pd,
        _mm512_fnmadd_pd,
        _mm512_fmadd_pd,
        _mm512_storeu_pd
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte, then a tail shorter than a vector, so both code paths see all 256.
    fn every_byte_twice() -> Vec<u8> {
        (0..=255)
            .chain((0..=255).rev())
            .chain([7, 0, 255])
            .collect()
    }

    #[test]
    fn every_byte_converts_to_the_correctly_rounded_quotient_on_every_path() {
        let pixels = every_byte_twice();
        for path in KernelPath::ALL
            .into_iter()
            .filter(|path| path.is_supported())
        {
            let mut single = vec![f32::NAN; pixels.len()];
            let mut double = vec![f64::NAN; pixels.len()];
            to_unit_f32_on(path, &pixels, &mut single);
            to_unit_f64_on(path, &pixels, &mut double);
            for ((&pixel, &s), &d) in pixels.iter().zip(&single).zip(&double) {
                assert_eq!(s, f32::from(pixel) / 255.0, "{path} f32 pixel {pixel}");
                assert_eq!(d, f64::from(pixel) / 255.0, "{path} f64 pixel {pixel}");
            }
        }
    }

    #[test]
    fn the_table_fallback_gives_the_same_quotients() {
        let pixels = every_byte_twice();
        let mut single = vec![f32::NAN; pixels.len()];
        let mut double = vec![f64::NAN; pixels.len()];
        by_table(&pixels, &mut single, &table::<f32>());
        by_table(&pixels, &mut double, &table::<f64>());
        for ((&pixel, &s), &d) in pixels.iter().zip(&single).zip(&double) {
            assert_eq!(s, f32::from(pixel) / 255.0, "f32 pixel {pixel}");
            assert_eq!(d, f64::from(pixel) / 255.0, "f64 pixel {pixel}");
        }
    }

    #[test]
    fn a_length_mismatch_panics_instead_of_converting_part() {
        let result = std::panic::catch_unwind(|| to_unit(&[1, 2, 3], &mut [0.0_f32; 2]));
        assert!(result.is_err());
    }
}
