//! What a declaration with mistakes still expands to, beside the errors: the struct
//! and every method with its signature, so that the rest of the program (and an
//! editor) keeps knowing the type, and the compiler reports only the mistakes.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::layer_type;
use crate::model::Partial;
use crate::shape::Dim;

pub fn fallback(net: &Partial) -> TokenStream {
    let Partial {
        attrs, vis, ident, ..
    } = net;
    let gradients = format_ident!("{}Gradients", ident);
    let scratch = format_ident!("{}Scratch", ident);
    // A field name given twice is one of the mistakes: the first keeps it.
    let mut taken = Vec::new();
    let mut fields = Vec::new();
    for layer in &net.layers {
        let name = layer.field.to_string();
        if !taken.contains(&name) {
            let (field, ty) = (&layer.field, layer_type(layer));
            fields.push(quote!(pub #field: #ty));
            taken.push(name);
        }
    }
    let gradient_fields: Vec<TokenStream> = net
        .layers
        .iter()
        .flat_map(|layer| &layer.parameters)
        .map(|tensor| {
            let (name, dim) = (
                format_ident!("{}", tensor.name),
                format_ident!("Ix{}", tensor.rank),
            );
            quote!(pub #name: ::backprop::ndarray::Array<T, ::backprop::ndarray::#dim>)
        })
        .collect();
    // Unknown widths become parameters of the methods, for the caller to fix.
    let (input, input_generic) = width(net.input.as_ref(), quote!(IN));
    let (output, output_generic) = width(net.output.as_ref(), quote!(OUT));
    let generics = quote!(<#input_generic #output_generic>);
    let as_batch = quote!(impl ::backprop::AsBatch<T, #input>);
    let batch_in = quote!(::backprop::Batch<T, #input>);
    let batch_out = quote!(::backprop::Batch<T, #output>);
    let targets = quote!(impl ::core::convert::Into<::backprop::Targets<'t, T>>);
    let result = quote!(::backprop::Result);
    let message = format!("`{ident}` has mistakes in its declaration");
    let body = quote!(::core::unreachable!(#message));
    let constant = |dim: Option<&Dim>| match dim {
        Some(dim) => quote!(#dim),
        None => quote!(0),
    };
    let (input_width, output_width) = (constant(net.input.as_ref()), constant(net.output.as_ref()));
    quote! {
        #(#attrs)*
        #[derive(Clone, Debug)]
        #[allow(dead_code, non_snake_case)]
        #vis struct #ident<T: ::backprop::Float = f32> {
            #(#fields,)*
            #[doc(hidden)]
            pub __float: ::core::marker::PhantomData<T>,
        }

        #[derive(Clone, Debug, PartialEq)]
        #[allow(dead_code, non_snake_case)]
        #vis struct #gradients<T> {
            #(#gradient_fields,)*
            #[doc(hidden)]
            pub __float: ::core::marker::PhantomData<T>,
        }

        #[derive(Debug, Default)]
        #[allow(dead_code)]
        #vis struct #scratch<T: ::backprop::Float = f32>(::core::marker::PhantomData<T>);

        #[allow(dead_code, unused_variables, clippy::all)]
        impl<T: ::backprop::Float> #ident<T> {
            pub fn new<R: ::backprop::rand::Rng + ?Sized>(rng: &mut R) -> Self { #body }
            pub fn with_weight_init_std<R: ::backprop::rand::Rng + ?Sized>(weight_init_std: f64, rng: &mut R) -> Self { #body }
            pub fn from_model_file(path: &::std::path::Path) -> ::core::result::Result<Self, ::backprop::model_file::ModelFileError> { #body }
            pub fn with_weight_init<R: ::backprop::rand::Rng + ?Sized>(init: ::backprop::WeightInit, rng: &mut R) -> Self { #body }
            pub fn predict #generics (&self, x: &#as_batch) -> #batch_out { #body }
            pub fn predict_into #generics (&self, x: &#as_batch, scratch: &mut #scratch<T>, out: &mut #batch_out) { #body }
            pub fn probabilities #generics (&self, x: &#as_batch) -> #batch_out { #body }
            pub fn loss<'t, #input_generic>(&self, x: &#as_batch, t: #targets) -> #result<T> { #body }
            pub fn accuracy<'t, #input_generic>(&self, x: &#as_batch, t: #targets) -> #result<f64> { #body }
            pub fn gradient<'t, #input_generic>(&mut self, x: &#as_batch, t: #targets) -> #result<T> { #body }
            pub fn gradient_with<'t, #input_generic>(&mut self, x: &#as_batch, t: #targets, context: &mut ::backprop::__private::Context<'_>, weight_decay: f64) -> #result<T> { #body }
            pub fn input_gradient<'t, #input_generic>(&mut self, x: &#as_batch, t: #targets) -> #result<#batch_in> { #body }
            pub fn gradients(&self) -> #gradients<T> { #body }
            pub fn numerical_gradient<'t, #input_generic>(&mut self, x: &#as_batch, t: #targets) -> #result<#gradients<T>> { #body }
        }

        #[allow(dead_code, clippy::all)]
        impl #ident {
            pub fn summary() -> ::backprop::Summary { #body }
        }

        #[allow(unused_variables, clippy::all)]
        impl<T: ::backprop::Float> ::backprop::Network<T> for #ident<T> {
            const INPUT_WIDTH: usize = #input_width;
            const OUTPUT_WIDTH: usize = #output_width;
            const PARAMETER_COUNT: usize = 0;
            type Scratch = #scratch<T>;
            fn infer<'s>(&self, x: ::backprop::ndarray::ArrayView2<'_, T>, scratch: &'s mut #scratch<T>) -> ::backprop::ndarray::ArrayView2<'s, T> { #body }
            fn train_step(&mut self, x: ::backprop::ndarray::ArrayView2<'_, T>, t: &::backprop::Targets<'_, T>, context: &mut ::backprop::__private::Context<'_>) -> #result<T> { #body }
            fn train_loss(&mut self, x: ::backprop::ndarray::ArrayView2<'_, T>, t: &::backprop::Targets<'_, T>, context: &mut ::backprop::__private::Context<'_>) -> #result<T> { #body }
            fn total_loss(scores: ::backprop::ndarray::ArrayView2<'_, T>, t: &::backprop::Targets<'_, T>, offset: usize) -> T { #body }
            fn visit_parameters(&self, visit: &mut dyn FnMut(::backprop::Parameter<'_, T>)) { #body }
            fn visit_parameters_mut(&mut self, visit: &mut ::backprop::network::ParameterVisitor<'_, T>) { #body }
            fn visit_state(&self, visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewD<'_, T>)) { #body }
            fn visit_state_mut(&mut self, visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewMutD<'_, T>)) { #body }
            fn summary(&self) -> ::backprop::Summary { #body }
            fn export(&self, output: ::backprop::export::Output) -> ::backprop::export::Graph<T> { #body }
            fn tape(&self, x: ::backprop::ndarray::ArrayView2<'_, T>, t: &::backprop::Targets<'_, T>) -> ::core::result::Result<::backprop::network::TapeRun<T>, ::backprop::autograd::TapeError> { #body }
        }
    }
}

/// A known width as a generic argument, or a const parameter named `name` to declare.
fn width(dim: Option<&Dim>, name: TokenStream) -> (TokenStream, TokenStream) {
    match dim {
        Some(dim) => (dim.generic_arg(), quote!()),
        None => (name.clone(), quote!(const #name: usize,)),
    }
}
