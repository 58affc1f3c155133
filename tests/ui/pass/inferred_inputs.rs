// `_` takes the width flowing in, through activations and across Affine layers.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct Inferred {
        Affine(6, 5) -> Relu -> Affine(_, 4) -> Sigmoid -> Affine(_, 3) -> SoftmaxWithLoss
    }
}

fn main() {
    let net = Inferred::<f32>::new(&mut StdRng::seed_from_u64(0));
    let _: &backprop::layers::Affine<f32, 5, 4> = &net.affine2;
    let _: &backprop::layers::Sigmoid<f32, 4> = &net.sigmoid1;
    let _: &backprop::layers::Affine<f32, 4, 3> = &net.affine3;
    let scores: Batch<f32, 3> = net.predict(&Batch::<f32, 6>::zeros(2));
    assert_eq!(scores.rows(), 2);
}
