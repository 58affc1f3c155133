use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 10) -> SoftmaxWithLoss -> Dropout(0.5) -> BatchNorm
    }

    struct First {
        Dropout(0.2) -> Affine(784, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
