//! `summary()`: the layers, their output shapes and parameter counts.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::Signatures;
use super::{layer_description, layer_trait, layer_type};
use crate::model::Network;

pub fn expand(net: &Network, signatures: &Signatures) -> TokenStream {
    let ident = &net.ident;
    let name = ident.to_string();
    let input_shape = net.input.axes();
    let rows = net.layers.iter().chain([&net.loss]).map(|layer| {
        let field = layer.field.to_string();
        let description = layer_description(layer);
        let output_shape = layer.output.axes();
        let parameters = if layer.is_loss {
            quote!(0)
        } else {
            let (ty, layer_trait) = (layer_type(layer), layer_trait(layer));
            quote!(<#ty as #layer_trait>::PARAMETERS)
        };
        quote!(::backprop::__private::summary_row(#field, #description, &[#(#output_shape),*], #parameters))
    });
    let summary = signatures.summary_of_type();
    // On the type with its default float only, so that `Net::summary()` needs no
    // float named; `net.summary()` is `Network::summary`, for any float.
    quote! {
        impl #ident {
            /// The layers, their output shapes and parameter counts, printable as a
            /// table: the same for every float type.
            #summary {
                type T = f32;
                ::backprop::Summary {
                    name: #name,
                    input_shape: ::std::vec![#(#input_shape),*],
                    layers: ::std::vec![#(#rows),*],
                }
            }
        }
    }
}

/// `summary` of the `Network` implementation.
pub fn trait_items(net: &Network, signatures: &Signatures) -> TokenStream {
    let (ident, summary) = (&net.ident, signatures.summary());
    quote! {
        #summary {
            #ident::summary()
        }
    }
}
