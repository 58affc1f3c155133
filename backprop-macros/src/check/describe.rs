//! Layers as the user wrote them, for messages.

use crate::ast::{ArgItem, LayerDecl};

/// The layer as written: `Affine(784, 50)`.
pub fn describe(layer: &LayerDecl) -> String {
    describe_replacing(layer, usize::MAX, "")
}

/// The layer as written, with positional argument `index` replaced: `Affine(50, 10)`.
pub fn describe_replacing(layer: &LayerDecl, index: usize, replacement: &str) -> String {
    let Some(args) = &layer.args else {
        return layer.kind.to_string();
    };
    let mut positional = 0;
    let items: Vec<String> = args
        .items
        .iter()
        .map(|item| match item {
            ArgItem::Positional(arg) => {
                positional += 1;
                if positional - 1 == index {
                    replacement.to_owned()
                } else {
                    arg.text()
                }
            }
            ArgItem::Keyword(keyword) => format!("{} = {}", keyword.key, keyword.value.text()),
        })
        .collect();
    format!("{}({})", layer.kind, items.join(", "))
}
