//! The network on the autograd tape: each layer's own tape expression, chained as the
//! layers are, for checking the generated backward by an independent route.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::Signatures;
use super::{layer_description, layer_type};
use crate::model::Network;

/// `tape` of the `Network` implementation.
pub fn trait_items(net: &Network, signatures: &Signatures) -> TokenStream {
    let steps = net.layers.iter().map(|layer| {
        let (field, ty, description) = (&layer.field, layer_type(layer), layer_description(layer));
        quote! {
            let h = <#ty as ::backprop::layers::Layer<T>>::tape(&self.#field, &h, &mut leaves)?;
            outputs.push((#description, h.clone()));
        }
    });
    let (loss_field, loss_ty) = (&net.loss.field, layer_type(&net.loss));
    let tape = signatures.tape();
    quote! {
        #tape {
            let mut leaves = ::std::vec::Vec::new();
            let mut outputs = ::std::vec::Vec::new();
            let h = ::backprop::__private::tape_input(x);
            #(#steps)*
            let loss = <#loss_ty as ::backprop::__private::Loss<T>>::tape(&self.#loss_field, &h, t)?;
            ::backprop::__private::tape_run(self, leaves, outputs, loss)
        }
    }
}
