//! Parameters and state by the book's names: the visits generic code goes through, and
//! the gradients struct with its two sources, backprop and central differences.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Names;
use crate::model::{Layer, Network};

/// Each parameter with its layer, its index in that layer and its rank.
fn parameters(net: &Network) -> Vec<(&Layer, usize, syn::Ident, usize)> {
    net.layers
        .iter()
        .flat_map(|layer| {
            layer
                .parameters
                .iter()
                .enumerate()
                .map(move |(i, tensor)| (layer, i, format_ident!("{}", tensor.name), tensor.rank))
        })
        .collect()
}

/// The gradients struct, and the inherent `gradients` and `numerical_gradient`.
pub fn expand(net: &Network, names: &Names) -> TokenStream {
    let Network { vis, ident, .. } = net;
    let gradients = &names.gradients;
    let parameters = parameters(net);
    let fields = parameters.iter().map(|(layer, _, name, rank)| {
        let doc = format!(" Gradient of `{name}`, of `{}`.", layer.field);
        let dim = format_ident!("Ix{}", rank);
        quote!(#[doc = #doc] pub #name: ::backprop::ndarray::Array<T, ::backprop::ndarray::#dim>)
    });
    let named = parameters.iter().map(|(_, _, name, _)| {
        let text = name.to_string();
        quote!((#text, self.#name.view().into_dyn()))
    });
    let copied = parameters.iter().map(|(layer, index, name, _)| {
        let field = &layer.field;
        quote!(#name: ::backprop::__private::gradient(&self.#field, #index))
    });
    let numerical = parameters
        .iter()
        .map(|(_, _, name, _)| quote!(#name: ::backprop::__private::next_gradient(&mut numerical)));
    let doc = format!(" The gradients of [`{ident}`]'s parameters, by the book's names.");
    let input = net.input.width().generic_arg();
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case)]
        #[derive(Clone, Debug, PartialEq)]
        #vis struct #gradients<T> {
            #(#fields,)*
        }

        impl<T: ::backprop::Float> ::backprop::NamedTensors<T> for #gradients<T> {
            fn tensors(&self) -> ::std::vec::Vec<(&'static str, ::backprop::ndarray::ArrayViewD<'_, T>)> {
                ::std::vec![#(#named),*]
            }
        }

        impl<T: ::backprop::Float> #ident<T> {
            /// An owned copy of the gradients the last [`gradient`](Self::gradient) left in the layers.
            pub fn gradients(&self) -> #gradients<T> {
                #gradients { #(#copied,)* }
            }

            /// The gradients by central differences (`h = 1e-4`), parameter by
            /// parameter, as the book's `numerical_gradient`: slow, for checking. The
            /// loss is the training forward's, with any Dropout's mask drawn from a
            /// generator seeded with 0 in every pass (the same as a
            /// [`train_step`](::backprop::Network::train_step) given that generator
            /// draws), and the running statistics put back afterwards.
            pub fn numerical_gradient<'t>(
                &mut self,
                x: &impl ::backprop::AsBatch<T, #input>,
                t: impl ::core::convert::Into<::backprop::Targets<'t, T>>,
            ) -> ::backprop::Result<#gradients<T>> {
                let numerical = ::backprop::__private::numerical_gradients(self, x.as_batch(), &t.into(), 0)?;
                let mut numerical = numerical.into_iter();
                Ok(#gradients { #(#numerical,)* })
            }
        }
    }
}

/// The parameter and state visits of the `Network` implementation.
pub fn trait_items(net: &Network) -> TokenStream {
    let visits = |tensors: fn(&Layer) -> Vec<&str>, visit: TokenStream, mutable: bool| {
        let calls = net
            .layers
            .iter()
            .filter(|l| !tensors(l).is_empty())
            .map(|layer| {
                let (field, names) = (&layer.field, tensors(layer));
                let layer = if mutable {
                    quote!(&mut self.#field)
                } else {
                    quote!(&self.#field)
                };
                quote!(::backprop::__private::#visit(#layer, &[#(#names),*], visit);)
            });
        quote!(#(#calls)*)
    };
    fn parameters(layer: &Layer) -> Vec<&str> {
        layer.parameters.iter().map(|t| t.name.as_str()).collect()
    }
    fn state(layer: &Layer) -> Vec<&str> {
        layer.state.iter().map(String::as_str).collect()
    }
    let (parameters_mut, state_mut) = (
        visits(parameters, quote!(visit_parameters_mut), true),
        visits(state, quote!(visit_state_mut), true),
    );
    let (parameters, state) = (
        visits(parameters, quote!(visit_parameters), false),
        visits(state, quote!(visit_state), false),
    );
    quote! {
        #[allow(unused_variables)]
        fn visit_parameters(&self, visit: &mut dyn FnMut(::backprop::Parameter<'_, T>)) {
            #parameters
        }

        #[allow(unused_variables)]
        fn visit_parameters_mut(&mut self, visit: &mut ::backprop::network::ParameterVisitor<'_, T>) {
            #parameters_mut
        }

        #[allow(unused_variables)]
        fn visit_state(&self, visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewD<'_, T>)) {
            #state
        }

        #[allow(unused_variables)]
        fn visit_state_mut(&mut self, visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewMutD<'_, T>)) {
            #state_mut
        }
    }
}
