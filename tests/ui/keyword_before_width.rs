use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, init = He, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
