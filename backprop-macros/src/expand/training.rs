//! The training step: forward through every layer, the loss, then backward in reverse,
//! written out layer by layer.

use proc_macro2::TokenStream;
use quote::quote;

use super::layer_type;
use super::signatures::Signatures;
use crate::model::Network;

/// The inherent `gradient`, `gradient_with` and `input_gradient`.
pub fn expand(net: &Network, signatures: &Signatures) -> TokenStream {
    let ident = &net.ident;
    let (gradient, gradient_with, input_gradient) = (
        signatures.gradient(),
        signatures.gradient_with(),
        signatures.input_gradient(),
    );
    let forward = forward(net);
    let backward = backward(net, Stop::AtTheInput);
    let check_step = check_step();
    quote! {
        impl<T: ::backprop::Float> #ident<T> {
            /// One forward pass in training mode, then backward layer by layer in
            /// reverse: leaves the gradients in the layers (`dW`, `db`) and returns the
            /// loss. Layers that draw (Dropout) draw from the thread's generator; for a
            /// reproducible run, give a seeded one to
            /// [`Network::train_step`](::backprop::Network::train_step).
            #gradient {
                let x = x.as_batch();
                let t = t.into();
                ::backprop::__private::with_thread_rng(|context| {
                    ::backprop::Network::train_step(self, x.as_array(), &t, context)
                })
            }

            /// [`gradient`](Self::gradient) with your random source for the layers that
            /// draw (Dropout: a seeded generator of its own makes a run reproducible)
            /// and the book's weight decay λ, `0.5·λ·ΣW²` added to the loss and `λ·W` to
            /// the weights' gradients (not biases, γ or β); 0 for none.
            #gradient_with {
                let x = x.as_batch();
                ::backprop::Network::train_step_with_weight_decay(
                    self,
                    x.as_array(),
                    &t.into(),
                    context,
                    weight_decay,
                )
            }

            /// Like [`gradient`](Self::gradient), and also the gradient of the loss with
            /// respect to the input (e.g. for saliency maps), which training skips.
            #input_gradient {
                let x = x.as_batch();
                let x = x.as_array();
                let t = &t.into();
                #check_step
                ::backprop::__private::with_thread_rng(|context| {
                    #forward
                    let _ = loss;
                    #backward
                    ::backprop::__private::input_gradient(d)
                })
            }
        }
    }
}

/// `train_step`, `train_step_with_weight_decay`, `train_loss` and `total_loss` of the
/// `Network` implementation.
pub fn trait_items(net: &Network, signatures: &Signatures) -> TokenStream {
    let forward = forward(net);
    let backward = backward(net, Stop::AtTheFirstParameters);
    let check_step = check_step();
    let loss_ty = layer_type(&net.loss);
    let (train_step, train_step_with_weight_decay, train_loss, total_loss) = (
        signatures.train_step(),
        signatures.train_step_with_weight_decay(),
        signatures.train_loss(),
        signatures.total_loss(),
    );
    quote! {
        #train_step {
            #check_step
            #forward
            #backward
            Ok(loss)
        }

        #train_step_with_weight_decay {
            ::backprop::__private::weight_decayed_step(self, x, t, context, weight_decay)
        }

        #train_loss {
            #check_step
            #forward
            Ok(loss)
        }

        #total_loss {
            <#loss_ty as ::backprop::__private::Loss<T>>::total_loss(scores, t, offset)
        }
    }
}

/// Every layer's training forward, then the loss: leaves `loss` (a `Result`'s value).
fn forward(net: &Network) -> TokenStream {
    let steps = net.layers.iter().enumerate().map(|(i, layer)| {
        let (field, ty) = (&layer.field, layer_type(layer));
        let input = if i == 0 { quote!(x) } else { quote!(h) };
        quote!(let h = <#ty as ::backprop::layers::Layer<T>>::forward(&mut self.#field, #input, context);)
    });
    let (field, ty) = (&net.loss.field, layer_type(&net.loss));
    quote! {
        #(#steps)*
        let loss = <#ty as ::backprop::__private::Loss<T>>::forward(&mut self.#field, h, t)?;
    }
}

enum Stop {
    /// Training: nothing reads the gradient of the input of the first layer with
    /// parameters, so it is never computed, nor anything before it.
    AtTheFirstParameters,
    /// Down to the gradient of the network's input, left in `d`.
    AtTheInput,
}

fn backward(net: &Network, stop: Stop) -> TokenStream {
    let layers = &net.layers;
    let first = match stop {
        Stop::AtTheInput => Some(0),
        Stop::AtTheFirstParameters => layers.iter().position(|l| l.has_parameters()),
    };
    let Some(first) = first else {
        return quote!();
    };
    let steps = (first..layers.len()).rev().map(|i| {
        let (field, ty) = (&layers[i].field, layer_type(&layers[i]));
        let input = if i == 0 {
            quote!(x)
        } else {
            let (previous, previous_ty) = (&layers[i - 1].field, layer_type(&layers[i - 1]));
            quote!(<#previous_ty as ::backprop::layers::Layer<T>>::output(&self.#previous))
        };
        let layer = quote!(<#ty as ::backprop::layers::Layer<T>>);
        match stop {
            Stop::AtTheFirstParameters if i == first => {
                quote!(#layer::backward_parameters(&mut self.#field, #input, d);)
            }
            _ => quote!(let d = #layer::backward(&mut self.#field, #input, d);),
        }
    });
    let (loss_field, loss_ty) = (&net.loss.field, layer_type(&net.loss));
    quote! {
        let d = <#loss_ty as ::backprop::__private::Loss<T>>::backward(&mut self.#loss_field);
        #(#steps)*
    }
}

/// Refuses `x` and `t` whose widths or row counts do not fit the network, before any
/// layer sees them.
fn check_step() -> TokenStream {
    quote! {
        ::backprop::__private::check_step(
            x,
            t,
            <Self as ::backprop::Network<T>>::INPUT_WIDTH,
            <Self as ::backprop::Network<T>>::OUTPUT_WIDTH,
        )?;
    }
}
