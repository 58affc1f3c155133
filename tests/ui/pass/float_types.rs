// One declaration serves f32 (the default) and f64.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct Net {
        Affine(3, 4) -> Relu -> Affine(4, 2) -> SoftmaxWithLoss
    }
}

fn default_is_f32(net: Net) -> Net<f32> {
    net
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let single = default_is_f32(Net::new(&mut rng));
    let double = Net::<f64>::new(&mut rng);

    let single_scores: Batch<f32, 2> = single.predict(&Batch::<f32, 3>::zeros(1));
    let double_scores: Batch<f64, 2> = double.predict(&Batch::<f64, 3>::zeros(1));
    assert_eq!(single_scores.rows(), double_scores.rows());

    let x = Batch::<f64, 3>::from_rows(&[[1.0, 2.0, 3.0]]);
    let accuracy: f64 = double.accuracy(&x.view(), &[1]).unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    let loss: f64 = double.loss(&x, &[1]).unwrap();
    assert!(loss > 0.0);
}
