use backprop::prelude::*;

network! {
    struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2) -> Affine(4000, 100) -> Relu
            -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
