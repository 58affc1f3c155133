use backprop::prelude::*;

network! {
    struct Net {
        Affine(784u32, 50usize) -> Relu -> Affine(50, 10i64) -> SoftmaxWithLoss
    }
}

fn main() {}
