use backprop::prelude::*;

const HIDDEN: usize = 50;
const CLASSES: usize = 10;

network! {
    struct Net {
        Affine(784, HIDDEN) -> Relu(40) -> Affine(HIDDEN, CLASSES) -> SoftmaxWithLoss(CLASSES)
    }
}

fn main() {}
