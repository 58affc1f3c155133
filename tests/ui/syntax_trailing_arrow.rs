use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 10) -> SoftmaxWithLoss ->
    }
}

fn main() {}
