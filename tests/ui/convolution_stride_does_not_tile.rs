use backprop::prelude::*;

network! {
    struct Rows(1, 28, 28) {
        Convolution(8, 5, 4, stride = 2, pad = 1) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }

    struct Columns(1, 28, 28) {
        Convolution(8, 4, 5, stride = 2) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
