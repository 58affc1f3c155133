use backprop::prelude::*;

network! {
    struct Filters(1, 28, 28) {
        Convolution(0, 5, 5) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }

    struct Kernel(1, 28, 28) {
        Convolution(8, 0, 3, stride = 0) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }

    struct Padding(1, 28, 28) {
        Convolution(8, 3, 3, pad = -1) -> Convolution(8, 3, 3, pad = 1.5) -> Affine(_, 10)
            -> SoftmaxWithLoss
    }

    struct Inferred(1, 28, 28) {
        Convolution(_, 3, 3) -> Pooling(_, 2) -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
