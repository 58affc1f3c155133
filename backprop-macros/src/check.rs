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
    let Some(last) = decl.layers.last() else {
        return Err(Error::new(
            decl.ident.span(),
            format!(
                "network `{}` has no layers; declare them between the braces, e.g. `Affine(784, 10) -> SoftmaxWithLoss`",
                decl.ident
            ),
        ));
    };
    let mut errors = Errors::default();
    let mut layers: Vec<Layer> = Vec::new();
    let mut loss: Option<Layer> = None;
    // The first loss layer as written, once seen, whether or not its width is known:
    // every layer after it is a mistake.
    let mut first_loss: Option<&LayerDecl> = None;
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
        if let Some(first) = first_loss {
            errors.push(after_loss(layer, kind, first));
            if kind == Kind::SoftmaxWithLoss {
                // Its field name would clash with the first loss's: one message is enough.
                continue;
            }
        }
        let description = describe(layer);
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
        if kind == Kind::SoftmaxWithLoss {
            first_loss = Some(layer);
        }
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
                    loss = Some(checked);
                } else {
                    layers.push(checked);
                }
            }
            None => flowing = None,
        }
    }

    // A misspelt last layer may be the loss itself: its own message says so.
    let last_is_known = KNOWN_LAYERS.contains(&last.kind.to_string().as_str());
    if first_loss.is_none() && last_is_known {
        let message = format!(
            "network `{}` must end with a loss layer: add `-> SoftmaxWithLoss` after `{}`",
            decl.ident,
            describe(last)
        );
        errors.push(Error::new(last.kind.span(), message));
    } else if first_loss.is_some() && layers.is_empty() && !errors.any() {
        let message = format!(
            "network `{}` has nothing before its loss layer; add a layer that computes scores, e.g. `Affine(784, 10) -> SoftmaxWithLoss`",
            decl.ident
        );
        errors.push(Error::new(decl.ident.span(), message));
    }

    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    let loss = loss.expect("a network without a loss layer was reported above");
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
            errors.push(wrong_arity(layer, "two widths, `Affine(inputs, outputs)`"));
            return None;
        }
    };
    let output = match &items[1] {
        WidthArg::Inferred(underscore) => {
            errors.push(Error::new(
                underscore.span(),
                "the output width of an `Affine` layer cannot be inferred: write it; `_` only stands for an `Affine` input, the width of the layer before",
            ));
            None
        }
        declared => width_of(declared, errors),
    };
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
                let mismatch = Mismatch {
                    layer,
                    arg: declared,
                    claim: |width| format!("takes {width} inputs"),
                    fixes: [
                        describe_replacing(layer, 0, &flowing.0.to_string()),
                        describe_replacing(layer, 0, "_"),
                    ],
                };
                agree(flowing, &input, &mismatch, deferred, errors);
            }
            Some(input)
        }
    };
    Some((input?, output?))
}

/// `Relu`, `Relu(width)`, and the same for `Sigmoid` and `SoftmaxWithLoss`.
///
/// An activation keeps the width it is given, so a declared width only restates it;
/// the width that flows on is the one that came in.
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
            let usage = format!("at most one width, `{0}` or `{0}(width)`", kind.name());
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
        (Some(arg), None) => width_of(arg, errors),
        (Some(arg), Some(flowing)) => {
            let declared = width_of(arg, errors)?;
            let mismatch = Mismatch {
                layer,
                arg,
                claim: |width| format!("is declared {width} wide"),
                fixes: [
                    kind.name().to_owned(),
                    format!("{}({})", kind.name(), flowing.0),
                ],
            };
            match agree(flowing, &declared, &mismatch, deferred, errors) {
                // Which of the two is meant is unclear; the layers after are not judged
                // against either guess.
                Agreement::Differ => None,
                Agreement::Same | Agreement::Deferred => Some(flowing.0.clone()),
            }
        }
    }
}

/// A declared width to compare with the one flowing into its layer, and how to word
/// the message if they differ.
struct Mismatch<'a> {
    layer: &'a LayerDecl,
    arg: &'a WidthArg,
    /// What the layer claims, given the declared width as text: `takes 40 inputs`.
    claim: fn(&str) -> String,
    /// Two ways to write the layer so that it agrees.
    fixes: [String; 2],
}

enum Agreement {
    Same,
    Differ,
    /// Left to the compiler, which knows the constants' values.
    Deferred,
}

/// Compares a declared width with the one flowing in: here when both are numbers,
/// otherwise through a check the compiler does, with the same message.
fn agree(
    (flowing, source): &(Width, String),
    declared: &Width,
    mismatch: &Mismatch<'_>,
    deferred: &mut Vec<DeferredCheck>,
    errors: &mut Errors,
) -> Agreement {
    let message = |declared: &str, flowing: &str| {
        let [first, second] = &mismatch.fixes;
        format!(
            "`{}` {}, but the layer before it, `{source}`, gives {flowing}: write `{first}` or `{second}`, or change the layer before",
            describe(mismatch.layer),
            (mismatch.claim)(declared),
        )
    };
    match flowing.same_as(declared) {
        Some(true) => Agreement::Same,
        Some(false) => {
            errors.push(Error::new(
                arg_span(mismatch.arg),
                message(&declared.to_string(), &flowing.to_string()),
            ));
            Agreement::Differ
        }
        None => {
            // The compiler fills in `{DECLARED}` and `{FLOWING}` with the values.
            let message = message(
                &valued(declared, "{DECLARED}"),
                &valued(flowing, "{FLOWING}"),
            );
            deferred.push(DeferredCheck {
                flowing: flowing.clone(),
                declared: declared.clone(),
                span: arg_span(mismatch.arg),
                message: escape_braces_except(&message, &["{DECLARED}", "{FLOWING}"]),
                label: "{DECLARED} here, but {FLOWING} come from the layer before".to_owned(),
            });
            Agreement::Deferred
        }
    }
}

/// A width as text for a message the compiler completes: `` `HIDDEN` = {DECLARED} ``.
fn valued(width: &Width, placeholder: &str) -> String {
    match width {
        Width::Known(n) => n.to_string(),
        Width::Named(_) => format!("`{width}` = {placeholder}"),
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

fn width_of(arg: &WidthArg, errors: &mut Errors) -> Option<Width> {
    let error = match arg {
        WidthArg::Named(path) => return Some(Width::Named(path.clone())),
        WidthArg::Literal(literal) => match literal.base10_parse::<u64>() {
            Ok(_) if !matches!(literal.suffix(), "" | "usize") => Error::new(
                literal.span(),
                format!(
                    "a layer width is a `usize`: write `{}` without the `{}` suffix",
                    literal.base10_digits(),
                    literal.suffix()
                ),
            ),
            Ok(0) => Error::new(literal.span(), "a layer width must be at least 1, found 0"),
            Ok(n) => return Some(Width::Known(n)),
            Err(_) => Error::new(
                literal.span(),
                format!("a layer width must fit in `usize`, found `{literal}`"),
            ),
        },
        WidthArg::Inferred(underscore) => Error::new(
            underscore.span(),
            "`_` can only stand for an `Affine` input width, the width of the layer before",
        ),
        WidthArg::Invalid(tokens) => Error::new_spanned(tokens, invalid_width_message(tokens)),
    };
    errors.push(error);
    None
}

/// Why tokens are not a width, with the fix when there is an obvious one.
fn invalid_width_message(tokens: &proc_macro2::TokenStream) -> String {
    let found = tokens.to_string();
    if let Some(rest) = found.strip_prefix('-') {
        return format!("a layer width must be at least 1, found `-{}`", rest.trim());
    }
    if let Ok(float) = syn::parse2::<syn::LitFloat>(tokens.clone()) {
        let whole = float
            .base10_parse::<f64>()
            .ok()
            .filter(|value| value.fract() == 0.0 && *value >= 1.0 && *value < 1e15);
        return match whole {
            Some(value) => {
                format!("a layer width must be a whole number, found `{found}`: write `{value}`")
            }
            None => format!("a layer width must be a whole number, found `{found}`"),
        };
    }
    if let Ok(string) = syn::parse2::<syn::LitStr>(tokens.clone()) {
        let value = string.value();
        return match value.trim().parse::<u64>() {
            Ok(n) => format!(
                "a layer width must be a number, not a string: write `{n}` without the quotes"
            ),
            Err(_) => format!(
                "a layer width must be an integer literal or the name of a constant, found the string `{found}`"
            ),
        };
    }
    format!(
        "a layer width must be an integer literal or the name of a constant, found `{found}`; for a computed width, declare a constant, e.g. `const WIDTH: usize = {found};`"
    )
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
    let found = match layer.args.as_ref().map_or(0, |a| a.items.len()) {
        0 => "this one has none".to_owned(),
        n => format!("`{}` has {n}", describe(layer)),
    };
    let span = layer
        .args
        .as_ref()
        .map_or(layer.kind.span(), |a| a.paren.span.join());
    Error::new(span, format!("`{}` takes {usage}, but {found}", layer.kind))
}

fn after_loss(layer: &LayerDecl, kind: Kind, first: &LayerDecl) -> Error {
    let message = if kind == Kind::SoftmaxWithLoss {
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

/// The layer as written, for messages: `Affine(784, 50)`.
fn describe(layer: &LayerDecl) -> String {
    describe_replacing(layer, usize::MAX, "")
}

/// The layer as written, with argument `index` replaced: `Affine(50, 10)`.
fn describe_replacing(layer: &LayerDecl, index: usize, replacement: &str) -> String {
    match &layer.args {
        None => layer.kind.to_string(),
        Some(args) => {
            let items: Vec<String> = args
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    _ if i == index => replacement.to_owned(),
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
            let example = match kind {
                Kind::Affine { .. } => "hidden",
                Kind::SoftmaxWithLoss => "loss",
                Kind::Relu | Kind::Sigmoid => "activation",
            };
            let message = if layer.field.is_some() {
                format!(
                    "field name `{field}` is already used by `{first}`; give this layer another name"
                )
            } else {
                format!(
                    "this layer's default field name `{field}` is already used by `{first}`; name one of them, e.g. `{example}: {description}`"
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
    fn diagnostic_messages_keep_placeholders_and_escape_user_braces() {
        assert_eq!(
            escape_braces_except("`m::<{2}>::W` = {DECLARED}", &["{DECLARED}"]),
            "`m::<{{2}}>::W` = {DECLARED}"
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
