//! Bridges between a [`Dataset`] and a network: mini-batches gathered into reused
//! buffers, and whole-set evaluation in bounded memory.

use std::ops::Range;

use ndarray::ArrayView2;

use crate::network::{ChunkScratch, Evaluation, EvaluationRows};
use crate::{Batch, Error, Float, Network, Result, Targets};

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

    /// Every sample of `data`, in order, as one batch: a whole test set for `predict`.
    ///
    /// # Errors
    /// When `data`'s images are not `N` pixels.
    pub fn all(data: &Dataset) -> Result<Self> {
        let mut batch = Self::new();
        check_features(data, N)?;
        batch.x.resize_rows(data.len());
        batch.labels.resize(data.len(), 0);
        data.range_into(0..data.len(), batch.x.as_mut_slice(), &mut batch.labels)?;
        Ok(batch)
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

/// Evaluates `network` on every sample of `data`, chunk by chunk: the set stays in its
/// compact form, each thread converts one chunk at a time into its own buffer, and no
/// temporary grows with the size of the set.
pub fn evaluate<T, N>(network: &N, data: &Dataset) -> Result<Evaluation>
where
    T: Float,
    N: Network<T>,
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
    network.evaluate(data)
}

/// How often each class was predicted as each class: row = the true class, column =
/// the predicted one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// The fraction predicted correctly: the diagonal over the total.
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().flatten().sum();
        let correct: usize = (0..self.counts.len()).map(|c| self.counts[c][c]).sum();
        correct as f64 / total.max(1) as f64
    }
}

/// A table with the true classes down and the predicted ones across.
impl std::fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self
            .counts
            .iter()
            .flatten()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        write!(f, "true\\predicted")?;
        for c in 0..self.counts.len() {
            write!(f, " {c:>width$}")?;
        }
        for (c, row) in self.counts.iter().enumerate() {
            write!(f, "\n{c:>15}")?;
            for count in row {
                write!(f, " {count:>width$}")?;
            }
        }
        Ok(())
    }
}

/// The confusion matrix of `network` on every sample of `data`, in bounded memory.
pub fn confusion_matrix<T, N>(network: &N, data: &Dataset) -> Result<ConfusionMatrix>
where
    T: Float,
    N: Network<T>,
{
    check_features(data, N::INPUT_WIDTH)?;
    let classes = N::OUTPUT_WIDTH;
    let mut counts = vec![vec![0; classes]; classes];
    let mut scratch = N::Scratch::default();
    let mut chunk = ChunkScratch::default();
    let chunk_rows = crate::network::evaluation_chunk_rows::<T, N>();
    for start in (0..data.len()).step_by(chunk_rows) {
        let (x, t) = EvaluationRows::<T>::chunk(
            data,
            start..(start + chunk_rows).min(data.len()),
            &mut chunk,
        )?;
        let scores = network.infer(x, &mut scratch);
        for (r, row) in scores.rows().into_iter().enumerate() {
            let truth = t.class(r);
            if truth >= classes {
                return Err(Error::LabelOutOfRange {
                    row: start + r,
                    found: truth,
                    classes,
                });
            }
            counts[truth][crate::targets::argmax(row.iter().copied())] += 1;
        }
    }
    Ok(ConfusionMatrix { counts })
}

/// A data set's pixels, converted to floats one chunk at a time.
impl<T: Float> EvaluationRows<T> for Dataset {
    fn len(&self) -> usize {
        Dataset::len(self)
    }

    fn features(&self) -> usize {
        Dataset::features(self)
    }

    fn chunk<'s>(
        &'s self,
        range: Range<usize>,
        scratch: &'s mut ChunkScratch<T>,
    ) -> Result<(ArrayView2<'s, T>, Targets<'s, T>)> {
        let rows = range.len();
        let width = Dataset::features(self);
        scratch.x.resize(rows * width, T::zero());
        scratch.labels.resize(rows, 0);
        self.range_into(range, &mut scratch.x, &mut scratch.labels)?;
        let x = ArrayView2::from_shape((rows, width), &scratch.x[..])
            .expect("the chunk holds whole rows");
        Ok((x, Targets::Labels(&scratch.labels)))
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
