//! AVX2 + FMA kernels for x86-64, selected at run time, and (in `avx512`)
//! their AVX-512 twins, written from the same macros.
//!
//! Every AVX2 core since Haswell retires two 256-bit FMAs per cycle with a
//! 4-cycle latency, so a kernel needs at least 8 independent accumulators to
//! keep both pipes busy, and there are 16 ymm registers.

use std::arch::x86_64::*;

use super::dense::{APanel, BRows, SkinnyBlock, pack_b};
use super::{Crossover, Kernels, NarrowTile, ShortTile};

#[macro_use]
mod tiles;
#[macro_use]
mod skinny;
#[macro_use]
mod zero_skipping;

use skinny::{lane_mask_f32, lane_mask_f64, tile_sums_f32, tile_sums_f64};
use zero_skipping::{
    CHUNK_VECTORS, Indices, L1_BLOCK_BYTES, L2_BLOCK_BYTES, SCRATCH_LEN, SEGMENT, Scratch, WINDOW,
    compact_nonzeros_f32, compact_nonzeros_f64, first_lanes_f32, first_lanes_f64,
};

/// True when this CPU runs the kernels of this file.
pub(super) fn has_avx2_fma() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// 6×16 tile: 12 accumulators, 2 `B` vectors and 1 broadcast fill 15 of the 16
/// registers, and each `B` load feeds 6 FMAs. `kc`=256 keeps a 16 KiB `B`
/// panel in the 32 KiB L1 (see `dense` for `mc`). The sparse crossovers are
/// measured at 100×784×50 with randomly placed zeros (see the module docs).
pub(super) static F32: Kernels<f32> = Kernels {
    mr: 6,
    nr: 16,
    kc: 256,
    mc: 48,
    nc: 128,
    micro: micro_f32,
    direct_micro: Some(direct_micro_f32),
    short_micro: Some(ShortTile {
        kernel: short_micro_f32,
        direct: short_direct_micro_f32,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f32,
        width: 8,
    }),
    skinny_dot: Some(skinny_dot_f32),
    skinny_axpy: Some(skinny_axpy_f32),
    pack_b: pack_b::<f32, 16>,
    sparse_forward: sparse_forward_f32,
    sparse_at_b: sparse_at_b_f32,
    sparse_forward_from: Crossover {
        small: 0.55,
        large: 0.45,
    },
    sparse_at_b_from: Crossover {
        small: 0.60,
        large: 0.40,
    },
};

/// 6×8 tile, the f64 twin of the f32 one (4 lanes per register), with the
/// same 16 KiB `B` panel. `kc`=256 beat 128 by 20 % at 10000×784×50 (longer
/// runs along each row of `A` for the prefetcher); `nc`=64 keeps the `B`
/// block within its 128 KiB buffer.
pub(super) static F64: Kernels<f64> = Kernels {
    mr: 6,
    nr: 8,
    kc: 256,
    mc: 48,
    nc: 64,
    micro: micro_f64,
    direct_micro: Some(direct_micro_f64),
    short_micro: Some(ShortTile {
        kernel: short_micro_f64,
        direct: short_direct_micro_f64,
        rows: 4,
    }),
    narrow_micro: Some(NarrowTile {
        kernel: narrow_micro_f64,
        width: 4,
    }),
    skinny_dot: Some(skinny_dot_f64),
    skinny_axpy: Some(skinny_axpy_f64),
    pack_b: pack_b::<f64, 8>,
    sparse_forward: sparse_forward_f64,
    sparse_at_b: sparse_at_b_f64,
    sparse_forward_from: Crossover {
        small: 0.52,
        large: 0.55,
    },
    sparse_at_b_from: Crossover {
        small: 0.60,
        large: 0.30,
    },
};

micro_kernel!(
    micro_f32,
    direct_micro_f32,
    "avx2,fma",
    f32,
    8,
    6,
    2,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
micro_kernel!(
    micro_f64,
    direct_micro_f64,
    "avx2,fma",
    f64,
    4,
    6,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

// Four rows at full width: the last rows of A when they fit (see `Kernels::short_micro`).
micro_kernel!(
    short_micro_f32,
    short_direct_micro_f32,
    "avx2,fma",
    f32,
    8,
    4,
    2,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
micro_kernel!(
    short_micro_f64,
    short_direct_micro_f64,
    "avx2,fma",
    f64,
    4,
    4,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

narrow_micro_kernel!(
    narrow_micro_f32,
    "avx2,fma",
    f32,
    8,
    6,
    16,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
narrow_micro_kernel!(
    narrow_micro_f64,
    "avx2,fma",
    f64,
    4,
    6,
    8,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_storeu_pd
);

skinny_kernels!(
    skinny_dot_f32,
    skinny_axpy_f32,
    "avx2,fma",
    f32,
    8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_maskload_ps,
    lane_mask_f32,
    _mm256_storeu_ps,
    _mm256_broadcast_ss,
    _mm256_fmadd_ps,
    tile_sums_f32
);
skinny_kernels!(
    skinny_dot_f64,
    skinny_axpy_f64,
    "avx2,fma",
    f64,
    4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_maskload_pd,
    lane_mask_f64,
    _mm256_storeu_pd,
    _mm256_broadcast_sd,
    _mm256_fmadd_pd,
    tile_sums_f64
);

mod sparse_f32;
mod sparse_f64;

use sparse_f32::avx2::{sparse_at_b as sparse_at_b_f32, sparse_forward as sparse_forward_f32};
use sparse_f64::avx2::{sparse_at_b as sparse_at_b_f64, sparse_forward as sparse_forward_f64};

pub(super) mod avx512;
