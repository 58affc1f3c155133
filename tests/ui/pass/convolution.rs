//! The book's networks of chapters 7 and 8, and a convolution over named constants.
use backprop::prelude::*;

const SIDE: usize = 28;
const FILTERS: usize = 30;

network! {
    /// Chapter 7.
    pub struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2) -> Affine(_, 100) -> Relu
            -> Affine(100, 10) -> SoftmaxWithLoss
    }

    /// Chapter 8.
    pub struct DeepConvNet(1, 28, 28) {
        Convolution(16, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(16, 3, 3, pad = 1, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Convolution(32, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(32, 3, 3, pad = 2, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Convolution(64, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(64, 3, 3, pad = 1, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(1024, 50, init = He) -> Relu -> Dropout(0.5) -> Affine(50, 10, init = He)
            -> Dropout(0.5) -> SoftmaxWithLoss
    }

    /// Sizes given by constants: the compiler computes the shapes.
    pub struct Named(1, SIDE, SIDE) {
        first: Convolution(FILTERS, 5, 5, channels = 1) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {
    assert_eq!(<DeepConvNet as Network<f32>>::PARAMETER_COUNT, 123_552);
    assert_eq!(<SimpleConvNet as Network<f32>>::PARAMETER_COUNT, 433_890);
    assert_eq!(<Named as Network<f32>>::PARAMETER_COUNT, 30 * 25 + 30 + 4320 * 10 + 10);
    let summary = DeepConvNet::summary();
    assert_eq!(summary.layers[14].output_shape, [64, 4, 4]);
}
