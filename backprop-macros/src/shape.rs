//! Shapes as the macro reasons about them: a dimension is a number it knows or a
//! constant only the compiler knows; a row's shape is flat or channels × height × width.

use std::fmt;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

/// One dimension.
#[derive(Clone)]
pub enum Dim {
    Known(u64),
    /// A named constant, or a product involving one: the compiler computes it.
    Deferred {
        /// As the user wrote it: `HIDDEN`, `C × H × W`.
        text: String,
        /// The value as a `usize` expression, typed where the user wrote the constant
        /// so that a constant of another type is reported there, once.
        value: TokenStream,
        /// The value as a const generic argument (braced).
        generic: TokenStream,
    },
}

impl Dim {
    pub fn named(path: &Path) -> Dim {
        Dim::Deferred {
            text: path.to_token_stream().to_string().replace(' ', ""),
            value: quote_spanned!(path.span()=> {
                const WIDTH: usize = #path;
                WIDTH
            }),
            // A path of several segments is only read as a constant inside braces.
            generic: quote_spanned!(path.span()=> { #path }),
        }
    }

    /// The product of several dimensions: a number when all are known.
    pub fn product(dims: &[&Dim]) -> Dim {
        let known: Option<Vec<u64>> = dims.iter().map(|d| d.known()).collect();
        if let Some(known) = known {
            return Dim::Known(known.iter().product());
        }
        let text = dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" × ");
        let values = multiply(dims.iter().map(|d| d.value_at(Span::call_site())));
        let generics = multiply(dims.iter().map(|d| d.generic_arg()));
        Dim::Deferred {
            text,
            value: values,
            generic: quote!({ #generics }),
        }
    }

    /// `self + n` (an image's side with its padding).
    pub fn plus(&self, n: u64) -> Dim {
        match self {
            Dim::Known(a) => Dim::Known(a + n),
            _ if n == 0 => self.clone(),
            _ => {
                let (a, ga) = (self.value_at(Span::call_site()), self.generic_arg());
                let n = Literal::u64_unsuffixed(n);
                Dim::Deferred {
                    text: format!("{self} + {n}"),
                    value: quote!((#a) + #n),
                    generic: quote!({ (#ga) + #n }),
                }
            }
        }
    }

    /// `self − other`, or 0 if `other` is larger (a condition reports that case).
    pub fn minus(&self, other: &Dim) -> Dim {
        match (self, other) {
            (Dim::Known(a), Dim::Known(b)) => Dim::Known(a.saturating_sub(*b)),
            _ => {
                let (a, b) = (
                    self.value_at(Span::call_site()),
                    other.value_at(Span::call_site()),
                );
                let (ga, gb) = (self.generic_arg(), other.generic_arg());
                Dim::Deferred {
                    text: format!("{self} − {other}"),
                    value: quote!(usize::saturating_sub(#a, #b)),
                    generic: quote!({ usize::saturating_sub(#ga, #gb) }),
                }
            }
        }
    }

    /// How many windows of `window` fit in `self` moved by `stride`:
    /// `(self − window) / stride + 1`.
    pub fn windows(&self, window: &Dim, stride: u64) -> Dim {
        match self.minus(window) {
            Dim::Known(room) => Dim::Known(room / stride + 1),
            room => {
                let (value, generic) = (room.value_at(Span::call_site()), room.generic_arg());
                let text = format!("({room}) / {stride} + 1");
                let stride = Literal::u64_unsuffixed(stride);
                Dim::Deferred {
                    text,
                    value: quote!((#value) / #stride + 1),
                    generic: quote!({ (#generic) / #stride + 1 }),
                }
            }
        }
    }

    pub fn known(&self) -> Option<u64> {
        match self {
            Dim::Known(n) => Some(*n),
            Dim::Deferred { .. } => None,
        }
    }

    /// Whether two dimensions are certainly equal without asking the compiler.
    pub fn same_as(&self, other: &Dim) -> Option<bool> {
        match (self, other) {
            (Dim::Known(a), Dim::Known(b)) => Some(a == b),
            (Dim::Deferred { text: a, .. }, Dim::Deferred { text: b, .. }) if a == b => Some(true),
            _ => None,
        }
    }

    /// The dimension as a `usize` value: a number at `span`, or the constant's own
    /// expression, so that the compiler's errors point at what the user wrote.
    pub fn value_at(&self, span: Span) -> TokenStream {
        match self {
            Dim::Known(n) => {
                let mut literal = Literal::u64_unsuffixed(*n);
                literal.set_span(span);
                literal.into_token_stream()
            }
            Dim::Deferred { value, .. } => value.clone(),
        }
    }

    /// The dimension as a const generic argument.
    pub fn generic_arg(&self) -> TokenStream {
        match self {
            Dim::Known(n) => Literal::u64_unsuffixed(*n).into_token_stream(),
            Dim::Deferred { generic, .. } => generic.clone(),
        }
    }
}

/// `(a) * (b) * (c)`.
fn multiply(factors: impl Iterator<Item = TokenStream>) -> TokenStream {
    let mut product = TokenStream::new();
    for (i, factor) in factors.enumerate() {
        if i > 0 {
            product.extend(quote!(*));
        }
        product.extend(quote!((#factor)));
    }
    product
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Deferred { text, .. } => f.write_str(text),
        }
    }
}

/// Emits the dimension as a value. Braces around a constant here would draw the
/// `unused_braces` lint in the user's crate.
impl ToTokens for Dim {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.value_at(Span::call_site()));
    }
}

/// The shape of one row flowing between layers.
#[derive(Clone)]
pub enum Shape {
    /// A row of features.
    Flat(Dim),
    /// Channels × height × width, stored in that order (NCHW).
    Image([Dim; 3]),
}

impl Shape {
    /// Features per row: the product of the axes.
    pub fn width(&self) -> Dim {
        match self {
            Shape::Flat(width) => width.clone(),
            Shape::Image(axes) => Dim::product(&axes.iter().collect::<Vec<_>>()),
        }
    }

    pub fn axes(&self) -> Vec<&Dim> {
        match self {
            Shape::Flat(width) => vec![width],
            Shape::Image(axes) => axes.iter().collect(),
        }
    }

    /// The shape as a message gives it: `50`, or `784 (1 × 28 × 28, channels × height × width)`.
    pub fn describe(&self) -> String {
        match self {
            Shape::Flat(width) => width.to_string(),
            Shape::Image([c, h, w]) => format!(
                "{} ({c} × {h} × {w}, channels × height × width)",
                self.width()
            ),
        }
    }
}
