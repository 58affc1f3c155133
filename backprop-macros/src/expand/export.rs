//! `export`: each layer's own ONNX nodes, chained in declaration order, with the
//! book's names for their parameters.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::Signatures;
use super::{layer_trait, layer_type};
use crate::model::Network;

/// `export` of the `Network` implementation.
pub fn trait_items(net: &Network, signatures: &Signatures) -> TokenStream {
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
    let export = signatures.export();
    quote! {
        #export {
            let mut graph = ::backprop::export::Graph::new(&[#(#input_shape),*]);
            let x = graph.input();
            #(#layers)*
            #loss
            graph.finish(x, output);
            graph
        }
    }
}
