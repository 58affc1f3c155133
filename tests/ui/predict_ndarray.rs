use backprop::ndarray::Array2;
use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn scores(net: &Net, x: &Array2<f32>) -> Batch<f32, 10> {
    net.predict(x)
}

fn main() {}
