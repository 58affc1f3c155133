// Widths given as constants (plain and by path) that agree with the widths flowing in.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const INPUTS: usize = 6;
const HIDDEN: usize = 4;

mod classes {
    pub const COUNT: usize = 3;
}

network! {
    struct WithConstants {
        Affine(INPUTS, HIDDEN) -> Relu(HIDDEN) -> Affine(4, classes::COUNT)
            -> SoftmaxWithLoss(classes::COUNT)
    }
}

const _: () = assert!(<WithConstants as Network<f32>>::INPUT_WIDTH == INPUTS);
const _: () = assert!(<WithConstants as Network<f32>>::OUTPUT_WIDTH == classes::COUNT);

fn main() {
    let net = WithConstants::<f32>::new(&mut StdRng::seed_from_u64(0));
    let _: &backprop::layers::Affine<f32, INPUTS, HIDDEN> = &net.affine1;
    let scores: Batch<f32, { classes::COUNT }> = net.predict(&Batch::<f32, INPUTS>::zeros(2));
    assert_eq!(scores.rows(), 2);
}
