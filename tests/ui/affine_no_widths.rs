use backprop::prelude::*;

network! {
    struct Net {
        Affine -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
