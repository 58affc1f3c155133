"""The training loop of the book's ch05/train_neuralnet.py, shared by the Python references.

Each reference (NumPy, PyTorch) supplies a trainer object with
    step(batch_indices)      one SGD step on the training rows `batch_indices`
    accuracy(split)          accuracy on "train" or "test" (whole split at once)
and this module runs the book's schedule around it and does the timing, so that the
implementations differ only in their arithmetic, never in what is timed.

What is timed (time.perf_counter):
  * train_seconds: the loop minus the evaluations, i.e. batch sampling + gather +
    forward + backward + update, as in the book's loop body;
  * eval_seconds: every full train (60k) + test (10k) accuracy evaluation: one at each
    i % iter_per_epoch == 0 (17 for 10,000 steps, including step 0) plus one after the
    last step for the final figures.
Interpreter start-up, imports and data loading are excluded.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

# OpenBLAS reads these when the library is loaded; on this machine they select a slow
# kernel / cache model. run.sh removes them for the Python runs; warn when they are still
# set so that a slow figure is not mistaken for the implementation's own.
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

BOOK_STEPS = 10_000
BOOK_BATCH_SIZE = 100
BOOK_LEARNING_RATE = 0.1


def all_cores():
    """The number of CPUs this process may run on (cgroup/affinity aware, unlike cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_data_dir():
    """$MNIST_DIR, else ../shared/mnist relative to the repository root (the parent of bench/)."""
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(repo_root), "shared", "mnist")


def parse_args(description, extra_arguments=None):
    """Command line common to the references; `extra_arguments(parser)` adds their own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=default_data_dir(), help="folder with the four MNIST IDX .gz files")
    parser.add_argument("--seed", type=int, default=0, help="seed of NumPy's global generator (init and batches)")
    parser.add_argument("--steps", type=int, default=BOOK_STEPS, help="training steps (book: 10000)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="data, weights and arithmetic precision (default float32)")
    parser.add_argument("--report", help="write the JSON report to this file as well as printing it")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON report")
    if extra_arguments:
        extra_arguments(parser)
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps: expected a positive number, found {args.steps}")
    return args


def warn_about_blas_env():
    for name in SLOW_BLAS_VARS:
        if name in os.environ:
            print(f"warning: {name}={os.environ[name]} is set; it can slow OpenBLAS down "
                  f"(bench/run.sh unsets it for the Python runs)", file=sys.stderr)


def run(args, trainer, train_size, implementation, extra_report=None):
    """Run the book's loop with `trainer`; print and optionally write the JSON report."""
    batch_size = BOOK_BATCH_SIZE
    # The book computes max(train_size / batch_size, 1) as a float; the modulo test is the same.
    iter_per_epoch = max(train_size // batch_size, 1)

    eval_seconds = 0.0
    evaluations = 0

    def evaluate():
        nonlocal eval_seconds, evaluations
        start = time.perf_counter()
        train_acc = trainer.accuracy("train")
        test_acc = trainer.accuracy("test")
        eval_seconds += time.perf_counter() - start
        evaluations += 1
        return train_acc, test_acc

    loop_start = time.perf_counter()
    for i in range(args.steps):
        # With replacement, from NumPy's global generator, exactly as the book does.
        batch_mask = np.random.choice(train_size, batch_size)
        trainer.step(batch_mask)
        if i % iter_per_epoch == 0:
            train_acc, test_acc = evaluate()
            if not args.quiet:
                print(f"step {i:5d}  train acc {train_acc:.4f}  test acc {test_acc:.4f}", file=sys.stderr)
    final_train_acc, final_test_acc = evaluate()
    total_seconds = time.perf_counter() - loop_start
    train_seconds = total_seconds - eval_seconds

    report = {
        "implementation": implementation,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "total_seconds": total_seconds,
        "steps": args.steps,
        "us_per_step": train_seconds / args.steps * 1e6,
        "final_train_accuracy": float(final_train_acc),
        "final_test_accuracy": float(final_test_acc),
        "evaluations": evaluations,
        "dtype": args.dtype,
        "seed": args.seed,
        "data": os.path.abspath(args.data),
    }
    if extra_report:
        report.update(extra_report)
    text = json.dumps(report, indent=2)
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text + "\n")
    return report
