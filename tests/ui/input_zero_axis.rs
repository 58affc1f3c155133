use backprop::prelude::*;

network! {
    struct Net(1, 0, 28) {
        Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
