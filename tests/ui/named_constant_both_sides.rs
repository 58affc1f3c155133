use backprop::prelude::*;

const HIDDEN: usize = 50;
const NARROW: usize = 40;

network! {
    struct Net {
        Affine(784, HIDDEN) -> Sigmoid -> Affine(NARROW, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
