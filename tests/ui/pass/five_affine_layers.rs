// A deep network mixing activations: the generated API carries every width in its types.
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct Deep {
        Affine(12, 9) -> Relu -> Affine(9, 8) -> Sigmoid -> Affine(8, 7) -> Relu
            -> Affine(7, 6) -> Sigmoid -> Affine(6, 5) -> SoftmaxWithLoss
    }
}

const _: () = {
    assert!(<Deep<f64> as Network<f64>>::INPUT_WIDTH == 12);
    assert!(<Deep<f64> as Network<f64>>::OUTPUT_WIDTH == 5);
    assert!(
        <Deep<f64> as Network<f64>>::PARAMETER_COUNT
            == 12 * 9 + 9 + 9 * 8 + 8 + 8 * 7 + 7 + 7 * 6 + 6 + 6 * 5 + 5
    );
};

fn main() {
    let mut net = Deep::<f64>::new(&mut StdRng::seed_from_u64(0));
    let _: &backprop::layers::Affine<f64, 12, 9> = &net.affine1;
    let _: &backprop::layers::Sigmoid<f64, 6> = &net.sigmoid2;
    let _: &backprop::layers::Affine<f64, 6, 5> = &net.affine5;
    let _: &backprop::layers::SoftmaxWithLoss<f64, 5> = &net.last_layer;

    let x = Batch::<f64, 12>::zeros(3);
    let scores: Batch<f64, 5> = net.predict(&x);
    assert_eq!(scores.rows(), 3);

    let labels = [0, 4, 2];
    let loss = net.gradient(&x, &labels).unwrap();
    assert!(loss.is_finite());
    let gradients: DeepGradients<f64> = net.gradients();
    assert_eq!(gradients.W1.dim(), (12, 9));
    assert_eq!(gradients.W5.dim(), (6, 5));
    assert_eq!(gradients.b3.len(), 7);
}
