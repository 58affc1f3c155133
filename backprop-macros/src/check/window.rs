//! The conditions of a window moved over an image, shared by every layer that has one
//! (pooling, convolution): the window fits the (padded) image, and the stride tiles
//! what is left, or some rows or columns would never be covered.

use super::rule::{Agreement, Condition, Rule, valued};
use crate::model::Relation;
use crate::shape::Dim;

/// A window as declared: what it is called in messages, its height and width, the
/// stride it moves by and the zeros padded on each side of the image.
pub struct Window<'a> {
    /// `window` or `filter`.
    pub noun: &'static str,
    /// Height and width, at the spans of positional arguments `first` and `first + 1`.
    pub size: [&'a Dim; 2],
    pub first: usize,
    pub stride: u64,
    pub pad: u64,
}

/// Checks that `window` fits images of `rows × columns` (before padding) and that its
/// stride tiles them; returns the output rows and columns, or `None` after reporting.
pub fn positions(
    rule: &mut Rule<'_>,
    window: &Window<'_>,
    [rows, columns]: [&Dim; 2],
) -> Option<[Dim; 2]> {
    let layer = rule.describe();
    let (source, change) = rule.source();
    let Window {
        noun, stride, pad, ..
    } = *window;
    let axes = [(rows, "high", "rows"), (columns, "wide", "columns")];
    let padded = |extent: &Dim| extent.plus(2 * pad);
    // "28 rows", or "28 rows, 30 with the padding".
    let extent_text = |extent: &Dim, unit: &str, value: &str| {
        if pad == 0 {
            format!("{value} {unit}")
        } else {
            format!("{} {unit}, {value} with the padding", quoted(extent))
        }
    };
    let mut fits = true;
    for (index, (size, (extent, across, _))) in window.size.into_iter().zip(axes).enumerate() {
        let padded = padded(extent);
        let condition = Condition {
            relation: Relation::AtMost,
            left: size.clone(),
            right: padded.clone(),
            right_text: valued(&padded, "{B}"),
            span: rule.arg_span(window.first + index),
            label: format!("a {noun} {{A}} {across}, on images {{B}} {across}"),
        };
        let agreement = rule.require(condition, |size, padded| {
            let images = extent_text(extent, across, padded);
            format!(
                "`{layer}` has a {noun} {size} {across}, but {source} gives images only {images}: use a {noun} of at most {padded}, or change {change}"
            )
        });
        fits &= !matches!(agreement, Agreement::Differ);
    }
    if !fits {
        return None;
    }
    let another = if pad == 0 {
        format!("another {noun}")
    } else {
        format!("another {noun} or padding")
    };
    let mut tiles = true;
    for (index, (size, (extent, _, unit))) in window.size.into_iter().zip(axes).enumerate() {
        let padded = padded(extent);
        let room = padded.minus(size);
        let condition = Condition {
            relation: Relation::MultipleOf,
            left: room.clone(),
            right: Dim::Known(stride),
            right_text: stride.to_string(),
            span: rule.arg_span(window.first + index),
            label: format!("{{A}} {unit} to move over, not a multiple of the stride {{B}}"),
        };
        let (size, images) = (quoted(size), extent_text(extent, unit, &quoted(&padded)));
        let agreement = rule.require(condition, |room, stride| {
            format!(
                "`{layer}` moves its {noun} of {size} {unit} by {stride}, but {source} gives {images}, which leaves {room} to move over, not a multiple of {stride}: choose a stride that divides {room}, {another}, or change {change}"
            )
        });
        tiles &= !matches!(agreement, Agreement::Differ);
    }
    if !tiles {
        return None;
    }
    let [height, width] = window.size;
    Some([
        padded(rows).windows(height, stride),
        padded(columns).windows(width, stride),
    ])
}

/// A dimension in a message: `28`, or `` `SIDE` ``.
pub fn quoted(dim: &Dim) -> String {
    match dim {
        Dim::Known(n) => n.to_string(),
        Dim::Deferred { .. } => format!("`{dim}`"),
    }
}
