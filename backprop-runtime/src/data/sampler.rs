//! Mini-batch index sampling into a reused buffer.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use super::error::DataError;

/// How a [`Sampler`] draws example indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SamplingMode {
    /// Each index is drawn uniformly and independently, so a batch may repeat an
    /// example (the book's `np.random.choice(train_size, batch_size)`).
    #[default]
    WithReplacement,
    /// The indices form a stream of random permutations of `0..len`, consumed batch
    /// by batch; a batch that reaches the end of one permutation continues into the
    /// next, so every batch is full and every window of `len` draws starting at a
    /// multiple of `len` visits each example exactly once.
    ShuffledEpochs,
}

/// Draws mini-batches of example indices into a buffer it owns, allocating only when
/// created.
///
/// # Example
/// ```
/// use backprop::data::{Sampler, SamplingMode};
/// use backprop::rand::SeedableRng;
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(7);
/// let mut sampler = Sampler::new(60_000, 100, SamplingMode::WithReplacement)?;
/// let batch = sampler.next_batch(&mut rng);
/// assert_eq!(batch.len(), 100);
/// assert!(batch.iter().all(|&i| i < 60_000));
/// # Ok::<(), backprop::data::DataError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    len: usize,
    mode: SamplingMode,
    batch: Vec<usize>,
    /// The current permutation (shuffled mode only; empty otherwise).
    order: Vec<usize>,
    /// How much of `order` has been handed out.
    cursor: usize,
    /// The epoch `order` is the permutation of, for [`Sampler::batch_at`].
    epoch: Option<usize>,
}

impl Sampler {
    /// A sampler over examples `0..len` producing batches of `batch_size` indices.
    ///
    /// # Errors
    /// [`DataError::InvalidSampler`] when `len` or `batch_size` is zero.
    pub fn new(len: usize, batch_size: usize, mode: SamplingMode) -> Result<Self, DataError> {
        if len == 0 {
            return Err(DataError::InvalidSampler {
                setting: "data set size",
            });
        }
        if batch_size == 0 {
            return Err(DataError::InvalidSampler {
                setting: "batch size",
            });
        }
        let order = match mode {
            SamplingMode::WithReplacement => Vec::new(),
            SamplingMode::ShuffledEpochs => (0..len).collect(),
        };
        Ok(Self {
            len,
            mode,
            batch: vec![0; batch_size],
            // Starting "used up" makes the first batch shuffle before drawing.
            cursor: order.len(),
            order,
            epoch: None,
        })
    }

    /// Fills the internal buffer with the next `batch_size` indices and returns it.
    pub fn next_batch<R: Rng + ?Sized>(&mut self, rng: &mut R) -> &[usize] {
        match self.mode {
            SamplingMode::WithReplacement => {
                for slot in &mut self.batch {
                    *slot = rng.random_range(0..self.len);
                }
            }
            SamplingMode::ShuffledEpochs => {
                for slot in &mut self.batch {
                    if self.cursor == self.order.len() {
                        self.order.shuffle(rng);
                        self.cursor = 0;
                    }
                    *slot = self.order[self.cursor];
                    self.cursor += 1;
                }
            }
        }
        &self.batch
    }

    /// The batch of shuffled epochs whose first draw is number `first` of the run:
    /// draw `d` is element `d mod len` of epoch `d / len`'s permutation, which
    /// `epoch_rng(epoch)` shuffles. It depends on nothing drawn before, so a resumed
    /// run continues exactly. Allocates nothing. In replacement mode, it draws from
    /// `epoch_rng(first)` as [`next_batch`](Self::next_batch) does.
    pub fn batch_at<R: Rng>(
        &mut self,
        first: usize,
        mut epoch_rng: impl FnMut(usize) -> R,
    ) -> &[usize] {
        if self.mode == SamplingMode::WithReplacement {
            return self.next_batch(&mut epoch_rng(first));
        }
        for (offset, slot) in self.batch.iter_mut().enumerate() {
            let draw = first + offset;
            let epoch = draw / self.len;
            if self.epoch != Some(epoch) {
                for (i, v) in self.order.iter_mut().enumerate() {
                    *v = i;
                }
                self.order.shuffle(&mut epoch_rng(epoch));
                self.epoch = Some(epoch);
            }
            *slot = self.order[draw % self.len];
        }
        &self.batch
    }

    /// Number of examples sampled from.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a sampler over no examples cannot be created.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Indices per batch.
    pub fn batch_size(&self) -> usize {
        self.batch.len()
    }

    /// The sampling mode.
    pub fn mode(&self) -> SamplingMode {
        self.mode
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn draw(mode: SamplingMode, len: usize, batch: usize, batches: usize, seed: u64) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut sampler = Sampler::new(len, batch, mode).unwrap();
        (0..batches)
            .flat_map(|_| sampler.next_batch(&mut rng).to_vec())
            .collect()
    }

    #[test]
    fn with_replacement_stays_in_range_and_repeats_with_the_seed() {
        let first = draw(SamplingMode::WithReplacement, 13, 5, 40, 1);
        assert_eq!(first.len(), 200);
        assert!(first.iter().all(|&i| i < 13));
        // 200 draws from 13 values: every value turns up unless sampling is broken.
        assert!((0..13).all(|v| first.contains(&v)));
        assert_eq!(first, draw(SamplingMode::WithReplacement, 13, 5, 40, 1));
        assert_ne!(first, draw(SamplingMode::WithReplacement, 13, 5, 40, 2));
    }

    #[test]
    fn shuffled_epochs_visit_every_index_once_per_epoch() {
        let len = 12;
        // Batch 5 does not divide 12, so epochs straddle batches.
        let drawn = draw(SamplingMode::ShuffledEpochs, len, 5, 12, 3);
        let epochs: Vec<&[usize]> = drawn.chunks_exact(len).collect();
        assert_eq!(epochs.len(), 5);
        for epoch in &epochs {
            let mut sorted = epoch.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..len).collect::<Vec<_>>());
        }
        assert_ne!(epochs[0], epochs[1], "each epoch is reshuffled");
        assert_eq!(drawn, draw(SamplingMode::ShuffledEpochs, len, 5, 12, 3));
    }

    #[test]
    fn buffer_is_reused_between_batches() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut sampler = Sampler::new(10, 4, SamplingMode::ShuffledEpochs).unwrap();
        let first = sampler.next_batch(&mut rng).as_ptr();
        let second = sampler.next_batch(&mut rng).as_ptr();
        assert_eq!(first, second);
    }

    #[test]
    fn zero_sizes_are_errors() {
        let err = Sampler::new(0, 4, SamplingMode::default()).unwrap_err();
        assert!(err.to_string().contains("data set size"), "{err}");
        let err = Sampler::new(4, 0, SamplingMode::default()).unwrap_err();
        assert!(err.to_string().contains("batch size"), "{err}");
    }
}
