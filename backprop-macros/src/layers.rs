//! The table of layer kinds: the one file of the macro that names a layer.
//!
//! Each entry says how the layer is written (positional and keyword arguments), how it
//! maps the shape flowing in to the shape flowing out and which conditions the shapes
//! must meet (through [`Rule`]), what its parameters and state are called, its fan-in,
//! and which runtime type and configuration implement it. Adding a layer is one entry
//! here and one file in the runtime's `layers/` (see `docs/adding-a-layer.md`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::check::rule::{Agreement, Condition, Relation, Rule, WidthSlot, valued};
use crate::model::{InitValue, Resolved, Value};
use crate::shape::{Dim, Shape};

/// One kind of layer.
pub struct LayerKind {
    pub name: &'static str,
    /// Whether it is the loss at the end of the chain.
    pub is_loss: bool,
    /// What the positional arguments are, for messages: `two widths, `Affine(inputs, outputs)``.
    pub usage: fn(&str) -> String,
    /// How many positional arguments it takes, at least and at most.
    pub positional: (usize, usize),
    /// For a layer whose positional arguments are not widths, the keywords they give in
    /// order: `Dropout(0.3)` is `Dropout(ratio = 0.3)`.
    pub positional_as: &'static [&'static str],
    pub keywords: &'static [KeywordSpec],
    /// Checks the arguments against the shape flowing in; returns the layer's input
    /// and output shapes, or `None` after reporting why they are unknown.
    pub shape: fn(&mut Rule<'_>) -> Option<(Shape, Shape)>,
    /// Default field names: `affine1`, `relu2`, or one fixed name.
    pub field: DefaultField,
    /// A name to suggest when the user must name the layer.
    pub example_field: &'static str,
    /// Learned tensors, in the order the runtime layer visits them.
    pub parameters: &'static [TensorSpec],
    /// Persistent state that is not learned, in visiting order.
    pub state: &'static [TensorSpec],
    /// Which count numbers the names of the parameters and state.
    pub counter: Counter,
    /// Inputs per output unit, for the initialisation's standard deviation.
    pub fan_in: fn(&Shape) -> Dim,
    /// The runtime type (in `backprop::layers`) and its const generic arguments.
    pub runtime_type: &'static str,
    pub generics: fn(&Shape, &Shape, &Resolved) -> Vec<Dim>,
    /// The runtime configuration built from the arguments (under `backprop::layers`).
    pub config: fn(&TokenStream, &Resolved) -> TokenStream,
}

pub enum DefaultField {
    /// The lower-case prefix, numbered per kind: `affine1`, `affine2`.
    Numbered(&'static str),
    Fixed(&'static str),
}

pub enum Counter {
    /// Counted over every layer with weights, as the book's `W1`, `W2`, ….
    Weights,
    /// Counted over layers of this kind only, as the book's `gamma1`.
    OwnKind,
}

/// A learned or persistent tensor: its name before the number, and its rank.
pub struct TensorSpec {
    pub prefix: &'static str,
    pub rank: usize,
}

/// A keyword argument.
pub struct KeywordSpec {
    pub key: &'static str,
    pub kind: KeywordKind,
}

/// What a keyword's value may be.
pub enum KeywordKind {
    /// `He`, `Xavier`, or a positive, finite standard deviation.
    Init,
    /// A whole number of at least 1.
    Count,
    /// `true` or `false`.
    Flag,
    /// A number in `[0, 1)`, with what it is for the message.
    Ratio(&'static str),
    /// A number in `[0, 1]`.
    Fraction(&'static str),
    /// A finite number above 0.
    Positive(&'static str),
}

/// How a chain is written, for messages.
pub const EXAMPLE_CHAIN: &str = "Affine(784, 50) -> Relu";
/// The loss a chain usually ends with, for messages.
pub const EXAMPLE_LOSS: &str = "SoftmaxWithLoss";
/// The smallest network, for messages.
pub const EXAMPLE_NETWORK: &str = "Affine(784, 10) -> SoftmaxWithLoss";
/// The layer whose input `_` may stand for.
const INFERABLE: &str = "Affine";

pub fn find(name: &str) -> Option<&'static LayerKind> {
    TABLE.iter().find(|kind| kind.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|kind| kind.name)
}

static TABLE: [LayerKind; 8] = [
    LayerKind {
        name: "Affine",
        is_loss: false,
        usage: |_| "two widths, `Affine(inputs, outputs)`".to_owned(),
        positional: (2, 2),
        positional_as: &[],
        keywords: &[KeywordSpec {
            key: "init",
            kind: KeywordKind::Init,
        }],
        shape: affine_shape,
        field: DefaultField::Numbered("affine"),
        example_field: "hidden",
        parameters: &[
            TensorSpec {
                prefix: "W",
                rank: 2,
            },
            TensorSpec {
                prefix: "b",
                rank: 1,
            },
        ],
        state: &[],
        counter: Counter::Weights,
        fan_in: Shape::width,
        runtime_type: "Affine",
        generics: |input, output, _| vec![input.width(), output.width()],
        config: |layers, args| {
            let init = match args.keyword("init") {
                Some(Value::Init(init)) => {
                    let init = init_tokens(init);
                    quote!(::core::option::Option::Some(#init))
                }
                _ => quote!(::core::option::Option::None),
            };
            quote!(#layers::AffineConfig { init: #init })
        },
    },
    activation("Relu", "relu"),
    activation("Sigmoid", "sigmoid"),
    activation("Tanh", "tanh"),
    LayerKind {
        name: "Pooling",
        is_loss: false,
        usage: |_| "a window's height and width, `Pooling(2, 2, stride = 2)`".to_owned(),
        positional: (2, 2),
        positional_as: &[],
        keywords: &[KeywordSpec {
            key: "stride",
            kind: KeywordKind::Count,
        }],
        shape: pooling_shape,
        field: DefaultField::Numbered("pool"),
        example_field: "pool",
        parameters: &[],
        state: &[],
        counter: Counter::OwnKind,
        fan_in: Shape::width,
        runtime_type: "Pooling",
        generics: |input, _, args| {
            let mut generics: Vec<Dim> = input.axes().into_iter().cloned().collect();
            generics.extend(args.positional.iter().flatten().cloned());
            generics.push(Dim::Known(stride(args.keyword("stride"))));
            generics
        },
        config: |_, _| quote!(()),
    },
    LayerKind {
        usage: |_| "at most one number, the ratio dropped, `Dropout` or `Dropout(0.5)`".to_owned(),
        positional_as: &["ratio"],
        keywords: &[
            KeywordSpec {
                key: "ratio",
                kind: KeywordKind::Ratio("the share of units dropped in training"),
            },
            KeywordSpec {
                key: "inverted",
                kind: KeywordKind::Flag,
            },
        ],
        example_field: "dropout",
        config: |layers, args| {
            let ratio = number(args, "ratio", 0.5);
            let inverted = matches!(args.keyword("inverted"), Some(Value::Flag(true)));
            quote!(#layers::DropoutConfig { ratio: #ratio, inverted: #inverted })
        },
        ..activation("Dropout", "dropout")
    },
    LayerKind {
        keywords: &[
            KeywordSpec {
                key: "momentum",
                kind: KeywordKind::Fraction("how much of the running statistics each step keeps"),
            },
            KeywordSpec {
                key: "eps",
                kind: KeywordKind::Positive("added to the variance under the square root"),
            },
        ],
        example_field: "norm",
        parameters: &[
            TensorSpec {
                prefix: "gamma",
                rank: 1,
            },
            TensorSpec {
                prefix: "beta",
                rank: 1,
            },
        ],
        state: &[
            TensorSpec {
                prefix: "running_mean",
                rank: 1,
            },
            TensorSpec {
                prefix: "running_var",
                rank: 1,
            },
        ],
        config: |layers, args| {
            let (momentum, eps) = (number(args, "momentum", 0.9), number(args, "eps", 1e-6));
            quote!(#layers::BatchNormConfig { momentum: #momentum, eps: #eps })
        },
        ..activation("BatchNorm", "batchnorm")
    },
    LayerKind {
        is_loss: true,
        field: DefaultField::Fixed("last_layer"),
        example_field: "loss",
        ..activation("SoftmaxWithLoss", "")
    },
];

/// A layer that keeps the shape it is given and learns nothing.
const fn activation(name: &'static str, field: &'static str) -> LayerKind {
    LayerKind {
        name,
        is_loss: false,
        usage: |name| format!("at most one width, `{name}` or `{name}(width)`"),
        positional: (0, 1),
        positional_as: &[],
        keywords: &[],
        shape: same_shape,
        field: DefaultField::Numbered(field),
        example_field: "activation",
        parameters: &[],
        state: &[],
        counter: Counter::OwnKind,
        fan_in: Shape::width,
        runtime_type: name,
        generics: |_, output, _| vec![output.width()],
        config: |_, _| quote!(()),
    }
}

/// Keyword `key`'s number, or `default`.
fn number(args: &Resolved, key: &str, default: f64) -> f64 {
    match args.keyword(key) {
        Some(Value::Number(value)) => *value,
        _ => default,
    }
}

/// A dimension in a message: `28`, or `` `SIDE` ``.
fn quoted(dim: &Dim) -> String {
    match dim {
        Dim::Known(n) => n.to_string(),
        Dim::Deferred { .. } => format!("`{dim}`"),
    }
}

/// A pooling layer's `stride`: the book's default is 1.
fn stride(keyword: Option<&Value>) -> u64 {
    match keyword {
        Some(Value::Count(stride)) => *stride,
        _ => 1,
    }
}

fn init_tokens(init: &InitValue) -> TokenStream {
    match init {
        InitValue::He => quote!(::backprop::WeightInit::He),
        InitValue::Xavier => quote!(::backprop::WeightInit::Xavier),
        InitValue::Std(std) => quote!(::backprop::WeightInit::Std(#std)),
    }
}

/// `Affine(inputs, outputs)`: both given, the input may be `_`; a three-axis shape
/// flowing in is flattened, as the book's Affine does.
fn affine_shape(rule: &mut Rule<'_>) -> Option<(Shape, Shape)> {
    let output = match rule.width(1) {
        WidthSlot::Inferred(span) => {
            rule.error(
                span,
                "the output width of an `Affine` layer cannot be inferred: write it; `_` only stands for an `Affine` input, the width of the layer before",
            );
            None
        }
        WidthSlot::Given(width) => Some(width),
        WidthSlot::Absent | WidthSlot::Invalid => None,
    };
    let input = match rule.width(0) {
        WidthSlot::Inferred(span) => match rule.flowing() {
            Some(shape) => Some(shape),
            None if rule.is_first() => {
                rule.error(
                    span,
                    "`_` takes the width of the layer before, but this is the first layer: write the input width",
                );
                None
            }
            None => None,
        },
        WidthSlot::Given(declared) => match rule.flowing() {
            Some(flowing) => {
                let fixes = [
                    rule.describe_replacing(0, &flowing.width().to_string()),
                    rule.describe_replacing(0, "_"),
                ];
                let claim = |width: &str| format!("takes {width} inputs");
                rule.require_flowing(0, &declared, claim, fixes);
                Some(flowing)
            }
            None => Some(Shape::Flat(declared)),
        },
        WidthSlot::Absent | WidthSlot::Invalid => None,
    };
    Some((input?, Shape::Flat(output?)))
}

/// `Relu` or `Relu(width)`, and the same for every layer that keeps its shape: a
/// declared width only restates the width flowing in.
fn same_shape(rule: &mut Rule<'_>) -> Option<(Shape, Shape)> {
    let name = rule.name();
    match (rule.width(0), rule.flowing()) {
        (WidthSlot::Absent, Some(shape)) => Some((shape.clone(), shape)),
        (WidthSlot::Absent, None) if rule.is_first() => {
            let message = if rule.takes_widths() {
                format!(
                    "the first layer has no layer before it to take its width from: write it, e.g. `{name}(784)`, or declare the network's input shape, e.g. `struct Net(784) {{ … }}`"
                )
            } else {
                format!(
                    "`{name}` is the first layer, with no layer before it to take its width from: declare the network's input shape, e.g. `struct Net(784) {{ … }}`"
                )
            };
            rule.error(rule.kind_span(), message);
            None
        }
        (WidthSlot::Inferred(span), _) => {
            let message = format!(
                "`_` is only for an `{INFERABLE}` input; leave the width out instead: `{name}`"
            );
            rule.error(span, message);
            None
        }
        (WidthSlot::Given(width), None) => Some((Shape::Flat(width.clone()), Shape::Flat(width))),
        (WidthSlot::Given(declared), Some(flowing)) => {
            let fixes = [name.to_owned(), format!("{name}({})", flowing.width())];
            let claim = |width: &str| format!("is declared {width} wide");
            match rule.require_flowing(0, &declared, claim, fixes) {
                // Which of the two is meant is unclear; the layers after are not judged
                // against either guess.
                Agreement::Differ => None,
                Agreement::Same | Agreement::Deferred => Some((flowing.clone(), flowing)),
            }
        }
        (WidthSlot::Absent | WidthSlot::Invalid, _) => None,
    }
}

/// `Pooling(height, width, stride = s)`: max over windows of each channel of a
/// channels × height × width shape. Each window must fit, and the stride must tile the
/// rest exactly, or some rows or columns would never be pooled.
fn pooling_shape(rule: &mut Rule<'_>) -> Option<(Shape, Shape)> {
    let mut window = [None, None];
    for (index, size) in window.iter_mut().enumerate() {
        *size = match rule.width(index) {
            WidthSlot::Given(dim) => Some(dim),
            WidthSlot::Inferred(span) => {
                rule.error(
                    span,
                    "a pooling window cannot be inferred: write its height and width",
                );
                None
            }
            WidthSlot::Absent | WidthSlot::Invalid => None,
        };
    }
    let [Some(height), Some(width)] = window else {
        return None;
    };
    let stride = stride(rule.keyword("stride"));
    let layer = rule.describe();
    let Some(Shape::Image([channels, rows, columns])) = rule.flowing() else {
        let message = match rule.flowing() {
            Some(flat) => {
                let (source, _) = rule.source();
                format!(
                    "`{layer}` pools images, channels × height × width, but {source} gives {} flat features; pool before flattening, or declare the network's input as an image, e.g. `struct Net(1, 28, 28) {{ … }}`",
                    flat.width()
                )
            }
            None if rule.is_first() => format!(
                "`{layer}` pools images, but nothing declares their shape: declare the network's input, e.g. `struct Net(1, 28, 28) {{ … }}`"
            ),
            None => return None,
        };
        rule.error(rule.kind_span(), message);
        return None;
    };
    let (source, change) = rule.source();
    let mut fits = true;
    for (index, (size, extent, axis)) in [(&height, &rows, "high"), (&width, &columns, "wide")]
        .into_iter()
        .enumerate()
    {
        let condition = Condition {
            relation: Relation::AtMost,
            left: size.clone(),
            right: extent.clone(),
            right_text: valued(extent, "{B}"),
            span: rule.arg_span(index),
            label: format!("a window {{A}} {axis}, on images {{B}} {axis}"),
        };
        let agreement = rule.require(condition, |size, extent| {
            format!(
                "`{layer}` has a window {size} {axis}, but {source} gives images only {extent} {axis}: use a window of at most {extent}, or change {change}"
            )
        });
        fits &= !matches!(agreement, Agreement::Differ);
    }
    if !fits {
        return None;
    }
    let mut tiles = true;
    for (index, (size, extent, axis)) in [(&height, &rows, "rows"), (&width, &columns, "columns")]
        .into_iter()
        .enumerate()
    {
        let room = extent.minus(size);
        let condition = Condition {
            relation: Relation::MultipleOf,
            left: room.clone(),
            right: Dim::Known(stride),
            right_text: stride.to_string(),
            span: rule.arg_span(index),
            label: format!("{{A}} {axis} to move over, not a multiple of the stride {{B}}"),
        };
        let (size, extent) = (quoted(size), quoted(extent));
        let agreement = rule.require(condition, |room, stride| {
            format!(
                "`{layer}` moves its window of {size} {axis} by {stride}, but {source} gives {extent} {axis}, which leaves {room} to move over, not a multiple of {stride}: choose a stride that divides {room}, another window, or change {change}"
            )
        });
        tiles &= !matches!(agreement, Agreement::Differ);
    }
    if !tiles {
        return None;
    }
    let output = [
        channels.clone(),
        rows.windows(&height, stride),
        columns.windows(&width, stride),
    ];
    Some((
        Shape::Image([channels, rows, columns]),
        Shape::Image(output),
    ))
}
