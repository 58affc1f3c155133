use backprop::prelude::*;

network! {
    struct Net {
        Affine(784.0, 50) -> Relu -> Affine(50, 10.5) -> SoftmaxWithLoss
    }
}

fn main() {}
