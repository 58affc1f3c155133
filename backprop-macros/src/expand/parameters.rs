//! Parameters and state by the book's names: the visits generic code goes through, and
//! the gradients struct with its two sources, backprop and central differences.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Names;
use super::signatures::Signatures;
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
pub fn expand(net: &Network, names: &Names, signatures: &Signatures) -> TokenStream {
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
    let (tensors, gradients_method, numerical_gradient) = (
        signatures.named_gradients(),
        signatures.gradients(),
        signatures.numerical_gradient(),
    );
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case)]
        #[derive(Clone, Debug, PartialEq)]
        #vis struct #gradients<T> {
            #(#fields,)*
        }

        impl<T: ::backprop::Float> ::backprop::NamedTensors<T> for #gradients<T> {
            #tensors {
                ::std::vec![#(#named),*]
            }
        }

        impl<T: ::backprop::Float> #ident<T> {
            /// An owned copy of the gradients the last [`gradient`](Self::gradient) left in the layers.
            #gradients_method {
                #gradients { #(#copied,)* }
            }

            /// The gradients by central differences (`h = 1e-4`), parameter by
            /// parameter, as the book's `numerical_gradient`: slow, for checking. The
            /// loss is the training forward's, with any Dropout's mask drawn from a
            /// generator seeded with 0 in every pass (the same as a
            /// [`train_step`](::backprop::Network::train_step) given that generator
            /// draws), and the running statistics put back afterwards.
            #numerical_gradient {
                let numerical = ::backprop::__private::numerical_gradients(self, x.as_batch(), &t.into(), 0)?;
                let mut numerical = numerical.into_iter();
                Ok(#gradients { #(#numerical,)* })
            }
        }
    }
}

/// The parameter and state visits of the `Network` implementation.
pub fn trait_items(net: &Network, signatures: &Signatures) -> TokenStream {
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
    let (visit_parameters, visit_parameters_mut, visit_state, visit_state_mut) = (
        signatures.visit_parameters(),
        signatures.visit_parameters_mut(),
        signatures.visit_state(),
        signatures.visit_state_mut(),
    );
    quote! {
        #[allow(unused_variables)]
        #visit_parameters {
            #parameters
        }

        #[allow(unused_variables)]
        #visit_parameters_mut {
            #parameters_mut
        }

        #[allow(unused_variables)]
        #visit_state {
            #state
        }

        #[allow(unused_variables)]
        #visit_state_mut {
            #state_mut
        }
    }
}
