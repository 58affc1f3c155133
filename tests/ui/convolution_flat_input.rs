use backprop::prelude::*;

network! {
    struct Net(784) {
        Convolution(30, 5, 5) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
