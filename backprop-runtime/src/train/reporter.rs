//! The standard progress reporter: a bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{EvaluationRecord, Progress, UNOPTIMISED_ADVICE};

/// Shows a run's progress: on a terminal, a bar on standard error with the step, the
/// speed, the ETA and the latest loss; every once-per-epoch evaluation as a line on
/// standard output with the epoch, the step, the accuracies, the epoch's mean loss,
/// the time so far and the ETA. Without a terminal only the lines are written, so a
/// log file holds them all. The final evaluation is the caller's to show, from the
/// [`Outcome`](super::Outcome).
///
/// ```no_run
/// # use backprop::prelude::*;
/// # use backprop::data::Dataset;
/// # network! { struct Net(4) { Affine(_, 2) -> SoftmaxWithLoss } }
/// # let (train, validation): (Dataset, Dataset) = todo!();
/// use backprop::train::{Reporter, Trainer};
/// let trainer = Trainer::new();
/// let mut net = Net::<f32>::new(&mut trainer.initialisation());
/// let mut adam = backprop::optim::Adam::default();
/// let mut reporter = Reporter::new();
/// trainer.fit_reporting(&mut net, &mut adam, &train, &validation, &mut |e| reporter.report(e))?;
/// # Ok::<(), backprop::Error>(())
/// ```
#[derive(Debug)]
pub struct Reporter {
    bar: ProgressBar,
    started: Instant,
    first: usize,
    steps: usize,
    quiet: bool,
    validation: &'static str,
    timing: Timing,
    last_event: Instant,
}

/// Where a run's time went, as a [`Reporter`] saw it: the steps, and the evaluations
/// with the checkpoints after them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// The training steps' time.
    pub training: Duration,
    /// The evaluations' and checkpoints' time.
    pub evaluation: Duration,
    /// The evaluations, the final one included.
    pub evaluations: usize,
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter {
    /// A bar when standard error is a terminal, and a line per evaluation.
    pub fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] [{bar:30}] {pos}/{len} steps, {per_sec}, ETA {eta}, {msg}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        Reporter {
            bar,
            started: Instant::now(),
            first: 0,
            steps: 0,
            quiet: false,
            validation: "validation",
            timing: Timing::default(),
            last_event: Instant::now(),
        }
    }

    /// Only the warnings and the bar: no line per epoch.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// What the lines call the validation set: `"test"` for a run that evaluates on
    /// the test set, as the book's does.
    pub fn validation_label(mut self, label: &'static str) -> Self {
        self.validation = label;
        self
    }

    /// The line of one evaluation: the book's columns, then the time and the ETA.
    pub fn line(&self, record: &EvaluationRecord) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let done = (record.step + 1).saturating_sub(self.first);
        let left = self.steps.saturating_sub(record.step + 1);
        // Estimated from the steps so far: none after the first few, which warm up.
        let eta = match done {
            0..10 => "ETA -".to_owned(),
            _ => format!("ETA {:.0} s", elapsed / done as f64 * left as f64),
        };
        format!(
            "epoch {:>2} | step {:>6} | train acc {:.4} | {} acc {:.4} | mean loss {:.4} | {:.1} s, {eta}",
            record.epoch,
            record.step,
            record.train.accuracy,
            self.validation,
            record.validation.accuracy,
            record.mean_loss,
            elapsed,
        )
    }

    /// Where the time went so far.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    fn print(&self, line: String) {
        if self.bar.is_hidden() {
            println!("{line}");
        } else {
            self.bar.suspend(|| println!("{line}"));
        }
    }
}

/// Clears the bar of a run that stopped before its final evaluation.
impl Drop for Reporter {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter {
    /// Shows one event: pass `&mut |event| reporter.report(event)` to
    /// [`Trainer::fit_reporting`](super::Trainer::fit_reporting).
    pub fn report(&mut self, event: Progress<'_>) {
        let since = self.last_event.elapsed();
        match event {
            Progress::Step { .. } => self.timing.training += since,
            Progress::Evaluated(_) => {
                self.timing.evaluation += since;
                self.timing.evaluations += 1;
            }
            Progress::Checkpointed { .. } => self.timing.evaluation += since,
            Progress::Unoptimised | Progress::Started { .. } => {}
        }
        match event {
            Progress::Unoptimised => self
                .bar
                .suspend(|| eprintln!("warning: {UNOPTIMISED_ADVICE}")),
            Progress::Started { first, steps, .. } => {
                (self.first, self.steps) = (first, steps);
                self.started = Instant::now();
                self.bar.set_length(steps as u64);
                self.bar.set_position(first as u64);
                self.bar.reset_eta();
            }
            Progress::Step { step, loss, .. } => {
                self.bar.set_position(step as u64 + 1);
                if step % 10 == 0 {
                    self.bar.set_message(format!("loss {loss:.4}"));
                }
            }
            Progress::Evaluated(record) if record.end_of_epoch => {
                if !self.quiet {
                    self.print(self.line(record));
                }
            }
            Progress::Evaluated(_) => self.bar.finish_and_clear(),
            Progress::Checkpointed { .. } => {}
        }
        self.last_event = Instant::now();
    }
}
