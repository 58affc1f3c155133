use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 100000000000000000000) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
