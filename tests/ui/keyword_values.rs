use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50, init = "he") -> Relu -> Affine(50, 30, init = -0.1) -> Relu
            -> Affine(30, 20, init = Kaiming) -> Relu -> Affine(20, 10, init = Hee)
            -> SoftmaxWithLoss
    }
}

fn main() {}
