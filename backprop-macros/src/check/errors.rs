//! Mistakes collected while checking, reported together.

use std::fmt::Display;

use proc_macro2::Span;
use syn::Error;

/// Several mistakes, reported together.
#[derive(Default)]
pub struct Errors(Option<Error>);

impl Errors {
    pub fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn at(&mut self, span: Span, message: impl Display) {
        self.push(Error::new(span, message));
    }

    /// An error spanning all of `tokens`, first to last.
    pub fn spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(Error::new_spanned(tokens, message));
    }

    pub fn any(&self) -> bool {
        self.0.is_some()
    }

    pub fn into_error(self) -> Option<Error> {
        self.0
    }
}
