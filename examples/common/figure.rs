//! Saving a figure as SVG or PNG, chosen by the file's extension, with an embedded
//! font so that no system font is needed.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Something that draws itself on any plotters backend.
pub trait Figure {
    /// Draws on `root`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Draws `figure` to `path` (`.svg` or `.png`) at `size` pixels.
pub fn save(path: &Path, size: (u32, u32), figure: &impl Figure) -> Result<(), String> {
    // plotters measures and renders text with this embedded font: no system fonts are
    // needed, so the PNG backend works on any machine with a Rust toolchain.
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        epaint_default_fonts::UBUNTU_LIGHT,
    )
    .map_err(|_| "the embedded font could not be read".to_owned())?;
    let failed =
        |e: &dyn std::fmt::Display| format!("{}: could not draw the plot: {e}", path.display());
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            figure.draw(&root).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))
        }
        Some("png") => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            figure.draw(&root).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))
        }
        _ => Err(format!(
            "{}: the plot file must end in .svg or .png",
            path.display()
        )),
    }
}

/// Refuses to replace an existing file unless `force`: nothing the user made is lost
/// without being asked.
pub fn check_new(path: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        Err(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        ))
    } else {
        Ok(())
    }
}
