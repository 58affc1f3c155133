//! The declaration as written: parsed, not yet checked.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitInt, Path, Token, Visibility, braced, parenthesized, token};

/// Everything inside one `network! { ... }` call: one or more declarations.
pub struct Input {
    pub networks: Vec<Declaration>,
}

/// `#[attrs] vis struct Name { layer -> layer -> ... }`
pub struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub layers: Vec<LayerDecl>,
}

/// `[field:] Kind[(arg, ...)]`
pub struct LayerDecl {
    pub field: Option<Ident>,
    pub kind: Ident,
    pub args: Option<Args>,
}

/// A layer's parenthesised arguments.
pub struct Args {
    pub paren: token::Paren,
    pub items: Vec<WidthArg>,
}

/// One argument, classified but not yet judged: the checker decides which kinds a
/// layer accepts where, so that all mistakes can be reported together.
pub enum WidthArg {
    Literal(LitInt),
    Inferred(Token![_]),
    Named(Path),
    Invalid(TokenStream),
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut networks = Vec::new();
        while !input.is_empty() {
            networks.push(input.parse()?);
        }
        Ok(Input { networks })
    }
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident = input.parse()?;
        let body;
        braced!(body in input);
        Ok(Declaration {
            attrs,
            vis,
            ident,
            layers: parse_layers(&body)?,
        })
    }
}

impl Parse for LayerDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let field = if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
            let field = input.parse()?;
            input.parse::<Token![:]>()?;
            Some(field)
        } else {
            None
        };
        let kind = input.parse()?;
        let args = if input.peek(token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            Some(Args {
                paren,
                items: parse_args(&content)?,
            })
        } else {
            None
        };
        Ok(LayerDecl { field, kind, args })
    }
}

/// `layer -> layer -> ...`, with messages that say what joins layers.
fn parse_layers(body: ParseStream) -> syn::Result<Vec<LayerDecl>> {
    let mut layers = Vec::new();
    while !body.is_empty() {
        layers.push(body.parse()?);
        if body.is_empty() {
            break;
        }
        let arrow = body.parse::<Token![->]>().map_err(|_| {
            let found = body
                .fork()
                .parse::<TokenTree>()
                .map_or_else(|_| String::new(), |token| token.to_string());
            body.error(format!(
                "expected `->` between layers, found `{found}`; layers are chained like `Affine(784, 50) -> Relu`"
            ))
        })?;
        if body.is_empty() {
            return Err(syn::Error::new_spanned(
                arrow,
                "expected a layer after `->`; the last layer is the loss, e.g. `-> SoftmaxWithLoss`",
            ));
        }
    }
    Ok(layers)
}

/// Splits the arguments at top-level commas and classifies each one.
fn parse_args(content: ParseStream) -> syn::Result<Vec<WidthArg>> {
    let mut items = Vec::new();
    while !content.is_empty() {
        let mut tokens = TokenStream::new();
        while !content.is_empty() && !content.peek(Token![,]) {
            tokens.extend([content.parse::<TokenTree>()?]);
        }
        if tokens.is_empty() {
            return Err(content.error("expected a layer width before this `,`"));
        }
        items.push(classify(tokens));
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(items)
}

fn classify(tokens: TokenStream) -> WidthArg {
    // syn reads `-50` as one literal; a width is never negative, so it stays as
    // written for the checker's message.
    let negative = matches!(tokens.clone().into_iter().next(), Some(TokenTree::Punct(p)) if p.as_char() == '-');
    if negative {
        WidthArg::Invalid(tokens)
    } else if let Ok(literal) = syn::parse2::<LitInt>(tokens.clone()) {
        WidthArg::Literal(literal)
    } else if let Ok(underscore) = syn::parse2::<Token![_]>(tokens.clone()) {
        WidthArg::Inferred(underscore)
    } else if let Ok(path) = syn::parse2::<Path>(tokens.clone()) {
        WidthArg::Named(path)
    } else {
        WidthArg::Invalid(tokens)
    }
}
