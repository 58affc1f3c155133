use backprop::prelude::*;

network! {
    struct Net(1, 28, 28) {
        Affine(780, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
