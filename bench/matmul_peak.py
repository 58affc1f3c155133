#!/usr/bin/env python3
"""Measure one library's matrix-multiply rate (all cores) and its 784-50-10 predict, as JSON.

For PyTorch it also times the book's two convolution shapes at a training batch (see
CONVOLUTIONS), as backprop's `examples/kernels.rs` does: forward, backward with the
input gradient, and backward without it (a first layer's).

compare.py runs this once per Python library and backprop's own `examples/kernels.rs`,
and takes the highest rate any of them reaches on this machine as the limit: a square
2048 x 2048 product is about the best case for a BLAS, so FLOPs / that rate is a lower
bound on the time any implementation could need for the same arithmetic.

Usage: matmul_peak.py --library numpy|torch [--size N] [--repeats R] [--rows R] [--conv-batch B]
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


# name: (channels, filters, kernel, pad) on 28 x 28 images, stride 1; the shapes of
# `book_convolutions` in examples/kernels.rs.
CONVOLUTIONS = {"conv_1_30_5x5": (1, 30, 5, 0), "conv_16_16_3x3_pad1": (16, 16, 3, 1)}


def torch_convolutions(batch, repeats):
    """float32 seconds of F.conv2d's forward and of its backward (autograd on the kept graph)."""
    import torch

    torch.manual_seed(0)
    report = {}
    for name, (channels, filters, kernel, pad) in CONVOLUTIONS.items():
        x = torch.rand(batch, channels, 28, 28, requires_grad=True)
        w = torch.randn(filters, channels, kernel, kernel, requires_grad=True)
        b = torch.randn(filters, requires_grad=True)
        with torch.no_grad():
            forward = timings(lambda: torch.nn.functional.conv2d(x, w, b, padding=pad), repeats)
        y = torch.nn.functional.conv2d(x, w, b, padding=pad)
        dout = torch.randn_like(y)
        backward = timings(lambda: torch.autograd.grad(y, (x, w, b), dout, retain_graph=True), repeats)
        x_fixed = x.detach()
        y_first = torch.nn.functional.conv2d(x_fixed, w, b, padding=pad)
        parameters = timings(lambda: torch.autograd.grad(y_first, (w, b), dout, retain_graph=True), repeats)
        report[name] = {pass_name: {"best": best, "median": median} for pass_name, (best, median) in
                        (("forward", forward), ("backward", backward), ("backward_parameters", parameters))}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=("numpy", "torch"), default="numpy")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--conv-batch", type=int, default=100)
    args = parser.parse_args()
    figures = numpy_figures if args.library == "numpy" else torch_figures
    report = {"library": args.library, "size": args.size, "rows": args.rows,
              "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}
    for dtype in ("float32", "float64"):
        matmul, predict = figures(dtype, args.size, args.rows, args.repeats)
        report[f"{dtype}_gflops"] = matmul
        report[f"predict_{dtype}_seconds"] = predict
    if args.library == "torch":
        report["conv_batch"] = args.conv_batch
        report["convolution_seconds"] = torch_convolutions(args.conv_batch, args.repeats)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
