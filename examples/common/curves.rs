//! Learning curves: accuracy per epoch and the training loss, as SVG or PNG.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use backprop::train::EvaluationRecord;

const SIZE: (u32, u32) = (1200, 520);

/// Draws the curves to `path`; the format follows the extension (`.svg` or `.png`).
pub fn draw(
    path: &Path,
    title: &str,
    validation: &'static str,
    records: &[EvaluationRecord],
    losses: &[f64],
) -> Result<(), String> {
    let curves = Curves {
        title,
        validation,
        records,
        losses,
    };
    crate::figure::save(path, SIZE, &curves)
}

struct Curves<'a> {
    title: &'a str,
    /// What the second accuracy curve is of: the test or a validation set.
    validation: &'static str,
    records: &'a [EvaluationRecord],
    losses: &'a [f64],
}

impl crate::figure::Figure for Curves<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        draw_on(root, self)
    }
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    curves: &Curves<'_>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (records, losses) = (curves.records, curves.losses);
    root.fill(&WHITE)?;
    let root = root.titled(curves.title, ("sans-serif", 22))?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let epochs: Vec<&EvaluationRecord> = records.iter().filter(|r| r.end_of_epoch).collect();
    let last_epoch = epochs.len().saturating_sub(1).max(1) as f64;

    let mut accuracy = ChartBuilder::on(&left)
        .caption("Accuracy once per epoch", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..last_epoch, 0.0..1.0)?;
    accuracy
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("epoch")
        .y_desc("accuracy")
        .draw()?;
    for (name, color, value) in [
        (
            "train",
            BLUE,
            (|r: &EvaluationRecord| r.train.accuracy) as fn(&EvaluationRecord) -> f64,
        ),
        (curves.validation, RED, |r: &EvaluationRecord| {
            r.validation.accuracy
        }),
    ] {
        let points = epochs.iter().enumerate().map(|(e, r)| (e as f64, value(r)));
        accuracy
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    accuracy
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;

    let smoothed = moving_average(losses, 100);
    let top = losses
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut loss = ChartBuilder::on(&right)
        .caption("Training loss per step", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..losses.len().max(1) as f64, 0.0..top)?;
    loss.configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("step")
        .y_desc("cross-entropy loss")
        .draw()?;
    loss.draw_series(LineSeries::new(
        losses.iter().enumerate().map(|(i, &l)| (i as f64, l)),
        BLUE.mix(0.25),
    ))?
    .label("mini-batch loss")
    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.mix(0.25)));
    loss.draw_series(LineSeries::new(
        smoothed.iter().enumerate().map(|(i, &l)| (i as f64, l)),
        BLUE.stroke_width(2),
    ))?
    .label("mean of 100 steps")
    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    loss.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The mean of the `window` values up to each step (fewer at the start): over 10,000
/// noisy steps it shows the trend better than the book's 11-point `smooth_curve`.
fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let mut sum = 0.0;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            sum += v;
            if i >= window {
                sum -= values[i - window];
            }
            sum / (i + 1).min(window) as f64
        })
        .collect()
}
