use backprop::prelude::*;

network! {
    struct Net {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn scores(net: &Net, x: &Batch<f32, 785>) -> Batch<f32, 10> {
    net.predict(x)
}

fn main() {}
