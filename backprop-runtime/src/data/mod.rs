//! MNIST-style data: IDX files (plain or gzip), an in-memory [`Dataset`] with
//! allocation-free mini-batch gathering, a [`Sampler`] of batch indices, and finding
//! or downloading MNIST (`prepare_mnist`, `download_mnist`, with the `download` feature).
//!
//! # Example
//! ```no_run
//! use backprop::data::{load_mnist, prepare_mnist, Sampler, SamplingMode};
//! use backprop::rand::SeedableRng;
//!
//! let dir = prepare_mnist(None, &mut |_event| {})?;
//! let mnist = load_mnist(&dir)?;
//! let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
//! let mut sampler = Sampler::new(mnist.train.len(), 100, SamplingMode::WithReplacement)?;
//! let (mut x, mut t) = (vec![0.0f32; 100 * mnist.train.features()], vec![0usize; 100]);
//! mnist.train.gather_into(sampler.next_batch(&mut rng), &mut x, &mut t)?;
//! # Ok::<(), backprop::data::DataError>(())
//! ```

mod batches;
mod dataset;
#[cfg(feature = "download")]
mod download;
mod error;
pub mod idx;
mod locate;
pub(crate) mod pixels;
mod sampler;
#[cfg(all(test, feature = "download"))]
mod test_server;

pub use crate::network::Evaluation;
pub use batches::{ConfusionMatrix, MiniBatch, confusion_matrix, evaluate};
pub use dataset::{DEFAULT_CLASSES, Dataset, Mnist, load_mnist};
#[cfg(feature = "download")]
pub use download::{
    DEFAULT_MIRRORS, DownloadEvent, Downloader, FileSpec, download_mnist, mnist_file_specs,
};
pub use error::{DataError, DataOrigin, MirrorFailure, OTHER_WAYS_TO_PROVIDE_DATA};
pub use locate::{DEFAULT_MNIST_DIR, MNIST_DIR_ENV, MNIST_FILES, choose_mnist_dir, find_idx_file};
#[cfg(feature = "download")]
pub use locate::{prepare_mnist, prepare_mnist_with};
pub use sampler::{Sampler, SamplingMode};
