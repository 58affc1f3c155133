#!/usr/bin/env bash
# Benchmark backprop's MNIST example against NumPy and PyTorch references of the book's
# ch05/train_neuralnet.py run; prints a Markdown table (see compare.py for the details).
#
# usage: bench/run.sh [--data DIR] [--runs N] [--dense] [--fashion] [--steps N]
#                     [--only KEYS] [--json FILE] [--seed S]
#   --data DIR   MNIST IDX .gz folder (default: $MNIST_DIR, else ../shared/mnist from the repo root)
#   --runs N     runs per implementation, median reported (default 3)
#   --dense      also run on a temporary copy of MNIST in which no pixel is 0
#   --fashion    also run on Fashion-MNIST (Debian package dataset-fashion-mnist, installed if root)
#   --steps N    fewer steps, for a quick check of the set-up (default: the book's 10000)
#   --only KEYS  e.g. backprop,numpy-f32,torch-f32
#
# The Python side lives in a virtual environment outside the repository, so the ~5 GB of
# torch (PyPI's Linux wheel bundles CUDA libraries; it runs on the CPU here) is installed
# once per machine, never committed: $BACKPROP_BENCH_VENV, default ~/.cache/backprop-bench/venv.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$bench_dir")
venv=${BACKPROP_BENCH_VENV:-$HOME/.cache/backprop-bench/venv}
python_for_venv=${PYTHON:-python3}

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating virtual environment $venv" >&2
    mkdir -p "$(dirname "$venv")"
    if ! "$python_for_venv" -m venv "$venv"; then
        echo "error: could not create a virtual environment with $python_for_venv" \
             "(on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

# A missing package is reported, not fatal: compare.py says which implementations it
# could not run and runs the others.
for package in numpy torch; do
    if ! "$venv/bin/python" -c "import $package" 2>/dev/null; then
        echo "installing $package into $venv (torch: several GB, takes a few minutes)" >&2
        "$venv/bin/python" -m pip install --quiet "$package" ||
            echo "warning: pip install $package failed; the implementations needing it will be skipped" >&2
    fi
done

# No __pycache__ inside the repository.
export PYTHONDONTWRITEBYTECODE=1

# compare.py removes OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the Python runs only; the
# backprop run keeps the environment it was given.
exec "$venv/bin/python" "$bench_dir/compare.py" --repo "$repo_root" "$@"
