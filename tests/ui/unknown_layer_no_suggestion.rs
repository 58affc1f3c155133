use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Attention -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
