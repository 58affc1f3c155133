//! Code generation: the struct, its gradients struct, and straight-line methods.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::model::{Kind, Layer, Network, Width};

pub fn expand(net: &Network) -> TokenStream {
    let krate = quote!(::backprop);
    let Network {
        attrs,
        vis,
        ident,
        layers,
        loss,
        deferred,
    } = net;
    let name = ident.to_string();
    let gradients = format_ident!("{}Gradients", ident);
    let input_width = &layers[0].input;
    let output_width = &loss.output;
    let (input_arg, output_arg) = (input_width.generic_arg(), output_width.generic_arg());
    let all_layers: Vec<&Layer> = layers.iter().chain([loss]).collect();
    let affines: Vec<Affine> = layers.iter().filter_map(Affine::of).collect();

    let fields = all_layers.iter().enumerate().map(|(i, layer)| {
        let doc = format!(" Layer {}: `{}`.", i + 1, describe(layer));
        let field = &layer.field;
        let ty = layer_type(layer);
        quote!(#[doc = #doc] pub #field: #ty)
    });
    let constructors = all_layers.iter().map(|layer| {
        let field = &layer.field;
        let ty = layer_type(layer);
        match layer.kind {
            Kind::Affine { .. } => {
                let fan_in = &layer.input;
                quote!(#field: <#ty>::new(<T as #krate::Float>::from_f64(init.std(#fan_in)), rng))
            }
            _ => quote!(#field: <#ty>::new()),
        }
    });

    // Inference alternates between two scratch buffers; the layers stay untouched.
    let inference_steps = layers.iter().enumerate().map(|(i, layer)| {
        let field = &layer.field;
        let buffer = if i % 2 == 0 {
            quote!(front)
        } else {
            quote!(back)
        };
        let input = if i == 0 { quote!(x) } else { quote!(scores) };
        quote!(let scores = self.#field.infer(#input, #buffer);)
    });

    let training_forward = {
        let steps = layers.iter().enumerate().map(|(i, layer)| {
            let field = &layer.field;
            let input = if i == 0 { quote!(x) } else { quote!(h) };
            quote!(let h = self.#field.forward(#input);)
        });
        let loss_field = &loss.field;
        quote! {
            #(#steps)*
            let loss = self.#loss_field.forward(h, &t)?;
        }
    };
    let input_of = |i: usize| -> TokenStream {
        if i == 0 {
            quote!(x)
        } else {
            let previous = &layers[i - 1].field;
            quote!(self.#previous.output())
        }
    };
    let loss_field = &loss.field;
    // Training stops the backward pass at the first Affine: nothing reads the gradient
    // of the input, so it is never computed.
    let training_backward = match layers
        .iter()
        .position(|l| matches!(l.kind, Kind::Affine { .. }))
    {
        None => quote!(),
        Some(first) => {
            let steps = (first..layers.len()).rev().map(|i| {
                let field = &layers[i].field;
                let input = input_of(i);
                match layers[i].kind {
                    Kind::Affine { .. } if i == first => {
                        quote!(self.#field.backward_parameters(#input, d);)
                    }
                    Kind::Affine { .. } => quote!(let d = self.#field.backward(#input, d);),
                    _ => quote!(let d = self.#field.backward(d);),
                }
            });
            quote! {
                let d = self.#loss_field.backward();
                #(#steps)*
            }
        }
    };
    let full_backward = {
        let steps = (0..layers.len()).rev().map(|i| {
            let field = &layers[i].field;
            let input = input_of(i);
            match layers[i].kind {
                Kind::Affine { .. } => quote!(let d = self.#field.backward(#input, d);),
                _ => quote!(let d = self.#field.backward(d);),
            }
        });
        quote! {
            let d = self.#loss_field.backward();
            #(#steps)*
        }
    };

    let gradient_fields = affines.iter().map(|a| {
        let (w, b, field) = (&a.weight, &a.bias, a.field);
        let (w_doc, b_doc) = (
            format!(" Gradient of `{w}`, the weights of `{field}`."),
            format!(" Gradient of `{b}`, the bias of `{field}`."),
        );
        quote! {
            #[doc = #w_doc] pub #w: #krate::ndarray::Array2<T>,
            #[doc = #b_doc] pub #b: #krate::ndarray::Array1<T>
        }
    });
    let named_gradients = affines.iter().map(|a| {
        let (w, b) = (&a.weight, &a.bias);
        let (w_name, b_name) = (w.to_string(), b.to_string());
        quote! {
            (#w_name, self.#w.view().into_dyn()),
            (#b_name, self.#b.view().into_dyn())
        }
    });
    let copied_gradients = affines.iter().map(|a| {
        let (w, b, field) = (&a.weight, &a.bias, a.field);
        quote!(#w: self.#field.dW.clone(), #b: self.#field.db.clone())
    });
    let numerical_gradients = affines.iter().map(|a| {
        let (w, b, field) = (&a.weight, &a.bias, a.field);
        quote! {
            #w: #krate::gradient_check::numerical_gradient(self, |n| &mut n.#field.W, &loss),
            #b: #krate::gradient_check::numerical_gradient(self, |n| &mut n.#field.b, &loss)
        }
    });
    let visits = affines.iter().map(|a| {
        let (w, b, field) = (a.weight.to_string(), a.bias.to_string(), a.field);
        quote! {
            visit(#w, self.#field.W.view().into_dyn());
            visit(#b, self.#field.b.view().into_dyn());
        }
    });
    let visits_mut = affines.iter().map(|a| {
        let (w, b, field) = (a.weight.to_string(), a.bias.to_string(), a.field);
        quote! {
            visit(#w, self.#field.W.view_mut().into_dyn(), self.#field.dW.view().into_dyn());
            visit(#b, self.#field.b.view_mut().into_dyn(), self.#field.db.view().into_dyn());
        }
    });
    let parameter_count = affines.iter().map(|a| {
        let (i, o) = (a.input, a.output);
        quote!(+ #i * #o + #o)
    });
    let summary_rows = all_layers.iter().map(|layer| {
        let field = layer.field.to_string();
        let output = &layer.output;
        let (description, parameters) = match layer.kind {
            Kind::Affine { .. } => {
                let input = &layer.input;
                (
                    quote!(format!("Affine({}, {})", #input, #output)),
                    quote!(#input * #output + #output),
                )
            }
            kind => {
                let text = format!("{}({{}})", kind.name());
                (quote!(format!(#text, #output)), quote!(0))
            }
        };
        quote! {
            #krate::LayerSummary {
                field: #field,
                layer: #description,
                output_width: #output,
                parameters: #parameters,
            }
        }
    });
    // Each check is a trait implemented only when the two widths are equal; its
    // `on_unimplemented` message is the one the macro gives for two numbers, with the
    // compiler filling in the values of the constants.
    let width_checks = deferred.iter().map(|check| {
        let span = check.span;
        let (flowing, declared) = (check.flowing.value_at(span), check.declared.value_at(span));
        let (message, label) = (&check.message, &check.label);
        // The constants are read in value position first: a misspelt one is then
        // reported once, like its other uses, not again as a missing const parameter.
        quote_spanned! {span=>
            const _: () = {
                const FLOWING: usize = #flowing;
                const DECLARED: usize = #declared;
                #[diagnostic::on_unimplemented(message = #message, label = #label)]
                trait WidthsAgree<const FLOWING: usize, const DECLARED: usize> {
                    const CHECKED: ();
                }
                impl<const N: usize> WidthsAgree<N, N> for () {
                    const CHECKED: () = ();
                }
                <() as WidthsAgree<{ FLOWING }, { DECLARED }>>::CHECKED
            };
        }
    });

    let gradients_doc = format!(" The gradients of [`{name}`]'s parameters, by the book's names.");
    let batch_in = quote!(#krate::Batch<T, #input_arg>);
    let batch_out = quote!(#krate::Batch<T, #output_arg>);
    let as_batch_in = quote!(impl #krate::AsBatch<T, #input_arg>);
    let targets = quote!(impl ::core::convert::Into<#krate::Targets<'t, T>>);
    let result = quote!(#krate::Result);

    quote! {
        #(#attrs)*
        #[derive(Clone, Debug)]
        #vis struct #ident<T: #krate::Float = f32> {
            #(#fields,)*
        }

        #[doc = #gradients_doc]
        #[allow(non_snake_case)]
        #[derive(Clone, Debug, PartialEq)]
        #vis struct #gradients<T> {
            #(#gradient_fields,)*
        }

        #(#width_checks)*

        impl<T: #krate::Float> #krate::NamedTensors<T> for #gradients<T> {
            fn tensors(&self) -> ::std::vec::Vec<(&'static str, #krate::ndarray::ArrayViewD<'_, T>)> {
                ::std::vec![#(#named_gradients),*]
            }
        }

        impl<T: #krate::Float> #ident<T> {
            /// A network with the book's initialisation: weights `0.01 · N(0, 1)`, biases zero.
            pub fn new<R: #krate::rand::Rng + ?Sized>(rng: &mut R) -> Self {
                Self::with_weight_init(#krate::WeightInit::default(), rng)
            }

            /// A network with weights `weight_init_std · N(0, 1)` and biases zero.
            pub fn with_weight_init_std<R: #krate::rand::Rng + ?Sized>(weight_init_std: f64, rng: &mut R) -> Self {
                Self::with_weight_init(#krate::WeightInit::Std(weight_init_std), rng)
            }

            /// A network whose weights are drawn as `init` says, layer by layer; biases zero.
            pub fn with_weight_init<R: #krate::rand::Rng + ?Sized>(init: #krate::WeightInit, rng: &mut R) -> Self {
                Self { #(#constructors,)* }
            }

            /// The scores (before softmax) for every row of `x`. Needs only `&self`.
            pub fn predict(&self, x: &#as_batch_in) -> #batch_out {
                #krate::network::predict(self, x.as_batch())
            }

            /// The scores for every row of `x` into `out`, reusing `buffers`: once both
            /// have grown to the batch size, this allocates nothing.
            pub fn predict_into(
                &self,
                x: &#as_batch_in,
                buffers: &mut #krate::InferenceBuffers<T>,
                out: &mut #batch_out,
            ) {
                #krate::network::predict_into(self, x.as_batch(), buffers, out)
            }

            /// The class probabilities (softmax of the scores) for every row of `x`.
            pub fn probabilities(&self, x: &#as_batch_in) -> #batch_out {
                #krate::network::probabilities(self.predict(x))
            }

            /// The mean cross-entropy loss over `x` against `t` (labels or one-hot rows).
            pub fn loss<'t>(&self, x: &#as_batch_in, t: #targets) -> #result<T> {
                #krate::network::loss(self, x.as_batch(), &t.into())
            }

            /// The fraction of rows of `x` whose highest score is the target class.
            pub fn accuracy<'t>(&self, x: &#as_batch_in, t: #targets) -> #result<f64> {
                #krate::network::accuracy(self, x.as_batch(), &t.into())
            }

            /// One forward pass, then backward layer by layer in reverse: leaves the
            /// gradients in the layers (`dW`, `db`) and returns the loss.
            pub fn gradient<'t>(&mut self, x: &#as_batch_in, t: #targets) -> #result<T> {
                let x = x.as_batch();
                let x = x.as_array();
                let t = t.into();
                t.validate(x.nrows(), #output_width)?;
                #training_forward
                #training_backward
                Ok(loss)
            }

            /// Like [`gradient`](Self::gradient), and also the gradient of the loss with
            /// respect to the input (e.g. for saliency maps), which training skips.
            pub fn input_gradient<'t>(&mut self, x: &#as_batch_in, t: #targets) -> #result<#batch_in> {
                let x = x.as_batch();
                let x = x.as_array();
                let t = t.into();
                t.validate(x.nrows(), #output_width)?;
                #training_forward
                let _ = loss;
                #full_backward
                #krate::Batch::from_array(d.to_owned())
            }

            /// An owned copy of the gradients the last [`gradient`](Self::gradient) left in the layers.
            pub fn gradients(&self) -> #gradients<T> {
                #gradients { #(#copied_gradients,)* }
            }

            /// The gradients by central differences (`h = 1e-4`), parameter by
            /// parameter, as the book's `numerical_gradient`: slow, for checking.
            pub fn numerical_gradient<'t>(&mut self, x: &#as_batch_in, t: #targets) -> #result<#gradients<T>> {
                let x = x.as_batch();
                let t = t.into();
                t.validate(x.rows(), #output_width)?;
                let loss = |network: &Self| #krate::network::mean_loss(network, x, &t);
                Ok(#gradients { #(#numerical_gradients,)* })
            }

            /// The layers, their output widths and parameter counts, printable as a table.
            pub fn summary() -> #krate::Summary {
                #krate::Summary {
                    name: #name,
                    input_width: #input_width,
                    layers: ::std::vec![#(#summary_rows),*],
                }
            }
        }

        impl<T: #krate::Float> #krate::Network<T> for #ident<T> {
            const INPUT_WIDTH: usize = #input_width;
            const OUTPUT_WIDTH: usize = #output_width;
            const PARAMETER_COUNT: usize = 0 #(#parameter_count)*;

            #[allow(unused_variables)]
            fn visit_parameters(&self, visit: &mut dyn FnMut(&'static str, #krate::ndarray::ArrayViewD<'_, T>)) {
                #(#visits)*
            }

            #[allow(unused_variables)]
            fn visit_parameters_mut(&mut self, visit: &mut #krate::network::ParameterVisitor<'_, T>) {
                #(#visits_mut)*
            }

            #[allow(unused_variables)]
            fn infer<'b>(
                &self,
                x: #krate::ndarray::ArrayView2<'_, T>,
                buffers: &'b mut #krate::InferenceBuffers<T>,
            ) -> #krate::ndarray::ArrayView2<'b, T> {
                let (front, back) = buffers.pair();
                #(#inference_steps)*
                scores
            }
        }
    }
}

/// An Affine layer with the names of its parameters.
struct Affine<'a> {
    field: &'a syn::Ident,
    weight: syn::Ident,
    bias: syn::Ident,
    input: &'a Width,
    output: &'a Width,
}

impl<'a> Affine<'a> {
    fn of(layer: &'a Layer) -> Option<Self> {
        match layer.kind {
            Kind::Affine { ordinal } => Some(Affine {
                field: &layer.field,
                weight: format_ident!("W{}", ordinal),
                bias: format_ident!("b{}", ordinal),
                input: &layer.input,
                output: &layer.output,
            }),
            _ => None,
        }
    }
}

fn layer_type(layer: &Layer) -> TokenStream {
    let (input, output) = (layer.input.generic_arg(), layer.output.generic_arg());
    match layer.kind {
        Kind::Affine { .. } => quote!(::backprop::layers::Affine<T, #input, #output>),
        Kind::Relu => quote!(::backprop::layers::Relu<T, #output>),
        Kind::Sigmoid => quote!(::backprop::layers::Sigmoid<T, #output>),
        Kind::SoftmaxWithLoss => quote!(::backprop::layers::SoftmaxWithLoss<T, #output>),
    }
}

fn describe(layer: &Layer) -> String {
    match layer.kind {
        Kind::Affine { .. } => format!("Affine({}, {})", layer.input, layer.output),
        kind => format!("{}({})", kind.name(), layer.output),
    }
}
