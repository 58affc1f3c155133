#!/usr/bin/env python3
"""NumPy reference: the book's ch05 two-layer network, trained as ch05/train_neuralnet.py does.

The layer classes follow the book's common/layers.py line for line (including its
costs: Relu copies its input, softmax calls exp twice, SoftmaxWithLoss takes one-hot
labels, the first Affine computes an input gradient nobody uses), so that the figure
measures "the book's code on this machine", not a tuned NumPy program.

Departures from the book, each for the benchmark's sake:
  * --dtype float32 makes data *and* weights float32. The book's weights come from
    randn and stay float64, so its products are actually float64; --dtype float64
    gives an all-float64 run close to that.
  * The loss is not recomputed after the update (the book's script calls
    network.loss() a second time each step only to record the loss curve); the other
    implementations do not do that extra forward pass either. --book-loss puts it back.
  * --skip-first-dx drops the unused input gradient of the first Affine layer, which
    is what backprop and PyTorch's autograd do (they know the input needs no gradient).

Usage: reference_numpy.py [--data DIR] [--seed S] [--steps N] [--dtype float32|float64]
                          [--report FILE] [--quiet] [--skip-first-dx] [--book-loss]
"""

import os
import sys
from collections import OrderedDict

import numpy as np

import book_loop
import mnist_idx


# --- common/functions.py ---------------------------------------------------------------

def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guards exp against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    # One-hot labels are turned into indices.
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# --- common/layers.py ------------------------------------------------------------------

class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        # In place, as in the book: the caller's array is modified.
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b, need_dx=True):
        # W and b are the very arrays in TwoLayerNet.params: the in-place update there
        # is what the layer sees on the next step (the book relies on this aliasing).
        self.W = W
        self.b = b
        self.need_dx = need_dx
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        if not self.need_dx:
            return None
        dx = np.dot(dout, self.W.T)
        return dx.reshape(*self.original_x_shape)


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot labels
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# --- ch05/two_layer_net.py -------------------------------------------------------------

class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, dtype, weight_init_std=0.01, skip_first_dx=False):
        # randn draws float64; casting afterwards keeps the same draws for both dtypes
        # (and for the PyTorch reference, which initialises the same way).
        self.params = {
            "W1": (weight_init_std * np.random.randn(input_size, hidden_size)).astype(dtype),
            "b1": np.zeros(hidden_size, dtype=dtype),
            "W2": (weight_init_std * np.random.randn(hidden_size, output_size)).astype(dtype),
            "b2": np.zeros(output_size, dtype=dtype),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"], need_dx=not skip_first_dx)
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)
        dout = 1
        dout = self.lastLayer.backward(dout)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {
            "W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db,
        }


# --- ch05/train_neuralnet.py, the body of the loop -------------------------------------

class BookTrainer:
    def __init__(self, x_train, t_train, x_test, t_test, dtype, learning_rate, skip_first_dx, book_loss):
        self.data = {"train": (x_train, t_train), "test": (x_test, t_test)}
        self.learning_rate = learning_rate
        self.book_loss = book_loss
        self.network = TwoLayerNet(784, 50, 10, dtype=dtype, skip_first_dx=skip_first_dx)

    def step(self, batch_mask):
        x_train, t_train = self.data["train"]
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = self.network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            self.network.params[key] -= self.learning_rate * grad[key]
        if self.book_loss:
            self.network.loss(x_batch, t_batch)

    def accuracy(self, split):
        x, t = self.data[split]
        return self.network.accuracy(x, t)


def blas_name():
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"]["name"]
    except Exception:  # show_config's layout is not a stable API; the name is only informative
        return "unknown"


def main():
    def extra(parser):
        parser.add_argument("--skip-first-dx", action="store_true",
                            help="do not compute the unused input gradient of the first Affine layer")
        parser.add_argument("--book-loss", action="store_true",
                            help="recompute the loss after each update, as train_neuralnet.py does")

    args = book_loop.parse_args("NumPy reference of the book's ch05 MNIST run", extra)
    book_loop.warn_about_blas_env()
    dtype = np.dtype(args.dtype).type
    try:
        x_train, t_train, x_test, t_test = mnist_idx.load_book_style(args.data, dtype)
    except mnist_idx.IdxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    np.random.seed(args.seed)
    trainer = BookTrainer(x_train, t_train, x_test, t_test, dtype, book_loop.BOOK_LEARNING_RATE,
                          args.skip_first_dx, args.book_loss)
    variant = [args.dtype]
    if args.skip_first_dx:
        variant.append("no first-layer dx")
    if args.book_loss:
        variant.append("book loss")
    book_loop.run(args, trainer, x_train.shape[0], f"NumPy ({', '.join(variant)})", {
        "numpy_version": np.__version__,
        "blas": blas_name(),
        # OpenBLAS uses every core unless told otherwise.
        "threads": os.environ.get("OPENBLAS_NUM_THREADS", book_loop.all_cores()),
        "skip_first_dx": args.skip_first_dx,
        "book_loss": args.book_loss,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
