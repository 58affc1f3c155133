//! Pooling computes its output shape, also from named constants, and the layers after
//! it take their widths from it.
use backprop::prelude::*;
use rand::SeedableRng;

const SIDE: usize = 28;

network! {
    pub struct Pooled(1, SIDE, SIDE) {
        Pooling(2, 2, stride = 2) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }

    pub struct Overlapping(2, 5, 5) {
        Pooling(3, 3) -> Affine(18, 4) -> SoftmaxWithLoss
    }
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut net = Pooled::<f64>::new(&mut rng);
    let x = Batch::<f64, 784>::zeros(3);
    assert_eq!(net.predict(&x).rows(), 3);
    assert!(net.gradient(&x, &[1usize, 2, 3]).is_ok());
    let summary = Pooled::summary();
    assert_eq!(summary.layers[0].output_shape, [1, 14, 14]);
    assert_eq!(summary.layers[1].output_shape, [1, 14, 14]);
    assert_eq!(summary.layers[2].layer, "Affine(196, 10)");
    assert_eq!(Overlapping::summary().layers[0].output_shape, [2, 3, 3]);
}
