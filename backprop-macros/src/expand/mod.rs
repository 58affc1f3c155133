//! Code generation: the struct, its gradients and scratch structs, and the same
//! straight-line calls for every layer, one module per concern.

mod conditions;
mod export;
mod fallback;
mod inference;
mod parameters;
mod signatures;
mod structure;
mod summary;
mod tape;
mod training;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::model::{Layer, Network};
use signatures::Signatures;

pub use fallback::fallback;

pub fn expand(net: &Network) -> TokenStream {
    let names = Names::of(&net.ident);
    let (input, output) = (net.input.width(), net.loss.output.width());
    let signatures = &Signatures::new(&names, Some(&input), Some(&output));
    let items = [
        structure::expand(net, signatures),
        inference::expand(net, &names, signatures),
        parameters::expand(net, &names, signatures),
        training::expand(net, signatures),
        summary::expand(net, signatures),
        conditions::expand(&net.deferred),
    ];
    let trait_items = [
        inference::trait_items(net, &names, signatures),
        training::trait_items(net, signatures),
        parameters::trait_items(net, signatures),
        tape::trait_items(net, signatures),
        export::trait_items(net, signatures),
        summary::trait_items(net, signatures),
    ];
    let ident = &net.ident;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::check::{Checked, check};

    /// Every method the tokens implement: the type, the trait (empty for inherent
    /// methods) and the method's name.
    fn methods(tokens: TokenStream) -> BTreeSet<(String, String, String)> {
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        let mut methods = BTreeSet::new();
        for item in file.items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let self_ty = block.self_ty.as_ref();
            let ty = quote!(#self_ty).to_string();
            let trait_name = block
                .trait_
                .as_ref()
                .map(|(path, _)| quote!(#path).to_string());
            for item in block.items {
                if let syn::ImplItem::Fn(method) = item {
                    let name = method.sig.ident.to_string();
                    methods.insert((ty.clone(), trait_name.clone().unwrap_or_default(), name));
                }
            }
        }
        methods
    }

    fn checked(declaration: TokenStream) -> Checked {
        let input: crate::ast::Input = syn::parse2(declaration).expect("the declaration parses");
        let declaration = input.networks.into_iter().next().expect("one network");
        check(declaration)
    }

    #[test]
    fn the_fallback_has_every_method_of_the_expansion() {
        let valid =
            quote!(struct Net { Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss });
        let Checked::Valid(net) = checked(valid) else {
            panic!("the valid declaration is refused")
        };
        let mistaken =
            quote!(struct Net { Affine(784, 50) -> Relu -> Affine(40, 10) -> SoftmaxWithLoss });
        let Checked::Invalid(_, partial) = checked(mistaken) else {
            panic!("the mistake is not found")
        };
        let (expanded, fallback) = (
            methods(super::expand(&net)),
            methods(super::fallback(&partial)),
        );
        assert!(expanded.len() > 25, "{expanded:?}");
        assert_eq!(expanded, fallback);
    }
}
