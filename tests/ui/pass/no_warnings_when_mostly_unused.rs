// A program that only predicts: the generated methods it never calls must not warn.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct Classifier {
        Affine(4, 3) -> Relu -> Affine(3, 2) -> SoftmaxWithLoss
    }
}

fn main() {
    let net = Classifier::<f32>::new(&mut StdRng::seed_from_u64(0));
    let scores = net.predict(&Batch::<f32, 4>::zeros(1));
    assert_eq!(scores.rows(), 1);
}
