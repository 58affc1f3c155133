//! Reading IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.
//!
//! The layout is a big-endian header — a magic number naming the element type and the
//! number of dimensions, then one u32 per dimension — followed by the elements. Only the
//! two shapes MNIST-style data sets use are accepted: u8 images (count × rows × columns)
//! and u8 labels (count).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

#[cfg(feature = "gzip")]
use flate2::bufread::MultiGzDecoder;

use super::error::DataError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// IDX magic number of u8 images with three dimensions (count, rows, columns).
pub(crate) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// IDX magic number of u8 labels with one dimension (count).
pub(crate) const LABELS_MAGIC: u32 = 0x0000_0801;

/// What a file starting with `magic` holds, for the magic numbers MNIST uses.
fn magic_kind(magic: u32) -> Option<&'static str> {
    match magic {
        IMAGES_MAGIC => Some("IDX images"),
        LABELS_MAGIC => Some("IDX labels"),
        _ => None,
    }
}

/// A decoded IDX image file: `count` images of `rows × cols` u8 pixels, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Pixel rows per image.
    pub rows: usize,
    /// Pixel columns per image.
    pub cols: usize,
    /// `count * rows * cols` pixels, image after image.
    pub pixels: Vec<u8>,
}

/// Opens `path` for reading, transparently decompressing it when its content starts
/// with the gzip magic bytes (whatever the file is called).
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened or its first bytes cannot be read;
/// [`DataError::GzipNotBuilt`] for a gzip file when the `gzip` feature is off.
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let io_error = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_error)?);
    let is_gzip = reader
        .fill_buf()
        .map_err(io_error)?
        .starts_with(&GZIP_MAGIC);
    if !is_gzip {
        return Ok(Box::new(reader));
    }
    #[cfg(feature = "gzip")]
    return Ok(Box::new(MultiGzDecoder::new(reader)));
    #[cfg(not(feature = "gzip"))]
    Err(DataError::GzipNotBuilt {
        path: path.to_path_buf(),
    })
}

/// Reads an IDX image file (magic 2051: u8, three dimensions).
///
/// # Errors
/// A [`DataError`] naming `path` when the file is missing, empty, not an image file,
/// has a zero dimension, is shorter or longer than its header says, or is corrupt gzip.
///
/// # Example
/// ```no_run
/// # use backprop::data::idx::read_images;
/// let images = read_images(std::path::Path::new("data/mnist/t10k-images-idx3-ubyte.gz"))?;
/// assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
/// # Ok::<(), backprop::data::DataError>(())
/// ```
pub fn read_images(path: &Path) -> Result<IdxImages, DataError> {
    let mut reader = open_maybe_gzip(path)?;
    let dims = read_header::<3>(&mut reader, path, IMAGES_MAGIC)?;
    for (size, dimension) in dims.iter().zip(["images", "rows", "columns"]) {
        if *size == 0 {
            return Err(DataError::ZeroDimension {
                path: path.to_path_buf(),
                dimension,
            });
        }
    }
    let pixels = read_payload(&mut reader, path, &dims)?;
    let [count, rows, cols] = dims.map(|d| d as usize);
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX label file (magic 2049: u8, one dimension).
///
/// # Errors
/// As [`read_images`], for label files.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let mut reader = open_maybe_gzip(path)?;
    let dims = read_header::<1>(&mut reader, path, LABELS_MAGIC)?;
    if dims[0] == 0 {
        return Err(DataError::ZeroDimension {
            path: path.to_path_buf(),
            dimension: "labels",
        });
    }
    read_payload(&mut reader, path, &dims)
}

fn header_len(dims: usize) -> u128 {
    4 + 4 * dims as u128
}

/// Reads the magic number and the `D` dimension sizes, checking the magic first so
/// that a wrong kind of file is reported as such rather than as truncated.
fn read_header<const D: usize>(
    reader: &mut dyn Read,
    path: &Path,
    magic: u32,
) -> Result<[u32; D], DataError> {
    let mut word = [0u8; 4];
    let got = read_up_to(reader, &mut word, path)?;
    if got == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if got < word.len() {
        return Err(truncated(path, header_len(D), got as u128));
    }
    let found = u32::from_be_bytes(word);
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            expected_kind: magic_kind(magic).unwrap_or("unknown"),
            found,
            found_kind: magic_kind(found),
        });
    }
    let mut dims = [0u32; D];
    for (i, dim) in dims.iter_mut().enumerate() {
        let got = read_up_to(reader, &mut word, path)?;
        if got < word.len() {
            let found = 4 + 4 * i as u128 + got as u128;
            return Err(truncated(path, header_len(D), found));
        }
        *dim = u32::from_be_bytes(word);
    }
    Ok(dims)
}

/// Reads exactly the payload the header announces and insists the stream ends there.
/// Bytes reserved before the payload is read; it grows from there as bytes arrive.
const INITIAL_PAYLOAD_CAPACITY: u128 = 64 * 1024;

fn read_payload(reader: &mut dyn Read, path: &Path, dims: &[u32]) -> Result<Vec<u8>, DataError> {
    let io_error = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let payload_len: u128 = dims.iter().map(|&d| u128::from(d)).product();
    let expected_total = header_len(dims.len()) + payload_len;
    // A corrupt header may announce more than memory holds: the payload grows with
    // the bytes actually read (from a small start, so that a 100-byte file claiming
    // 4·10⁹ images allocates kilobytes), and a short read is reported below.
    let limit = u64::try_from(payload_len).unwrap_or(u64::MAX);
    let mut payload = Vec::with_capacity(payload_len.min(INITIAL_PAYLOAD_CAPACITY) as usize);
    Read::take(&mut *reader, limit)
        .read_to_end(&mut payload)
        .map_err(io_error)?;
    let read = payload.len() as u128;
    if read < payload_len {
        return Err(truncated(
            path,
            expected_total,
            header_len(dims.len()) + read,
        ));
    }
    let trailing = io::copy(reader, &mut io::sink()).map_err(io_error)?;
    if trailing > 0 {
        return Err(DataError::TrailingData {
            path: path.to_path_buf(),
            expected: expected_total,
            found: expected_total + u128::from(trailing),
        });
    }
    Ok(payload)
}

fn truncated(path: &Path, expected: u128, found: u128) -> DataError {
    DataError::Truncated {
        path: path.to_path_buf(),
        expected,
        found,
    }
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8], path: &Path) -> Result<usize, DataError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(DataError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(filled)
}

/// Writers of small IDX files, shared by the tests of the whole data module.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::{IMAGES_MAGIC, LABELS_MAGIC};

    /// The bytes of an IDX image file holding `count` images of `rows × cols` pixels.
    pub(crate) fn image_bytes(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, rows, cols] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend_from_slice(pixels);
        bytes
    }

    /// The bytes of an IDX label file.
    pub(crate) fn label_bytes(labels: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [LABELS_MAGIC, labels.len() as u32] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend_from_slice(labels);
        bytes
    }

    /// Gzip-compresses `bytes`.
    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder
            .write_all(bytes)
            .expect("writing to a Vec cannot fail");
        encoder.finish().expect("writing to a Vec cannot fail")
    }

    /// Writes `bytes` to `dir/name` and returns the path.
    pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("the test's temp dir is writable");
        path
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{gzip, image_bytes, label_bytes, write};
    use super::*;

    fn pixels(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 37 % 256) as u8).collect()
    }

    #[test]
    fn reads_plain_and_gzip_images_alike() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = image_bytes(3, 2, 4, &pixels(24));
        // The compressed copy has no .gz suffix: detection is by content.
        let plain = write(dir.path(), "plain-images", &bytes);
        let compressed = write(dir.path(), "compressed-images", &gzip(&bytes));
        for path in [plain, compressed] {
            let images = read_images(&path).unwrap();
            assert_eq!((images.count, images.rows, images.cols), (3, 2, 4));
            assert_eq!(images.pixels, pixels(24));
        }
    }

    #[test]
    fn reads_gzip_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "labels.gz",
            &gzip(&label_bytes(&[3, 1, 4, 1, 5])),
        );
        assert_eq!(read_labels(&path).unwrap(), vec![3, 1, 4, 1, 5]);
    }

    #[test]
    fn wrong_magic_names_file_expected_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "t10k-labels-idx1-ubyte.gz",
            &gzip(&image_bytes(1, 1, 1, &[0])),
        );
        let err = read_labels(&path).unwrap_err();
        assert!(matches!(
            err,
            DataError::BadMagic {
                expected: 2049,
                found: 2051,
                ..
            }
        ));
        let message = err.to_string();
        assert!(
            message.ends_with(
                "t10k-labels-idx1-ubyte.gz: expected magic number 2049 (IDX labels), found 2051 (IDX images)"
            ),
            "{message}"
        );
    }

    #[test]
    fn empty_file_is_reported_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "empty", &[]);
        let err = read_images(&path).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn truncated_payload_reports_expected_and_found_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = image_bytes(3, 2, 4, &pixels(24));
        bytes.truncate(16 + 20);
        for (name, content) in [("short", bytes.clone()), ("short.gz", gzip(&bytes))] {
            let path = write(dir.path(), name, &content);
            let err = read_images(&path).unwrap_err();
            assert!(
                matches!(
                    err,
                    DataError::Truncated {
                        expected: 40,
                        found: 36,
                        ..
                    }
                ),
                "{name}: {err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn truncated_header_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = image_bytes(3, 2, 4, &[]);
        let path = write(dir.path(), "header", &bytes[..10]);
        let err = read_images(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 16,
                    found: 10,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn cut_gzip_stream_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let compressed = gzip(&label_bytes(&pixels(500)));
        let path = write(dir.path(), "cut.gz", &compressed[..compressed.len() / 2]);
        let err = read_labels(&path).unwrap_err();
        assert!(
            matches!(err, DataError::Io { .. } | DataError::Truncated { .. }),
            "{err}"
        );
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = label_bytes(&[1, 2, 3]);
        bytes.extend_from_slice(b"junk");
        let path = write(dir.path(), "labels", &bytes);
        let err = read_labels(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TrailingData {
                    expected: 11,
                    found: 15,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn zero_rows_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "flat", &image_bytes(2, 0, 5, &[]));
        let err = read_images(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ZeroDimension {
                    dimension: "rows",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn huge_header_counts_do_not_allocate_or_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "liar",
            &image_bytes(u32::MAX, u32::MAX, u32::MAX, &[7; 8]),
        );
        let err = read_images(&path).unwrap_err();
        let expected = 16 + u128::from(u32::MAX).pow(3);
        assert!(
            matches!(err, DataError::Truncated { expected: e, found: 24, .. } if e == expected),
            "{err}"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_labels(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
