use backprop::prelude::*;

const HIDDEN: u32 = 50;

network! {
    struct Net {
        Affine(784, HIDDEN) -> Relu -> Affine(HIDDEN, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
