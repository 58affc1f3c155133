use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn scores(net: &Net<f32>, x: &Batch<f64, 784>) -> Batch<f32, 10> {
    net.predict(x)
}

fn main() {}
