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
