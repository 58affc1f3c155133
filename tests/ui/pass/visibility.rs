// The declared visibility applies to the struct, its gradients and its methods.
#![deny(warnings)]

mod models {
    use backprop::prelude::*;

    network! {
        pub(crate) struct Crate {
            Affine(3, 2) -> SoftmaxWithLoss
        }
    }
}

use backprop::prelude::*;
use models::{Crate, CrateGradients};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() {
    let mut net = Crate::<f32>::new(&mut StdRng::seed_from_u64(0));
    let x = Batch::<f32, 3>::zeros(2);
    let _: Batch<f32, 2> = net.predict(&x);
    net.gradient(&x, &[0, 1]).unwrap();
    let gradients: CrateGradients<f32> = net.gradients();
    assert_eq!(gradients.W1.dim(), (3, 2));
}
