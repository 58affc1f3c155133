use backprop::prelude::*;

network! {
    struct Net {
        Affine(_, 50) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
