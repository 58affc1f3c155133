use backprop::prelude::*;

network! {
    struct Net(3, 32, 32) {
        Convolution(16, 3, 3, pad = 1, channels = 1) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
