use backprop::prelude::*;

const HIDDEN: usize = 40;

network! {
    struct Net {
        Affine(784, 50) -> Relu -> Affine(HIDDEN, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
