use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Tanh(40) -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
