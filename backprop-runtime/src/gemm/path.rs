//! Which instruction set the products run on: the best the CPU has, unless
//! `BACKPROP_KERNELS` asks for another.

use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction sets the kernels are written for, best first.
///
/// ```
/// # use backprop::gemm::{KernelPath, kernel_path};
/// assert!(KernelPath::Portable.is_supported());
/// assert!(kernel_path().is_supported());
/// assert_eq!("avx2".parse::<KernelPath>(), Ok(KernelPath::Avx2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelPath {
    /// AVX-512F register tiles on x86-64 (Intel since Skylake-SP, AMD since Zen 4).
    Avx512,
    /// AVX2 and FMA on x86-64 (Intel since Haswell, AMD since Zen).
    Avx2,
    /// Plain Rust, on every target.
    Portable,
}

impl KernelPath {
    /// Every path, best first.
    pub const ALL: [KernelPath; 3] = [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Portable];

    /// The name `BACKPROP_KERNELS` takes: `avx512`, `avx2` or `portable`.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Avx512 => "avx512",
            KernelPath::Avx2 => "avx2",
            KernelPath::Portable => "portable",
        }
    }

    /// Whether this CPU runs the path's kernels.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => super::x86::avx512::has_avx512(),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => super::x86::has_avx2_fma(),
            KernelPath::Portable => true,
            #[allow(unreachable_patterns)] // reachable off x86-64
            _ => false,
        }
    }

    /// The best path this CPU runs.
    pub fn best() -> KernelPath {
        KernelPath::ALL
            .into_iter()
            .find(|path| path.is_supported())
            .unwrap_or(KernelPath::Portable)
    }

    fn code(self) -> u8 {
        match self {
            KernelPath::Avx512 => 1,
            KernelPath::Avx2 => 2,
            KernelPath::Portable => 3,
        }
    }

    fn from_code(code: u8) -> Option<KernelPath> {
        KernelPath::ALL.into_iter().find(|path| path.code() == code)
    }
}

impl std::fmt::Display for KernelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`KernelPath::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kernel path {found:?}: expected avx512, avx2 or portable")]
pub struct UnknownKernelPath {
    /// The name given.
    pub found: String,
}

impl std::str::FromStr for KernelPath {
    type Err = UnknownKernelPath;

    /// Parses a [`KernelPath::name`], ignoring case and surrounding spaces.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim().to_ascii_lowercase();
        KernelPath::ALL
            .into_iter()
            .find(|path| path.name() == wanted)
            .ok_or_else(|| UnknownKernelPath {
                found: name.to_owned(),
            })
    }
}

/// The resolved path's code; 0 until first read.
static PATH: AtomicU8 = AtomicU8::new(0);

/// The instruction set every product runs on.
///
/// This is the best path the CPU supports, unless the environment variable
/// `BACKPROP_KERNELS` names another (`avx512`, `avx2` or `portable`), e.g. to
/// compare paths in a benchmark. A name that is not a path, or a path this CPU
/// cannot run, is reported once on standard error, and the best supported path
/// is used instead. The choice is made on first use and then fixed.
pub fn kernel_path() -> KernelPath {
    if let Some(path) = KernelPath::from_code(PATH.load(Ordering::Relaxed)) {
        return path;
    }
    let path = path_from_env();
    // Racing first calls resolve the same environment; any of them may store.
    PATH.store(path.code(), Ordering::Relaxed);
    path
}

fn path_from_env() -> KernelPath {
    let best = KernelPath::best();
    let Some(value) = std::env::var_os("BACKPROP_KERNELS") else {
        return best;
    };
    match value.to_string_lossy().parse::<KernelPath>() {
        Ok(path) if path.is_supported() => path,
        Ok(path) => {
            eprintln!(
                "backprop: BACKPROP_KERNELS={path}, but this CPU cannot run it; using {best}"
            );
            best
        }
        Err(error) => {
            eprintln!("backprop: BACKPROP_KERNELS: {error}; using {best}");
            best
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_path_ignoring_case_and_spaces() {
        for path in KernelPath::ALL {
            assert_eq!(path.name().parse::<KernelPath>(), Ok(path));
            let shouted = format!("  {}\n", path.name().to_ascii_uppercase());
            assert_eq!(shouted.parse::<KernelPath>(), Ok(path));
            assert_eq!(KernelPath::from_code(path.code()), Some(path));
        }
        assert_eq!(KernelPath::from_code(0), None);
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_names_that_exist() {
        let error = "avx-512".parse::<KernelPath>().unwrap_err();
        assert_eq!(error.found, "avx-512");
        assert_eq!(
            error.to_string(),
            "unknown kernel path \"avx-512\": expected avx512, avx2 or portable"
        );
    }

    #[test]
    fn the_best_path_is_supported_and_no_better_one_is() {
        let best = KernelPath::best();
        assert!(best.is_supported());
        let rank = KernelPath::ALL.iter().position(|&path| path == best);
        for better in &KernelPath::ALL[..rank.expect("best is a path")] {
            assert!(
                !better.is_supported(),
                "{better} is supported but {best} was chosen"
            );
        }
        assert!(kernel_path().is_supported());
    }
}
