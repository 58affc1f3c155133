use backprop::prelude::*;

network! {
    struct Net(1, 4, 4) {
        Convolution(8, 7, 3, pad = 1) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
