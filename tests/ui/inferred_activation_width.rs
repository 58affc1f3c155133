use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relu(_) -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
