//! The declaration as written: parsed, not yet checked.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;

use crate::example;
use syn::{
    Attribute, Ident, LitBool, LitFloat, LitInt, LitStr, Path, Token, Visibility, braced,
    parenthesized, token,
};

/// Everything inside one `network! { ... }` call: one or more declarations.
pub struct Input {
    pub networks: Vec<Declaration>,
}

/// `#[attrs] vis struct Name[(input shape)] { layer -> layer -> ... }`
pub struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// `(784)` or `(1, 28, 28)` after the name: the shape of an input row.
    pub input: Option<Args>,
    pub layers: Vec<LayerDecl>,
}

/// `[field:] Kind[(arg, ..., key = value, ...)]`
pub struct LayerDecl {
    pub field: Option<Ident>,
    pub kind: Ident,
    pub args: Option<Args>,
}

/// Parenthesised arguments, in the order written.
pub struct Args {
    pub paren: token::Paren,
    pub items: Vec<ArgItem>,
}

/// One argument: `value`, or `key = value`.
pub enum ArgItem {
    Positional(Arg),
    Keyword(Keyword),
}

/// `key = value`
pub struct Keyword {
    pub key: Ident,
    pub value: Arg,
}

/// An argument value, classified but not yet judged: the checker decides which kinds
/// a layer accepts where, so that all mistakes can be reported together.
pub enum Arg {
    Int(LitInt),
    Float(LitFloat),
    Bool(LitBool),
    Str(LitStr),
    Inferred(Token![_]),
    Named(Path),
    /// `-` before a number: kept whole for the message.
    Negative(TokenStream),
    Invalid(TokenStream),
}

impl Args {
    pub fn positional(&self) -> impl Iterator<Item = &Arg> {
        self.items.iter().filter_map(|item| match item {
            ArgItem::Positional(arg) => Some(arg),
            ArgItem::Keyword(_) => None,
        })
    }

    pub fn keywords(&self) -> impl Iterator<Item = &Keyword> {
        self.items.iter().filter_map(|item| match item {
            ArgItem::Keyword(keyword) => Some(keyword),
            ArgItem::Positional(_) => None,
        })
    }

    pub fn span(&self) -> Span {
        self.paren.span.join()
    }
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Int(literal) => literal.span(),
            Arg::Float(literal) => literal.span(),
            Arg::Bool(literal) => literal.span(),
            Arg::Str(literal) => literal.span(),
            Arg::Inferred(underscore) => underscore.span(),
            Arg::Named(path) => path.span(),
            Arg::Negative(tokens) | Arg::Invalid(tokens) => tokens.span(),
        }
    }

    /// The value as written, for messages.
    pub fn text(&self) -> String {
        match self {
            Arg::Named(path) => path.to_token_stream().to_string().replace(' ', ""),
            Arg::Inferred(_) => "_".to_owned(),
            Arg::Negative(tokens) => tokens.to_string().replace(' ', ""),
            other => other.to_token_stream().to_string(),
        }
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Arg::Int(literal) => literal.to_tokens(tokens),
            Arg::Float(literal) => literal.to_tokens(tokens),
            Arg::Bool(literal) => literal.to_tokens(tokens),
            Arg::Str(literal) => literal.to_tokens(tokens),
            Arg::Inferred(underscore) => underscore.to_tokens(tokens),
            Arg::Named(path) => path.to_tokens(tokens),
            Arg::Negative(stream) | Arg::Invalid(stream) => stream.to_tokens(tokens),
        }
    }
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
        let shape = if input.peek(token::Paren) {
            Some(parse_parenthesised(input)?)
        } else {
            None
        };
        let body;
        braced!(body in input);
        Ok(Declaration {
            attrs,
            vis,
            ident,
            input: shape,
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
            Some(parse_parenthesised(input)?)
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
                "expected `->` between layers, found `{found}`; layers are chained like `{}`",
                example::CHAIN
            ))
        })?;
        if body.is_empty() {
            return Err(syn::Error::new_spanned(
                arrow,
                format!(
                    "expected a layer after `->`; the last layer is the loss, e.g. `-> {}`",
                    example::LOSS
                ),
            ));
        }
    }
    Ok(layers)
}

fn parse_parenthesised(input: ParseStream) -> syn::Result<Args> {
    let content;
    let paren = parenthesized!(content in input);
    Ok(Args {
        paren,
        items: parse_args(&content)?,
    })
}

/// Splits the arguments at top-level commas and classifies each one.
fn parse_args(content: ParseStream) -> syn::Result<Vec<ArgItem>> {
    let mut items = Vec::new();
    while !content.is_empty() {
        let keyword =
            if content.peek(Ident) && content.peek2(Token![=]) && !content.peek2(Token![==]) {
                let key: Ident = content.parse()?;
                content.parse::<Token![=]>()?;
                Some(key)
            } else {
                None
            };
        let mut tokens = TokenStream::new();
        while !content.is_empty() && !content.peek(Token![,]) {
            tokens.extend([content.parse::<TokenTree>()?]);
        }
        if tokens.is_empty() {
            return Err(match keyword {
                Some(key) => {
                    syn::Error::new(key.span(), format!("expected a value after `{key} =`"))
                }
                None => content.error("expected a layer width before this `,`"),
            });
        }
        let value = classify(tokens);
        items.push(match keyword {
            Some(key) => ArgItem::Keyword(Keyword { key, value }),
            None => ArgItem::Positional(value),
        });
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(items)
}

fn classify(tokens: TokenStream) -> Arg {
    // syn reads `-50` as one literal; it stays as written, for the checker's message.
    let negative = matches!(tokens.clone().into_iter().next(), Some(TokenTree::Punct(p)) if p.as_char() == '-');
    if negative {
        Arg::Negative(tokens)
    } else if let Ok(literal) = syn::parse2::<LitInt>(tokens.clone()) {
        Arg::Int(literal)
    } else if let Ok(literal) = syn::parse2::<LitFloat>(tokens.clone()) {
        Arg::Float(literal)
    } else if let Ok(literal) = syn::parse2::<LitBool>(tokens.clone()) {
        Arg::Bool(literal)
    } else if let Ok(literal) = syn::parse2::<LitStr>(tokens.clone()) {
        Arg::Str(literal)
    } else if let Ok(underscore) = syn::parse2::<Token![_]>(tokens.clone()) {
        Arg::Inferred(underscore)
    } else if let Ok(path) = syn::parse2::<Path>(tokens.clone()) {
        Arg::Named(path)
    } else {
        Arg::Invalid(tokens)
    }
}
