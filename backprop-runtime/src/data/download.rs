//! Downloading MNIST from public mirrors, verified and written atomically.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};

use super::error::{DataError, MirrorFailure};
use super::idx::open_maybe_gzip;

/// Public MNIST mirrors, tried in order; each is a base URL the file name is appended to.
pub const DEFAULT_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
];

/// A file to download and what its content must be once decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// File name on the mirror and on disk, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// Size in bytes of the decompressed content.
    pub size: u64,
    /// MD5 of the decompressed content, lowercase hex.
    pub md5: String,
}

impl FileSpec {
    /// The spec a file called `name` must meet to decompress to exactly `content`.
    ///
    /// # Example
    /// ```
    /// use backprop::data::FileSpec;
    /// let spec = FileSpec::for_content("empty.gz", b"");
    /// assert_eq!(spec.md5, "d41d8cd98f00b204e9800998ecf8427e");
    /// ```
    pub fn for_content(name: &str, content: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            size: content.len() as u64,
            md5: to_hex(&Md5::digest(content)),
        }
    }
}

/// The four MNIST files with the sizes and MD5s of their decompressed content.
pub fn mnist_file_specs() -> Vec<FileSpec> {
    [
        (
            "train-images-idx3-ubyte.gz",
            47_040_016,
            "6bbc9ace898e44ae57da46a324031adb",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            60_008,
            "a25bea736e30d166cdddb491f175f624",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            7_840_016,
            "2646ac647ad5339dbf082846283269ea",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            10_008,
            "27ae3e4e09519cfbb04c329615203637",
        ),
    ]
    .into_iter()
    .map(|(name, size, md5)| FileSpec {
        name: name.to_owned(),
        size,
        md5: md5.to_owned(),
    })
    .collect()
}

/// What a download is doing, for drawing progress (e.g. with an `indicatif` bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadEvent<'a> {
    /// A mirror answered and its body is about to be read.
    Started {
        /// File name being downloaded.
        file: &'a str,
        /// Full URL.
        url: &'a str,
        /// Body size, when the server announced it.
        total: Option<u64>,
    },
    /// Another chunk of the body arrived.
    Progress {
        /// File name being downloaded.
        file: &'a str,
        /// Bytes received so far from this mirror.
        done: u64,
        /// Body size, when the server announced it.
        total: Option<u64>,
    },
    /// This mirror failed; the next one (if any) is tried.
    MirrorFailed {
        /// File name being downloaded.
        file: &'a str,
        /// Full URL that failed.
        url: &'a str,
        /// Why, as in the final error.
        reason: &'a str,
    },
    /// The file is verified and in place.
    Finished {
        /// File name downloaded.
        file: &'a str,
    },
}

/// Downloads a list of files from mirrors into a folder.
///
/// Each file is fetched into a temporary file in the destination folder, checked
/// (decompressed size and MD5), then renamed into place; a failure leaves nothing
/// behind, and an existing file is never overwritten.
#[derive(Debug, Clone)]
pub struct Downloader {
    mirrors: Vec<String>,
    files: Vec<FileSpec>,
    agent: ureq::Agent,
}

impl Downloader {
    /// A downloader trying `mirrors` (base URLs) in order for each of `files`.
    pub fn new(mirrors: Vec<String>, files: Vec<FileSpec>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self {
            mirrors,
            files,
            agent,
        }
    }

    /// A downloader for the four MNIST files ([`mnist_file_specs`]).
    pub fn mnist(mirrors: &[&str]) -> Self {
        Self::new(
            mirrors.iter().map(|&m| m.to_owned()).collect(),
            mnist_file_specs(),
        )
    }

    /// Makes sure every file is in `dest` (created if needed): a file already there,
    /// with or without its `.gz` suffix, is verified and kept; the others are downloaded.
    ///
    /// # Errors
    /// [`DataError::BadExistingFile`] for a present file with the wrong content,
    /// [`DataError::Download`] listing each URL tried and why it failed, or
    /// [`DataError::Io`] when `dest` cannot be written.
    pub fn download(
        &self,
        dest: &Path,
        progress: &mut dyn FnMut(DownloadEvent<'_>),
    ) -> Result<(), DataError> {
        // The folders this call creates, innermost first: a failed download removes
        // those it left empty, so that no empty `./data/mnist` stays behind.
        let created: Vec<&Path> = dest.ancestors().take_while(|dir| !dir.exists()).collect();
        fs::create_dir_all(dest).map_err(|source| DataError::Io {
            path: dest.to_path_buf(),
            source,
        })?;
        let result = self
            .files
            .iter()
            .try_for_each(|spec| match existing_copy(dest, &spec.name) {
                Some(existing) => {
                    verify(&existing, spec).map_err(|reason| DataError::BadExistingFile {
                        path: existing,
                        reason,
                    })
                }
                None => self.download_one(dest, spec, progress),
            });
        if result.is_err() {
            for dir in created {
                // Fails, and keeps the folder, when it holds anything.
                let _ = fs::remove_dir(dir);
            }
        }
        result
    }

    fn download_one(
        &self,
        dest: &Path,
        spec: &FileSpec,
        progress: &mut dyn FnMut(DownloadEvent<'_>),
    ) -> Result<(), DataError> {
        let mut failures = Vec::new();
        for mirror in &self.mirrors {
            let separator = if mirror.ends_with('/') { "" } else { "/" };
            let url = format!("{mirror}{separator}{}", spec.name);
            match self.fetch(&url, dest, spec, progress) {
                Ok(()) => {
                    progress(DownloadEvent::Finished { file: &spec.name });
                    return Ok(());
                }
                Err(Failure::Local(error)) => return Err(error),
                Err(Failure::Mirror(reason)) => {
                    progress(DownloadEvent::MirrorFailed {
                        file: &spec.name,
                        url: &url,
                        reason: &reason,
                    });
                    failures.push(MirrorFailure { url, reason });
                }
            }
        }
        Err(DataError::Download {
            file: spec.name.clone(),
            failures,
        })
    }

    /// Fetches one URL into `dest/spec.name`; the temporary file is deleted when it
    /// is dropped on any early return.
    fn fetch(
        &self,
        url: &str,
        dest: &Path,
        spec: &FileSpec,
        progress: &mut dyn FnMut(DownloadEvent<'_>),
    ) -> Result<(), Failure> {
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| Failure::Mirror(e.to_string()))?;
        let total = response.body().content_length();
        let file = spec.name.as_str();
        progress(DownloadEvent::Started { file, url, total });

        let local = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Failure::Local(DataError::Io { path, source })
        };
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{file}."))
            .suffix(".part")
            .tempfile_in(dest)
            .map_err(local(dest))?;
        // Gzip never grows data by more than a small fraction, so a body well past the
        // expected size is a misbehaving server, not MNIST.
        let limit = spec.size + spec.size / 8 + (1 << 20);
        let mut body = response.into_body().into_reader().take(limit + 1);
        let mut chunk = vec![0u8; 1 << 16];
        let mut done = 0u64;
        loop {
            let n = match body.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Failure::Mirror(format!(
                        "body broke off after {done}{} bytes: {e}",
                        of_total(total)
                    )));
                }
            };
            temp.write_all(&chunk[..n]).map_err(local(temp.path()))?;
            done += n as u64;
            progress(DownloadEvent::Progress { file, done, total });
        }
        if done > limit {
            return Err(Failure::Mirror(format!(
                "body is larger than expected: over {limit} bytes"
            )));
        }
        if let Some(total) = total.filter(|&t| t != done) {
            return Err(Failure::Mirror(format!(
                "body size: expected {total} bytes (Content-Length), found {done}"
            )));
        }
        temp.as_file().sync_all().map_err(local(temp.path()))?;
        verify(temp.path(), spec).map_err(Failure::Mirror)?;
        let target = dest.join(file);
        temp.persist_noclobber(&target).map_err(|e| {
            Failure::Local(DataError::Io {
                path: target,
                source: e.error,
            })
        })?;
        Ok(())
    }
}

/// Downloads the four MNIST files into `dest_dir` from `mirrors` (base URLs, tried in
/// order; [`DEFAULT_MIRRORS`] are public ones), reporting progress to `progress`.
///
/// # Errors
/// As [`Downloader::download`].
///
/// # Example
/// ```no_run
/// use backprop::data::{download_mnist, DownloadEvent, DEFAULT_MIRRORS};
/// download_mnist("data/mnist".as_ref(), DEFAULT_MIRRORS, &mut |event| {
///     if let DownloadEvent::Finished { file } = event {
///         eprintln!("{file}: verified");
///     }
/// })?;
/// # Ok::<(), backprop::data::DataError>(())
/// ```
pub fn download_mnist(
    dest_dir: &Path,
    mirrors: &[&str],
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<(), DataError> {
    Downloader::mnist(mirrors).download(dest_dir, progress)
}

enum Failure {
    /// The mirror is at fault: try the next one.
    Mirror(String),
    /// The destination is at fault: another mirror would not help.
    Local(DataError),
}

fn of_total(total: Option<u64>) -> String {
    total.map(|t| format!(" of {t}")).unwrap_or_default()
}

/// A copy of `name` already in `dest`, compressed or (for `x.gz`) as plain `x`.
fn existing_copy(dest: &Path, name: &str) -> Option<PathBuf> {
    let plain = name.strip_suffix(".gz").map(|stem| dest.join(stem));
    [Some(dest.join(name)), plain]
        .into_iter()
        .flatten()
        .find(|path| path.exists())
}

/// Checks the decompressed size and MD5 of `path`; the error says expected vs found.
fn verify(path: &Path, spec: &FileSpec) -> Result<(), String> {
    let mut reader = open_maybe_gzip(path).map_err(|e| e.to_string())?;
    let mut hasher = Md5::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&chunk[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("content cannot be decompressed: {e}")),
        }
    }
    if size != spec.size {
        return Err(format!(
            "decompressed size: expected {} bytes, found {size}",
            spec.size
        ));
    }
    let md5 = to_hex(&hasher.finalize());
    if !md5.eq_ignore_ascii_case(&spec.md5) {
        return Err(format!(
            "MD5 of the decompressed content: expected {}, found {md5}",
            spec.md5
        ));
    }
    Ok(())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::super::idx::testing::{gzip, label_bytes, write};
    use super::super::test_server::{Reply, serve};
    use super::*;

    const NAME: &str = "tiny-labels-idx1-ubyte.gz";

    fn content() -> Vec<u8> {
        label_bytes(&[5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    }

    fn spec() -> FileSpec {
        FileSpec::for_content(NAME, &content())
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Serves every kind of reply under its own folder, one request each.
    fn server_with_all_replies(requests: usize) -> super::super::test_server::TestServer {
        let mut wrong = content();
        wrong[9] = 6;
        serve(
            vec![
                (format!("/good/{NAME}"), Reply::Ok(gzip(&content()))),
                (format!("/short/{NAME}"), Reply::Truncated(gzip(&content()))),
                (format!("/wrong/{NAME}"), Reply::Ok(gzip(&wrong))),
            ],
            requests,
        )
    }

    fn download(
        mirrors: &[String],
        dest: &Path,
        events: &mut Vec<String>,
    ) -> Result<(), DataError> {
        Downloader::new(mirrors.to_vec(), vec![spec()]).download(dest, &mut |event| {
            events.push(match event {
                DownloadEvent::Started { url, .. } => format!("started {url}"),
                DownloadEvent::Progress { done, total, .. } => format!("progress {done}/{total:?}"),
                DownloadEvent::MirrorFailed { url, .. } => format!("failed {url}"),
                DownloadEvent::Finished { file } => format!("finished {file}"),
            })
        })
    }

    #[test]
    fn good_mirror_delivers_a_verified_file_and_no_leftovers() {
        let server = server_with_all_replies(1);
        let dest = tempfile::tempdir().unwrap();
        let mut events = Vec::new();
        download(
            &[format!("{}/good/", server.base)],
            dest.path(),
            &mut events,
        )
        .unwrap();
        assert_eq!(entries(dest.path()), [NAME]);
        let delivered = fs::read(dest.path().join(NAME)).unwrap();
        assert_eq!(delivered, gzip(&content()));
        let size = delivered.len();
        assert_eq!(
            events.first().unwrap(),
            &format!("started {}/good/{NAME}", server.base)
        );
        assert!(
            events.contains(&format!("progress {size}/Some({size})")),
            "{events:?}"
        );
        assert_eq!(events.last().unwrap(), &format!("finished {NAME}"));
    }

    #[test]
    fn each_failure_names_the_url_and_leaves_nothing_behind() {
        let server = server_with_all_replies(3);
        let cases = [
            ("missing", "404"),
            ("short", "body broke off"),
            ("wrong", "MD5 of the decompressed content"),
        ];
        for (folder, reason) in cases {
            let dest = tempfile::tempdir().unwrap();
            let url = format!("{}/{folder}/{NAME}", server.base);
            let err = download(
                &[format!("{}/{folder}", server.base)],
                dest.path(),
                &mut Vec::new(),
            )
            .unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, DataError::Download { .. }), "{message}");
            assert!(message.contains(&url), "{message}");
            assert!(message.contains(reason), "{folder}: {message}");
            assert!(message.contains("MNIST_DIR"), "{message}");
            assert!(
                entries(dest.path()).is_empty(),
                "{folder}: {:?}",
                entries(dest.path())
            );
        }
    }

    #[test]
    fn mirrors_are_tried_in_order_until_one_succeeds() {
        let server = server_with_all_replies(3);
        let dest = tempfile::tempdir().unwrap();
        let mirrors = ["missing", "wrong", "good"].map(|m| format!("{}/{m}/", server.base));
        let mut events = Vec::new();
        download(&mirrors, dest.path(), &mut events).unwrap();
        let failed: Vec<&String> = events.iter().filter(|e| e.starts_with("failed")).collect();
        assert_eq!(
            failed,
            [
                &format!("failed {}{NAME}", mirrors[0]),
                &format!("failed {}{NAME}", mirrors[1])
            ]
        );
        assert_eq!(entries(dest.path()), [NAME]);
        assert_eq!(server.requests(), 3);
    }

    #[test]
    fn existing_good_file_is_kept_without_any_request() {
        let server = server_with_all_replies(1);
        let dest = tempfile::tempdir().unwrap();
        // The plain (uncompressed) copy counts as the file too.
        let plain = write(dest.path(), NAME.trim_end_matches(".gz"), &content());
        download(
            &[format!("{}/wrong/", server.base)],
            dest.path(),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(server.requests(), 0);
        assert_eq!(fs::read(plain).unwrap(), content());
    }

    #[test]
    fn existing_bad_file_is_an_error_and_left_alone() {
        let server = server_with_all_replies(1);
        let dest = tempfile::tempdir().unwrap();
        let path = write(dest.path(), NAME, b"not gzip, not labels");
        let err = download(
            &[format!("{}/good/", server.base)],
            dest.path(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(err, DataError::BadExistingFile { .. }), "{err}");
        assert!(
            err.to_string().contains("expected 18 bytes, found 20"),
            "{err}"
        );
        assert_eq!(fs::read(path).unwrap(), b"not gzip, not labels");
        assert_eq!(server.requests(), 0);
    }

    #[test]
    #[ignore = "needs MNIST_DIR"]
    fn real_mnist_files_match_the_specs() {
        let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR is set for this test");
        for spec in mnist_file_specs() {
            let path = existing_copy(Path::new(&dir), &spec.name).expect("MNIST file present");
            assert_eq!(verify(&path, &spec), Ok(()), "{}", path.display());
        }
    }
}
