use backprop::prelude::*;

network! {
    struct Net {
        SoftmaxWithLoss(10)
    }
}

fn main() {}
