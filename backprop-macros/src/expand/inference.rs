//! Inference on `&self`: each layer writes into its own scratch, which the caller owns.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::Signatures;
use super::{Names, layer_type};
use crate::model::Network;

/// The scratch struct and the inherent inference methods.
pub fn expand(net: &Network, names: &Names, signatures: &Signatures) -> TokenStream {
    let Network { vis, ident, .. } = net;
    let scratch = &names.scratch;
    let fields = net.layers.iter().map(|layer| {
        let (field, ty) = (&layer.field, layer_type(layer));
        quote!(#field: <#ty as ::backprop::layers::Layer<T>>::Scratch)
    });
    let doc = format!(
        " What [`{ident}`]'s inference writes into, layer by layer: `Default::default()` makes an empty one, which grows on first use."
    );
    let (predict, predict_into, probabilities, loss, accuracy) = (
        signatures.predict(),
        signatures.predict_into(),
        signatures.probabilities(),
        signatures.loss(),
        signatures.accuracy(),
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Default)]
        #vis struct #scratch<T: ::backprop::Float = f32> {
            #(#fields,)*
        }

        impl<T: ::backprop::Float> #ident<T> {
            /// The scores (before softmax) for every row of `x`. Needs only `&self`.
            #predict {
                ::backprop::__private::predict(self, x.as_batch())
            }

            /// The scores for every row of `x` into `out`, reusing `scratch`: once both
            /// have grown to the batch size, this allocates nothing.
            #predict_into {
                ::backprop::__private::predict_into(self, x.as_batch(), scratch, out)
            }

            /// The class probabilities (softmax of the scores) for every row of `x`.
            #probabilities {
                ::backprop::__private::probabilities(self.predict(x))
            }

            /// The mean loss over `x` against `t` (labels or one-hot rows).
            #loss {
                let evaluation = ::backprop::__private::evaluate(self, x.as_batch(), &t.into())?;
                Ok(<T as ::backprop::Float>::from_f64(evaluation.loss))
            }

            /// The fraction of rows of `x` whose highest score is the target class.
            #accuracy {
                Ok(::backprop::__private::evaluate(self, x.as_batch(), &t.into())?.accuracy)
            }
        }
    }
}

/// `Scratch` and `infer` of the `Network` implementation.
pub fn trait_items(net: &Network, names: &Names, signatures: &Signatures) -> TokenStream {
    let scratch = &names.scratch;
    let steps = net.layers.iter().enumerate().map(|(i, layer)| {
        let (field, ty) = (&layer.field, layer_type(layer));
        let input = if i == 0 { quote!(x) } else { quote!(h) };
        quote!(let h = <#ty as ::backprop::layers::Layer<T>>::infer(&self.#field, #input, &mut scratch.#field);)
    });
    let infer = signatures.infer();
    quote! {
        type Scratch = #scratch<T>;

        #infer {
            #(#steps)*
            h
        }
    }
}
