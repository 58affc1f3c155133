// A network declared inside a function, with constants local to it; two constants
// of the same value, under different names, agree.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() {
    const FEATURES: usize = 5;
    const HIDDEN: usize = 4;
    const ALSO_FOUR: usize = 4;

    network! {
        struct Local {
            Affine(FEATURES, HIDDEN) -> Sigmoid -> Affine(ALSO_FOUR, 2) -> SoftmaxWithLoss
        }
    }

    let net = Local::<f64>::new(&mut StdRng::seed_from_u64(0));
    let scores: Batch<f64, 2> = net.predict(&Batch::<f64, FEATURES>::zeros(3));
    assert_eq!(scores.rows(), 3);
    assert_eq!(
        <Local as Network<f32>>::PARAMETER_COUNT,
        5 * 4 + 4 + 4 * 2 + 2
    );
}
