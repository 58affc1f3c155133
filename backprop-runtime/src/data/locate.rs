//! Finding the MNIST files: `--data DIR`, then `MNIST_DIR`, then `./data/mnist`
//! (downloaded there when absent).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[cfg(feature = "download")]
use super::download::{DEFAULT_MIRRORS, DownloadEvent, Downloader};
use super::error::{DataError, DataOrigin};

/// The environment variable naming a folder with the MNIST files.
pub const MNIST_DIR_ENV: &str = "MNIST_DIR";

/// The folder used (and downloaded into) when neither `--data` nor `MNIST_DIR` is given.
pub const DEFAULT_MNIST_DIR: &str = "data/mnist";

/// Base names of the four MNIST files; each may also exist with a `.gz` suffix.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Picks the data folder: `flag` if given, else a non-empty `env_value` (the value of
/// `MNIST_DIR`), else [`DEFAULT_MNIST_DIR`].
///
/// # Example
/// ```
/// use std::path::Path;
/// use backprop::data::{choose_mnist_dir, DataOrigin};
/// let (dir, origin) = choose_mnist_dir(None, Some("/srv/mnist".as_ref()));
/// assert_eq!((dir.as_path(), origin), (Path::new("/srv/mnist"), DataOrigin::EnvVar));
/// ```
pub fn choose_mnist_dir(flag: Option<&Path>, env_value: Option<&OsStr>) -> (PathBuf, DataOrigin) {
    match (flag, env_value.filter(|v| !v.is_empty())) {
        (Some(dir), _) => (dir.to_path_buf(), DataOrigin::Flag),
        (None, Some(dir)) => (PathBuf::from(dir), DataOrigin::EnvVar),
        (None, None) => (PathBuf::from(DEFAULT_MNIST_DIR), DataOrigin::Default),
    }
}

/// The path of IDX file `base_name` in `dir`: the plain file if it exists, else the
/// `.gz` one, else `None`.
pub fn find_idx_file(dir: &Path, base_name: &str) -> Option<PathBuf> {
    [base_name.to_owned(), format!("{base_name}.gz")]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// The four MNIST file paths in [`MNIST_FILES`] order, or an error listing every
/// missing one.
pub(crate) fn mnist_paths(dir: &Path, origin: DataOrigin) -> Result<[PathBuf; 4], DataError> {
    let found = MNIST_FILES.map(|name| find_idx_file(dir, name));
    let missing: Vec<String> = MNIST_FILES
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(name, _)| format!("{name}[.gz]"))
        .collect();
    match found {
        [Some(a), Some(b), Some(c), Some(d)] => Ok([a, b, c, d]),
        _ => Err(DataError::MissingFiles {
            dir: dir.to_path_buf(),
            origin,
            missing,
            folder_exists: dir.is_dir(),
        }),
    }
}

/// Returns a folder holding the four MNIST files, looking in order at `flag` (the
/// program's `--data DIR`), the `MNIST_DIR` environment variable and `./data/mnist`;
/// downloads into `./data/mnist` from [`DEFAULT_MIRRORS`] when that default is chosen
/// and incomplete. Pass the result to [`super::load_mnist`].
///
/// # Errors
/// [`DataError::MissingFiles`] when a folder named by `--data` or `MNIST_DIR` lacks
/// files (there is no fall-through to the next place), or any download error.
#[cfg(feature = "download")]
pub fn prepare_mnist(
    flag: Option<&Path>,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<PathBuf, DataError> {
    let env_value = std::env::var_os(MNIST_DIR_ENV);
    prepare_mnist_with(
        flag,
        env_value.as_deref(),
        Path::new(DEFAULT_MNIST_DIR),
        &Downloader::mnist(DEFAULT_MIRRORS),
        progress,
    )
}

/// [`prepare_mnist`] with every input explicit: the `MNIST_DIR` value, the default
/// folder and the downloader (mirrors and expected files) used when it is incomplete.
///
/// # Errors
/// As [`prepare_mnist`].
#[cfg(feature = "download")]
pub fn prepare_mnist_with(
    flag: Option<&Path>,
    env_value: Option<&OsStr>,
    default_dir: &Path,
    downloader: &Downloader,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<PathBuf, DataError> {
    let (dir, origin) = match choose_mnist_dir(flag, env_value) {
        (_, DataOrigin::Default) => (default_dir.to_path_buf(), DataOrigin::Default),
        chosen => chosen,
    };
    if origin == DataOrigin::Default && mnist_paths(&dir, origin).is_err() {
        downloader.download(&dir, progress)?;
    }
    mnist_paths(&dir, origin)?;
    Ok(dir)
}

#[cfg(all(test, feature = "download"))]
mod tests {
    use super::super::download::FileSpec;
    use super::super::idx::testing::{gzip, image_bytes, label_bytes, write};
    use super::super::test_server::{Reply, serve};
    use super::*;

    fn no_events(_: DownloadEvent<'_>) {}

    fn unreachable_downloader() -> Downloader {
        // Port 9 on loopback: nothing listens, so any download attempt fails fast.
        Downloader::mnist(&["http://127.0.0.1:9/"])
    }

    #[test]
    fn flag_beats_env_beats_default() {
        let flag = Path::new("/from/flag");
        let env = OsStr::new("/from/env");
        assert_eq!(
            choose_mnist_dir(Some(flag), Some(env)),
            (flag.to_path_buf(), DataOrigin::Flag)
        );
        assert_eq!(
            choose_mnist_dir(None, Some(env)),
            (PathBuf::from(env), DataOrigin::EnvVar)
        );
        assert_eq!(
            choose_mnist_dir(None, Some(OsStr::new(""))),
            (PathBuf::from(DEFAULT_MNIST_DIR), DataOrigin::Default)
        );
        assert_eq!(
            choose_mnist_dir(None, None),
            (PathBuf::from(DEFAULT_MNIST_DIR), DataOrigin::Default)
        );
    }

    #[test]
    fn plain_file_is_preferred_then_gz() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_idx_file(dir.path(), "x"), None);
        let gz = write(dir.path(), "x.gz", b"");
        assert_eq!(find_idx_file(dir.path(), "x"), Some(gz));
        let plain = write(dir.path(), "x", b"");
        assert_eq!(find_idx_file(dir.path(), "x"), Some(plain));
    }

    #[test]
    fn missing_flag_folder_is_an_error_naming_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent");
        let err = prepare_mnist_with(
            Some(&absent),
            None,
            dir.path(),
            &unreachable_downloader(),
            &mut no_events,
        )
        .unwrap_err();
        let message = err.to_string();
        let named = format!(
            "the data folder {} given on the command line: ",
            absent.display()
        );
        assert!(message.starts_with(&named), "{message}");
        assert!(message.contains("does not exist"), "{message}");
        for name in MNIST_FILES {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn incomplete_env_folder_names_only_the_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-images-idx3-ubyte.gz", b"");
        write(dir.path(), "train-labels-idx1-ubyte", b"");
        write(dir.path(), "t10k-images-idx3-ubyte", b"");
        let err = prepare_mnist_with(
            None,
            Some(dir.path().as_os_str()),
            Path::new("unused"),
            &unreachable_downloader(),
            &mut no_events,
        )
        .unwrap_err();
        match &err {
            DataError::MissingFiles {
                origin,
                missing,
                folder_exists,
                ..
            } => {
                assert_eq!(*origin, DataOrigin::EnvVar);
                assert_eq!(missing, &["t10k-labels-idx1-ubyte[.gz]".to_owned()]);
                assert!(folder_exists);
            }
            other => panic!("expected MissingFiles, found {other}"),
        }
        let named = format!(
            "the data folder {} named by MNIST_DIR: ",
            dir.path().display()
        );
        assert!(err.to_string().starts_with(&named), "{err}");
    }

    #[test]
    fn a_failed_download_leaves_no_empty_folder_behind() {
        let root = tempfile::tempdir().unwrap();
        let default_dir = root.path().join("data").join("mnist");
        let err = prepare_mnist_with(
            None,
            None,
            &default_dir,
            &unreachable_downloader(),
            &mut no_events,
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Download { .. }), "{err}");
        assert!(!root.path().join("data").exists(), "{err}");
        // A folder that was there before stays, even empty.
        std::fs::create_dir(root.path().join("data")).unwrap();
        prepare_mnist_with(
            None,
            None,
            &default_dir,
            &unreachable_downloader(),
            &mut no_events,
        )
        .unwrap_err();
        assert!(root.path().join("data").exists() && !default_dir.exists());
    }

    #[test]
    fn complete_default_folder_is_used_without_downloading() {
        let dir = tempfile::tempdir().unwrap();
        for name in MNIST_FILES {
            write(dir.path(), name, b"");
        }
        let found = prepare_mnist_with(
            None,
            None,
            dir.path(),
            &unreachable_downloader(),
            &mut no_events,
        );
        assert_eq!(found.unwrap(), dir.path());
    }

    #[test]
    fn incomplete_default_folder_is_downloaded_then_loads() {
        // Tiny stand-ins under the MNIST names: 3 training and 2 test images of 2×2.
        let files = [
            image_bytes(3, 2, 2, &[0, 64, 128, 255, 1, 2, 3, 4, 5, 6, 7, 8]),
            label_bytes(&[7, 0, 9]),
            image_bytes(2, 2, 2, &[9, 9, 9, 9, 255, 0, 255, 0]),
            label_bytes(&[1, 2]),
        ];
        let routes = MNIST_FILES
            .iter()
            .zip(&files)
            .map(|(name, bytes)| (format!("/m/{name}.gz"), Reply::Ok(gzip(bytes))))
            .collect();
        let server = serve(routes, 4);
        let specs = MNIST_FILES
            .iter()
            .zip(&files)
            .map(|(name, bytes)| FileSpec::for_content(&format!("{name}.gz"), bytes))
            .collect();
        let downloader = Downloader::new(vec![format!("{}/m/", server.base)], specs);
        let root = tempfile::tempdir().unwrap();
        let default_dir = root.path().join("data").join("mnist");
        // One file already present and correct: it is kept, the others are fetched.
        std::fs::create_dir_all(&default_dir).unwrap();
        write(&default_dir, MNIST_FILES[3], &files[3]);

        let dir =
            prepare_mnist_with(None, None, &default_dir, &downloader, &mut no_events).unwrap();

        assert_eq!(server.requests(), 3);
        let mnist = super::super::load_mnist(&dir).unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (3, 2));
        assert_eq!(mnist.train.labels(), &[7, 0, 9]);
        assert_eq!(mnist.test.image(1), Some(&[255, 0, 255, 0][..]));
    }
}
