//! Code generation: the struct, its gradients and scratch structs, and the same
//! straight-line calls for every layer, one module per concern.

mod conditions;
mod export;
mod fallback;
mod inference;
mod parameters;
mod structure;
mod summary;
mod tape;
mod training;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::model::{Layer, Network};

pub use fallback::fallback;

pub fn expand(net: &Network) -> TokenStream {
    let names = Names::of(&net.ident);
    let items = [
        structure::expand(net),
        inference::expand(net, &names),
        parameters::expand(net, &names),
        training::expand(net),
        summary::expand(net),
        conditions::expand(&net.deferred),
    ];
    let trait_items = [
        inference::trait_items(net, &names),
        training::trait_items(net),
        parameters::trait_items(net),
        tape::trait_items(net),
        export::trait_items(net),
        summary::trait_items(net),
    ];
    let ident = &net.ident;
    let (input, output) = (net.input.width(), net.loss.output.width());
    let widths = net.layers.iter().map(|layer| layer.output.width());
    let parameter_count = net.layers.iter().map(|layer| {
        let ty = layer_type(layer);
        quote!(+ <#ty as ::backprop::layers::Layer<T>>::PARAMETERS)
    });
    quote! {
        #(#items)*

        impl<T: ::backprop::Float> ::backprop::Network<T> for #ident<T> {
            const INPUT_WIDTH: usize = #input;
            const OUTPUT_WIDTH: usize = #output;
            const PARAMETER_COUNT: usize = 0 #(#parameter_count)*;
            const WIDEST_ROW: usize = ::backprop::__private::widest(&[#input #(, #widths)*]);
            #(#trait_items)*
        }
    }
}

/// The names of the items generated beside the network.
pub struct Names {
    pub gradients: Ident,
    pub scratch: Ident,
}

impl Names {
    fn of(ident: &Ident) -> Names {
        Names {
            gradients: format_ident!("{}Gradients", ident),
            scratch: format_ident!("{}Scratch", ident),
        }
    }
}

/// The runtime type of a layer: `::backprop::layers::Affine<T, 784, 50>`.
fn layer_type(layer: &Layer) -> TokenStream {
    let ty = format_ident!("{}", layer.runtime_type);
    let generics = layer.generics.iter().map(|dim| dim.generic_arg());
    quote!(::backprop::layers::#ty<T, #(#generics),*>)
}

/// The layer's configuration as a runtime value.
fn layer_config(layer: &Layer) -> TokenStream {
    layer.config.clone()
}

/// `Layer` for a layer in the chain, `Loss` for the last.
fn layer_trait(layer: &Layer) -> TokenStream {
    if layer.is_loss {
        quote!(::backprop::__private::Loss<T>)
    } else {
        quote!(::backprop::layers::Layer<T>)
    }
}

/// What the layer's runtime type says it is, `Affine(784, 50)`, as an expression.
fn layer_description(layer: &Layer) -> TokenStream {
    let (ty, config, layer_trait) = (layer_type(layer), layer_config(layer), layer_trait(layer));
    quote!(<#ty as #layer_trait>::describe(&#config))
}
