use backprop::prelude::*;

const SIDE: usize = 27;

network! {
    struct Net(1, SIDE, SIDE) {
        Pooling(2, 2, stride = 2) -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
