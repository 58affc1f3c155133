//! Validation: walk the chain with the layer table, infer every shape, and report
//! every mistake at the token that makes it.

mod args;
mod describe;
mod errors;
mod names;
mod rule;
mod suggest;
mod table;
mod window;

use quote::quote;
use syn::Error;

use self::describe::describe;
use self::errors::Errors;
use self::names::Names;
use self::rule::{Flowing, Rule, Source, WidthSlot};
use self::table::LayerKind;
use crate::ast::{Args, Declaration, LayerDecl};
use crate::example;
use crate::model::{Layer, Network, Partial};
use crate::shape::{Dim, Shape};

/// What checking a declaration found. One per declaration, moved once: its size
/// does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Checked {
    Valid(Network),
    /// Every mistake, combined, and what could be resolved for the fallback expansion.
    Invalid(Error, Partial),
}

/// Checks a declaration, reporting all its mistakes together.
pub fn check(decl: Declaration) -> Checked {
    let mut errors = Errors::default();
    let mut flowing = decl
        .input
        .as_ref()
        .and_then(|shape| input_shape(shape, &mut errors));
    let declared_input = flowing.as_ref().map(|f| f.shape.clone());
    let mut layers: Vec<Layer> = Vec::new();
    let mut loss: Option<Layer> = None;
    // The first loss layer as written, once seen, whether or not its shape is known:
    // every layer after it is a mistake.
    let mut first_loss: Option<&LayerDecl> = None;
    let mut first_input = None;
    let mut deferred = Vec::new();
    let mut names = Names::default();

    if decl.layers.is_empty() {
        errors.at(
            decl.ident.span(),
            format!(
                "network `{}` has no layers; declare them between the braces, e.g. `{}`",
                decl.ident,
                example::NETWORK
            ),
        );
    }
    for (index, layer) in decl.layers.iter().enumerate() {
        let Some(kind) = kind_of(layer, &mut errors) else {
            flowing = None;
            continue;
        };
        if let Some(first) = first_loss {
            errors.push(after_loss(layer, kind, first));
            if kind.is_loss {
                // Its field name would clash with the first loss's: one message is enough.
                continue;
            }
        }
        let (widths, mut resolved) = args::resolve(layer, kind, &mut errors);
        resolved.positional = widths
            .iter()
            .flatten()
            .map(|slot| match slot {
                WidthSlot::Given(dim) => Some(dim.clone()),
                _ => None,
            })
            .collect();
        let shapes = widths.and_then(|widths| {
            let mut rule = Rule {
                layer,
                name: kind.name,
                takes_widths: kind.positional_as.is_empty(),
                widths: &widths,
                args: &resolved,
                flowing: flowing.as_ref(),
                first: index == 0 && decl.input.is_none(),
                errors: &mut errors,
                deferred: &mut deferred,
            };
            (kind.shape)(&mut rule)
        });
        let field = names.field(layer, kind, &mut errors);
        let (parameters, state) = names.tensors(kind);
        if kind.is_loss {
            first_loss = Some(layer);
        }
        let Some((input, output)) = shapes else {
            flowing = None;
            continue;
        };
        if index == 0 {
            first_input = Some(input.clone());
        }
        flowing = Some(Flowing {
            shape: output.clone(),
            source: Source::Layer(describe(layer)),
        });
        let checked = Layer {
            field,
            written: describe(layer),
            is_loss: kind.is_loss,
            runtime_type: kind.runtime_type,
            generics: (kind.generics)(&input, &output, &resolved),
            config: (kind.config)(&quote!(::backprop::layers), &resolved),
            fan_in: (kind.fan_in)(&input, &resolved),
            output,
            parameters,
            state,
        };
        if kind.is_loss {
            loss = Some(checked);
        } else {
            layers.push(checked);
        }
    }

    if let Some(last) = decl.layers.last() {
        // A misspelt last layer may be the loss itself: its own message says so.
        if first_loss.is_none() && table::find(&last.kind.to_string()).is_some() {
            let message = format!(
                "network `{}` must end with a loss layer: add `-> {}` after `{}`",
                decl.ident,
                example::LOSS,
                describe(last)
            );
            errors.at(last.kind.span(), message);
        } else if first_loss.is_some() && layers.is_empty() && !errors.any() {
            let message = format!(
                "network `{}` has nothing before its loss layer; add a layer that computes scores, e.g. `{}`",
                decl.ident,
                example::NETWORK
            );
            errors.at(decl.ident.span(), message);
        }
    }

    let input = declared_input.or(first_input);
    match (errors.into_error(), loss, input) {
        (None, Some(loss), Some(input)) => Checked::Valid(Network {
            attrs: decl.attrs,
            vis: decl.vis,
            ident: decl.ident,
            input,
            layers,
            loss,
            deferred,
        }),
        (error, loss, input) => {
            let error = error.unwrap_or_else(|| {
                let message = format!("network `{}` has no loss layer to end with", decl.ident);
                Error::new(decl.ident.span(), message)
            });
            let partial = Partial {
                attrs: decl.attrs,
                vis: decl.vis,
                ident: decl.ident,
                input: input.map(|shape| shape.width()),
                output: loss.map(|loss| loss.output.width()),
                layers,
            };
            Checked::Invalid(error, partial)
        }
    }
}

fn kind_of(layer: &LayerDecl, errors: &mut Errors) -> Option<&'static LayerKind> {
    let name = layer.kind.to_string();
    if let Some(kind) = table::find(&name) {
        return Some(kind);
    }
    let known: Vec<String> = table::names().map(|k| format!("`{k}`")).collect();
    let message = match table::OTHER_NAMES.iter().find(|(other, _)| *other == name) {
        Some((_, advice)) => format!("unknown layer `{name}`; {advice}"),
        None => {
            let hint = match suggest::closest(&name, table::names()) {
                Some(known) => format!("did you mean `{known}`? "),
                None => String::new(),
            };
            format!(
                "unknown layer `{name}`; {hint}the layers are {}",
                known.join(", ")
            )
        }
    };
    errors.at(layer.kind.span(), message);
    None
}

/// `(784)` or `(1, 28, 28)` after the network's name.
fn input_shape(shape: &Args, errors: &mut Errors) -> Option<Flowing> {
    for keyword in shape.keywords() {
        errors.at(
            keyword.key.span(),
            "the input shape takes no keywords: write its axes, `(features)` or `(channels, height, width)`",
        );
    }
    let axes: Vec<WidthSlot> = shape
        .positional()
        .map(|arg| match args::width(arg, "an input axis", errors) {
            WidthSlot::Inferred(span) => {
                errors.at(span, "an input axis cannot be inferred: write it");
                WidthSlot::Invalid
            }
            slot => slot,
        })
        .collect();
    let dims: Vec<Dim> = axes
        .iter()
        .filter_map(|slot| match slot {
            WidthSlot::Given(dim) => Some(dim.clone()),
            _ => None,
        })
        .collect();
    let text = format!(
        "({})",
        shape
            .positional()
            .map(|a| a.text())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let shape = match (axes.len(), <[Dim; 3]>::try_from(dims.clone())) {
        (1, _) => Shape::Flat(dims.into_iter().next()?),
        (3, Ok(axes)) => Shape::Image(axes),
        (3, Err(_)) => return None,
        (found, _) => {
            let hint = match shape.positional().map(|a| a.text()).collect::<Vec<_>>()[..] {
                [ref h, ref w] => format!("; for one channel of {h} × {w}, write `(1, {h}, {w})`"),
                _ => String::new(),
            };
            errors.at(
                shape.span(),
                format!(
                    "an input shape has one axis, `(features)`, or three, `(channels, height, width)`; `{text}` has {found}{hint}"
                ),
            );
            return None;
        }
    };
    Some(Flowing {
        shape,
        source: Source::Input(text),
    })
}

fn after_loss(layer: &LayerDecl, kind: &LayerKind, first: &LayerDecl) -> Error {
    let message = if kind.is_loss {
        format!(
            "a second loss layer: this network already has `{}`, and a network has exactly one, at the end; remove one of them",
            describe(first)
        )
    } else {
        format!(
            "`{}` comes after the loss layer `{}`, which must be last; move it before the loss",
            describe(layer),
            describe(first)
        )
    };
    Error::new(layer.kind.span(), message)
}
