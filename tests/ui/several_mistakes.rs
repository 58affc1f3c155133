use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relux -> Affine(40, 10) -> Sigmoid(1, 2) -> SoftmaxWithLoss -> Relu
    }
}

fn main() {}
