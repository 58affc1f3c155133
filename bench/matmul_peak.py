#!/usr/bin/env python3
"""Measure the machine's matrix-multiply throughput with NumPy (all cores), as JSON.

This is the yardstick for "how far from the limit" in compare.py's table: a square
1024 x 1024 product is about the best case for a BLAS, so FLOPs / this rate is a lower
bound on the time any implementation could need for the same arithmetic.
Usage: matmul_peak.py [--size N] [--repeats R]
"""

import argparse
import json
import os
import statistics
import time

import numpy as np


def gflops(dtype, n, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=out)  # warm-up: thread pool start, page faults
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        rates.append(2.0 * n**3 / (time.perf_counter() - start) / 1e9)
    # Best and median: the best is the attainable peak, the median what a busy machine gives.
    return {"best": max(rates), "median": statistics.median(rates)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps({
        "size": args.size,
        "float32_gflops": gflops(np.float32, args.size, args.repeats),
        "float64_gflops": gflops(np.float64, args.size, args.repeats),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }))


if __name__ == "__main__":
    main()
