//! The examples' binaries, which `cargo test` builds beside the test binaries.

use std::path::{Path, PathBuf};

/// The path of example `name`'s binary in this build's profile folder.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let example = profile_dir.join("examples").join(name);
    assert!(example.exists(), "{} is not built", example.display());
    example
}
