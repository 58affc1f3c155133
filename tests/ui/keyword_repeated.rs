use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50, init = He, init = Xavier) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
