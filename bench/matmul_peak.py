#!/usr/bin/env python3
"""Measure one library's matrix-multiply rate (all cores) and its 784-50-10 predict, as JSON.

compare.py runs this once per Python library and backprop's own `examples/kernels.rs`,
and takes the highest rate any of them reaches on this machine as the limit: a square
2048 x 2048 product is about the best case for a BLAS, so FLOPs / that rate is a lower
bound on the time any implementation could need for the same arithmetic.

Usage: matmul_peak.py --library numpy|torch [--size N] [--repeats R] [--rows R]
"""

import argparse
import json
import os
import statistics
import time

import numpy as np


def timings(work, repeats):
    """Best and median seconds of `repeats` calls, after one warm-up call."""
    work()  # warm-up: thread pool start, page faults
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return min(seconds), statistics.median(seconds)


def rates(work, flops, repeats):
    # Best and median: the best is the attainable peak, the median what a busy machine gives.
    best, median = timings(work, repeats)
    return {"best": flops / best / 1e9, "median": flops / median / 1e9}


def numpy_figures(dtype, n, rows, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    matmul = rates(lambda: np.matmul(a, b, out=out), 2.0 * n**3, repeats)
    x = rng.uniform(np.finfo(np.float64).eps, 1.0, (rows, 784)).astype(dtype)
    w1, b1 = (0.01 * rng.standard_normal((784, 50))).astype(dtype), np.zeros(50, dtype)
    w2, b2 = (0.01 * rng.standard_normal((50, 10))).astype(dtype), np.zeros(10, dtype)
    best, median = timings(lambda: np.maximum(x @ w1 + b1, 0) @ w2 + b2, repeats)
    return matmul, {"best": best, "median": median}


def torch_figures(dtype_name, n, rows, repeats):
    import torch

    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    with torch.inference_mode():
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        out = torch.empty(n, n, dtype=dtype)
        matmul = rates(lambda: torch.matmul(a, b, out=out), 2.0 * n**3, repeats)
        x = torch.rand(rows, 784, dtype=dtype).clamp_min_(torch.finfo(torch.float64).eps)
        w1, b1 = 0.01 * torch.randn(784, 50, dtype=dtype), torch.zeros(50, dtype=dtype)
        w2, b2 = 0.01 * torch.randn(50, 10, dtype=dtype), torch.zeros(10, dtype=dtype)
        best, median = timings(lambda: torch.addmm(b2, torch.addmm(b1, x, w1).relu_(), w2), repeats)
    return matmul, {"best": best, "median": median}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=("numpy", "torch"), default="numpy")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    figures = numpy_figures if args.library == "numpy" else torch_figures
    report = {"library": args.library, "size": args.size, "rows": args.rows,
              "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}
    for dtype in ("float32", "float64"):
        matmul, predict = figures(dtype, args.size, args.rows, args.repeats)
        report[f"{dtype}_gflops"] = matmul
        report[f"predict_{dtype}_seconds"] = predict
    print(json.dumps(report))


if __name__ == "__main__":
    main()
