// Doc comments and attributes reach the struct, and nothing generated trips the
// strictest lints of a library crate.
#![deny(warnings, missing_docs, unused, nonstandard_style, rust_2018_idioms)]
//! A crate that documents everything.

use backprop::prelude::*;

network! {
    /// A classifier with a documented struct.
    ///
    /// Second paragraph.
    #[doc(alias = "mlp")]
    #[allow(clippy::all)]
    pub struct Documented {
        Affine(3, 4) -> Relu -> Affine(4, 2) -> SoftmaxWithLoss
    }
}

fn main() {
    assert_eq!(<Documented as Network<f32>>::INPUT_WIDTH, 3);
}
