//! Inference on `&self`: each layer writes into its own scratch, which the caller owns.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, layer_type};
use crate::model::Network;

/// The scratch struct and the inherent inference methods.
pub fn expand(net: &Network, names: &Names) -> TokenStream {
    let Network { vis, ident, .. } = net;
    let scratch = &names.scratch;
    let fields = net.layers.iter().map(|layer| {
        let (field, ty) = (&layer.field, layer_type(layer));
        quote!(#field: <#ty as ::backprop::layers::Layer<T>>::Scratch)
    });
    let doc = format!(
        " What [`{ident}`]'s inference writes into, layer by layer: `Default::default()` makes an empty one, which grows on first use."
    );
    let input = net.input.width().generic_arg();
    let output = net.loss.output.width().generic_arg();
    let as_batch = quote!(impl ::backprop::AsBatch<T, #input>);
    let batch_out = quote!(::backprop::Batch<T, #output>);
    quote! {
        #[doc = #doc]
        #[derive(Debug, Default)]
        #vis struct #scratch<T: ::backprop::Float = f32> {
            #(#fields,)*
        }

        impl<T: ::backprop::Float> #ident<T> {
            /// The scores (before softmax) for every row of `x`. Needs only `&self`.
            pub fn predict(&self, x: &#as_batch) -> #batch_out {
                ::backprop::__private::predict(self, x.as_batch())
            }

            /// The scores for every row of `x` into `out`, reusing `scratch`: once both
            /// have grown to the batch size, this allocates nothing.
            pub fn predict_into(&self, x: &#as_batch, scratch: &mut #scratch<T>, out: &mut #batch_out) {
                ::backprop::__private::predict_into(self, x.as_batch(), scratch, out)
            }

            /// The class probabilities (softmax of the scores) for every row of `x`.
            pub fn probabilities(&self, x: &#as_batch) -> #batch_out {
                ::backprop::__private::probabilities(self.predict(x))
            }

            /// The mean loss over `x` against `t` (labels or one-hot rows).
            pub fn loss<'t>(
                &self,
                x: &#as_batch,
                t: impl ::core::convert::Into<::backprop::Targets<'t, T>>,
            ) -> ::backprop::Result<T> {
                let evaluation = ::backprop::__private::evaluate(self, x.as_batch(), &t.into())?;
                Ok(<T as ::backprop::Float>::from_f64(evaluation.loss))
            }

            /// The fraction of rows of `x` whose highest score is the target class.
            pub fn accuracy<'t>(
                &self,
                x: &#as_batch,
                t: impl ::core::convert::Into<::backprop::Targets<'t, T>>,
            ) -> ::backprop::Result<f64> {
                Ok(::backprop::__private::evaluate(self, x.as_batch(), &t.into())?.accuracy)
            }
        }
    }
}

/// `Scratch` and `infer` of the `Network` implementation.
pub fn trait_items(net: &Network, names: &Names) -> TokenStream {
    let scratch = &names.scratch;
    let steps = net.layers.iter().enumerate().map(|(i, layer)| {
        let (field, ty) = (&layer.field, layer_type(layer));
        let input = if i == 0 { quote!(x) } else { quote!(h) };
        quote!(let h = <#ty as ::backprop::layers::Layer<T>>::infer(&self.#field, #input, &mut scratch.#field);)
    });
    quote! {
        type Scratch = #scratch<T>;

        fn infer<'s>(
            &self,
            x: ::backprop::ndarray::ArrayView2<'_, T>,
            scratch: &'s mut #scratch<T>,
        ) -> ::backprop::ndarray::ArrayView2<'s, T> {
            #(#steps)*
            h
        }
    }
}
