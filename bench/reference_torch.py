#!/usr/bin/env python3
"""PyTorch (CPU) reference: the book's ch05 MNIST run with plain tensors and autograd.

Same network (784-50-10, Affine-Relu-Affine-softmax cross-entropy), same initialisation
(W = 0.01 * randn, b = 0) and same batches: both are drawn from NumPy's global generator
exactly as in reference_numpy.py, so with the same --seed the two references start from
the same weights and see the same batches, and their accuracies can be compared directly.

It is written the way one would write it for speed in PyTorch, not as a port of the
book's layers: addmm fuses the bias into the product, cross_entropy fuses softmax and
log, autograd skips the input gradient of the first layer, torch.optim.SGD updates all
parameters in one foreach call, and evaluation runs under inference_mode.
Weights are stored (in, out) as in the book, so x @ W needs no transpose.

Usage: reference_torch.py [--data DIR] [--seed S] [--steps N] [--dtype float32|float64]
                          [--threads N] [--report FILE] [--quiet]
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

import book_loop
import mnist_idx


class TorchTrainer:
    def __init__(self, x_train, labels_train, x_test, labels_test, dtype, learning_rate):
        self.data = {"train": (x_train, labels_train), "test": (x_test, labels_test)}

        def weight(rows, cols):
            # Drawn by NumPy (float64, then cast) so the draws match the NumPy reference.
            return torch.from_numpy(0.01 * np.random.randn(rows, cols)).to(dtype).requires_grad_()

        self.W1 = weight(784, 50)
        self.b1 = torch.zeros(50, dtype=dtype, requires_grad=True)
        self.W2 = weight(50, 10)
        self.b2 = torch.zeros(10, dtype=dtype, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.W1, self.b1, self.W2, self.b2], lr=learning_rate)

    def logits(self, x):
        hidden = torch.relu(torch.addmm(self.b1, x, self.W1))
        return torch.addmm(self.b2, hidden, self.W2)

    def step(self, batch_mask):
        x_train, labels_train = self.data["train"]
        index = torch.from_numpy(batch_mask)
        loss = F.cross_entropy(self.logits(x_train[index]), labels_train[index])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def accuracy(self, split):
        x, labels = self.data[split]
        with torch.inference_mode():
            predicted = self.logits(x).argmax(dim=1)
            return (predicted == labels).sum().item() / x.shape[0]


def main():
    def extra(parser):
        parser.add_argument("--threads", type=int, default=book_loop.all_cores(),
                            help="torch.set_num_threads (default: all cores)")

    args = book_loop.parse_args("PyTorch CPU reference of the book's ch05 MNIST run", extra)
    book_loop.warn_about_blas_env()
    torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    try:
        train_images, train_labels, test_images, test_labels = mnist_idx.load_raw(args.data)
    except mnist_idx.IdxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def images(a):
        return torch.from_numpy(a.reshape(a.shape[0], -1).copy()).to(dtype) / 255.0

    def labels(a):
        return torch.from_numpy(a.astype(np.int64))

    np.random.seed(args.seed)
    trainer = TorchTrainer(images(train_images), labels(train_labels), images(test_images), labels(test_labels),
                           dtype, book_loop.BOOK_LEARNING_RATE)
    book_loop.run(args, trainer, train_images.shape[0], f"PyTorch CPU ({args.dtype})", {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
