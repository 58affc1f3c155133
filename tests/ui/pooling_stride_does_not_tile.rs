use backprop::prelude::*;

network! {
    struct Net(3, 28, 27) {
        Pooling(2, 2, stride = 3) -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
