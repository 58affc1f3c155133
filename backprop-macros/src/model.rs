//! The checked network: every layer with its field name, shapes, arguments and the
//! names of its tensors.

use proc_macro2::Span;
use syn::Ident;

use crate::layers::LayerKind;
use crate::shape::{Dim, Shape};

/// A checked declaration, ready to expand.
pub struct Network {
    pub attrs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub ident: Ident,
    /// The shape of an input row.
    pub input: Shape,
    /// Every layer but the loss, in order.
    pub layers: Vec<Layer>,
    /// The loss layer.
    pub loss: Layer,
    /// Conditions the macro could not judge itself (named constants): each becomes a
    /// compile-time check with the same message.
    pub deferred: Vec<DeferredCheck>,
}

/// What can be said of a declaration with mistakes, for the fallback expansion that
/// keeps the type and its methods known to the compiler and the editor.
pub struct Partial {
    pub attrs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub ident: Ident,
    /// The input width, where it is known.
    pub input: Option<Dim>,
    /// The output width, where it is known.
    pub output: Option<Dim>,
    /// The layers whose shapes are known.
    pub layers: Vec<Layer>,
}

pub struct Layer {
    pub field: Ident,
    /// The layer as written, for documentation.
    pub written: String,
    pub kind: &'static LayerKind,
    /// The shape flowing into the layer.
    pub input: Shape,
    /// The shape flowing out of it.
    pub output: Shape,
    pub args: Resolved,
    /// The book's names of its parameters (`W1`, `b1`) and state.
    pub parameters: Vec<String>,
    pub state: Vec<String>,
}

impl Layer {
    pub fn has_parameters(&self) -> bool {
        !self.parameters.is_empty()
    }
}

/// A layer's arguments, checked against its table entry.
#[derive(Default)]
pub struct Resolved {
    /// The positional widths given (`None` for `_`).
    pub positional: Vec<Option<Dim>>,
    /// The keywords given, with their values.
    pub keywords: Vec<(&'static str, Value)>,
}

impl Resolved {
    pub fn keyword(&self, key: &str) -> Option<&Value> {
        self.keywords
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// A keyword's checked value.
pub enum Value {
    Init(InitValue),
    Count(u64),
    Flag(bool),
    Number(f64),
}

pub enum InitValue {
    He,
    Xavier,
    Std(f64),
}

/// A condition on two dimensions that the compiler checks, because one is a named
/// constant; a failure is reported at `span` with `message`.
pub struct DeferredCheck {
    pub relation: crate::check::rule::Relation,
    pub left: Dim,
    pub right: Dim,
    pub span: Span,
    /// The error and its label, as `#[diagnostic::on_unimplemented]` format strings in
    /// which the compiler fills in `{A}` and `{B}`, the values of `left` and `right`.
    pub message: String,
    pub label: String,
}
