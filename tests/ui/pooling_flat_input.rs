use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 100) -> Pooling(2, 2, stride = 2) -> Affine(_, 10) -> SoftmaxWithLoss
    }

    struct NoShape {
        Pooling(2, 2, stride = 0) -> Affine(196, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
