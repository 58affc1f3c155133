use backprop::prelude::*;

const SIDE: usize = 27;
const FILTERS: usize = 8;

network! {
    struct Net(1, SIDE, SIDE) {
        Convolution(FILTERS, 4, 4, stride = 2, pad = 1) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }

    struct TooLarge(1, SIDE, SIDE) {
        Convolution(FILTERS, 31, 3) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

fn main() {}
