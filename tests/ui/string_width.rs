use backprop::prelude::*;

network! {
    struct Net {
        Affine("784", 50) -> Relu -> Affine(50, "ten") -> SoftmaxWithLoss
    }
}

fn main() {}
