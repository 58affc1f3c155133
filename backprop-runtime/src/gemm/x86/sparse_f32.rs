//! Zero-skipping f32 kernels: columns in chunks of up to 56 (7 registers).

use std::arch::x86_64::{
    __m256 as Vector, _mm256_broadcast_ss as broadcast, _mm256_fmadd_ps as fmadd,
    _mm256_loadu_ps as loadu, _mm256_maskload_ps as maskload, _mm256_maskstore_ps as maskstore,
    _mm256_setzero_ps as setzero, _mm256_storeu_ps as storeu,
};

use super::{compact_nonzeros_f32 as compact_nonzeros, first_lanes_f32 as first_lanes};

type Elem = f32;
const LANES: usize = 8;

include!("sparse_kernels.rs");
