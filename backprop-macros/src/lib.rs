//! The `network!` macro of backprop.
//!
//! A pipeline of small steps: `ast` parses the declaration as written, `check`
//! infers every width and reports every mistake at the token that makes it, and
//! `expand` writes the struct and its straight-line methods.

#![warn(missing_docs)]

mod ast;
mod check;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Declares a network: a struct with one field per layer, whose widths the macro checks
/// and whose forward and backward passes it writes out layer by layer.
///
/// See the `backprop` crate's documentation for the syntax and what is generated.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    let mut output = proc_macro2::TokenStream::new();
    for declaration in input.networks {
        match check::check(declaration) {
            Ok(network) => output.extend(expand::expand(&network)),
            Err(error) => output.extend(error.to_compile_error()),
        }
    }
    output.into()
}
