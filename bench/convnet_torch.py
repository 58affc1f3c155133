#!/usr/bin/env python3
"""PyTorch (CPU) reference for the book's convolutional networks: the same network, loop
and optimizer as backprop's examples, timed per training step and per evaluation of the
10,000 test images.

SimpleConvNet (chapter 7): Conv2d(1, 30, 5) → ReLU → MaxPool2d(2, 2) → Linear(4320, 100)
→ ReLU → Linear(100, 10), every weight N(0, 0.01²), biases 0. Batches of 100 drawn with
replacement, Adam at 0.001, cross-entropy on the logits, float32, all cores. It is
written as one would write it for speed in PyTorch: nn modules (oneDNN convolutions),
fused cross-entropy, `zero_grad(set_to_none=True)`, evaluation under inference_mode in
chunks of 1000.

DeepConvNet (chapter 8, `--net deep`): six 3×3 convolutions with ReLU (16, 16, pool, 32,
32 with pad 2, pool, 64, 64, pool), Linear(1024, 50) → ReLU → Dropout(0.5) → Linear(50,
10) → Dropout(0.5), He initialisation; PyTorch's Dropout is the inverted form, which
costs the same.

Usage: convnet_torch.py --data DIR [--net simple|deep] [--steps N] [--warmup N] [--seed S]
                        [--threads N]
Prints one JSON line: ms_per_step, test_eval_seconds, test_accuracy, threads.
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn

import mnist_idx


def simple_convnet():
    net = nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))
    with torch.no_grad():
        for module in net:
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.normal_(0.0, 0.01)
                module.bias.zero_()
    return net


def deep_convnet():
    def conv(c_in, c_out, pad=1):
        return [nn.Conv2d(c_in, c_out, 3, padding=pad), nn.ReLU()]

    net = nn.Sequential(
        *conv(1, 16), *conv(16, 16), nn.MaxPool2d(2, 2),
        *conv(16, 32), *conv(32, 32, pad=2), nn.MaxPool2d(2, 2),
        *conv(32, 64), *conv(64, 64), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(1024, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5))
    with torch.no_grad():
        for module in net:
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                module.bias.zero_()
    return net


NETS = {"simple": simple_convnet, "deep": deep_convnet}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--net", choices=sorted(NETS), default="simple")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train_images, train_labels, test_images, test_labels = mnist_idx.load_raw(args.data)

    def images(a):
        return torch.from_numpy(a.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255.0))

    x_train, x_test = images(train_images), images(test_images)
    t_train = torch.from_numpy(train_labels.astype(np.int64))
    t_test = torch.from_numpy(test_labels.astype(np.int64))

    net = NETS[args.net]()
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        index = torch.from_numpy(rng.integers(0, x_train.shape[0], 100))
        loss = loss_fn(net(x_train[index]), t_train[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    ms_per_step = (time.perf_counter() - started) * 1e3 / args.steps

    net.eval()  # Dropout off
    started = time.perf_counter()
    correct = 0
    with torch.inference_mode():
        for first in range(0, x_test.shape[0], 1000):
            scores = net(x_test[first:first + 1000])
            correct += (scores.argmax(dim=1) == t_test[first:first + 1000]).sum().item()
    test_eval_seconds = time.perf_counter() - started
    print(json.dumps({"implementation": "torch-f32", "ms_per_step": ms_per_step,
                      "test_eval_seconds": test_eval_seconds,
                      "test_accuracy": correct / x_test.shape[0], "threads": args.threads}))


if __name__ == "__main__":
    main()
