use backprop::prelude::*;

network! {
    struct Net(1, 28, 28) {
        Pooling(30, 2, stride = 2) -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
