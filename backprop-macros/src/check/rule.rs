//! What a table entry's shape rule sees of the layer it checks, and the conditions it
//! may state: judged here on numbers, deferred to the compiler (with the same
//! message) when a named constant is involved.

use std::fmt::Display;

use proc_macro2::Span;

use super::describe::{describe, describe_replacing};
use super::errors::Errors;
use crate::ast::LayerDecl;
use crate::model::{DeferredCheck, Relation, Resolved, Value};
use crate::shape::{Dim, Shape};

/// A positional width as checked: absent, already reported as invalid, `_`, or given.
#[derive(Clone)]
pub enum WidthSlot {
    Absent,
    Invalid,
    Inferred(Span),
    Given(Dim),
}

/// The shape flowing into a layer, and where it comes from.
pub struct Flowing {
    pub shape: Shape,
    pub source: Source,
}

pub enum Source {
    /// The layer before, as written.
    Layer(String),
    /// The network's declared input shape, as written.
    Input(String),
}

pub enum Agreement {
    Same,
    Differ,
    /// Left to the compiler, which knows the constants' values.
    Deferred,
}

/// One layer under check, as its table entry's shape rule sees it.
pub struct Rule<'a> {
    pub(super) layer: &'a LayerDecl,
    pub(super) name: &'static str,
    /// Whether the positional arguments are widths.
    pub(super) takes_widths: bool,
    pub(super) widths: &'a [WidthSlot],
    pub(super) args: &'a Resolved,
    pub(super) flowing: Option<&'a Flowing>,
    pub(super) first: bool,
    pub(super) errors: &'a mut Errors,
    pub(super) deferred: &'a mut Vec<DeferredCheck>,
}

impl Rule<'_> {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Positional width `index`.
    pub fn width(&self, index: usize) -> WidthSlot {
        self.widths.get(index).cloned().unwrap_or(WidthSlot::Absent)
    }

    /// The shape flowing in, if known.
    pub fn flowing(&self) -> Option<Shape> {
        self.flowing.map(|f| f.shape.clone())
    }

    /// Whether nothing comes before this layer (no layer, no declared input).
    pub fn is_first(&self) -> bool {
        self.first
    }

    pub fn kind_span(&self) -> Span {
        self.layer.kind.span()
    }

    pub fn error(&mut self, span: Span, message: impl Display) {
        self.errors.at(span, message);
    }

    /// The layer as written, with positional argument `index` replaced.
    pub fn describe_replacing(&self, index: usize, replacement: &str) -> String {
        describe_replacing(self.layer, index, replacement)
    }

    /// Whether the layer's positional arguments are widths.
    pub fn takes_widths(&self) -> bool {
        self.takes_widths
    }

    /// The value of keyword `key`, if given.
    pub fn keyword(&self, key: &str) -> Option<&Value> {
        self.args.keyword(key)
    }

    /// Where the shape flowing in comes from, for messages: `the layer before it,
    /// `Relu`,`, and what to change instead: `the layer before`.
    pub fn source(&self) -> (String, &'static str) {
        match self.flowing.map(|f| &f.source) {
            Some(Source::Input(input)) => (
                format!("the network's input, `{input}`,"),
                "the input shape",
            ),
            Some(Source::Layer(layer)) => (
                format!("the layer before it, `{layer}`,"),
                "the layer before",
            ),
            None => ("nothing".to_owned(), "the layer before"),
        }
    }

    /// The layer as written.
    pub fn describe(&self) -> String {
        describe(self.layer)
    }

    /// Requires positional width `index`, `declared`, to equal the width flowing in.
    /// `claim` words what the layer claims (`takes 40 inputs`), `fixes` two ways to
    /// write the layer so that it agrees.
    pub fn require_flowing(
        &mut self,
        index: usize,
        declared: &Dim,
        claim: impl Fn(&str) -> String,
        fixes: [String; 2],
    ) -> Agreement {
        let flowing = self.flowing.expect("only called with a shape flowing in");
        let (source, change) = self.source();
        let [first, second] = &fixes;
        let layer = describe(self.layer);
        let message = |declared: &str, flowing: &str| {
            format!(
                "`{layer}` {}, but {source} gives {flowing}: write `{first}` or `{second}`, or change {change}",
                claim(declared),
            )
        };
        let from = match flowing.source {
            Source::Layer(_) => "the layer before",
            Source::Input(_) => "the network's input",
        };
        let condition = Condition {
            relation: Relation::Equal,
            left: declared.clone(),
            right: flowing.shape.width(),
            right_text: valued_shape(&flowing.shape, "{B}"),
            span: self.arg_span(index),
            label: format!("{{A}} here, but {{B}} come from {from}"),
        };
        self.require(condition, message)
    }

    /// Requires `condition`: judged here on numbers, or left to the compiler, whose
    /// error then reads `message(left, right)` with the values filled in.
    pub fn require(
        &mut self,
        condition: Condition,
        message: impl Fn(&str, &str) -> String,
    ) -> Agreement {
        let Condition {
            relation,
            left,
            right,
            right_text,
            span,
            label,
        } = condition;
        match (left.known(), right.known()) {
            (Some(a), Some(b)) if relation.holds(a, b) => Agreement::Same,
            (Some(_), Some(_)) => {
                self.errors
                    .at(span, message(&left.to_string(), &right_text));
                Agreement::Differ
            }
            _ if relation == Relation::Equal && left.same_as(&right) == Some(true) => {
                Agreement::Same
            }
            _ => {
                let message = message(&valued(&left, "{A}"), &right_text);
                self.deferred.push(DeferredCheck {
                    relation,
                    left,
                    right,
                    span,
                    message: escape_braces_except(&message, &["{A}", "{B}"]),
                    label,
                });
                Agreement::Deferred
            }
        }
    }

    /// The span of keyword `key`'s value, or of the layer's name.
    pub fn keyword_span(&self, key: &str) -> Span {
        self.layer
            .args
            .as_ref()
            .and_then(|args| args.keywords().find(|keyword| keyword.key == key))
            .map_or_else(|| self.kind_span(), |keyword| keyword.value.span())
    }

    /// The span of positional argument `index`, or of the layer's name.
    pub fn arg_span(&self, index: usize) -> Span {
        self.layer
            .args
            .as_ref()
            .and_then(|args| args.positional().nth(index))
            .map_or_else(|| self.kind_span(), |arg| arg.span())
    }
}

/// A condition for [`Rule::require`] on two dimensions.
pub struct Condition {
    pub relation: Relation,
    pub left: Dim,
    pub right: Dim,
    /// How the message shows `right` (a number, or the constant and `{B}`).
    pub right_text: String,
    /// Where the error points.
    pub span: Span,
    /// The label of a deferred check, with `{A}` and `{B}` for the values.
    pub label: String,
}

/// A dimension as a message shows it: a number, or `` `HIDDEN` = {A} `` for the
/// compiler to complete.
pub fn valued(dim: &Dim, placeholder: &str) -> String {
    match dim {
        Dim::Known(n) => n.to_string(),
        Dim::Deferred { .. } => format!("`{dim}` = {placeholder}"),
    }
}

/// A shape's width as text for a message the compiler completes.
fn valued_shape(shape: &Shape, placeholder: &str) -> String {
    match shape {
        _ if shape.width().known().is_some() => shape.describe(),
        Shape::Flat(width) => valued(width, placeholder),
        Shape::Image(_) => format!(
            "{} (channels × height × width)",
            valued(&shape.width(), placeholder)
        ),
    }
}

/// Doubles the braces of user text for a `#[diagnostic]` format string, keeping the
/// placeholders the compiler is meant to fill in.
fn escape_braces_except(message: &str, placeholders: &[&str]) -> String {
    let mut escaped = message.replace('{', "{{").replace('}', "}}");
    for placeholder in placeholders {
        let doubled = placeholder.replace('{', "{{").replace('}', "}}");
        escaped = escaped.replace(&doubled, placeholder);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_messages_keep_placeholders_and_escape_user_braces() {
        assert_eq!(
            escape_braces_except("`m::<{2}>::W` = {A}", &["{A}"]),
            "`m::<{{2}}>::W` = {A}"
        );
    }
}
