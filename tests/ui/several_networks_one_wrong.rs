use backprop::prelude::*;

network! {
    struct Good {
        Affine(4, 3) -> SoftmaxWithLoss
    }

    struct Bad {
        Affine(4, 3) -> Relu -> Affine(2, 3) -> SoftmaxWithLoss
    }
}

fn main() {
    let _ = Good::summary();
}
