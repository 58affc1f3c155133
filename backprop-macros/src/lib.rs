//! The `network!` macro of backprop.
//!
//! A pipeline of small steps: `ast` parses the declaration as written, `check` walks
//! the chain with the table of layer kinds (`check::table`), inferring every shape and
//! reporting every mistake at the token that makes it, and `expand` writes the struct
//! and its straight-line methods. A declaration with mistakes still expands to its
//! type and methods (the fallback), so that only the mistakes are reported.

#![warn(missing_docs)]

mod ast;
mod check;
mod example;
mod expand;
mod model;
mod shape;

use proc_macro::TokenStream;

/// Declares a network: a struct with one field per layer, whose shapes the macro checks
/// and whose forward and backward passes it writes out layer by layer.
///
/// See the `backprop` crate's documentation for the syntax and what is generated.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    let mut output = proc_macro2::TokenStream::new();
    for declaration in input.networks {
        match check::check(declaration) {
            check::Checked::Valid(network) => output.extend(expand::expand(&network)),
            check::Checked::Invalid(error, partial) => {
                output.extend(error.to_compile_error());
                output.extend(expand::fallback(&partial));
            }
        }
    }
    output.into()
}
