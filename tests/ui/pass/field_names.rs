// Named fields replace the book's defaults; unnamed layers keep `affine2`, `relu1`, ….
#![deny(warnings)]

use backprop::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

network! {
    struct Named {
        hidden: Affine(4, 3) -> activation: Relu -> Affine(3, 2) -> loss: SoftmaxWithLoss
    }
}

fn main() {
    let net = Named::<f32>::new(&mut StdRng::seed_from_u64(0));
    let _: &backprop::layers::Affine<f32, 4, 3> = &net.hidden;
    let _: &backprop::layers::Relu<f32, 3> = &net.activation;
    let _: &backprop::layers::Affine<f32, 3, 2> = &net.affine2;
    let _: &backprop::layers::SoftmaxWithLoss<f32, 2> = &net.loss;
    assert_eq!(net.hidden.W.dim(), (4, 3));

    let summary = Named::summary();
    let fields: Vec<&str> = summary.layers.iter().map(|layer| layer.field).collect();
    assert_eq!(fields, ["hidden", "activation", "affine2", "loss"]);
}
