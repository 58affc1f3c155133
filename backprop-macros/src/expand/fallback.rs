//! What a declaration with mistakes still expands to, beside the errors: the struct
//! and every method with its signature, so that the rest of the program (and an
//! editor) keeps knowing the type, and the compiler reports only the mistakes.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::signatures::Signatures;
use super::{Names, layer_type};
use crate::model::Partial;
use crate::shape::Dim;

pub fn fallback(net: &Partial) -> TokenStream {
    let Partial {
        attrs, vis, ident, ..
    } = net;
    let names = Names::of(ident);
    let (gradients, scratch) = (&names.gradients, &names.scratch);
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
    // Unknown widths become const parameters of the methods, for the caller to fix.
    let signatures = Signatures::new(&names, net.input.as_ref(), net.output.as_ref());
    let message = format!("`{ident}` has mistakes in its declaration");
    let body = quote!(::core::unreachable!(#message));
    let inherent = signatures.inherent();
    let tensors = signatures.named_gradients();
    let summary = signatures.summary_of_type();
    let trait_methods = signatures.trait_methods();
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

        #[allow(clippy::all)]
        impl<T: ::backprop::Float> ::backprop::NamedTensors<T> for #gradients<T> {
            #tensors { #body }
        }

        #[derive(Debug, Default)]
        #[allow(dead_code)]
        #vis struct #scratch<T: ::backprop::Float = f32>(::core::marker::PhantomData<T>);

        #[allow(dead_code, unused_variables, clippy::all)]
        impl<T: ::backprop::Float> #ident<T> {
            #(#inherent { #body })*
        }

        #[allow(dead_code, clippy::all)]
        impl #ident {
            #summary { #body }
        }

        #[allow(unused_variables, clippy::all)]
        impl<T: ::backprop::Float> ::backprop::Network<T> for #ident<T> {
            const INPUT_WIDTH: usize = #input_width;
            const OUTPUT_WIDTH: usize = #output_width;
            const PARAMETER_COUNT: usize = 0;
            type Scratch = #scratch<T>;
            #(#trait_methods { #body })*
        }
    }
}
