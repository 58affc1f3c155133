//! Names: the layers' fields (the user's, or the book's `affine1`, `relu1`, …,
//! `last_layer`) and their tensors' (`W1`, `b1`, …).

use std::collections::HashMap;

use syn::Ident;

use super::describe::describe;
use super::errors::Errors;
use super::table::{Counter, DefaultField, LayerKind, TensorSpec};
use crate::ast::LayerDecl;
use crate::model::Tensor;

#[derive(Default)]
pub struct Names {
    /// Layers of each kind so far, for default field names.
    fields: HashMap<&'static str, usize>,
    /// Layers with weights so far, for `W1`, `W2`, ….
    weighted: usize,
    /// Layers of each kind with tensors so far, for `gamma1`, `gamma2`, ….
    own: HashMap<&'static str, usize>,
    /// Each field name taken so far, with the layer that took it.
    taken: HashMap<String, String>,
}

impl Names {
    pub fn field(&mut self, layer: &LayerDecl, kind: &LayerKind, errors: &mut Errors) -> Ident {
        let count = self.fields.entry(kind.name).or_default();
        *count += 1;
        let field = match (&layer.field, &kind.field) {
            (Some(name), _) => name.clone(),
            (None, DefaultField::Fixed(name)) => Ident::new(name, layer.kind.span()),
            (None, DefaultField::Numbered(prefix)) => {
                Ident::new(&format!("{prefix}{count}"), layer.kind.span())
            }
        };
        let description = describe(layer);
        if let Some(first) = self.taken.insert(field.to_string(), description.clone()) {
            let span = layer.field.as_ref().map_or(layer.kind.span(), Ident::span);
            let message = if layer.field.is_some() {
                format!(
                    "field name `{field}` is already used by `{first}`; give this layer another name"
                )
            } else {
                format!(
                    "this layer's default field name `{field}` is already used by `{first}`; name one of them, e.g. `{}: {description}`",
                    kind.example_field
                )
            };
            errors.at(span, message);
        }
        field
    }

    /// The names of a layer's parameters and state, numbered as the table says.
    pub fn tensors(&mut self, kind: &LayerKind) -> (Vec<Tensor>, Vec<String>) {
        if kind.parameters.is_empty() && kind.state.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let ordinal = match kind.counter {
            Counter::Weights => &mut self.weighted,
            Counter::OwnKind => self.own.entry(kind.name).or_default(),
        };
        *ordinal += 1;
        let ordinal = *ordinal;
        let name = |spec: &TensorSpec| format!("{}{ordinal}", spec.prefix);
        let parameters = kind.parameters.iter().map(|spec| Tensor {
            name: name(spec),
            rank: spec.rank,
        });
        (parameters.collect(), kind.state.iter().map(name).collect())
    }
}
