use backprop::prelude::*;

const HIDDEN: usize = 50;

network! {
    struct Net {
        Affine(784, 2 * HIDDEN) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
