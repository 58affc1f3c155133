//! The checked network: every layer with its field name and resolved widths.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote};
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

/// Emits the width as a const generic argument: a plain number, or `{ PATH }`.
impl ToTokens for Width {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Width::Known(n) => Literal::u64_unsuffixed(*n).to_tokens(tokens),
            Width::Named(path) => quote!({ #path }).to_tokens(tokens),
        }
    }
}

fn tokens_eq(a: &Path, b: &Path) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}
