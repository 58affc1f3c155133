use backprop::prelude::*;

network! {
    struct Net {
        Affine(784) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
