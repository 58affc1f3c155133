use backprop::prelude::*;

network! {
    struct Net {}
}

fn main() {}
