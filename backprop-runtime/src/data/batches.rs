//! Bridges between a [`Dataset`] and a network: mini-batches gathered into reused
//! buffers, and whole-set evaluation in bounded memory.

use crate::network::EVALUATION_CHUNK_ROWS;
use ndarray::ArrayView2;

use crate::{Batch, Error, Float, InferenceBuffers, Network, Result, Targets, layers, parallel};

use super::Dataset;

/// A mini-batch whose buffers are reused from step to step: filling it from a
/// [`Dataset`] converts the selected rows to floats and allocates nothing once it has
/// held a batch of this size.
#[derive(Clone, Debug)]
pub struct MiniBatch<T, const N: usize> {
    /// The inputs, one row per sample.
    pub x: Batch<T, N>,
    /// The class of each row.
    pub labels: Vec<usize>,
}

impl<T: Float, const N: usize> MiniBatch<T, N> {
    /// An empty mini-batch; its buffers grow on first use.
    pub fn new() -> Self {
        Self {
            x: Batch::zeros(0),
            labels: Vec::new(),
        }
    }

    /// Replaces the contents with the rows `indices` of `data`, normalised to [0, 1].
    pub fn fill(&mut self, data: &Dataset, indices: &[usize]) -> Result<()> {
        check_features(data, N)?;
        self.x.resize_rows(indices.len());
        self.labels.resize(indices.len(), 0);
        data.gather_into(indices, self.x.as_mut_slice(), &mut self.labels)?;
        Ok(())
    }

    /// The labels as training targets.
    pub fn targets(&self) -> Targets<'_, T> {
        Targets::Labels(&self.labels)
    }
}

impl<T: Float, const N: usize> Default for MiniBatch<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// How a network does on a whole data set.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// The fraction of samples classified correctly.
    pub accuracy: f64,
    /// The mean cross-entropy loss.
    pub loss: f64,
}

/// Evaluates `network` on every sample of `data`, chunk by chunk: the set stays in its
/// compact form, each thread converts one chunk at a time into its own buffer, and no
/// temporary grows with the size of the set.
pub fn evaluate<T, N>(network: &N, data: &Dataset) -> Result<Evaluation>
where
    T: Float,
    N: Network<T> + Sync,
{
    check_features(data, N::INPUT_WIDTH)?;
    if data.classes() > N::OUTPUT_WIDTH {
        return Err(Error::Width {
            what: format!(
                "{} classes in the data set, for the network's outputs",
                data.classes()
            ),
            expected: N::OUTPUT_WIDTH,
            found: data.classes(),
        });
    }
    let totals = parallel::split_rows(data.len(), EVALUATION_CHUNK_ROWS, |start, end| {
        let width = N::INPUT_WIDTH;
        let mut x = vec![T::zero(); EVALUATION_CHUNK_ROWS * width];
        let mut labels = vec![0usize; EVALUATION_CHUNK_ROWS];
        let mut buffers = InferenceBuffers::new();
        let mut totals = Totals::default();
        for chunk_start in (start..end).step_by(EVALUATION_CHUNK_ROWS) {
            let rows = EVALUATION_CHUNK_ROWS.min(end - chunk_start);
            let (x, labels) = (&mut x[..rows * width], &mut labels[..rows]);
            if let Err(error) = data.range_into(chunk_start..chunk_start + rows, x, labels) {
                totals.error.get_or_insert(error.into());
                break;
            }
            let view =
                ArrayView2::from_shape((rows, width), &*x).expect("the chunk holds whole rows");
            let scores = network.infer(view, &mut buffers);
            let targets = Targets::Labels(labels);
            totals.loss += layers::cross_entropy_of_scores(scores, &targets, 0).as_f64();
            totals.correct += scores
                .rows()
                .into_iter()
                .zip(labels.iter())
                .filter(|(row, label)| crate::targets::argmax(row.iter().copied()) == **label)
                .count();
        }
        totals
    });
    if let Some(error) = totals.error {
        return Err(error);
    }
    Ok(Evaluation {
        accuracy: totals.correct as f64 / data.len() as f64,
        loss: totals.loss / data.len() as f64,
    })
}

#[derive(Default)]
struct Totals {
    correct: usize,
    loss: f64,
    error: Option<Error>,
}

impl std::ops::Add for Totals {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Totals {
            correct: self.correct + other.correct,
            loss: self.loss + other.loss,
            error: self.error.or(other.error),
        }
    }
}

fn check_features(data: &Dataset, width: usize) -> Result<()> {
    if data.features() == width {
        Ok(())
    } else {
        Err(Error::Width {
            what: format!(
                "a data set of {}×{} images, for a network input",
                data.height(),
                data.width()
            ),
            expected: width,
            found: data.features(),
        })
    }
}
