use backprop::prelude::*;

network! {
    struct Net {
        relu1: Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
