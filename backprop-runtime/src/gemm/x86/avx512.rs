//! AVX-512F dense kernels: the AVX2 sources of `x86.rs` at 16 f32 (8 f64) lanes.
//!
//! There are 32 zmm registers, so the tile is 8 rows of 3 vectors: 24
//! accumulators, 3 `B` vectors and a broadcast, and each step's 11 loads
//! feed 24 FMAs. Three vectors (48 f32) cover the book's 50-wide layer but
//! for 2 skinny columns. The zero-skipping kernels keep AVX2's vector width
//! (see `sparse_f32.rs`) but use the 32 registers. The dense tiles being twice
//! as fast, zero skipping pays from more zeros than with AVX2.

use std::arch::x86_64::*;

use super::super::dense::SkinnyBlock;
use super::super::dense::{APanel, BRows, pack_b};
use super::super::{Crossover, Kernels, NarrowTile, ShortTile};
use super::sparse_f32::avx512::{
    sparse_at_b as sparse_at_b_f32, sparse_forward as sparse_forward_f32,
};
use super::sparse_f64::avx512::{
    sparse_at_b as sparse_at_b_f64, sparse_forward as sparse_forward_f64,
};
use super::{tile_sums_f32, tile_sums_f64};

/// True when this CPU runs the kernels of this file.
pub(in super::super) fn has_avx512() -> bool {
    super::has_avx2_fma()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512vl")
}

/// 8×48 tiles. A `kc`=128 panel of `B` is 24 KiB, half of a 48 KiB L1 (Zen 5,
/// Intel since Ice Lake); `nc` is as many panels as the 128 KiB buffer holds.
pub(in super::super) static F32: Kernels<f32> = Kernels {
    mr: 8,
    nr: 48,
    kc: 128,
    mc: 24,
    nc: 240,
    micro: micro_f32,
    direct_micro: Some(direct_micro_f32),
    short_micro: Some(ShortTile {
        kernel: short_micro_f32,
        direct: short_direct_micro_f32,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f32,
        width: 16,
    }),
    skinny_dot: Some(skinny_dot_f32),
    skinny_axpy: Some(skinny_axpy_f32),
    pack_b: pack_b::<f32, 48>,
    sparse_forward: sparse_forward_f32,
    sparse_at_b: sparse_at_b_f32,
    sparse_forward_from: Crossover {
        small: 0.55,
        large: 0.60,
    },
    sparse_at_b_from: Crossover {
        small: 0.80,
        large: 0.60,
    },
};

/// 8×24 tiles, the f64 twin. `kc`=256 (a 48 KiB panel) beat 128 by 1–3 % at
/// 2048² and in `predict` (`docs/performance.md`), as with AVX2 f64: longer
/// runs along each row of `A`.
pub(in super::super) static F64: Kernels<f64> = Kernels {
    mr: 8,
    nr: 24,
    kc: 256,
    mc: 48,
    nc: 48,
    micro: micro_f64,
    direct_micro: Some(direct_micro_f64),
    short_micro: Some(ShortTile {
        kernel: short_micro_f64,
        direct: short_direct_micro_f64,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f64,
        width: 8,
    }),
    skinny_dot: Some(skinny_dot_f64),
    skinny_axpy: Some(skinny_axpy_f64),
    pack_b: pack_b::<f64, 24>,
    sparse_forward: sparse_forward_f64,
    sparse_at_b: sparse_at_b_f64,
    sparse_forward_from: Crossover {
        small: 0.65,
        large: f64::INFINITY,
    },
    sparse_at_b_from: Crossover {
        small: 0.85,
        large: 0.60,
    },
};

/// `_mm512_set1_ps` from a reference, the signature of `_mm256_broadcast_ss`.
#[target_feature(enable = "avx512f")]
#[inline]
fn broadcast_f32(value: &f32) -> __m512 {
    _mm512_set1_ps(*value)
}

/// `_mm512_set1_pd` from a reference, the signature of `_mm256_broadcast_sd`.
#[target_feature(enable = "avx512f")]
#[inline]
fn broadcast_f64(value: &f64) -> __m512d {
    _mm512_set1_pd(*value)
}

micro_kernel!(
    micro_f32,
    direct_micro_f32,
    "avx512f",
    f32,
    16,
    8,
    3,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    broadcast_f32,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
micro_kernel!(
    micro_f64,
    direct_micro_f64,
    "avx512f",
    f64,
    8,
    8,
    3,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    broadcast_f64,
    _mm512_fmadd_pd,
    _mm512_add_pd,
    _mm512_storeu_pd
);

// Four rows at full width: the last rows of A when they fit (see `Kernels::short_micro`).
micro_kernel!(
    short_micro_f32,
    short_direct_micro_f32,
    "avx512f",
    f32,
    16,
    4,
    3,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    broadcast_f32,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
micro_kernel!(
    short_micro_f64,
    short_direct_micro_f64,
    "avx512f",
    f64,
    8,
    4,
    3,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    broadcast_f64,
    _mm512_fmadd_pd,
    _mm512_add_pd,
    _mm512_storeu_pd
);

narrow_micro_kernel!(
    narrow_micro_f32,
    "avx512f",
    f32,
    16,
    8,
    48,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    broadcast_f32,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
narrow_micro_kernel!(
    narrow_micro_f64,
    "avx512f",
    f64,
    8,
    8,
    24,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    broadcast_f64,
    _mm512_fmadd_pd,
    _mm512_add_pd,
    _mm512_storeu_pd
);

/// `_mm512_maskz_loadu_ps` with the argument order of `_mm256_maskload_ps`.
///
/// # Safety
/// AVX-512F is available; `src` is valid for the lanes selected.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn maskload_f32(src: *const f32, mask: __mmask16) -> __m512 {
    // SAFETY: guaranteed by the caller; masked-off lanes are not read.
    unsafe { _mm512_maskz_loadu_ps(mask, src) }
}

/// `_mm512_maskz_loadu_pd` with the argument order of `_mm256_maskload_pd`.
///
/// # Safety
/// AVX-512F is available; `src` is valid for the lanes selected.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn maskload_f64(src: *const f64, mask: __mmask8) -> __m512d {
    // SAFETY: guaranteed by the caller; masked-off lanes are not read.
    unsafe { _mm512_maskz_loadu_pd(mask, src) }
}

/// Lanes `0..live` (at most 16) of an f32 vector.
#[target_feature(enable = "avx512f")]
#[inline]
fn lane_mask_f32(live: usize) -> __mmask16 {
    ((1_u32 << live.min(16)) - 1) as __mmask16
}

/// Lanes `0..live` (at most 8) of an f64 vector.
#[target_feature(enable = "avx512f")]
#[inline]
fn lane_mask_f64(live: usize) -> __mmask8 {
    ((1_u32 << live.min(8)) - 1) as __mmask8
}

/// The sums of a 6×2 skinny dot tile: each zmm is first folded to a ymm (its
/// two halves added), then reduced as the AVX2 tile is. (Loops, not closures:
/// a closure does not inherit the target features, and its intrinsics would
/// stay calls.)
#[target_feature(enable = "avx512f,avx2,fma")]
fn zmm_tile_sums_f32(acc: &[[__m512; 2]; 6]) -> [[f32; 2]; 6] {
    let mut folded = [[_mm256_setzero_ps(); 2]; 6];
    for (folded_row, row) in folded.iter_mut().zip(acc) {
        for (half_sum, &v) in folded_row.iter_mut().zip(row) {
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
            *half_sum = _mm256_add_ps(_mm512_castps512_ps256(v), high);
        }
    }
    tile_sums_f32(&folded)
}

/// The f64 twin of [`zmm_tile_sums_f32`].
#[target_feature(enable = "avx512f,avx2,fma")]
fn zmm_tile_sums_f64(acc: &[[__m512d; 2]; 6]) -> [[f64; 2]; 6] {
    let mut folded = [[_mm256_setzero_pd(); 2]; 6];
    for (folded_row, row) in folded.iter_mut().zip(acc) {
        for (half_sum, &v) in folded_row.iter_mut().zip(row) {
            *half_sum = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd::<1>(v));
        }
    }
    tile_sums_f64(&folded)
}

skinny_kernels!(
    skinny_dot_f32,
    skinny_axpy_f32,
    "avx512f,avx2,fma",
    f32,
    16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    maskload_f32,
    lane_mask_f32,
    _mm512_storeu_ps,
    broadcast_f32,
    _mm512_fmadd_ps,
    zmm_tile_sums_f32
);
skinny_kernels!(
    skinny_dot_f64,
    skinny_axpy_f64,
    "avx512f,avx2,fma",
    f64,
    8,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    maskload_f64,
    lane_mask_f64,
    _mm512_storeu_pd,
    broadcast_f64,
    _mm512_fmadd_pd,
    zmm_tile_sums_f64
);
