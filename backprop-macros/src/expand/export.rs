//! `export`: each layer's own ONNX nodes, chained in declaration order, with the
//! book's names for their parameters.

use proc_macro2::TokenStream;
use quote::quote;

use super::{layer_trait, layer_type};
use crate::model::Network;

/// `export` of the `Network` implementation.
pub fn trait_items(net: &Network) -> TokenStream {
    let input_shape = net.input.axes();
    let layers = net.layers.iter().map(|layer| {
        let (field, ty, layer_trait) = (&layer.field, layer_type(layer), layer_trait(layer));
        let (name, parameters) = (
            field.to_string(),
            layer.parameters.iter().map(|tensor| tensor.name.as_str()),
        );
        quote! {
            graph.begin_layer(#name, &[#(#parameters),*]);
            let x = <#ty as #layer_trait>::export(&self.#field, &mut graph, x);
        }
    });
    let loss = {
        let (field, ty, layer_trait) = (
            &net.loss.field,
            layer_type(&net.loss),
            layer_trait(&net.loss),
        );
        let name = field.to_string();
        quote! {
            graph.begin_layer(#name, &[]);
            let x = <#ty as #layer_trait>::export(&self.#field, &mut graph, x, output);
        }
    };
    quote! {
        fn export(&self, output: ::backprop::export::Output) -> ::backprop::export::Graph<T> {
            let mut graph = ::backprop::export::Graph::new(&[#(#input_shape),*]);
            let x = graph.input();
            #(#layers)*
            #loss
            graph.finish(x, output);
            graph
        }
    }
}
