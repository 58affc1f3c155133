"""Reading and writing MNIST-style IDX files (.gz), shared by the Python references.

The references read the raw IDX files themselves instead of the book's pickle cache
(dataset/mnist.py) so that every implementation in the benchmark starts from the same
bytes, and so that no download step is involved.
"""

import gzip
import os
import struct

import numpy as np

# IDX magic numbers: two zero bytes, type code 0x08 (unsigned byte), number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


class IdxError(ValueError):
    """A malformed or unexpected IDX file; the message names the file and the field."""


def _read_idx(path, expected_magic):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise IdxError(f"{path}: cannot read gzip IDX file: {e}") from e
    if len(raw) < 4:
        raise IdxError(f"{path}: header: expected at least 4 bytes, found {len(raw)}")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise IdxError(f"{path}: magic number: expected {expected_magic:#010x}, found {magic:#010x}")
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise IdxError(f"{path}: header: expected {header_len} bytes, found {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected_len = header_len + int(np.prod(dims))
    if len(raw) != expected_len:
        raise IdxError(f"{path}: size for dimensions {dims}: expected {expected_len} bytes, found {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def load_raw(data_dir):
    """Return (train_images, train_labels, test_images, test_labels) as uint8 arrays.

    Images have shape (n, rows, cols); labels have shape (n,).
    """
    arrays = {}
    for key, name in FILE_NAMES.items():
        magic = IMAGES_MAGIC if key.endswith("images") else LABELS_MAGIC
        arrays[key] = _read_idx(os.path.join(data_dir, name), magic)
    for split in ("train", "test"):
        n_images = arrays[f"{split}_images"].shape[0]
        n_labels = arrays[f"{split}_labels"].shape[0]
        if n_images != n_labels:
            raise IdxError(
                f"{data_dir}: {split} split: expected as many labels as images ({n_images}), found {n_labels}"
            )
    return arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]


def load_book_style(data_dir, dtype):
    """Load MNIST as the book's load_mnist(normalize=True, flatten=True, one_hot_label=True).

    Returns (x_train, t_train, x_test, t_test): x is (n, 784) in [0, 1] of `dtype`,
    t is one-hot (n, 10) of `dtype` (train_neuralnet.py uses one-hot labels, so the
    SoftmaxWithLoss backward is the (y - t) / N branch).
    """
    train_images, train_labels, test_images, test_labels = load_raw(data_dir)

    def images(a):
        return (a.reshape(a.shape[0], -1).astype(dtype)) / dtype(255.0)

    def one_hot(labels):
        t = np.zeros((labels.shape[0], 10), dtype=dtype)
        t[np.arange(labels.shape[0]), labels] = 1
        return t

    return images(train_images), one_hot(train_labels), images(test_images), one_hot(test_labels)


def _write_idx(path, magic, array):
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    # mtime=0 keeps the output byte-identical between runs; level 1 because the copy is
    # temporary and the default level takes ~15 s for the 47 MB of images.
    with gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as f:
        f.write(header)
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_dense_copy(src_dir, dst_dir):
    """Write a copy of the data set in which no pixel is 0: p' = 1 + round(p * 254 / 255).

    MNIST is ~80 % zeros; an implementation that skips zeros (or a BLAS that benefits
    from them) would look faster on MNIST than on dense data. Labels are copied as is.
    Returns the fraction of zero pixels in the source training images.
    """
    train_images, train_labels, test_images, test_labels = load_raw(src_dir)
    os.makedirs(dst_dir, exist_ok=True)

    def densify(a):
        return (1 + np.rint(a.astype(np.float64) * 254.0 / 255.0)).astype(np.uint8)

    _write_idx(os.path.join(dst_dir, FILE_NAMES["train_images"]), IMAGES_MAGIC, densify(train_images))
    _write_idx(os.path.join(dst_dir, FILE_NAMES["train_labels"]), LABELS_MAGIC, train_labels)
    _write_idx(os.path.join(dst_dir, FILE_NAMES["test_images"]), IMAGES_MAGIC, densify(test_images))
    _write_idx(os.path.join(dst_dir, FILE_NAMES["test_labels"]), LABELS_MAGIC, test_labels)
    return float(np.mean(train_images == 0))


def zero_fraction(data_dir):
    """Fraction of zero pixels in the training images of `data_dir`."""
    train_images, _, _, _ = load_raw(data_dir)
    return float(np.mean(train_images == 0))


def main(argv):
    """Command line used by compare.py, which itself imports no NumPy (see there why)."""
    import json
    import sys

    usage = "usage: mnist_idx.py densify SRC_DIR DST_DIR | zeros DIR"
    try:
        if len(argv) == 3 and argv[0] == "densify":
            print(json.dumps({"source_zero_fraction": write_dense_copy(argv[1], argv[2]),
                              "dense_zero_fraction": zero_fraction(argv[2])}))
        elif len(argv) == 2 and argv[0] == "zeros":
            print(json.dumps({"zero_fraction": zero_fraction(argv[1])}))
        else:
            print(usage, file=sys.stderr)
            return 2
    except IdxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
