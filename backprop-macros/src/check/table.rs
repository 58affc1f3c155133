//! The table of layer kinds: the one file of the macro that names a layer.
//!
//! Each entry says how the layer is written (positional and keyword arguments), how it
//! maps the shape flowing in to the shape flowing out and which conditions the shapes
//! must meet (through [`Rule`]), what its parameters and state are called, its fan-in,
//! and which runtime type and configuration implement it. Adding a layer is one entry
//! here and one file in the runtime's `layers/` (see `docs/adding-a-layer.md`).

use proc_macro2::TokenStream;
use quote::quote;

use super::rule::{Agreement, Condition, Rule, WidthSlot, valued};
use super::window::{self, Window};
use crate::model::{InitValue, Relation, Resolved, Value};
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
    /// What each positional argument is, for messages (`the filter count`); a layer
    /// width when not named here.
    pub positional_names: &'static [&'static str],
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
    pub fan_in: fn(&Shape, &Resolved) -> Dim,
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
    /// A whole number of at least 0.
    Whole,
    /// `true` or `false`.
    Flag,
    /// A number in `[0, 1)`, with what it is for the message.
    Ratio(&'static str),
    /// A number in `[0, 1]`.
    Fraction(&'static str),
    /// A finite number above 0.
    Positive(&'static str),
}

/// The layer whose input `_` may stand for.
const INFERABLE: &str = "Affine";

pub fn find(name: &str) -> Option<&'static LayerKind> {
    TABLE.iter().find(|kind| kind.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|kind| kind.name)
}

/// Names other frameworks give our layers, with what to write instead: a user coming
/// from them writes these first, and no edit distance leads from `Linear` to `Affine`.
pub static OTHER_NAMES: [(&str, &str); 14] = [
    (
        "Linear",
        "`Linear` is PyTorch's and candle's name for the book's `Affine`",
    ),
    ("Dense", "`Dense` is Keras' name for the book's `Affine`"),
    (
        "ReLU",
        "`ReLU` is PyTorch's and Keras' spelling of the book's `Relu`",
    ),
    (
        "Conv2d",
        "`Conv2d` is PyTorch's and candle's name for the book's `Convolution(filters, height, width, stride = 1, pad = 0)`, whose input channels flow in",
    ),
    (
        "Conv2D",
        "`Conv2D` is Keras' name for the book's `Convolution(filters, height, width, stride = 1, pad = 0)`",
    ),
    (
        "MaxPool2d",
        "`MaxPool2d` is PyTorch's name for the book's `Pooling(height, width, stride = 1)`",
    ),
    (
        "MaxPooling2D",
        "`MaxPooling2D` is Keras' name for the book's `Pooling(height, width, stride = 1)`",
    ),
    (
        "BatchNorm1d",
        "`BatchNorm1d` is PyTorch's name for the book's `BatchNorm`",
    ),
    (
        "BatchNorm2d",
        "`BatchNorm2d` is PyTorch's name; the book's `BatchNorm` normalises each activation",
    ),
    (
        "BatchNormalization",
        "`BatchNormalization` is Keras' name for the book's `BatchNorm`",
    ),
    (
        "CrossEntropyLoss",
        "`CrossEntropyLoss` is PyTorch's name for the book's `SoftmaxWithLoss`",
    ),
    (
        "Softmax",
        "write the book's `SoftmaxWithLoss` last: `predict` returns its scores, `probabilities` their softmax",
    ),
    (
        "Sequential",
        "no `Sequential` is needed: `->` chains the layers",
    ),
    (
        "Flatten",
        "no `Flatten` is needed: an `Affine` after a convolution or pooling flattens C×H×W itself",
    ),
];

static TABLE: [LayerKind; 9] = [
    LayerKind {
        name: "Affine",
        is_loss: false,
        usage: |_| "two widths, `Affine(inputs, outputs)`".to_owned(),
        positional: (2, 2),
        positional_as: &[],
        positional_names: &[],
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
        fan_in: |input, _| input.width(),
        runtime_type: "Affine",
        generics: |input, output, _| vec![input.width(), output.width()],
        config: |layers, args| {
            let init = init_config(args);
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
        positional_names: &["a pooling window's height", "a pooling window's width"],
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
        fan_in: |input, _| input.width(),
        runtime_type: "Pooling",
        generics: |input, _, args| {
            let mut generics: Vec<Dim> = input.axes().into_iter().cloned().collect();
            generics.extend(args.positional.iter().flatten().cloned());
            generics.push(Dim::Known(whole_keyword(args, "stride", 1)));
            generics
        },
        config: |_, _| quote!(()),
    },
    LayerKind {
        name: "Convolution",
        is_loss: false,
        usage: |_| {
            "a filter count and a filter's height and width, `Convolution(30, 5, 5)`".to_owned()
        },
        positional: (3, 3),
        positional_as: &[],
        positional_names: &[
            "a convolution's filter count",
            "a filter's height",
            "a filter's width",
        ],
        keywords: &[
            KeywordSpec {
                key: "stride",
                kind: KeywordKind::Count,
            },
            KeywordSpec {
                key: "pad",
                kind: KeywordKind::Whole,
            },
            KeywordSpec {
                key: "channels",
                kind: KeywordKind::Count,
            },
            KeywordSpec {
                key: "init",
                kind: KeywordKind::Init,
            },
        ],
        shape: convolution_shape,
        field: DefaultField::Numbered("conv"),
        example_field: "conv",
        parameters: &[
            TensorSpec {
                prefix: "W",
                rank: 4,
            },
            TensorSpec {
                prefix: "b",
                rank: 1,
            },
        ],
        state: &[],
        counter: Counter::Weights,
        // Each output value sees C·FH·FW inputs.
        fan_in: |input, args| {
            let filter = args.positional.iter().skip(1).flatten();
            Dim::product(
                &input
                    .axes()
                    .into_iter()
                    .take(1)
                    .chain(filter)
                    .collect::<Vec<_>>(),
            )
        },
        runtime_type: "Convolution",
        generics: |input, output, args| {
            let mut generics: Vec<Dim> = input.axes().into_iter().cloned().collect();
            generics.push(output.axes()[0].clone());
            generics.extend(args.positional.iter().skip(1).flatten().cloned());
            generics.push(Dim::Known(whole_keyword(args, "stride", 1)));
            generics.push(Dim::Known(whole_keyword(args, "pad", 0)));
            generics
        },
        config: |layers, args| {
            let init = init_config(args);
            quote!(#layers::ConvolutionConfig { init: #init })
        },
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
        positional_names: &[],
        keywords: &[],
        shape: same_shape,
        field: DefaultField::Numbered(field),
        example_field: "activation",
        parameters: &[],
        state: &[],
        counter: Counter::OwnKind,
        fan_in: |input, _| input.width(),
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

/// Keyword `key`'s whole number, or `default` (the book's stride 1, pad 0).
fn whole_keyword(args: &Resolved, key: &str, default: u64) -> u64 {
    match args.keyword(key) {
        Some(Value::Count(n)) => *n,
        _ => default,
    }
}

/// A layer's own `init = …`, as the `Option<WeightInit>` of its configuration.
fn init_config(args: &Resolved) -> TokenStream {
    match args.keyword("init") {
        Some(Value::Init(init)) => {
            let init = init_tokens(init);
            quote!(::core::option::Option::Some(#init))
        }
        _ => quote!(::core::option::Option::None),
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
/// channels × height × width shape.
fn pooling_shape(rule: &mut Rule<'_>) -> Option<(Shape, Shape)> {
    let [height, width] = given_sizes(rule)?;
    let stride = whole_keyword(rule.args, "stride", 1);
    let [channels, rows, columns] = image_flowing_in(rule, "pools", "pool")?;
    let window = Window {
        noun: "window",
        size: [&height, &width],
        first: 0,
        stride,
        pad: 0,
    };
    let [out_rows, out_columns] = window::positions(rule, &window, [&rows, &columns])?;
    Some((
        Shape::Image([channels.clone(), rows, columns]),
        Shape::Image([channels, out_rows, out_columns]),
    ))
}

/// `Convolution(filters, height, width, stride = s, pad = p, channels = c)`: filters
/// over every channel of a channels × height × width shape padded with `p` zeros.
fn convolution_shape(rule: &mut Rule<'_>) -> Option<(Shape, Shape)> {
    let sizes = given_sizes(rule);
    let image = image_flowing_in(rule, "convolves", "convolve");
    let ([filters, height, width], [channels, rows, columns]) = (sizes?, image?);
    if let Some(Value::Count(declared)) = rule.keyword("channels") {
        let declared = *declared;
        let layer = rule.describe();
        let (source, change) = rule.source();
        let condition = Condition {
            relation: Relation::Equal,
            left: Dim::Known(declared),
            right: channels.clone(),
            right_text: valued(&channels, "{B}"),
            span: rule.keyword_span("channels"),
            label: "{A} channels declared here, but {B} flow in".to_owned(),
        };
        let agreement = rule.require(condition, |declared, flowing| {
            format!(
                "`{layer}` declares `channels = {declared}`, but {source} gives images of {flowing} channels: write `channels = {flowing}` or leave it out, or change {change}"
            )
        });
        if matches!(agreement, Agreement::Differ) {
            return None;
        }
    }
    let window = Window {
        noun: "filter",
        size: [&height, &width],
        first: 1,
        stride: whole_keyword(rule.args, "stride", 1),
        pad: whole_keyword(rule.args, "pad", 0),
    };
    let [out_rows, out_columns] = window::positions(rule, &window, [&rows, &columns])?;
    Some((
        Shape::Image([channels, rows, columns]),
        Shape::Image([filters, out_rows, out_columns]),
    ))
}

/// The first `N` positional arguments, if all are valid (the others were reported).
fn given_sizes<const N: usize>(rule: &Rule<'_>) -> Option<[Dim; N]> {
    let sizes: Option<Vec<Dim>> = (0..N)
        .map(|index| match rule.width(index) {
            WidthSlot::Given(dim) => Some(dim),
            _ => None,
        })
        .collect();
    sizes?.try_into().ok()
}

/// The channels, rows and columns flowing into a layer that works on images, or
/// `None` after saying why there are none: the layer `verbs` images, and the fix is
/// to `verb` before flattening.
fn image_flowing_in(rule: &mut Rule<'_>, verbs: &str, verb: &str) -> Option<[Dim; 3]> {
    let layer = rule.describe();
    let message = match rule.flowing() {
        Some(Shape::Image(axes)) => return Some(axes),
        Some(flat) => {
            let (source, _) = rule.source();
            format!(
                "`{layer}` {verbs} images, channels × height × width, but {source} gives {} flat features; {verb} before flattening, or declare the network's input as an image, e.g. `struct Net(1, 28, 28) {{ … }}`",
                flat.width()
            )
        }
        None if rule.is_first() => format!(
            "`{layer}` {verbs} images, but nothing declares their shape: declare the network's input, e.g. `struct Net(1, 28, 28) {{ … }}`"
        ),
        None => return None,
    };
    rule.error(rule.kind_span(), message);
    None
}
