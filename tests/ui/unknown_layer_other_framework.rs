use backprop::prelude::*;

network! {
    struct Net(1, 28, 28) {
        Conv2d(30, 5, 5) -> ReLU -> MaxPool2d(2, 2, stride = 2) -> Flatten
            -> Linear(_, 10) -> CrossEntropyLoss
    }
}

fn main() {}
