use backprop::prelude::*;

network! {
    struct Net {
        hidden: Affine(784, 50) -> Relu -> hidden: Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
