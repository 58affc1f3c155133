//! The checked network: every layer with its field name and resolved widths.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

/// A checked declaration, ready to expand.
pub struct Network {
    pub attrs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub ident: Ident,
    /// Every layer but the loss, in order.
    pub layers: Vec<Layer>,
    /// The loss layer's field and width.
    pub loss: Layer,
    /// Widths the macro could not compare itself (named constants): each becomes a
    /// compile-time type-equality check.
    pub deferred: Vec<DeferredCheck>,
}

pub struct Layer {
    pub field: Ident,
    pub kind: Kind,
    /// The width flowing into the layer.
    pub input: Width,
    /// The width flowing out of it.
    pub output: Width,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The `ordinal`-th Affine layer (from 1), which names its parameters `W{ordinal}`.
    Affine {
        ordinal: usize,
    },
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
}

/// A width as the user wrote it: a number the macro knows, or a constant it does not.
#[derive(Clone)]
pub enum Width {
    Known(u64),
    Named(Path),
}

/// `flowing` and `declared` must be equal; a mismatch is reported at `span`, the
/// tokens the user wrote for the declared width.
pub struct DeferredCheck {
    pub flowing: Width,
    pub declared: Width,
    pub span: Span,
    /// The error and its label, as `#[diagnostic::on_unimplemented]` format strings in
    /// which the compiler fills in `{FLOWING}` and `{DECLARED}`.
    pub message: String,
    pub label: String,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Affine { .. } => "Affine",
            Kind::Relu => "Relu",
            Kind::Sigmoid => "Sigmoid",
            Kind::SoftmaxWithLoss => "SoftmaxWithLoss",
        }
    }
}

impl Width {
    /// Whether two widths are certainly the same without asking the compiler.
    pub fn same_as(&self, other: &Width) -> Option<bool> {
        match (self, other) {
            (Width::Known(a), Width::Known(b)) => Some(a == b),
            (Width::Named(a), Width::Named(b)) if tokens_eq(a, b) => Some(true),
            _ => None,
        }
    }
}

impl std::fmt::Display for Width {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Width::Known(n) => write!(f, "{n}"),
            Width::Named(path) => {
                write!(f, "{}", path.to_token_stream().to_string().replace(' ', ""))
            }
        }
    }
}

impl Width {
    /// The width as a value, a number at `span` or the constant's own path, so that
    /// the compiler's errors about it point at what the user wrote.
    pub fn value_at(&self, span: Span) -> TokenStream {
        match self {
            Width::Known(n) => {
                let mut literal = Literal::u64_unsuffixed(*n);
                literal.set_span(span);
                literal.into_token_stream()
            }
            // Typed at the constant's name, so that a constant of another type is
            // reported there, once, not in each generated expression that uses it.
            Width::Named(path) => quote_spanned!(path.span()=> {
                const WIDTH: usize = #path;
                WIDTH
            }),
        }
    }

    /// The width as a const generic argument: a number, or `{ PATH }` (a path of
    /// several segments is only read as a constant inside braces).
    pub fn generic_arg(&self) -> TokenStream {
        match self {
            Width::Known(_) => self.to_token_stream(),
            Width::Named(path) => quote_spanned!(path.span()=> { #path }),
        }
    }
}

/// Emits the width as a value. Braces around a constant here would draw the
/// `unused_braces` lint in the user's crate.
impl ToTokens for Width {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.value_at(Span::call_site()));
    }
}

fn tokens_eq(a: &Path, b: &Path) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}
