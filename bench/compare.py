#!/usr/bin/env python3
"""Run the book's MNIST training with backprop, NumPy and PyTorch, and compare them.

Started by run.sh inside the benchmark's virtual environment. Every implementation runs
as its own process and reports its own timings (JSON, same keys for all), so process
start-up, compilation and data loading never count. Runs are interleaved (run 1 of every
implementation, then run 2, ...) so that a burst of load on this shared machine hits all
of them alike; the table shows the median of each figure over the runs.

This script imports no NumPy on purpose: the OpenBLAS environment variables must be
removed for the Python runs only (backprop runs in the caller's environment unchanged),
so all NumPy work happens in child processes whose environment is set per process.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REPO = os.path.dirname(HERE)

# Removed from the Python runs' environment: on this machine they make OpenBLAS pick a
# slower kernel / cache model (see book_loop.SLOW_BLAS_VARS).
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

REPORT_KEYS = ("train_seconds", "eval_seconds", "total_seconds", "steps", "us_per_step",
               "final_train_accuracy", "final_test_accuracy")

BOOK_STEPS = 10_000
BATCH, INPUT, HIDDEN, OUTPUT = 100, 784, 50, 10
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000
ITER_PER_EPOCH = TRAIN_SIZE // BATCH

# Multiply-adds counted as 2 FLOPs; only the matrix products (bias, ReLU and softmax are
# O(batch x width), about 1 % of this). No input gradient for the first layer: nothing
# needs it, and backprop and autograd skip it (the book's code computes it anyway).
FORWARD_FLOPS = 2 * BATCH * INPUT * HIDDEN + 2 * BATCH * HIDDEN * OUTPUT
BACKWARD_FLOPS = (2 * HIDDEN * BATCH * OUTPUT      # dW2 = h^T . dy
                  + 2 * BATCH * OUTPUT * HIDDEN    # dh  = dy . W2^T
                  + 2 * INPUT * BATCH * HIDDEN)    # dW1 = x^T . dh
STEP_FLOPS = FORWARD_FLOPS + BACKWARD_FLOPS
# One evaluation = forward pass over the whole train and test sets.
EVAL_FLOPS = (TRAIN_SIZE + TEST_SIZE) * (2 * INPUT * HIDDEN + 2 * HIDDEN * OUTPUT)


def log(message):
    print(message, file=sys.stderr, flush=True)


def evaluations_for(steps):
    """One at each step i with i % 600 == 0 (step 0 included), plus the final one."""
    return (steps - 1) // ITER_PER_EPOCH + 1 + 1


def python_env():
    env = dict(os.environ)
    for name in SLOW_BLAS_VARS:
        env.pop(name, None)
    return env


class Implementation:
    def __init__(self, key, label, command, env, cwd, dtype):
        self.key = key
        self.label = label
        self.command = command  # function (data_dir, seed, report_path, steps or None) -> argv
        self.env = env
        self.cwd = cwd
        self.dtype = dtype
        self.unavailable = None  # why it cannot run at all, once known


def make_implementations(repo, python, steps_given):
    def python_ref(script, *extra):
        def command(data, seed, report, steps):
            argv = [python, os.path.join(HERE, script), "--data", data, "--quiet",
                    "--seed", str(seed), "--report", report, *extra]
            return argv + (["--steps", str(steps)] if steps_given else [])
        return command

    def backprop_example(*extra):
        def command(data, seed, report, steps):
            argv = ["cargo", "run", "--release", "--quiet", "--example", "mnist", "--",
                    "--data", data, "--quiet", "--seed", str(seed), "--report", report, *extra]
            # The example calls the step count --iters (the book's iters_num).
            return argv + (["--iters", str(steps)] if steps_given else [])
        return command

    py_env = python_env()
    return [
        Implementation("backprop", "backprop f32", backprop_example(), dict(os.environ), repo, "float32"),
        Implementation("backprop-f64", "backprop f64", backprop_example("--f64"), dict(os.environ), repo, "float64"),
        Implementation("numpy-f32", "NumPy f32 (book code)",
                       python_ref("reference_numpy.py", "--dtype", "float32"), py_env, HERE, "float32"),
        Implementation("numpy-f32-nodx", "NumPy f32, no 1st-layer dx",
                       python_ref("reference_numpy.py", "--dtype", "float32", "--skip-first-dx"), py_env, HERE,
                       "float32"),
        Implementation("numpy-f64", "NumPy f64 (book code)",
                       python_ref("reference_numpy.py", "--dtype", "float64"), py_env, HERE, "float64"),
        Implementation("torch-f32", "PyTorch CPU f32",
                       python_ref("reference_torch.py", "--dtype", "float32"), py_env, HERE, "float32"),
    ]


def tail(text, lines=8):
    return "\n".join(text.strip().splitlines()[-lines:])


def build_backprop(repo):
    """Build the example once, so that no run pays for compilation. Returns an error or None."""
    if shutil.which("cargo") is None:
        return "cargo not found on PATH"
    log("building: cargo build --release --example mnist --example kernels --example simple_convnet "
        "--example deep_convnet")
    result = subprocess.run(["cargo", "build", "--release", "--example", "mnist", "--example", "kernels",
                             "--example", "simple_convnet", "--example", "deep_convnet"],
                            cwd=repo, capture_output=True, text=True)
    if "no example target named" in result.stderr:
        return f"the examples `mnist` and `kernels` do not exist (yet) in {repo}"
    if result.returncode != 0:
        return f"`cargo build --release --example mnist` failed (exit {result.returncode}):\n{tail(result.stderr)}"
    return None


LIMIT_SIZE = 2048
PREDICT_ROWS = 10_000
PREDICT_FLOPS = PREDICT_ROWS * (2 * INPUT * HIDDEN + 2 * HIDDEN * OUTPUT)


def measure_limit(repo, python, py_env, backprop_ok, not_run):
    """Every library's matrix-product rate at LIMIT_SIZE² and its predict time, all cores.

    Returns {library: report}. The limit of each dtype is the best rate any of them
    reaches: a physical bound of this machine, not one library's yardstick.
    """
    reports = {}
    commands = [("NumPy", [python, os.path.join(HERE, "matmul_peak.py"), "--library", "numpy"], py_env, HERE),
                ("PyTorch", [python, os.path.join(HERE, "matmul_peak.py"), "--library", "torch"], py_env, HERE)]
    if backprop_ok:
        commands.append(("backprop", ["cargo", "run", "--release", "--quiet", "--example", "kernels", "--",
                                      "--size", str(LIMIT_SIZE), "--rows", str(PREDICT_ROWS)],
                         dict(os.environ), repo))
    for library, argv, env, cwd in commands:
        log(f"measuring {library}'s matrix-product rate at {LIMIT_SIZE}² and its predict at batch {PREDICT_ROWS}")
        result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        try:
            reports[library] = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            not_run.append((f"{library} limit measurement", f"exit {result.returncode}:\n{tail(result.stderr)}"))
    return reports


def peak_of(reports):
    """The best rate per dtype over every library, and which library reached it."""
    peak = {"size": LIMIT_SIZE, "libraries": reports}
    for dtype in ("float32", "float64"):
        rated = [(r[f"{dtype}_gflops"]["best"], lib) for lib, r in reports.items() if f"{dtype}_gflops" in r]
        if rated:
            best, library = max(rated)
            peak[f"{dtype}_gflops"] = {"best": best}
            peak[f"{dtype}_source"] = library
    return peak


def limit_table(reports, peak):
    """Each library's product rate and predict time, against the limit."""
    lines = ["| library | kernels | matmul f32 GFLOP/s | matmul f64 GFLOP/s | predict f32 ms | predict f64 ms "
             "| predict f32 vs limit | predict f64 vs limit | MNIST-like predict f32 ms | MNIST-like predict f64 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for library, r in reports.items():
        cells = [r.get("kernels", "—")]
        for dtype in ("float32", "float64"):
            cells.append(f"{r[f'{dtype}_gflops']['best']:.1f}")
        for dtype in ("float32", "float64"):
            cells.append(f"{r[f'predict_{dtype}_seconds']['best'] * 1e3:.2f}")
        for dtype in ("float32", "float64"):
            gflops = peak.get(f"{dtype}_gflops", {}).get("best")
            limit_s = PREDICT_FLOPS / (gflops * 1e9) if gflops else None
            cells.append(f"{r[f'predict_{dtype}_seconds']['best'] / limit_s:.2f}×" if limit_s else "n/a")
        for dtype in ("float32", "float64"):
            mnist_like = r.get(f"predict_mnist_like_{dtype}_seconds")
            cells.append(f"{mnist_like['best'] * 1e3:.2f}" if mnist_like else "—")
        lines.append(f"| {library} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Multiply-adds of one image through each convolution of examples/kernels.rs and
# matmul_peak.py (FN · C·FH·FW · OH·OW), counted as 2 FLOPs each: the forward's; the
# backward with the input gradient does twice that, without it once.
CONVOLUTION_MACS = {"conv_1_30_5x5": 30 * 25 * 24 * 24, "conv_16_16_3x3_pad1": 16 * 144 * 28 * 28}
CONVOLUTION_PASSES = (("forward", 1), ("backward", 2), ("backward_parameters", 1))


def convolution_table(reports, peak):
    """backprop's and PyTorch's convolution passes in float32, with their ratio and the share
    of the float32 limit; None when either did not report them."""
    ours, theirs = (reports.get(lib, {}).get("convolution_seconds") for lib in ("backprop", "PyTorch"))
    if not ours or not theirs:
        return None
    batch = reports["backprop"]["conv_batch"]
    limit = peak.get("float32_gflops", {}).get("best")
    lines = ["| layer | pass | backprop ms | PyTorch ms | PyTorch / backprop | backprop GFLOP/s "
             "| share of the f32 limit |", "|---|---|---|---|---|---|---|"]
    for name, macs in CONVOLUTION_MACS.items():
        for pass_name, factor in CONVOLUTION_PASSES:
            mine, other = ours[name][pass_name]["best"], theirs[name][pass_name]["best"]
            gflops = 2 * macs * batch * factor / mine / 1e9
            share = f"{gflops / limit * 100:.0f} %" if limit else "n/a"
            lines.append(f"| {name} | {pass_name} | {mine * 1e3:.2f} | {other * 1e3:.2f} | {other / mine:.2f}× "
                         f"| {gflops:.1f} | {share} |")
    return f"batch {batch}, float32, all cores, best of 20\n\n" + "\n".join(lines)


# The book's SimpleConvNet at batch 100 (CONV.md): multiply-adds of one image's forward
# through the convolution and the two Affine layers; a training step is the forward, the
# weight gradients and the input gradients except the first layer's: 3× the forward but
# the convolution's input gradient, 2 FLOPs per multiply-add.
SIMPLE_CONV_MACS, SIMPLE_AFFINE_MACS = 30 * 25 * 24 * 24, 4320 * 100 + 100 * 10
# DeepConvNet: six 3×3 convolutions (16, 16 on 28×28; 32 on 14×14, 32 with pad 2 on
# 16×16; 64, 64 on 8×8), then Affine 1024→50→10.
DEEP_CONV_MACS = 9 * (1 * 16 * 28 * 28 + 16 * 16 * 28 * 28 + 16 * 32 * 14 * 14 + 32 * 32 * 16 * 16
                      + 32 * 64 * 8 * 8 + 64 * 64 * 8 * 8)
DEEP_FIRST_CONV_MACS, DEEP_AFFINE_MACS = 9 * 16 * 28 * 28, 1024 * 50 + 50 * 10

# Each table: the example, the PyTorch net, whether the book's NumPy code runs it (the
# deep net takes it hours), and the FLOPs of a training step and of a test evaluation.
CONVNETS = {
    "SimpleConvNet": {
        "title": "Chapter 7's SimpleConvNet", "example": "simple_convnet", "torch": "simple", "numpy": True,
        "step_flops": 2 * 100 * (2 * SIMPLE_CONV_MACS + 3 * SIMPLE_AFFINE_MACS),
        "eval_flops": 2 * 10_000 * (SIMPLE_CONV_MACS + SIMPLE_AFFINE_MACS),
    },
    "DeepConvNet": {
        "title": "Chapter 8's DeepConvNet", "example": "deep_convnet", "torch": "deep", "numpy": False,
        "step_flops": 2 * 100 * (3 * DEEP_CONV_MACS - DEEP_FIRST_CONV_MACS + 3 * DEEP_AFFINE_MACS),
        "eval_flops": 2 * 10_000 * (DEEP_CONV_MACS + DEEP_AFFINE_MACS),
    },
}


def convnet_table(name, repo, python, py_env, data, steps, peak, workdir, not_run):
    """One convolutional net's training step and test evaluation in backprop, PyTorch and
    (for SimpleConvNet) the book's NumPy code, measured one after the other; None if
    backprop could not run."""
    spec = CONVNETS[name]
    report = os.path.join(workdir, f"{spec['example']}.json")
    commands = [
        ("backprop f32", ["cargo", "run", "--release", "--quiet", "--example", spec["example"], "--",
                          "--data", data, "--iters", str(steps), "--seed", "1", "--quiet",
                          "--report", report], dict(os.environ), repo, report),
        ("PyTorch CPU f32", [python, os.path.join(HERE, "convnet_torch.py"), "--data", data,
                             "--net", spec["torch"], "--steps", str(steps)], py_env, HERE, None),
    ]
    if spec["numpy"]:
        commands.append(("NumPy f64 (book code)", [python, os.path.join(HERE, "convnet_numpy.py"), "--data", data,
                                                   "--steps", str(min(steps, 30))], py_env, HERE, None))
    rows = {}
    for label, argv, env, cwd, report_path in commands:
        log(f"{name}: {label} ...")
        result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        try:
            if report_path:
                with open(report_path) as f:
                    rows[label] = json.load(f)
            else:
                rows[label] = json.loads(result.stdout.strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            not_run.append((f"{name}, {label}", f"exit {result.returncode}:\n{tail(result.stderr)}"))
    ours = rows.get("backprop f32")
    if not ours:
        return None
    limit = (peak or {}).get("float32_gflops", {}).get("best")
    lines = ["| implementation | ms per step | × backprop | GFLOP/s | share of the f32 limit "
             "| 10,000 test images s | × backprop |", "|---|---|---|---|---|---|---|"]
    for label, row in rows.items():
        gflops = spec["step_flops"] / (row["ms_per_step"] * 1e6)
        share = f"{gflops / limit * 100:.0f} %" if limit else "n/a"
        lines.append(f"| {label} | {row['ms_per_step']:.2f} | {row['ms_per_step'] / ours['ms_per_step']:.2f}× "
                     f"| {gflops:.1f} | {share} | {row['test_eval_seconds']:.3f} "
                     f"| {row['test_eval_seconds'] / ours['test_eval_seconds']:.2f}× |")
    numpy_steps = f" (NumPy: {min(steps, 30)})" if spec["numpy"] else ""
    head = (f"{steps} steps of batch 100{numpy_steps}, Adam 0.001, all cores; "
            f"{spec['step_flops'] / 1e9:.3f} GFLOP per step, {spec['eval_flops'] / 1e9:.2f} GFLOP per test "
            f"evaluation; × backprop > 1 means slower than backprop")
    return head + "\n\n" + "\n".join(lines)


def run_once(impl, data, seed, steps, timeout, workdir):
    """Run one training; return (report, None) or (None, reason)."""
    report_path = os.path.join(workdir, f"{impl.key}-{seed}.json")
    if os.path.exists(report_path):
        os.remove(report_path)
    argv = impl.command(data, seed, report_path, steps)
    try:
        result = subprocess.run(argv, cwd=impl.cwd, env=impl.env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s: {' '.join(argv)}"
    except OSError as e:
        return None, f"could not start {argv[0]}: {e}"
    if result.returncode != 0:
        return None, f"exit {result.returncode}: {' '.join(argv)}\n{tail(result.stderr)}"
    try:
        with open(report_path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        return None, f"no readable report {report_path}: {e}"
    missing = [key for key in REPORT_KEYS if key not in report]
    if missing:
        return None, f"report {report_path} lacks keys {missing}"
    if report["steps"] != steps:
        return None, f"report says steps = {report['steps']}, expected {steps}"
    return report, None


def median_report(reports):
    return {key: statistics.median(r[key] for r in reports) for key in REPORT_KEYS}


def benchmark_dataset(name, data, impls, runs, steps, seed_base, timeout, workdir):
    """Run every available implementation `runs` times on `data`; return {key: [reports]}."""
    results = {impl.key: [] for impl in impls}
    failures = {}
    for run in range(runs):
        seed = seed_base + run
        for impl in impls:
            if impl.unavailable or impl.key in failures:
                continue
            log(f"[{name}] run {run + 1}/{runs} seed {seed}: {impl.label} ...")
            report, error = run_once(impl, data, seed, steps, timeout, workdir)
            if error:
                # A failure is not retried: it would most likely fail the same way again.
                failures[impl.key] = error
                log(f"    FAILED: {error}")
            else:
                results[impl.key].append(report)
                log(f"    total {report['total_seconds']:.2f} s, train {report['train_seconds']:.2f} s, "
                    f"test acc {report['final_test_accuracy']:.4f}")
    return results, failures


def fmt_ratio(value, reference):
    if reference is None or reference == 0:
        return "n/a"
    return f"{value / reference:.2f}×"


def markdown_table(results, impls, peak, steps):
    """Medians per implementation, with ratios against backprop and against the FLOP limit."""
    medians = {impl.key: median_report(results[impl.key]) for impl in impls if results[impl.key]}
    # Each row is compared with backprop in the same precision: f64 against f32 would
    # mostly measure the precision, not the implementation.
    bases = {"float32": medians.get("backprop"), "float64": medians.get("backprop-f64")}
    header = ("| implementation | runs | training s | eval s | total s | best total s | µs/step | train acc | test acc "
              "| total vs backprop (same dtype) | µs/step vs backprop | µs/step vs limit | eval vs limit |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    eval_count = evaluations_for(steps)
    for impl in impls:
        if impl.key not in medians:
            continue
        m = medians[impl.key]
        base = bases[impl.dtype]
        gflops = peak.get(f"{impl.dtype}_gflops", {}).get("best") if peak else None
        if gflops:
            step_limit_us = STEP_FLOPS / (gflops * 1e9) * 1e6
            eval_limit_s = eval_count * EVAL_FLOPS / (gflops * 1e9)
            vs_step_limit = f"{m['us_per_step'] / step_limit_us:.1f}×"
            vs_eval_limit = f"{m['eval_seconds'] / eval_limit_s:.1f}×"
        else:
            vs_step_limit = vs_eval_limit = "n/a"
        lines.append(
            f"| {impl.label} | {len(results[impl.key])} | {m['train_seconds']:.3f} | {m['eval_seconds']:.3f} "
            f"| {m['total_seconds']:.3f} | {min(r['total_seconds'] for r in results[impl.key]):.3f} "
            f"| {m['us_per_step']:.1f} | {m['final_train_accuracy']:.4f} "
            f"| {m['final_test_accuracy']:.4f} "
            f"| {fmt_ratio(m['total_seconds'], base and base['total_seconds'])} "
            f"| {fmt_ratio(m['us_per_step'], base and base['us_per_step'])} | {vs_step_limit} | {vs_eval_limit} |")
    return "\n".join(lines), medians


def run_json(argv, env):
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return None, f"exit {result.returncode}: {' '.join(argv)}\n{tail(result.stderr)}"
    try:
        return json.loads(result.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError) as e:
        return None, f"unreadable output of {' '.join(argv)}: {e}"


FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_PACKAGE = "dataset-fashion-mnist"


def find_fashion_mnist():
    """Return (data_dir or None, what was found). Installs Debian's package when root."""
    if os.path.exists(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")):
        return FASHION_DIR, f"Debian package {FASHION_PACKAGE} already installed ({FASHION_DIR})"
    if shutil.which("apt-get") is None:
        return None, "no apt-get on this machine: Fashion-MNIST from Debian is not available"
    is_root = os.geteuid() == 0
    if is_root:
        # apt-cache knows nothing reliable before an update.
        subprocess.run(["apt-get", "update"], capture_output=True, text=True)
    policy = subprocess.run(["apt-cache", "policy", FASHION_PACKAGE], capture_output=True, text=True).stdout
    candidate = next((line.split(":", 1)[1].strip() for line in policy.splitlines()
                      if line.strip().startswith("Candidate:")), None)
    if not candidate or candidate == "(none)":
        return None, f"`apt-cache policy {FASHION_PACKAGE}` shows no candidate version"
    if not is_root:
        return None, (f"{FASHION_PACKAGE} {candidate} is available; install it with "
                      f"`sudo apt-get install {FASHION_PACKAGE}` to benchmark on it")
    log(f"installing {FASHION_PACKAGE} {candidate} ...")
    result = subprocess.run(["apt-get", "install", "-y", FASHION_PACKAGE], capture_output=True, text=True)
    if result.returncode != 0 or not os.path.isdir(FASHION_DIR):
        return None, f"`apt-get install {FASHION_PACKAGE}` failed:\n{tail(result.stderr)}"
    return FASHION_DIR, f"installed Debian package {FASHION_PACKAGE} {candidate} ({FASHION_DIR})"


def machine_description():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {cores} cores available, load average {load}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=DEFAULT_REPO, help="backprop repository root (default: parent of bench/)")
    parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, else REPO/../shared/mnist)")
    parser.add_argument("--runs", type=int, default=3, help="runs per implementation and data set (median shown)")
    parser.add_argument("--steps", type=int, help="training steps for a quick check (default: the book's 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of run 1; run k uses seed + k - 1")
    parser.add_argument("--only", help="comma-separated implementation keys "
                                       "(backprop, backprop-f64, numpy-f32, numpy-f32-nodx, numpy-f64, torch-f32)")
    parser.add_argument("--dense", action="store_true",
                        help="also run on a copy of MNIST with no zero pixel (p' = 1 + round(p*254/255))")
    parser.add_argument("--fashion", action="store_true",
                        help="also run on Fashion-MNIST from Debian's dataset-fashion-mnist (installed if root)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds before one run is abandoned")
    parser.add_argument("--json", help="also write every run's report and the medians to this file")
    parser.add_argument("--convnet-steps", type=int, default=300,
                        help="SimpleConvNet steps timed per implementation (0 to skip the table)")
    parser.add_argument("--deep-steps", type=int, default=100,
                        help="DeepConvNet steps timed per implementation (0 to skip the table)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs: expected a positive number, found {args.runs}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps: expected a positive number, found {args.steps}")

    start_load = os.getloadavg()[0]
    repo = os.path.abspath(args.repo)
    data = os.path.abspath(args.data or os.environ.get("MNIST_DIR") or os.path.join(repo, "..", "shared", "mnist"))
    steps = args.steps or BOOK_STEPS
    python = sys.executable
    py_env = python_env()
    not_run = []  # (what, why): printed at the end so that nothing is silently missing

    impls = make_implementations(repo, python, args.steps is not None)
    if args.only:
        wanted = [key.strip() for key in args.only.split(",")]
        unknown = [key for key in wanted if key not in {impl.key for impl in impls}]
        if unknown:
            parser.error(f"--only: unknown implementation(s) {unknown}; "
                         f"expected some of {[impl.key for impl in impls]}")
        impls = [impl for impl in impls if impl.key in wanted]

    if not os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
        print(f"error: --data {data}: expected the MNIST IDX .gz files there, found no train-images-idx3-ubyte.gz",
              file=sys.stderr)
        return 2

    # What the Python side can do at all, decided once rather than failing every run.
    needs = (("numpy", ("numpy-f32", "numpy-f32-nodx", "numpy-f64", "torch-f32")), ("torch", ("torch-f32",)))
    for module, keys in needs:
        check = subprocess.run([python, "-c", f"import {module}"], env=py_env, capture_output=True, text=True)
        if check.returncode != 0:
            for impl in impls:
                if impl.key in keys and not impl.unavailable:
                    impl.unavailable = f"`import {module}` fails in {python}: {tail(check.stderr, 1)}"
    if any(impl.key.startswith("backprop") for impl in impls):
        build_error = build_backprop(repo)
        for impl in impls:
            if impl.key.startswith("backprop"):
                impl.unavailable = build_error
    for impl in impls:
        if impl.unavailable:
            not_run.append((impl.label, impl.unavailable))
            log(f"cannot run {impl.label}: {impl.unavailable}")

    backprop_ok = not any(impl.unavailable for impl in impls if impl.key.startswith("backprop"))
    limit_reports = measure_limit(repo, python, py_env, backprop_ok, not_run)
    peak = peak_of(limit_reports) if limit_reports else None

    workdir = tempfile.mkdtemp(prefix="backprop-bench-")
    try:
        datasets = [("MNIST", data)]
        if args.dense:
            dense_dir = os.path.join(workdir, "dense-mnist")
            log("writing the dense copy of MNIST ...")
            _, error = run_json([python, os.path.join(HERE, "mnist_idx.py"), "densify", data, dense_dir], py_env)
            if error:
                not_run.append(("dense MNIST variant", error))
            else:
                datasets.append(("dense MNIST (no zero pixel)", dense_dir))
        fashion_note = None
        if args.fashion:
            fashion_dir, fashion_note = find_fashion_mnist()
            log(fashion_note)
            if fashion_dir:
                datasets.append(("Fashion-MNIST", fashion_dir))
            else:
                not_run.append(("Fashion-MNIST", fashion_note))

        sections = []
        all_results = {}
        for name, directory in datasets:
            zeros, _ = run_json([python, os.path.join(HERE, "mnist_idx.py"), "zeros", directory], py_env)
            results, failures = benchmark_dataset(name, directory, impls, args.runs, steps, args.seed,
                                                  args.timeout, workdir)
            for key, reason in failures.items():
                label = next(impl.label for impl in impls if impl.key == key)
                not_run.append((f"{label} on {name}", reason))
            table, medians = markdown_table(results, impls, peak, steps)
            zero_text = f", {zeros['zero_fraction'] * 100:.1f} % zero pixels" if zeros else ""
            sections.append(f"### {name} ({directory}{zero_text})\n\n{table}")
            all_results[name] = {"data": directory, "runs": results, "medians": medians}
        convnets = {}
        for name, steps_of_net in (("SimpleConvNet", args.convnet_steps), ("DeepConvNet", args.deep_steps)):
            if steps_of_net > 0 and backprop_ok:
                convnets[name] = convnet_table(name, repo, python, py_env, data, steps_of_net, peak, workdir,
                                               not_run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"## backprop MNIST benchmark ({time.strftime('%Y-%m-%d %H:%M')})\n")
    print(f"- machine: {machine_description()}")
    print(f"- run: ch05/train_neuralnet.py, 784-50-10, {steps} steps, batch {BATCH} with replacement, lr 0.1, "
          f"{evaluations_for(steps)} full train+test evaluations; median of {args.runs} run(s), seeds "
          f"{args.seed}..{args.seed + args.runs - 1}")
    print(f"- FLOPs per training step (matrix products only): forward {FORWARD_FLOPS / 1e6:.2f} M + backward "
          f"{BACKWARD_FLOPS / 1e6:.2f} M = {STEP_FLOPS / 1e6:.2f} MFLOP (no input gradient for layer 1; "
          f"the book's code adds {2 * BATCH * HIDDEN * INPUT / 1e6:.2f} M for it); "
          f"one evaluation {EVAL_FLOPS / 1e9:.2f} GFLOP")
    if peak and "float32_gflops" in peak and "float64_gflops" in peak:
        f32, f64 = peak["float32_gflops"]["best"], peak["float64_gflops"]["best"]
        print(f"- limit: the best matrix-product rate any library reaches here ({peak['size']}², all cores, "
              f"best of 20): float32 {f32:.1f} GFLOP/s ({peak['float32_source']}), float64 {f64:.1f} GFLOP/s "
              f"({peak['float64_source']}) → {STEP_FLOPS / (f32 * 1e3):.1f} µs/step in float32, "
              f"{STEP_FLOPS / (f64 * 1e3):.1f} µs/step in float64")
    print("- ratios: > 1× means slower than backprop in the same precision (or than the FLOP limit "
          "at the measured matmul throughput); 'best total' is the fastest run, the least disturbed by other load")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    end_load = os.getloadavg()[0]
    print(f"- load average (1 min) at start {start_load:.2f}, at end {end_load:.2f}")
    if start_load > 0.5 * cores:
        # Multi-threaded BLAS and PyTorch spin-wait for their threads: on a machine that is
        # already busy they slow down by 5-30x, so these figures would say little.
        print(f"- **warning: the machine was busy when the benchmark started (load {start_load:.2f} on {cores} "
              f"cores); multi-threaded runs suffer most, so rerun on an idle machine before comparing**")
    removed = [name for name in SLOW_BLAS_VARS if name in os.environ]
    if removed:
        print(f"- removed from the Python runs' environment: {', '.join(removed)} (kept for backprop)")
    if fashion_note:
        print(f"- Fashion-MNIST: {fashion_note}")
    print()
    if limit_reports:
        print(f"### The limit, and predict (784-50-10 at batch {PREDICT_ROWS:,}, dense inputs uniform in (0, 1), "
              f"best of 20; {PREDICT_FLOPS / 1e9:.2f} GFLOP; MNIST-like: 81 % of them 0)\n")
        print(limit_table(limit_reports, peak))
        print()
        convolutions = convolution_table(limit_reports, peak)
        if convolutions:
            print(f"### The book's convolutions\n\n{convolutions}\n")
    for name, table in convnets.items():
        if table:
            print(f"### {CONVNETS[name]['title']}\n\n{table}\n")
    print("\n\n".join(sections))
    if not_run:
        print("\n### Could not run\n")
        for what, why in not_run:
            print(f"- **{what}**: " + why.replace("\n", "\n  "))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"steps": steps, "runs": args.runs, "peak": peak, "step_flops": STEP_FLOPS,
                       "eval_flops": EVAL_FLOPS, "results": all_results,
                       "not_run": [{"what": w, "why": y} for w, y in not_run]}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
