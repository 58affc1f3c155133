//! A layer's arguments against its table entry: how many widths, which keywords, and
//! values of the right kind and range.

use syn::Error;

use super::describe::describe;
use super::errors::Errors;
use super::rule::WidthSlot;
use super::suggest::closest;
use super::table::{KeywordKind, KeywordSpec, LayerKind};
use crate::ast::{Arg, ArgItem, Args, LayerDecl};
use crate::model::{InitValue, Resolved, Value};
use crate::shape::Dim;

/// The positional widths (`None` if their number is wrong, already reported) and the
/// checked keywords.
pub fn resolve(
    layer: &LayerDecl,
    kind: &LayerKind,
    errors: &mut Errors,
) -> (Option<Vec<WidthSlot>>, Resolved) {
    let resolved = match &layer.args {
        Some(args) => keywords(layer, args, kind, errors),
        None => Resolved::default(),
    };
    let given: Vec<&Arg> = layer.args.iter().flat_map(Args::positional).collect();
    let (least, most) = kind.positional;
    if given.len() < least || given.len() > most {
        errors.push(wrong_arity(layer, kind));
        return (None, resolved);
    }
    if !kind.positional_as.is_empty() {
        let mut resolved = resolved;
        for (arg, key) in given.into_iter().zip(kind.positional_as) {
            let spec = kind.keywords.iter().find(|spec| spec.key == *key);
            let spec = spec.expect("a positional keyword is one of the layer's keywords");
            if resolved.keyword(key).is_some() {
                errors.spanned(
                    arg,
                    format!(
                        "`{key}` is given twice in `{}`: here and by name; keep one",
                        describe(layer)
                    ),
                );
            } else if let Some(value) = keyword_value(spec, key, arg, errors) {
                resolved.keywords.push((spec.key, value));
            }
        }
        return (Some(Vec::new()), resolved);
    }
    let widths = given
        .into_iter()
        .enumerate()
        .map(|(index, arg)| match kind.positional_names.get(index) {
            Some(name) => size(arg, name, errors),
            None => width(arg, "a layer width", errors),
        })
        .collect();
    (Some(widths), resolved)
}

/// A positional argument that is a size, not a width (a filter's height): as
/// [`width`], but never `_`, which only stands for an `Affine` input.
fn size(arg: &Arg, name: &str, errors: &mut Errors) -> WidthSlot {
    match width(arg, name, errors) {
        WidthSlot::Inferred(span) => {
            let message = format!(
                "{name} cannot be inferred: write it; `_` only stands for an `Affine` input"
            );
            errors.at(span, message);
            WidthSlot::Invalid
        }
        slot => slot,
    }
}

/// A positional argument as a width: `_`, a number of at least 1, or a constant.
pub fn width(arg: &Arg, what: &str, errors: &mut Errors) -> WidthSlot {
    let message = match arg {
        Arg::Inferred(underscore) => return WidthSlot::Inferred(underscore.span),
        Arg::Named(path) => return WidthSlot::Given(Dim::named(path)),
        Arg::Int(literal) => match literal.base10_parse::<u64>() {
            Ok(_) if !matches!(literal.suffix(), "" | "usize") => format!(
                "{what} is a `usize`: write `{}` without the `{}` suffix",
                literal.base10_digits(),
                literal.suffix()
            ),
            Ok(0) => format!("{what} must be at least 1, found 0"),
            Ok(n) if usize::try_from(n).is_ok() => return WidthSlot::Given(Dim::Known(n)),
            _ => format!("{what} must fit in `usize`, found `{literal}`"),
        },
        Arg::Negative(_) => format!("{what} must be at least 1, found `{}`", arg.text()),
        Arg::Float(float) => {
            let whole = float
                .base10_parse::<f64>()
                .ok()
                .filter(|value| value.fract() == 0.0 && *value >= 1.0 && *value < 1e15);
            match whole {
                Some(value) => format!(
                    "{what} must be a whole number, found `{}`: write `{value}`",
                    arg.text()
                ),
                None => format!("{what} must be a whole number, found `{}`", arg.text()),
            }
        }
        Arg::Str(string) => match string.value().trim().parse::<u64>() {
            Ok(n) => {
                format!("{what} must be a number, not a string: write `{n}` without the quotes")
            }
            Err(_) => format!(
                "{what} must be an integer literal or the name of a constant, found the string `{}`",
                arg.text()
            ),
        },
        Arg::Bool(_) | Arg::Invalid(_) => {
            let found = arg.text();
            format!(
                "{what} must be an integer literal or the name of a constant, found `{found}`; for a computed width, declare a constant, e.g. `const WIDTH: usize = {found};`"
            )
        }
    };
    errors.spanned(arg, message);
    WidthSlot::Invalid
}

fn wrong_arity(layer: &LayerDecl, kind: &LayerKind) -> Error {
    let given = layer.args.as_ref().map_or(0, |a| a.positional().count());
    let found = match given {
        0 => "this one has none".to_owned(),
        n => format!("`{}` has {n}", describe(layer)),
    };
    let span = layer.args.as_ref().map_or(layer.kind.span(), Args::span);
    Error::new(
        span,
        format!(
            "`{}` takes {}, but {found}",
            layer.kind,
            (kind.usage)(kind.name)
        ),
    )
}

/// Keywords after the widths, each known to the layer, given once, with a valid value.
fn keywords(layer: &LayerDecl, args: &Args, kind: &LayerKind, errors: &mut Errors) -> Resolved {
    let mut resolved = Resolved::default();
    let mut seen_keyword = None;
    for item in &args.items {
        let keyword = match item {
            ArgItem::Keyword(keyword) => keyword,
            ArgItem::Positional(arg) => {
                if let Some(key) = &seen_keyword {
                    errors.at(
                        arg.span(),
                        format!(
                            "widths come before keyword arguments: move `{}` before `{key} = …`",
                            arg.text()
                        ),
                    );
                }
                continue;
            }
        };
        let key = keyword.key.to_string();
        seen_keyword.get_or_insert(key.clone());
        let Some(spec) = kind.keywords.iter().find(|spec| spec.key == key) else {
            errors.at(keyword.key.span(), unknown_keyword(layer, kind, &key));
            continue;
        };
        if resolved.keyword(spec.key).is_some() {
            errors.at(
                keyword.key.span(),
                format!("`{key}` is given twice in `{}`; keep one", describe(layer)),
            );
            continue;
        }
        if let Some(value) = keyword_value(spec, &key, &keyword.value, errors) {
            resolved.keywords.push((spec.key, value));
        }
    }
    resolved
}

/// A keyword's value, checked against its kind.
fn keyword_value(spec: &KeywordSpec, key: &str, value: &Arg, errors: &mut Errors) -> Option<Value> {
    match spec.kind {
        KeywordKind::Init => init(value, errors).map(Value::Init),
        KeywordKind::Count => whole(key, value, 1, errors).map(Value::Count),
        KeywordKind::Whole => whole(key, value, 0, errors).map(Value::Count),
        KeywordKind::Flag => match value {
            Arg::Bool(flag) => Some(Value::Flag(flag.value)),
            _ => {
                let message = format!("`{key}` takes `true` or `false`, found `{}`", value.text());
                errors.spanned(value, message);
                None
            }
        },
        KeywordKind::Ratio(meaning) => {
            let range = "a number in [0, 1)";
            number(
                key,
                value,
                meaning,
                range,
                |v| (0.0..1.0).contains(&v),
                errors,
            )
        }
        KeywordKind::Fraction(meaning) => {
            let range = "a number in [0, 1]";
            number(
                key,
                value,
                meaning,
                range,
                |v| (0.0..=1.0).contains(&v),
                errors,
            )
        }
        KeywordKind::Positive(meaning) => {
            let range = "a finite number above 0";
            number(
                key,
                value,
                meaning,
                range,
                |v| v.is_finite() && v > 0.0,
                errors,
            )
        }
    }
}

/// A number literal in the range `ok` accepts.
fn number(
    key: &str,
    value: &Arg,
    meaning: &str,
    range: &str,
    ok: impl Fn(f64) -> bool,
    errors: &mut Errors,
) -> Option<Value> {
    let parsed = match value {
        Arg::Float(_) | Arg::Int(_) | Arg::Negative(_) => value
            .text()
            .trim_end_matches("f64")
            .trim_end_matches("f32")
            .parse::<f64>()
            .ok(),
        _ => None,
    };
    let message = match parsed {
        Some(v) if ok(v) => return Some(Value::Number(v)),
        Some(_) => format!(
            "`{key}`, {meaning}, must be {range}, found `{}`",
            value.text()
        ),
        None => format!(
            "`{key}`, {meaning}, takes {range}, found `{}`",
            value.text()
        ),
    };
    errors.spanned(value, message);
    None
}

fn unknown_keyword(layer: &LayerDecl, kind: &LayerKind, key: &str) -> String {
    if kind.keywords.is_empty() {
        return format!("`{}` takes no keyword arguments, found `{key}`", layer.kind);
    }
    let known = kind.keywords.iter().map(|spec| spec.key);
    let hint = match closest(key, known.clone()) {
        Some(near) => format!("did you mean `{near}`? "),
        None => String::new(),
    };
    let list: Vec<String> = known.map(|k| format!("`{k}`")).collect();
    let keywords = match list.as_slice() {
        [only] => format!("its only keyword is {only}"),
        all => format!("its keywords are {}", all.join(", ")),
    };
    format!("`{}` has no keyword `{key}`; {hint}{keywords}", layer.kind)
}

/// `init = He`, `init = Xavier`, or `init = 0.01` (a positive, finite std).
fn init(value: &Arg, errors: &mut Errors) -> Option<InitValue> {
    const EXPECTED: &str = "`He`, `Xavier`, or a standard deviation such as `0.01`";
    let choices = ["He", "Xavier"];
    let std = |text: String| match text.parse::<f64>() {
        Ok(std) if std.is_finite() && std > 0.0 => Ok(std),
        _ => Err(format!(
            "`init` takes {EXPECTED}; a standard deviation must be positive and finite, found `{text}`"
        )),
    };
    let outcome = match value {
        Arg::Named(path) => match path.get_ident().map(ToString::to_string) {
            Some(name) if name == "He" => Ok(InitValue::He),
            Some(name) if name == "Xavier" => Ok(InitValue::Xavier),
            Some(name) => Err(match closest(&name, choices.into_iter()) {
                Some(near) => format!("`init` takes {EXPECTED}; did you mean `{near}`?"),
                None => format!("`init` takes {EXPECTED}, found `{name}`"),
            }),
            None => Err(format!("`init` takes {EXPECTED}, found `{}`", value.text())),
        },
        Arg::Float(float) => std(float.base10_digits().to_owned()).map(InitValue::Std),
        Arg::Int(int) => std(int.base10_digits().to_owned()).map(InitValue::Std),
        Arg::Negative(_) => std(value.text()).map(InitValue::Std),
        Arg::Str(string) => {
            let text = string.value();
            Err(
                match choices.into_iter().find(|c| c.eq_ignore_ascii_case(&text)) {
                    Some(choice) => format!("`init` takes a name, not a string: write `{choice}`"),
                    None => format!(
                        "`init` takes {EXPECTED}, found the string `{}`",
                        value.text()
                    ),
                },
            )
        }
        _ => Err(format!("`init` takes {EXPECTED}, found `{}`", value.text())),
    };
    outcome
        .map_err(|message| errors.spanned(value, message))
        .ok()
}

/// A whole number of at least `least`: a stride (1), a padding (0).
fn whole(key: &str, value: &Arg, least: u64, errors: &mut Errors) -> Option<u64> {
    let message = match value {
        Arg::Int(int) => match int.base10_parse::<u64>() {
            Ok(n) if n >= least && int.suffix().is_empty() => return Some(n),
            Ok(n) if n < least => format!("`{key}` must be at least {least}, found {n}"),
            _ => format!(
                "`{key}` takes a whole number such as `2`, found `{}`",
                value.text()
            ),
        },
        Arg::Negative(_) => format!(
            "`{key}` takes a whole number of at least {least}, found `{}`",
            value.text()
        ),
        _ => format!(
            "`{key}` takes a whole number such as `2`, found `{}`",
            value.text()
        ),
    };
    errors.spanned(value, message);
    None
}
