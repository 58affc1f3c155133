use backprop::prelude::*;

network! {
    struct Net(28, 28) {
        Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
