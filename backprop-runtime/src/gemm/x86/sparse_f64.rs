//! Zero-skipping f64 kernels: columns in chunks of up to 28 (7 registers).

use std::arch::x86_64::{
    __m256d as Vector, _mm256_broadcast_sd as broadcast, _mm256_fmadd_pd as fmadd,
    _mm256_loadu_pd as loadu, _mm256_maskload_pd as maskload, _mm256_maskstore_pd as maskstore,
    _mm256_setzero_pd as setzero, _mm256_storeu_pd as storeu,
};

use super::{compact_nonzeros_f64 as compact_nonzeros, first_lanes_f64 as first_lanes};

type Elem = f64;
const LANES: usize = 4;

include!("sparse_kernels.rs");
