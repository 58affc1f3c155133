// One `network!` call may declare several networks.
#![deny(warnings)]

use backprop::prelude::*;

network! {
    /// The first.
    struct First {
        Affine(5, 3) -> SoftmaxWithLoss
    }

    /// The second.
    pub struct Second {
        Affine(7, 4) -> Sigmoid -> Affine(4, 3) -> SoftmaxWithLoss
    }
}

fn main() {
    assert_eq!(<First<f64> as Network<f64>>::INPUT_WIDTH, 5);
    assert_eq!(<Second<f64> as Network<f64>>::INPUT_WIDTH, 7);
    assert_eq!(First::summary().layers.len(), 2);
    assert_eq!(Second::summary().layers.len(), 4);
}
