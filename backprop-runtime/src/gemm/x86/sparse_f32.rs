//! Zero-skipping f32 kernels: columns in chunks of up to 56 (7 registers).

use std::arch::x86_64::{
    __m256 as Vector, __m256i as Mask, _mm256_add_ps as add, _mm256_broadcast_ss as broadcast,
    _mm256_fmadd_ps as fmadd, _mm256_loadu_ps as loadu, _mm256_maskload_ps as maskload,
    _mm256_maskstore_ps as maskstore, _mm256_setzero_ps as setzero, _mm256_storeu_ps as storeu,
};

use super::{compact_nonzeros_f32 as compact_nonzeros, first_lanes_f32 as first_lanes};

type Elem = f32;
const LANES: usize = 8;

include!("sparse_kernels.rs");

/// For CPUs with AVX2 alone: 16 vector registers.
pub(super) mod avx2 {
    use super::*;
    sparse_kernels!("avx2,fma", 16);
}

/// The same vectors for CPUs with AVX-512: its 32 registers (ymm16–31 with
/// AVX-512VL) hold two sets of sums in the forward kernel. Zmm vectors would
/// halve the instructions, but rows of `B` 200 bytes apart make nearly every
/// 64-byte load straddle two cache lines, and that measured no faster.
pub(super) mod avx512 {
    use super::*;
    sparse_kernels!("avx512f,avx512vl,avx2,fma", 32);
}
