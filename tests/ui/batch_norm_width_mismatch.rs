use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 100) -> BatchNorm(50) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
