//! The book's networks, declared once for the examples and the tests: every shape is
//! computed by the `network!` macro from the input and the layers' arguments.

use backprop::prelude::*;

network! {
    /// The two-layer net of Deep Learning from Scratch, chapter 5.
    pub struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }

    /// Chapter 7's SimpleConvNet: `Affine(_, 100)` takes the 30·12·12 = 4,320 features
    /// the macro computes.
    pub struct SimpleConvNet(1, 28, 28) {
        Convolution(30, 5, 5) -> Relu -> Pooling(2, 2, stride = 2)
            -> Affine(_, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }

    /// Chapter 8's DeepConvNet: `Affine(_, 50)` takes the 64·4·4 = 1024 features the
    /// macro computes.
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
