use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50, int = He) -> Relu(mode = fast) -> Affine(50, 10, bias = false)
            -> SoftmaxWithLoss
    }
}

fn main() {}
