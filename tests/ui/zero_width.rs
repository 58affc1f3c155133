use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 0) -> Relu -> Affine(0, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
