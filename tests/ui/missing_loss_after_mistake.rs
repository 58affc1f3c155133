use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relu(40) -> Affine(50, 10)
    }
}

fn main() {}
