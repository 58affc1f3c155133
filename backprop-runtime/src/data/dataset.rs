//! An in-memory labelled image data set and its mini-batch gathering.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::Float;

use super::error::{DataError, DataOrigin};
use super::idx::{read_images, read_labels};
use super::locate::mnist_paths;

/// Number of classes assumed when none is given (the ten digits of MNIST).
pub const DEFAULT_CLASSES: usize = 10;

/// Labelled images kept compactly as bytes: `len()` images of `features()` pixels each,
/// and one class index per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    height: usize,
    width: usize,
    classes: usize,
}

impl Dataset {
    /// Loads an IDX image file and its IDX label file (each plain or gzip).
    ///
    /// `classes` is the number of classes; every label must be below it
    /// ([`DEFAULT_CLASSES`] for MNIST-style data).
    ///
    /// # Errors
    /// Any reader error of [`super::idx`], [`DataError::CountMismatch`] when the files
    /// hold different numbers of examples, [`DataError::LabelOutOfRange`] and
    /// [`DataError::InvalidClassCount`].
    ///
    /// # Example
    /// ```no_run
    /// use std::path::Path;
    /// use backprop::data::{Dataset, DEFAULT_CLASSES};
    /// let test = Dataset::load(
    ///     Path::new("data/mnist/t10k-images-idx3-ubyte.gz"),
    ///     Path::new("data/mnist/t10k-labels-idx1-ubyte.gz"),
    ///     DEFAULT_CLASSES,
    /// )?;
    /// assert_eq!(test.features(), 784);
    /// # Ok::<(), backprop::data::DataError>(())
    /// ```
    pub fn load(images_path: &Path, labels_path: &Path, classes: usize) -> Result<Self, DataError> {
        check_class_count(classes)?;
        let images = read_images(images_path)?;
        let labels = read_labels(labels_path)?;
        if images.count != labels.len() {
            return Err(DataError::CountMismatch {
                images_path: images_path.to_path_buf(),
                images: images.count,
                labels_path: labels_path.to_path_buf(),
                labels: labels.len(),
            });
        }
        check_labels(&labels, classes, labels_path)?;
        Ok(Self {
            pixels: images.pixels,
            labels,
            height: images.rows,
            width: images.cols,
            classes,
        })
    }

    /// Builds a data set from memory: `pixels` holds `labels.len()` images of
    /// `height × width` bytes each, row-major. Handy for tests and synthetic data.
    ///
    /// # Errors
    /// [`DataError::BufferLength`] when `pixels` has the wrong length or there are no
    /// examples or no pixels, [`DataError::LabelOutOfRange`] (with path `<in memory>`)
    /// and [`DataError::InvalidClassCount`].
    ///
    /// # Example
    /// ```
    /// use backprop::data::Dataset;
    /// let two_pixels = Dataset::from_raw(vec![0, 255, 51, 0], vec![1, 0], 1, 2, 2)?;
    /// assert_eq!((two_pixels.len(), two_pixels.features()), (2, 2));
    /// # Ok::<(), backprop::data::DataError>(())
    /// ```
    pub fn from_raw(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        height: usize,
        width: usize,
        classes: usize,
    ) -> Result<Self, DataError> {
        check_class_count(classes)?;
        let features = height.saturating_mul(width);
        let expected = labels.len().saturating_mul(features);
        if expected == 0 || pixels.len() != expected {
            return Err(DataError::BufferLength {
                buffer: "pixels",
                expected: expected.max(1),
                found: pixels.len(),
            });
        }
        check_labels(&labels, classes, Path::new("<in memory>"))?;
        Ok(Self {
            pixels,
            labels,
            height,
            width,
            classes,
        })
    }

    /// The first `count` examples (all of them if there are fewer), as a data set of
    /// their own: the book's `evaluate_sample_num_per_epoch`.
    pub fn first(&self, count: usize) -> Dataset {
        let count = count.min(self.len());
        Dataset {
            pixels: self.pixels[..count * self.features()].to_vec(),
            labels: self.labels[..count].to_vec(),
            height: self.height,
            width: self.width,
            classes: self.classes,
        }
    }

    /// The examples at `indices`, in that order, as a data set of their own: a
    /// validation split drawn from shuffled indices (the book's `shuffle_dataset`
    /// followed by slicing).
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`] for an index `>= len()`.
    ///
    /// # Example
    /// ```
    /// use backprop::data::Dataset;
    /// let data = Dataset::from_raw(vec![10, 11, 20, 21, 30, 31], vec![1, 2, 3], 1, 2, 10)?;
    /// let picked = data.select(&[2, 0])?;
    /// assert_eq!((picked.pixels(), picked.labels()), (&[30, 31, 10, 11][..], &[3, 1][..]));
    /// assert!(data.select(&[3]).is_err());
    /// # Ok::<(), backprop::data::DataError>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, DataError> {
        self.check_indices(indices)?;
        let features = self.features();
        Ok(Dataset {
            pixels: indices
                .iter()
                .flat_map(|&i| &self.pixels[i * features..(i + 1) * features])
                .copied()
                .collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            height: self.height,
            width: self.width,
            classes: self.classes,
        })
    }

    /// Splits off a seeded random `fraction` of the examples as a second data set, a
    /// validation set: `(rest, held_out)`, each in the original order. Stratified, each
    /// class gives the same fraction (rounded), so both sides keep the class balance.
    /// The same seed gives the same split.
    ///
    /// # Errors
    /// [`DataError::SplitFraction`] unless 0 < `fraction` < 1 and each side gets at
    /// least one example.
    ///
    /// # Example
    /// ```
    /// use backprop::data::Dataset;
    /// let labels: Vec<u8> = (0..100).map(|i| (i % 4) as u8).collect();
    /// let data = Dataset::from_raw((0..100).collect(), labels, 1, 1, 4)?;
    /// let (train, validation) = data.split(0.2, 7, true)?;
    /// assert_eq!((train.len(), validation.len()), (80, 20));
    /// assert!((0..4).all(|c| validation.labels().iter().filter(|&&l| l == c).count() == 5));
    /// assert!(data.split(1.0, 7, true).is_err());
    /// # Ok::<(), backprop::data::DataError>(())
    /// ```
    pub fn split(
        &self,
        fraction: f64,
        seed: u64,
        stratified: bool,
    ) -> Result<(Dataset, Dataset), DataError> {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let refused = DataError::SplitFraction {
            fraction,
            len: self.len(),
        };
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(refused);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let groups: Vec<Vec<usize>> = if stratified {
            (0..self.classes)
                .map(|class| {
                    (0..self.len())
                        .filter(|&i| usize::from(self.labels[i]) == class)
                        .collect()
                })
                .collect()
        } else {
            vec![(0..self.len()).collect()]
        };
        let mut held_out = vec![false; self.len()];
        for mut group in groups {
            group.shuffle(&mut rng);
            let take = (group.len() as f64 * fraction).round() as usize;
            for &i in &group[..take] {
                held_out[i] = true;
            }
        }
        let (held, rest): (Vec<usize>, Vec<usize>) = (0..self.len()).partition(|&i| held_out[i]);
        if held.is_empty() || rest.is_empty() {
            return Err(refused);
        }
        Ok((self.select(&rest)?, self.select(&held)?))
    }

    fn check_indices(&self, indices: &[usize]) -> Result<(), DataError> {
        match indices.iter().find(|&&i| i >= self.len()) {
            Some(&index) => Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            }),
            None => Ok(()),
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: loading rejects data sets without examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image (`height() * width()`), the length of one input row.
    pub fn features(&self) -> usize {
        self.height * self.width
    }

    /// Number of classes; every label is below it.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Image height in pixels (IDX rows).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels (IDX columns).
    pub fn width(&self) -> usize {
        self.width
    }

    /// All pixels as stored, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The raw bytes of image `index`, or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let start = index.checked_mul(self.features())?;
        self.pixels.get(start..start.checked_add(self.features())?)
    }

    /// All labels as stored (one byte per example, each below [`Self::classes`]).
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The class index of example `index`, or `None` past the end.
    pub fn label(&self, index: usize) -> Option<usize> {
        self.labels.get(index).map(|&l| usize::from(l))
    }

    /// Copies the examples at `indices` into caller buffers without allocating:
    /// `x` receives `indices.len()` rows of `features()` values, each pixel as
    /// `pixel / 255` in `[0, 1]` (the book's `normalize=True`), and `labels` their
    /// class indices. After a matrix product that used several threads (the book's
    /// batch-100 training step), the rows are converted on those threads too, each
    /// writing its own range of rows of `x` (see [`crate::parallel`]).
    ///
    /// # Errors
    /// [`DataError::BufferLength`] when `x` is not `indices.len() * features()` long or
    /// `labels` not `indices.len()`; [`DataError::IndexOutOfRange`] for an index
    /// `>= len()`. Nothing is written on error.
    ///
    /// # Example
    /// ```
    /// use backprop::data::Dataset;
    /// let data = Dataset::from_raw(vec![0, 255, 51, 0], vec![1, 0], 1, 2, 2)?;
    /// let (mut x, mut labels) = ([0.0f32; 4], [0usize; 2]);
    /// data.gather_into(&[1, 0], &mut x, &mut labels)?;
    /// assert_eq!(x, [0.2, 0.0, 0.0, 1.0]);
    /// assert_eq!(labels, [0, 1]);
    /// # Ok::<(), backprop::data::DataError>(())
    /// ```
    pub fn gather_into<T: Float>(
        &self,
        indices: &[usize],
        x: &mut [T],
        labels: &mut [usize],
    ) -> Result<(), DataError> {
        self.check_buffers(indices.len(), x.len(), labels.len())?;
        self.check_indices(indices)?;
        let features = self.features();
        // The step's products read `x`: split like them (see `split_pass`), whole rows
        // per thread (a data set always has at least one feature).
        crate::gemm::split_pass(x, features, &|first, rows| {
            let first_row = first / features;
            let indices = &indices[first_row..first_row + rows.len() / features];
            // Rows drawn at random from a large set are mostly not in cache. Touching
            // one byte of every cache line of every row first issues those loads
            // together, so their latencies overlap instead of stalling the conversion
            // row by row. Each thread touches its own rows, so they load into its cache.
            let mut touched = 0u8;
            for &index in indices {
                let start = index * features;
                for &pixel in self.pixels[start..start + features].iter().step_by(64) {
                    touched ^= pixel;
                }
            }
            std::hint::black_box(touched);
            for (&index, row) in indices.iter().zip(rows.chunks_exact_mut(features)) {
                let start = index * features;
                super::pixels::to_unit(&self.pixels[start..start + features], row);
            }
        });
        for (&index, label) in indices.iter().zip(labels) {
            *label = usize::from(self.labels[index]);
        }
        Ok(())
    }

    /// Copies the contiguous examples `rows` into caller buffers, normalised as in
    /// [`Self::gather_into`]; meant for evaluating a whole set chunk by chunk (slice
    /// the buffers for a shorter last chunk).
    ///
    /// # Errors
    /// [`DataError::BufferLength`] for buffers not sized for `rows.len()` examples;
    /// [`DataError::IndexOutOfRange`] when `rows` reaches past `len()`.
    pub fn range_into<T: Float>(
        &self,
        rows: Range<usize>,
        x: &mut [T],
        labels: &mut [usize],
    ) -> Result<(), DataError> {
        if rows.end > self.len() || rows.start > rows.end {
            return Err(DataError::IndexOutOfRange {
                index: rows.end.max(rows.start),
                len: self.len(),
            });
        }
        self.check_buffers(rows.len(), x.len(), labels.len())?;
        let features = self.features();
        super::pixels::to_unit(&self.pixels[rows.start * features..rows.end * features], x);
        for (label, &stored) in labels.iter_mut().zip(&self.labels[rows]) {
            *label = usize::from(stored);
        }
        Ok(())
    }

    /// Writes the one-hot encoding of the labels at `indices` into `out`
    /// (`indices.len()` rows of `classes()` values: 1 at the label, 0 elsewhere).
    ///
    /// # Errors
    /// [`DataError::BufferLength`] when `out` is not `indices.len() * classes()` long;
    /// [`DataError::IndexOutOfRange`] for an index `>= len()`.
    pub fn one_hot_into<T: Float>(
        &self,
        indices: &[usize],
        out: &mut [T],
    ) -> Result<(), DataError> {
        let expected = indices.len() * self.classes;
        if out.len() != expected {
            return Err(DataError::BufferLength {
                buffer: "one-hot",
                expected,
                found: out.len(),
            });
        }
        for (&index, row) in indices.iter().zip(out.chunks_exact_mut(self.classes)) {
            let label = self.label(index).ok_or(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            })?;
            row.fill(T::zero());
            row[label] = T::one();
        }
        Ok(())
    }

    fn check_buffers(
        &self,
        examples: usize,
        x_len: usize,
        labels_len: usize,
    ) -> Result<(), DataError> {
        let expected_x = examples * self.features();
        if x_len != expected_x {
            return Err(DataError::BufferLength {
                buffer: "x",
                expected: expected_x,
                found: x_len,
            });
        }
        if labels_len != examples {
            return Err(DataError::BufferLength {
                buffer: "labels",
                expected: examples,
                found: labels_len,
            });
        }
        Ok(())
    }
}

/// The MNIST training and test sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    /// The training set (60,000 examples for MNIST).
    pub train: Dataset,
    /// The test set (10,000 examples for MNIST).
    pub test: Dataset,
}

/// Loads the four standard MNIST files from `dir`, each plain or `.gz`
/// (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
/// `t10k-labels-idx1-ubyte`), with [`DEFAULT_CLASSES`] classes.
///
/// Only the IDX format is checked, not MNIST checksums, so other data sets stored under
/// these names (Fashion-MNIST) load too.
///
/// # Errors
/// [`DataError::MissingFiles`] listing every file found neither plain nor compressed,
/// then any error of [`Dataset::load`].
pub fn load_mnist(dir: &Path) -> Result<Mnist, DataError> {
    let [train_images, train_labels, test_images, test_labels] =
        mnist_paths(dir, DataOrigin::Argument)?;
    Ok(Mnist {
        train: Dataset::load(&train_images, &train_labels, DEFAULT_CLASSES)?,
        test: Dataset::load(&test_images, &test_labels, DEFAULT_CLASSES)?,
    })
}

fn check_class_count(classes: usize) -> Result<(), DataError> {
    if (1..=256).contains(&classes) {
        Ok(())
    } else {
        Err(DataError::InvalidClassCount { classes })
    }
}

fn check_labels(labels: &[u8], classes: usize, path: &Path) -> Result<(), DataError> {
    match labels.iter().position(|&l| usize::from(l) >= classes) {
        None => Ok(()),
        Some(index) => Err(DataError::LabelOutOfRange {
            path: PathBuf::from(path),
            index,
            label: labels[index],
            classes,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::idx::testing::{gzip, image_bytes, label_bytes, write};
    use super::*;

    fn small_set(
        dir: &Path,
        labels: &[u8],
        label_count_in_header: usize,
    ) -> Result<Dataset, DataError> {
        let pixels: Vec<u8> = (0..label_count_in_header * 6)
            .map(|i| (i * 11) as u8)
            .collect();
        let images = write(
            dir,
            "images.gz",
            &gzip(&image_bytes(label_count_in_header as u32, 2, 3, &pixels)),
        );
        let labels = write(dir, "labels", &label_bytes(labels));
        Dataset::load(&images, &labels, DEFAULT_CLASSES)
    }

    #[test]
    fn load_reports_shape_from_the_headers() {
        let dir = tempfile::tempdir().unwrap();
        let data = small_set(dir.path(), &[0, 9, 4, 2], 4).unwrap();
        assert_eq!(data.len(), 4);
        assert_eq!((data.height(), data.width(), data.features()), (2, 3, 6));
        assert_eq!(data.classes(), 10);
        assert_eq!(data.label(1), Some(9));
        assert_eq!(data.label(4), None);
        assert_eq!(data.image(1), Some(&[66, 77, 88, 99, 110, 121][..]));
        assert_eq!(data.image(4), None);
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = small_set(dir.path(), &[0, 1, 2], 4).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    images: 4,
                    labels: 3,
                    ..
                }
            ),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("images.gz") && message.contains("labels"),
            "{message}"
        );
    }

    #[test]
    fn label_at_or_above_class_count_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let err = small_set(dir.path(), &[0, 1, 10, 2], 4).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    index: 2,
                    label: 10,
                    classes: 10,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn class_count_must_fit_byte_labels() {
        for classes in [0, 257] {
            let err = Dataset::from_raw(vec![1], vec![0], 1, 1, classes).unwrap_err();
            assert!(matches!(err, DataError::InvalidClassCount { classes: c } if c == classes));
        }
    }

    #[test]
    fn gather_after_a_two_thread_product_converts_every_row() {
        // After a product split between threads the gather is split too.
        crate::parallel::set_threads(2);
        let (rows, features) = (100, 784);
        let ones = vec![1.0_f32; rows * features];
        let mut out = vec![0.0_f32; rows * 50];
        crate::gemm::matmul_bias(
            rows,
            features,
            50,
            &ones,
            &ones[..features * 50],
            None,
            &mut out,
            crate::gemm::Sparsity::Dense,
        )
        .unwrap();
        let pixels: Vec<u8> = (0..2 * rows * features)
            .map(|i| (i * 7 % 256) as u8)
            .collect();
        let labels: Vec<u8> = (0..2 * rows).map(|i| (i % 10) as u8).collect();
        let data = Dataset::from_raw(pixels.clone(), labels, 28, 28, 10).unwrap();
        let indices: Vec<usize> = (0..rows).map(|i| (i * 37) % (2 * rows)).collect();
        let mut x = vec![f32::NAN; rows * features];
        let mut got_labels = vec![usize::MAX; rows];
        data.gather_into(&indices, &mut x, &mut got_labels).unwrap();
        for ((&index, row), &label) in indices
            .iter()
            .zip(x.chunks_exact(features))
            .zip(&got_labels)
        {
            let source = &pixels[index * features..(index + 1) * features];
            let expected: Vec<f32> = source.iter().map(|&p| f32::from(p) / 255.0).collect();
            assert_eq!(row, expected.as_slice(), "row of example {index}");
            assert_eq!(label, index % 10);
        }
    }

    #[test]
    fn gather_normalises_selected_rows_in_order() {
        let pixels: Vec<u8> = (0..12).map(|i| i * 20).collect();
        let data = Dataset::from_raw(pixels.clone(), vec![3, 1, 4], 2, 2, 5).unwrap();
        let mut x = [f64::NAN; 8];
        let mut labels = [usize::MAX; 2];
        data.gather_into(&[2, 0], &mut x, &mut labels).unwrap();
        let expected: Vec<f64> = pixels[8..12]
            .iter()
            .chain(&pixels[0..4])
            .map(|&p| f64::from(p) / 255.0)
            .collect();
        assert_eq!(x.to_vec(), expected);
        assert_eq!(labels, [4, 3]);
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn gather_rejects_bad_index_and_buffers_without_writing() {
        let data = Dataset::from_raw(vec![255; 8], vec![0, 1], 2, 2, 2).unwrap();
        let mut x = [0.5f32; 8];
        let mut labels = [7usize; 2];
        let err = data.gather_into(&[0, 2], &mut x, &mut labels).unwrap_err();
        assert!(
            matches!(err, DataError::IndexOutOfRange { index: 2, len: 2 }),
            "{err}"
        );
        assert_eq!(x, [0.5; 8]);
        let err = data
            .gather_into(&[0], &mut x, &mut labels[..1])
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BufferLength {
                    buffer: "x",
                    expected: 4,
                    found: 8
                }
            ),
            "{err}"
        );
        let err = data
            .gather_into(&[0], &mut x[..4], &mut labels)
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BufferLength {
                    buffer: "labels",
                    expected: 1,
                    found: 2
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn range_into_matches_gather_of_the_same_rows() {
        let pixels: Vec<u8> = (0..20).map(|i| i * 13).collect();
        let data = Dataset::from_raw(pixels, vec![0, 1, 2, 3, 4], 2, 2, 5).unwrap();
        let (mut by_range, mut range_labels) = ([0f32; 8], [0usize; 2]);
        let (mut by_gather, mut gather_labels) = ([0f32; 8], [0usize; 2]);
        data.range_into(3..5, &mut by_range, &mut range_labels)
            .unwrap();
        data.gather_into(&[3, 4], &mut by_gather, &mut gather_labels)
            .unwrap();
        assert_eq!(by_range, by_gather);
        assert_eq!(range_labels, [3, 4]);
        let err = data
            .range_into(4..6, &mut by_range, &mut range_labels)
            .unwrap_err();
        assert!(
            matches!(err, DataError::IndexOutOfRange { index: 6, len: 5 }),
            "{err}"
        );
    }

    #[test]
    fn one_hot_marks_only_the_label() {
        let data = Dataset::from_raw(vec![0; 3], vec![2, 0, 1], 1, 1, 3).unwrap();
        let mut out = [9.0f32; 6];
        data.one_hot_into(&[0, 2], &mut out).unwrap();
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let err = data.one_hot_into(&[3, 0], &mut out).unwrap_err();
        assert!(
            matches!(err, DataError::IndexOutOfRange { index: 3, len: 3 }),
            "{err}"
        );
    }

    #[test]
    #[ignore = "needs MNIST_DIR"]
    fn loads_real_mnist_from_mnist_dir() {
        let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR is set for this test");
        let mnist = load_mnist(Path::new(&dir)).unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
        for set in [&mnist.train, &mnist.test] {
            assert_eq!(set.features(), 784);
            assert!(set.labels().iter().all(|&l| l < 10));
            // Every digit occurs: a wrong file would hardly produce all ten.
            let mut seen = [false; 10];
            set.labels()
                .iter()
                .for_each(|&l| seen[usize::from(l)] = true);
            assert_eq!(seen, [true; 10]);
        }
    }
}
