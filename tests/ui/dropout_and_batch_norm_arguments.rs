use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 100) -> BatchNorm(momentum = -0.1, eps = 0) -> Relu -> Dropout(1.0)
            -> Affine(100, 50) -> BatchNorm(eps = inf) -> Relu -> Dropout(ratio = 0.5, inverted = yes)
            -> Affine(50, 10) -> Dropout(0.2, ratio = 0.3) -> SoftmaxWithLoss
    }
}

fn main() {}
