//! The book's convolutional networks of chapters 7 and 8, as the examples declare
//! them, for the tests that train or time them.

use backprop::prelude::*;

network! {
    /// Chapter 7's SimpleConvNet.
    pub struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }

    /// Chapter 8's deep CNN.
    pub struct DeepConvNet(1, 28, 28) {
        Convolution(16, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(16, 3, 3, pad = 1, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Convolution(32, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(32, 3, 3, pad = 2, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Convolution(64, 3, 3, pad = 1, init = He) -> Relu
            -> Convolution(64, 3, 3, pad = 1, init = He) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 50, init = He) -> Relu -> Dropout(0.5)
            -> Affine(50, 10, init = He) -> Dropout(0.5) -> SoftmaxWithLoss
    }
}
