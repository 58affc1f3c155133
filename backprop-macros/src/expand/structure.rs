//! The struct with one field per layer, and its constructors.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::Signatures;
use super::{layer_config, layer_type};
use crate::model::Network;

pub fn expand(net: &Network, signatures: &Signatures) -> TokenStream {
    let Network {
        attrs, vis, ident, ..
    } = net;
    let all_layers: Vec<_> = net.layers.iter().chain([&net.loss]).collect();
    let fields = all_layers.iter().enumerate().map(|(i, layer)| {
        let doc = format!(" Layer {}: `{}`.", i + 1, layer.written);
        let (field, ty) = (&layer.field, layer_type(layer));
        quote!(#[doc = #doc] pub #field: #ty)
    });
    let constructors = net.layers.iter().map(|layer| {
        let (field, ty, config) = (&layer.field, layer_type(layer), layer_config(layer));
        let fan_in = &layer.fan_in;
        quote! {
            #field: <#ty as ::backprop::layers::Layer<T>>::new(
                #config,
                &mut ::backprop::__private::Init { weights: init, fan_in: #fan_in, rng: &mut *rng },
            )
        }
    });
    let loss = {
        let (field, ty, config) = (
            &net.loss.field,
            layer_type(&net.loss),
            layer_config(&net.loss),
        );
        quote!(#field: <#ty as ::backprop::__private::Loss<T>>::new(#config))
    };
    let (new, with_weight_init_std, from_model_file, with_weight_init) = (
        signatures.new_network(),
        signatures.with_weight_init_std(),
        signatures.model_file_constructor(),
        signatures.with_weight_init(),
    );
    quote! {
        #(#attrs)*
        #[derive(Clone, Debug)]
        #vis struct #ident<T: ::backprop::Float = f32> {
            #(#fields,)*
        }

        impl<T: ::backprop::Float> #ident<T> {
            /// A network with the book's initialisation: weights `0.01 · N(0, 1)`, biases
            /// zero (a layer's own `init = …` argument takes precedence).
            #new {
                Self::with_weight_init(::backprop::WeightInit::default(), rng)
            }

            /// A network with weights `weight_init_std · N(0, 1)` and biases zero.
            #with_weight_init_std {
                Self::with_weight_init(::backprop::WeightInit::Std(weight_init_std), rng)
            }

            /// The network saved in the model file at `path`
            /// ([`model_file::save`](::backprop::model_file::save)), with no random
            /// source needed: every parameter and state tensor comes from the file,
            /// checked before use.
            #from_model_file {
                let mut network = Self::new(&mut ::backprop::__private::placeholder_rng());
                ::backprop::model_file::load(&mut network, path)?;
                Ok(network)
            }

            /// A network whose weights are drawn as `init` says, layer by layer, in
            /// declaration order; biases zero.
            #with_weight_init {
                let mut rng = rng;
                let rng: &mut dyn ::backprop::rand::Rng = &mut rng;
                Self { #(#constructors,)* #loss }
            }
        }
    }
}
