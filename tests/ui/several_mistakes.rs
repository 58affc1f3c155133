use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relux -> hidden: Affine(50, 30) -> Relu -> Affine(40, 10)
            -> Sigmoid(1, 2) -> hidden: Affine(10, 10) -> SoftmaxWithLoss -> Relu
    }
}

fn main() {}
