//! The table of layer kinds: the one file of the macro that names a layer.
//!
//! Each entry says how the layer is written (positional and keyword arguments), how it
//! maps the shape flowing in to the shape flowing out and which conditions the shapes
//! must meet (through [`Rule`]), what its parameters and state are called, its fan-in,
//! and which runtime type and configuration implement it. Adding a layer is one entry
//! here and one file in the runtime's `layers/` (see `docs/adding-a-layer.md`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::check::rule::{Agreement, Rule, WidthSlot};
use crate::model::{InitValue, Resolved, Value};
use crate::shape::{Dim, Shape};

/// One kind of layer.
pub struct LayerKind {
    pub name: &'static str,
    /// Whether it is the loss at the end of the chain.
    pub is_loss: bool,
    /// What the positional arguments are, for messages: `two widths, `Affine(inputs, outputs)``.
    pub usage: fn(&str) -> String,
    /// How many positional widths it takes, at least and at most.
    pub positional: (usize, usize),
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
    pub generics: fn(&Shape, &Shape) -> Vec<Dim>,
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

static TABLE: [LayerKind; 5] = [
    LayerKind {
        name: "Affine",
        is_loss: false,
        usage: |_| "two widths, `Affine(inputs, outputs)`".to_owned(),
        positional: (2, 2),
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
        generics: |input, output| vec![input.width(), output.width()],
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
        keywords: &[],
        shape: same_shape,
        field: DefaultField::Numbered(field),
        example_field: "activation",
        parameters: &[],
        state: &[],
        counter: Counter::OwnKind,
        fan_in: Shape::width,
        runtime_type: name,
        generics: |_, output| vec![output.width()],
        config: |_, _| quote!(()),
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
            let message = format!(
                "the first layer has no layer before it to take its width from: write it, e.g. `{name}(784)`, or declare the network's input shape, e.g. `struct Net(784) {{ … }}`"
            );
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
