//! The one error type of the data module.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What to tell a user whose data could neither be found nor downloaded.
pub const OTHER_WAYS_TO_PROVIDE_DATA: &str = "Other ways to provide the data: name a folder \
     holding the four IDX files (plain or .gz) as the data folder, set the MNIST_DIR environment \
     variable to such a folder, or put the files into ./data/mnist";

/// Everything that can go wrong while reading, locating or downloading a data set.
///
/// Every message names the file (or URL, or setting) concerned and says what was
/// expected and what was found.
#[derive(thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read, decompressed or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },

    /// The file holds no bytes at all.
    #[error("{}: expected an IDX file, found an empty file", path.display())]
    Empty {
        /// The file concerned.
        path: PathBuf,
    },

    /// A gzip-compressed file, in a build without the `gzip` feature.
    #[error(
        "{}: expected a plain IDX file, found a gzip-compressed one; this build of backprop \
         reads gzip only with its `gzip` feature (on by default), or decompress the file",
        path.display()
    )]
    GzipNotBuilt {
        /// The file concerned.
        path: PathBuf,
    },

    /// The first four bytes are not the expected IDX magic number.
    #[error(
        "{}: expected magic number {expected} ({expected_kind}), found {found}{}",
        path.display(),
        found_kind.map(|kind| format!(" ({kind})")).unwrap_or_default()
    )]
    BadMagic {
        /// The file concerned.
        path: PathBuf,
        /// The magic number this kind of file must start with.
        expected: u32,
        /// What files starting with `expected` hold, e.g. "IDX images".
        expected_kind: &'static str,
        /// The magic number the file starts with.
        found: u32,
        /// What files starting with `found` hold, when it is a known magic number:
        /// usually a sign that the image and label paths were swapped.
        found_kind: Option<&'static str>,
    },

    /// The file ends before the size announced by its header.
    #[error(
        "{}: truncated: expected {expected} bytes (from the IDX header), found {found}",
        path.display()
    )]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// Bytes the (decompressed) file should hold; u128 because a corrupt header
        /// can announce more than u64 can count.
        expected: u128,
        /// Bytes the (decompressed) file holds.
        found: u128,
    },

    /// The file holds more bytes than its header announces.
    #[error(
        "{}: trailing data: expected {expected} bytes (from the IDX header), found {found}",
        path.display()
    )]
    TrailingData {
        /// The file concerned.
        path: PathBuf,
        /// Bytes the (decompressed) file should hold.
        expected: u128,
        /// Bytes the (decompressed) file holds.
        found: u128,
    },

    /// A header dimension (item count, rows, columns) is zero.
    #[error("{}: expected a non-zero number of {dimension}, found 0", path.display())]
    ZeroDimension {
        /// The file concerned.
        path: PathBuf,
        /// Which dimension: "images", "labels", "rows" or "columns".
        dimension: &'static str,
    },

    /// The image file and the label file disagree on the number of examples.
    #[error(
        "{}: expected {labels} images (as many as labels in {}), found {images}",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// Number of images in it.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Number of labels in it.
        labels: usize,
    },

    /// A label is not a valid class index.
    #[error(
        "{}: label #{index}: expected a class index below {classes}, found {label}",
        path.display()
    )]
    LabelOutOfRange {
        /// The label file.
        path: PathBuf,
        /// Position of the offending label.
        index: usize,
        /// The offending label.
        label: u8,
        /// The number of classes the data set was loaded with.
        classes: usize,
    },

    /// The requested class count cannot be represented by u8 labels.
    #[error("class count: expected 1 to 256 (labels are bytes), found {classes}")]
    InvalidClassCount {
        /// The requested class count.
        classes: usize,
    },

    /// A split fraction that leaves one side empty.
    #[error(
        "split fraction: expected a number above 0 and below 1 that leaves at least one example on each side of {len}, found {fraction}"
    )]
    SplitFraction {
        /// The fraction asked for.
        fraction: f64,
        /// The data set's size.
        len: usize,
    },

    /// An example index passed to a gather function is past the end of the data set.
    #[error("example index: expected an index below the data set size {len}, found {index}")]
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The number of examples in the data set.
        len: usize,
    },

    /// A caller-provided buffer has the wrong length.
    #[error("{buffer} buffer: expected length {expected}, found {found}")]
    BufferLength {
        /// Which buffer ("x", "labels", "one-hot").
        buffer: &'static str,
        /// The length the call needs.
        expected: usize,
        /// The length passed in.
        found: usize,
    },

    /// A sampler was asked for something it cannot do.
    #[error("sampler {setting}: expected at least 1, found 0")]
    InvalidSampler {
        /// Which setting is zero: "data set size" or "batch size".
        setting: &'static str,
    },

    /// A data folder named by the user lacks some of the required files.
    #[error(
        "{}: expected the MNIST IDX files (plain or .gz), missing: {}{}",
        folder(dir, *origin),
        missing.join(", "),
        if *folder_exists { "" } else { " (the folder does not exist)" }
    )]
    MissingFiles {
        /// The folder searched.
        dir: PathBuf,
        /// How the folder was chosen.
        origin: DataOrigin,
        /// Base names (without `.gz`) of the files found neither plain nor compressed.
        missing: Vec<String>,
        /// Whether the folder itself exists.
        folder_exists: bool,
    },

    /// A file already in the download folder does not match its expected content.
    #[error("{}: {reason}; delete it to download it again", path.display())]
    BadExistingFile {
        /// The file concerned.
        path: PathBuf,
        /// What did not match, expected vs found.
        reason: String,
    },

    /// No mirror delivered a verified copy of a file.
    #[error(
        "could not download {file}:{}\n{OTHER_WAYS_TO_PROVIDE_DATA}",
        MirrorFailures(failures)
    )]
    Download {
        /// The file name requested from the mirrors.
        file: String,
        /// One entry per mirror tried, in order.
        failures: Vec<MirrorFailure>,
    },
}

/// Why one mirror did not deliver one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFailure {
    /// The full URL requested.
    pub url: String,
    /// What went wrong, expected vs found where that applies.
    pub reason: String,
}

struct MirrorFailures<'a>(&'a [MirrorFailure]);

impl fmt::Display for MirrorFailures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, " no mirror was configured");
        }
        for failure in self.0 {
            write!(f, "\n  {}: {}", failure.url, failure.reason)?;
        }
        Ok(())
    }
}

/// The message, as `Display` gives it: a `main` that returns this error prints what
/// went wrong, not the variant's fields.
impl std::fmt::Debug for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// How a data folder was chosen; shown in error messages so the user knows which
/// setting to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOrigin {
    /// Named by the program's `--data DIR` option.
    Flag,
    /// Named by the `MNIST_DIR` environment variable.
    EnvVar,
    /// The default `./data/mnist`.
    Default,
    /// Passed directly to [`load_mnist`](super::load_mnist).
    Argument,
}

impl fmt::Display for DataOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flag => "given on the command line",
            Self::EnvVar => "named by MNIST_DIR",
            Self::Default => "the default",
            Self::Argument => "passed by the program",
        })
    }
}

/// The folder as a message names it: "the data folder DIR named by MNIST_DIR".
fn folder(dir: &std::path::Path, origin: DataOrigin) -> String {
    let dir = dir.display();
    match origin {
        DataOrigin::Flag | DataOrigin::EnvVar => format!("the data folder {dir} {origin}"),
        DataOrigin::Default => format!("the default data folder {dir}"),
        DataOrigin::Argument => format!("the data folder {dir}"),
    }
}
