#!/usr/bin/env python3
"""NumPy reference: the book's SimpleConvNet (ch07/simple_convnet.py with common/layers.py,
common/util.py's im2col and col2im, and common/optimizer.py's Adam), as the book writes
it (Relu, Affine and SoftmaxWithLoss are reference_numpy.py's), timed per training step and per evaluation of the 10,000 test images.

The book's arrays: images float32 in [0, 1], weights 0.01 · randn in float64 (so the
computation runs in float64), batches of 100 drawn with replacement, Adam at 0.001.
A few dozen steps are enough to time it: the book's code takes about 0.19 s a step.

Usage: convnet_numpy.py --data DIR [--steps N] [--seed S]
Prints one JSON line: ms_per_step, test_eval_seconds, test_accuracy.
"""

import argparse
import json
import time
from collections import OrderedDict

import numpy as np

import mnist_idx
from reference_numpy import Affine, Relu, SoftmaxWithLoss  # the book's common/layers.py


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x = x
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class SimpleConvNet:
    def __init__(self):
        std = 0.01
        self.params = {
            "W1": std * np.random.randn(30, 1, 5, 5), "b1": np.zeros(30),
            "W2": std * np.random.randn(4320, 100), "b2": np.zeros(100),
            "W3": std * np.random.randn(100, 10), "b3": np.zeros(10)}
        p = self.params
        self.layers = OrderedDict([
            ("Conv1", Convolution(p["W1"], p["b1"])), ("Relu1", Relu()),
            ("Pool1", Pooling(2, 2, stride=2)), ("Affine1", Affine(p["W2"], p["b2"])),
            ("Relu2", Relu()), ("Affine2", Affine(p["W3"], p["b3"]))])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def gradient(self, x, t):
        self.last_layer.forward(self.predict(x), t)
        dout = self.last_layer.backward()
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i, name in enumerate(("Conv1", "Affine1", "Affine2"), start=1):
            grads[f"W{i}"], grads[f"b{i}"] = self.layers[name].dW, self.layers[name].db
        return grads


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np.random.seed(args.seed)
    train_images, train_labels, test_images, test_labels = mnist_idx.load_raw(args.data)

    def images(a):
        return a.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255.0)

    x_train, x_test = images(train_images), images(test_images)
    net, adam = SimpleConvNet(), Adam()
    step_seconds = []
    for _ in range(args.steps + 1):
        mask = np.random.choice(x_train.shape[0], 100)
        started = time.perf_counter()
        adam.update(net.params, net.gradient(x_train[mask], train_labels[mask]))
        step_seconds.append(time.perf_counter() - started)
    # The first step allocates Adam's state: left out, as the others' warm-up is.
    ms_per_step = sum(step_seconds[1:]) * 1e3 / args.steps

    started = time.perf_counter()
    correct = 0
    for first in range(0, x_test.shape[0], 100):   # the book's accuracy() batch
        scores = net.predict(x_test[first:first + 100])
        correct += int((np.argmax(scores, axis=1) == test_labels[first:first + 100]).sum())
    test_eval_seconds = time.perf_counter() - started
    print(json.dumps({"implementation": "numpy-book", "ms_per_step": ms_per_step,
                      "test_eval_seconds": test_eval_seconds,
                      "test_accuracy": correct / x_test.shape[0]}))


if __name__ == "__main__":
    main()
