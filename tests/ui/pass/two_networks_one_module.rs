// Two declarations side by side: their generated items do not collide.
#![deny(warnings)]

use backprop::prelude::*;

network! {
    struct Small {
        Affine(2, 2) -> SoftmaxWithLoss
    }
}

network! {
    struct Large {
        Affine(8, 6) -> Relu -> Affine(6, 2) -> SoftmaxWithLoss
    }
}

fn main() {
    assert_eq!(<Small as Network<f32>>::INPUT_WIDTH, 2);
    assert_eq!(<Large as Network<f32>>::INPUT_WIDTH, 8);
    let _: Option<SmallGradients<f32>> = None;
    let _: Option<LargeGradients<f32>> = None;
}
