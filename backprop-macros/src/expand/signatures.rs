//! The signature of every generated method, written once: the expansion gives each its
//! body, and the fallback (for a declaration with mistakes) gives each
//! `unreachable!()`, so the two cannot list different methods.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::Names;
use crate::shape::Dim;

/// The signatures of one network's methods.
pub struct Signatures {
    /// The input and output widths as generic arguments: a known width, or `IN` and
    /// `OUT` where the fallback does not know it.
    input: TokenStream,
    output: TokenStream,
    /// `const IN: usize,` (and `OUT`) for the methods that need an unknown width.
    input_param: TokenStream,
    output_param: TokenStream,
    scratch: Ident,
    gradients: Ident,
}

impl Signatures {
    /// The signatures for a network with the generated items `names`, whose input and
    /// output widths are known or (in the fallback) left to the caller as const
    /// parameters.
    pub fn new(names: &Names, input: Option<&Dim>, output: Option<&Dim>) -> Signatures {
        let width = |dim: Option<&Dim>, name: TokenStream| match dim {
            Some(dim) => (dim.generic_arg(), quote!()),
            None => (name.clone(), quote!(const #name: usize,)),
        };
        let (input, input_param) = width(input, quote!(IN));
        let (output, output_param) = width(output, quote!(OUT));
        Signatures {
            input,
            output,
            input_param,
            output_param,
            scratch: names.scratch.clone(),
            gradients: names.gradients.clone(),
        }
    }

    /// Every inherent method of `Net<T>`, for the fallback.
    pub fn inherent(&self) -> Vec<TokenStream> {
        vec![
            self.new_network(),
            self.with_weight_init_std(),
            self.model_file_constructor(),
            self.with_weight_init(),
            self.predict(),
            self.predict_into(),
            self.probabilities(),
            self.loss(),
            self.accuracy(),
            self.gradient(),
            self.gradient_with(),
            self.input_gradient(),
            self.gradients(),
            self.numerical_gradient(),
        ]
    }

    /// The summary without a network, on the type with its default float.
    pub fn summary_of_type(&self) -> TokenStream {
        quote!(pub fn summary() -> ::backprop::Summary)
    }

    /// Every method of the `Network` implementation, for the fallback.
    pub fn trait_methods(&self) -> Vec<TokenStream> {
        vec![
            self.infer(),
            self.train_step(),
            self.train_step_with_weight_decay(),
            self.train_loss(),
            self.total_loss(),
            self.visit_parameters(),
            self.visit_parameters_mut(),
            self.visit_state(),
            self.visit_state_mut(),
            self.tape(),
            self.export(),
            self.summary(),
        ]
    }

    /// `<IN, OUT>` of the fallback, or nothing when both widths are known.
    fn width_params(&self) -> TokenStream {
        let (input_param, output_param) = (&self.input_param, &self.output_param);
        if input_param.is_empty() && output_param.is_empty() {
            quote!()
        } else {
            quote!(<#input_param #output_param>)
        }
    }

    fn as_batch(&self) -> TokenStream {
        let input = &self.input;
        quote!(impl ::backprop::AsBatch<T, #input>)
    }

    fn targets() -> TokenStream {
        quote!(impl ::core::convert::Into<::backprop::Targets<'t, T>>)
    }

    fn view() -> TokenStream {
        quote!(::backprop::ndarray::ArrayView2<'_, T>)
    }

    /// What a training step takes: the batch, its targets and the step's context.
    fn step_inputs() -> TokenStream {
        let view = Self::view();
        quote! {
            x: #view,
            t: &::backprop::Targets<'_, T>,
            context: &mut ::backprop::__private::Context<'_>,
        }
    }

    // The constructors: `new_network` is `new`, `model_file_constructor` is
    // `from_model_file`.
    pub fn new_network(&self) -> TokenStream {
        quote!(pub fn new<R: ::backprop::rand::Rng + ?Sized>(rng: &mut R) -> Self)
    }

    pub fn with_weight_init_std(&self) -> TokenStream {
        quote! {
            pub fn with_weight_init_std<R: ::backprop::rand::Rng + ?Sized>(
                weight_init_std: f64,
                rng: &mut R,
            ) -> Self
        }
    }

    pub fn model_file_constructor(&self) -> TokenStream {
        quote! {
            pub fn from_model_file(
                path: &::std::path::Path,
            ) -> ::core::result::Result<Self, ::backprop::model_file::ModelFileError>
        }
    }

    pub fn with_weight_init(&self) -> TokenStream {
        quote! {
            pub fn with_weight_init<R: ::backprop::rand::Rng + ?Sized>(
                init: ::backprop::WeightInit,
                rng: &mut R,
            ) -> Self
        }
    }

    // Inference.
    pub fn predict(&self) -> TokenStream {
        let (as_batch, output) = (self.as_batch(), &self.output);
        let params = self.width_params();
        quote! {
            pub fn predict #params (&self, x: &#as_batch) -> ::backprop::Batch<T, #output>
        }
    }

    pub fn predict_into(&self) -> TokenStream {
        let (as_batch, output, scratch) = (self.as_batch(), &self.output, &self.scratch);
        let params = self.width_params();
        quote! {
            pub fn predict_into #params (
                &self,
                x: &#as_batch,
                scratch: &mut #scratch<T>,
                out: &mut ::backprop::Batch<T, #output>,
            )
        }
    }

    pub fn probabilities(&self) -> TokenStream {
        let (as_batch, output) = (self.as_batch(), &self.output);
        let params = self.width_params();
        quote! {
            pub fn probabilities #params (&self, x: &#as_batch) -> ::backprop::Batch<T, #output>
        }
    }

    pub fn loss(&self) -> TokenStream {
        let (as_batch, targets, input_param) =
            (self.as_batch(), Self::targets(), &self.input_param);
        quote! {
            pub fn loss<'t, #input_param>(&self, x: &#as_batch, t: #targets) -> ::backprop::Result<T>
        }
    }

    pub fn accuracy(&self) -> TokenStream {
        let (as_batch, targets, input_param) =
            (self.as_batch(), Self::targets(), &self.input_param);
        quote! {
            pub fn accuracy<'t, #input_param>(&self, x: &#as_batch, t: #targets) -> ::backprop::Result<f64>
        }
    }

    // Gradients.
    pub fn gradient(&self) -> TokenStream {
        let (as_batch, targets, input_param) =
            (self.as_batch(), Self::targets(), &self.input_param);
        quote! {
            pub fn gradient<'t, #input_param>(&mut self, x: &#as_batch, t: #targets) -> ::backprop::Result<T>
        }
    }

    pub fn gradient_with(&self) -> TokenStream {
        let (as_batch, targets, input_param) =
            (self.as_batch(), Self::targets(), &self.input_param);
        quote! {
            pub fn gradient_with<'t, #input_param>(
                &mut self,
                x: &#as_batch,
                t: #targets,
                context: &mut ::backprop::__private::Context<'_>,
                weight_decay: f64,
            ) -> ::backprop::Result<T>
        }
    }

    pub fn input_gradient(&self) -> TokenStream {
        let (as_batch, targets) = (self.as_batch(), Self::targets());
        let (input, input_param) = (&self.input, &self.input_param);
        quote! {
            pub fn input_gradient<'t, #input_param>(
                &mut self,
                x: &#as_batch,
                t: #targets,
            ) -> ::backprop::Result<::backprop::Batch<T, #input>>
        }
    }

    /// `NamedTensors::tensors` of the gradients struct.
    pub fn named_gradients(&self) -> TokenStream {
        quote! {
            fn tensors(&self) -> ::std::vec::Vec<(&'static str, ::backprop::ndarray::ArrayViewD<'_, T>)>
        }
    }

    pub fn gradients(&self) -> TokenStream {
        let gradients = &self.gradients;
        quote!(pub fn gradients(&self) -> #gradients<T>)
    }

    pub fn numerical_gradient(&self) -> TokenStream {
        let (as_batch, targets, input_param) =
            (self.as_batch(), Self::targets(), &self.input_param);
        let gradients = &self.gradients;
        quote! {
            pub fn numerical_gradient<'t, #input_param>(
                &mut self,
                x: &#as_batch,
                t: #targets,
            ) -> ::backprop::Result<#gradients<T>>
        }
    }

    // The `Network` implementation.
    pub fn infer(&self) -> TokenStream {
        let (view, scratch) = (Self::view(), &self.scratch);
        quote! {
            fn infer<'s>(
                &self,
                x: #view,
                scratch: &'s mut #scratch<T>,
            ) -> ::backprop::ndarray::ArrayView2<'s, T>
        }
    }

    pub fn train_step(&self) -> TokenStream {
        let inputs = Self::step_inputs();
        quote! {
            fn train_step(&mut self, #inputs) -> ::backprop::Result<T>
        }
    }

    pub fn train_step_with_weight_decay(&self) -> TokenStream {
        let inputs = Self::step_inputs();
        quote! {
            fn train_step_with_weight_decay(&mut self, #inputs weight_decay: f64,) -> ::backprop::Result<T>
        }
    }

    pub fn train_loss(&self) -> TokenStream {
        let inputs = Self::step_inputs();
        quote! {
            fn train_loss(&mut self, #inputs) -> ::backprop::Result<T>
        }
    }

    pub fn total_loss(&self) -> TokenStream {
        let view = Self::view();
        quote! {
            fn total_loss(scores: #view, t: &::backprop::Targets<'_, T>, offset: usize) -> T
        }
    }

    pub fn visit_parameters(&self) -> TokenStream {
        quote!(fn visit_parameters(&self, visit: &mut dyn FnMut(::backprop::Parameter<'_, T>)))
    }

    pub fn visit_parameters_mut(&self) -> TokenStream {
        quote! {
            fn visit_parameters_mut(&mut self, visit: &mut ::backprop::network::ParameterVisitor<'_, T>)
        }
    }

    pub fn visit_state(&self) -> TokenStream {
        quote! {
            fn visit_state(&self, visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewD<'_, T>))
        }
    }

    pub fn visit_state_mut(&self) -> TokenStream {
        quote! {
            fn visit_state_mut(
                &mut self,
                visit: &mut dyn FnMut(&'static str, ::backprop::ndarray::ArrayViewMutD<'_, T>),
            )
        }
    }

    pub fn tape(&self) -> TokenStream {
        let view = Self::view();
        quote! {
            fn tape(
                &self,
                x: #view,
                t: &::backprop::Targets<'_, T>,
            ) -> ::core::result::Result<::backprop::network::TapeRun<T>, ::backprop::autograd::TapeError>
        }
    }

    pub fn export(&self) -> TokenStream {
        quote! {
            fn export(&self, output: ::backprop::export::Output) -> ::backprop::export::Graph<T>
        }
    }

    pub fn summary(&self) -> TokenStream {
        quote!(fn summary(&self) -> ::backprop::Summary)
    }
}
