//! Validation: infer every width, and report every mistake at the token that makes it.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Ident};

use crate::ast::{Declaration, LayerDecl, WidthArg};
use crate::model::{DeferredCheck, Kind, Layer, Network, Width};

const KNOWN_LAYERS: [&str; 4] = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss"];

/// Checks a declaration; all mistakes found are returned together.
pub fn check(decl: Declaration) -> Result<Network, Error> {
    let mut errors = Errors::default();
    if decl.layers.is_empty() {
        errors.push(Error::new(
            decl.ident.span(),
            format!(
                "network `{}` has no layers; declare them between the braces, e.g. `Affine(784, 10) -> SoftmaxWithLoss`",
                decl.ident
            ),
        ));
        return Err(errors.into_error().expect("an error was just pushed"));
    }

    let mut layers: Vec<Layer> = Vec::new();
    let mut loss: Option<(Layer, &LayerDecl)> = None;
    let mut deferred = Vec::new();
    let mut names = Names::default();
    // The width flowing out of the previous layer, with that layer's description for
    // messages; `None` at the start, or after a mistake that leaves it unknown.
    let mut flowing: Option<(Width, String)> = None;

    for (index, layer) in decl.layers.iter().enumerate() {
        let position = index + 1;
        let Some(kind) = kind_of(layer, &mut names, &mut errors) else {
            flowing = None;
            continue;
        };
        let description = describe(layer);
        if let Some((_, first)) = &loss {
            errors.push(after_loss(layer, kind, first));
        }
        let widths = match kind {
            Kind::Affine { .. } => affine_widths(
                layer,
                flowing.as_ref(),
                position,
                &mut deferred,
                &mut errors,
            ),
            _ => activation_width(
                layer,
                kind,
                flowing.as_ref(),
                position,
                &mut deferred,
                &mut errors,
            )
            .map(|w| (w.clone(), w)),
        };
        let field = names.field(layer, kind, &mut errors);
        match widths {
            Some((input, output)) => {
                flowing = Some((output.clone(), description));
                let checked = Layer {
                    field,
                    kind,
                    input,
                    output,
                };
                if kind == Kind::SoftmaxWithLoss {
                    if loss.is_none() {
                        loss = Some((checked, layer));
                    }
                } else {
                    layers.push(checked);
                }
            }
            None => flowing = None,
        }
    }

    match (&loss, decl.layers.last()) {
        (None, Some(last)) if !errors.any() => errors.push(Error::new(
            decl.ident.span(),
            format!(
                "network `{}` must end with a loss layer: add `-> SoftmaxWithLoss` after `{}`",
                decl.ident,
                describe(last)
            ),
        )),
        (Some(_), _) if layers.is_empty() && !errors.any() => errors.push(Error::new(
            decl.ident.span(),
            format!(
                "network `{}` has nothing before its loss layer; add a layer that computes scores, e.g. `Affine(784, 10) -> SoftmaxWithLoss`",
                decl.ident
            ),
        )),
        _ => {}
    }

    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    let (loss, _) = loss.expect("a network without a loss layer was reported above");
    Ok(Network {
        attrs: decl.attrs,
        vis: decl.vis,
        ident: decl.ident,
        layers,
        loss,
        deferred,
    })
}

/// Several mistakes, reported together.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn any(&self) -> bool {
        self.0.is_some()
    }

    fn into_error(self) -> Option<Error> {
        self.0
    }
}

fn kind_of(layer: &LayerDecl, names: &mut Names, errors: &mut Errors) -> Option<Kind> {
    let kind = match layer.kind.to_string().as_str() {
        "Affine" => Kind::Affine {
            ordinal: names.next_affine(),
        },
        "Relu" => Kind::Relu,
        "Sigmoid" => Kind::Sigmoid,
        "SoftmaxWithLoss" => Kind::SoftmaxWithLoss,
        unknown => {
            let hint = match closest_known(unknown) {
                Some(known) => format!("did you mean `{known}`? "),
                None => String::new(),
            };
            errors.push(Error::new(
                layer.kind.span(),
                format!(
                    "unknown layer `{unknown}`; {hint}the layers are {}",
                    KNOWN_LAYERS.map(|k| format!("`{k}`")).join(", ")
                ),
            ));
            return None;
        }
    };
    Some(kind)
}

/// `Affine(inputs, outputs)`: both given, the input may be `_`.
fn affine_widths(
    layer: &LayerDecl,
    flowing: Option<&(Width, String)>,
    position: usize,
    deferred: &mut Vec<DeferredCheck>,
    errors: &mut Errors,
) -> Option<(Width, Width)> {
    let items = match &layer.args {
        Some(args) if args.items.len() == 2 => &args.items,
        _ => {
            errors.push(wrong_arity(layer, "`Affine(inputs, outputs)`, two widths"));
            return None;
        }
    };
    let output = width_of(&items[1], errors);
    let input = match &items[0] {
        WidthArg::Inferred(underscore) => match flowing {
            Some((width, _)) => Some(width.clone()),
            None if position == 1 => {
                errors.push(Error::new(
                    underscore.span(),
                    "`_` takes the width of the layer before, but this is the first layer: write the input width",
                ));
                None
            }
            None => None,
        },
        declared => {
            let input = width_of(declared, errors)?;
            if let Some(flowing) = flowing {
                agree(
                    flowing, &input, declared, layer, "takes", "inputs", deferred, errors,
                );
            }
            Some(input)
        }
    };
    Some((input?, output?))
}

/// `Relu`, `Relu(width)`, and the same for `Sigmoid` and `SoftmaxWithLoss`.
fn activation_width(
    layer: &LayerDecl,
    kind: Kind,
    flowing: Option<&(Width, String)>,
    position: usize,
    deferred: &mut Vec<DeferredCheck>,
    errors: &mut Errors,
) -> Option<Width> {
    let declared = match layer.args.as_ref().map(|a| a.items.as_slice()) {
        None | Some([]) => None,
        Some([width]) => Some(width),
        Some(_) => {
            let usage = format!("`{0}` or `{0}(width)`, at most one width", kind.name());
            errors.push(wrong_arity(layer, &usage));
            return None;
        }
    };
    match (declared, flowing) {
        (None, Some((width, _))) => Some(width.clone()),
        (None, None) if position == 1 => {
            errors.push(Error::new(
                layer.kind.span(),
                format!(
                    "the first layer has no layer before it to take its width from: write it, e.g. `{}(784)`",
                    kind.name()
                ),
            ));
            None
        }
        (None, None) => None,
        (Some(WidthArg::Inferred(underscore)), _) => {
            errors.push(Error::new(
                underscore.span(),
                format!(
                    "`_` is only for an `Affine` input; leave the width out instead: `{}`",
                    kind.name()
                ),
            ));
            None
        }
        (Some(arg), flowing) => {
            let width = width_of(arg, errors)?;
            if let Some(flowing) = flowing {
                agree(
                    flowing,
                    &width,
                    arg,
                    layer,
                    "is declared",
                    "wide",
                    deferred,
                    errors,
                );
            }
            Some(width)
        }
    }
}

/// Compares a declared width with the one flowing in: here when both are numbers,
/// otherwise through a check the compiler does.
#[allow(clippy::too_many_arguments)]
fn agree(
    (flowing, source): &(Width, String),
    declared: &Width,
    arg: &WidthArg,
    layer: &LayerDecl,
    verb: &str,
    noun: &str,
    deferred: &mut Vec<DeferredCheck>,
    errors: &mut Errors,
) {
    match flowing.same_as(declared) {
        Some(true) => {}
        Some(false) => errors.push(Error::new(
            arg_span(arg),
            format!(
                "`{}` {verb} {declared} {noun}, but the layer before it, `{source}`, gives {flowing}",
                describe(layer)
            ),
        )),
        None => deferred.push(DeferredCheck {
            flowing: flowing.clone(),
            declared: declared.clone(),
            span: arg_span(arg),
        }),
    }
}

fn width_of(arg: &WidthArg, errors: &mut Errors) -> Option<Width> {
    match arg {
        WidthArg::Literal(literal) => match literal.base10_parse::<u64>() {
            Ok(0) => {
                errors.push(Error::new(
                    literal.span(),
                    "a layer width must be at least 1, found 0",
                ));
                None
            }
            Ok(n) => Some(Width::Known(n)),
            Err(_) => {
                errors.push(Error::new(
                    literal.span(),
                    format!("a layer width must be a whole number that fits in `usize`, found `{literal}`"),
                ));
                None
            }
        },
        WidthArg::Named(path) => Some(Width::Named(path.clone())),
        WidthArg::Inferred(underscore) => {
            errors.push(Error::new(
                underscore.span(),
                "`_` can only stand for an `Affine` input width (the width flowing into it)",
            ));
            None
        }
        WidthArg::Invalid(tokens) => {
            let found = tokens.to_string();
            let message = if found.is_empty() {
                "expected a layer width here: an integer literal or the name of a constant"
                    .to_owned()
            } else {
                format!(
                    "a layer width must be an integer literal or the name of a constant, found `{found}`"
                )
            };
            errors.push(Error::new_spanned(tokens, message));
            None
        }
    }
}

fn arg_span(arg: &WidthArg) -> Span {
    match arg {
        WidthArg::Literal(literal) => literal.span(),
        WidthArg::Inferred(underscore) => underscore.span(),
        WidthArg::Named(path) => path.span(),
        WidthArg::Invalid(tokens) => tokens.span(),
    }
}

fn wrong_arity(layer: &LayerDecl, usage: &str) -> Error {
    let found = layer.args.as_ref().map_or(0, |a| a.items.len());
    let span = layer
        .args
        .as_ref()
        .map_or(layer.kind.span(), |a| a.paren.span.join());
    Error::new(
        span,
        format!(
            "wrong number of widths for `{}`: expected {usage}, found {found}",
            layer.kind
        ),
    )
}

fn after_loss(layer: &LayerDecl, kind: Kind, first: &LayerDecl) -> Error {
    let message = if kind == Kind::SoftmaxWithLoss {
        "a network has one loss layer, and `SoftmaxWithLoss` already ends this one; remove this second one".to_owned()
    } else {
        format!(
            "`{}` comes after the loss layer `{}`, which must be last; move it before the loss",
            describe(layer),
            describe(first)
        )
    };
    Error::new(layer.kind.span(), message)
}

/// The layer as written, for messages: `Affine(784, 50)`.
fn describe(layer: &LayerDecl) -> String {
    match &layer.args {
        None => layer.kind.to_string(),
        Some(args) => {
            let items: Vec<String> = args
                .items
                .iter()
                .map(|item| match item {
                    WidthArg::Literal(literal) => literal.to_string(),
                    WidthArg::Inferred(_) => "_".to_owned(),
                    WidthArg::Named(path) => path.to_token_stream().to_string().replace(' ', ""),
                    WidthArg::Invalid(tokens) => tokens.to_string(),
                })
                .collect();
            format!("{}({})", layer.kind, items.join(", "))
        }
    }
}

/// Field names: the user's, or the book's (`affine1`, `relu1`, …, `last_layer`).
#[derive(Default)]
struct Names {
    affines: usize,
    counts: HashMap<&'static str, usize>,
    /// Each name taken so far, with the layer that took it.
    taken: HashMap<String, String>,
}

impl Names {
    fn next_affine(&mut self) -> usize {
        self.affines += 1;
        self.affines
    }

    fn field(&mut self, layer: &LayerDecl, kind: Kind, errors: &mut Errors) -> Ident {
        let count = self.counts.entry(kind.name()).or_default();
        *count += 1;
        let field = match (&layer.field, kind) {
            (Some(name), _) => name.clone(),
            (None, Kind::SoftmaxWithLoss) => Ident::new("last_layer", layer.kind.span()),
            (None, _) => Ident::new(
                &format!("{}{count}", kind.name().to_lowercase()),
                layer.kind.span(),
            ),
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
                    "this layer's default field name `{field}` is already used by `{first}`; name one of them, e.g. `hidden: {description}`"
                )
            };
            errors.push(Error::new(span, message));
        }
        field
    }
}

/// The known layer closest to a misspelt one, if any is close enough to be a typo.
fn closest_known(unknown: &str) -> Option<&'static str> {
    let lower = unknown.to_lowercase();
    KNOWN_LAYERS
        .iter()
        .map(|&known| (edit_distance(&lower, &known.to_lowercase()), known))
        .filter(|&(distance, known)| distance <= (known.len() / 3).max(2))
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_case_but_not_strangers() {
        assert_eq!(closest_known("Relux"), Some("Relu"));
        assert_eq!(closest_known("relu"), Some("Relu"));
        assert_eq!(closest_known("Afine"), Some("Affine"));
        assert_eq!(closest_known("SoftmaxLoss"), Some("SoftmaxWithLoss"));
        assert_eq!(closest_known("Convolution"), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
