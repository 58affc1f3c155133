//! The checked network: every layer with its field name, shapes, arguments and the
//! names of its tensors.

use proc_macro2::{Span, TokenStream};
use syn::Ident;

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
    /// Whether it is the loss at the end of the chain.
    pub is_loss: bool,
    /// The shape flowing out of it.
    pub output: Shape,
    /// The runtime type's name in `backprop::layers`, and its const generic arguments.
    pub runtime_type: &'static str,
    pub generics: Vec<Dim>,
    /// The runtime configuration, as an expression.
    pub config: TokenStream,
    /// Inputs per output unit, for the initialisation's standard deviation.
    pub fan_in: Dim,
    /// The book's names of its parameters (`W1`, `b1`) with their ranks, and of its
    /// state.
    pub parameters: Vec<Tensor>,
    pub state: Vec<String>,
}

/// A learned tensor: its name and number of axes.
pub struct Tensor {
    pub name: String,
    pub rank: usize,
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

/// A relation between two dimensions that a declaration requires.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Equal,
    AtMost,
    /// The left is a multiple of the right.
    MultipleOf,
}

impl Relation {
    pub fn holds(self, a: u64, b: u64) -> bool {
        match self {
            Relation::Equal => a == b,
            Relation::AtMost => a <= b,
            Relation::MultipleOf => b != 0 && a.is_multiple_of(b),
        }
    }
}

/// A condition on two dimensions that the compiler checks, because one is a named
/// constant; a failure is reported at `span` with `message`.
pub struct DeferredCheck {
    pub relation: Relation,
    pub left: Dim,
    pub right: Dim,
    pub span: Span,
    /// The error and its label, as `#[diagnostic::on_unimplemented]` format strings in
    /// which the compiler fills in `{A}` and `{B}`, the values of `left` and `right`.
    pub message: String,
    pub label: String,
}
