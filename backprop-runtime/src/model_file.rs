//! Saving and loading a network's parameters in the safetensors format, under the
//! book's names (`W1`, `b1`, `W2`, …) and the network's shapes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::{Float, Network};

/// What may happen to a file that already exists where a model is saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Refuse to replace a file that holds anything else (the default): a model the
    /// user trained for hours is not lost to a repeated command.
    #[default]
    Never,
    /// Replace whatever is there.
    Allowed,
}

/// Why a model file could not be saved or loaded.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The model file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Saving would replace a different file.
    #[error(
        "{path} already exists and holds something else; choose another name, or allow overwriting (`Overwrite::Allowed`)"
    )]
    Exists {
        /// The model file.
        path: PathBuf,
    },
    /// The file is not valid safetensors.
    #[error("{path}: not a readable safetensors file: {message}")]
    Format {
        /// The model file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The file's tensors do not fit the network: every difference is named.
    #[error("{path}: the file's tensors do not fit this network: {}", differences.join("; "))]
    Tensors {
        /// The model file.
        path: PathBuf,
        /// Each missing tensor, tensor of another shape and tensor the network does
        /// not have, with what was expected.
        differences: Vec<String>,
    },
    /// The file is a training checkpoint, not a model file.
    #[error(
        "{path} is a training checkpoint, not a model file: take its model out with `backprop::train::Checkpoint::read(path)?.restore_model(&mut net)` (or `restore_best_model`), then save that"
    )]
    IsCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
    },
    /// A tensor holds a value that is not finite: such a model is neither saved nor
    /// loaded.
    #[error(
        "{path}: tensor `{name}` holds {value}, which is not a finite number; nothing was changed"
    )]
    NotFinite {
        /// The model file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The first value that is not finite.
        value: f64,
    },
    /// A tensor is stored in a type other than F32 or F64.
    #[error("{path}: tensor `{name}` is stored as {found}, expected F32 or F64")]
    Dtype {
        /// The model file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The stored type.
        found: String,
    },
}

/// Saves every parameter of `network` to `path` as safetensors, named as the book
/// (`W1`, `b1`, …) and stored in the network's float type.
///
/// The file is written to a temporary file beside it and renamed into place, so an
/// interrupted save never leaves a half-written model. A file that already exists is
/// replaced only with [`Overwrite::Allowed`], or if it already holds exactly this model.
pub fn save<T: Float, N: Network<T>>(
    network: &N,
    path: &Path,
    overwrite: Overwrite,
) -> Result<(), ModelFileError> {
    if let Some((name, value)) = first_not_finite(network) {
        return Err(ModelFileError::NotFinite {
            path: path.into(),
            name: name.to_owned(),
            value,
        });
    }
    let bytes = to_bytes(network).map_err(|e| format_error(path, e))?;
    match write_unless_other(path, &bytes, overwrite) {
        Ok(Written::Yes) => Ok(()),
        Ok(Written::OtherFileThere) => Err(ModelFileError::Exists { path: path.into() }),
        Err(source) => Err(ModelFileError::Io {
            path: path.into(),
            source,
        }),
    }
}

/// Whether [`write_unless_other`] wrote the file.
pub(crate) enum Written {
    /// The file holds the bytes (it may have held them already).
    Yes,
    /// Another file is there, and replacing it was not allowed.
    OtherFileThere,
}

/// Writes `bytes` to `path` atomically, unless `path` holds something else and
/// `overwrite` forbids replacing it. A file already holding exactly `bytes` counts
/// as written, so saving the same model twice is no replacement.
pub(crate) fn write_unless_other(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
) -> std::io::Result<Written> {
    if path.exists() && overwrite == Overwrite::Never {
        return Ok(match std::fs::read(path) {
            Ok(existing) if existing == bytes => Written::Yes,
            _ => Written::OtherFileThere,
        });
    }
    write_atomically(path, bytes)?;
    Ok(Written::Yes)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so that
/// an interrupted write never leaves half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Created with the mode an ordinary file gets (0666 less the umask), which the
    // rename keeps; a temporary file's own 0600 would hide the model from the group.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Loads every parameter of `network` from a safetensors file written by [`save`] (or
/// any file with the same names and shapes, in F32 or F64).
///
/// The whole file is checked before anything is changed: on any error the network
/// keeps its parameters.
pub fn load<T: Float, N: Network<T>>(network: &mut N, path: &Path) -> Result<(), ModelFileError> {
    let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
        path: path.into(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| format_error(path, e))?;
    if let Ok((_, header)) = SafeTensors::read_metadata(&bytes)
        && header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("format"))
            .is_some_and(|f| f.as_str() == CHECKPOINT_FORMAT)
    {
        return Err(ModelFileError::IsCheckpoint { path: path.into() });
    }

    let mut wanted: Vec<(&'static str, Vec<usize>)> = Vec::new();
    visit_tensors(network, &mut |name, tensor| {
        wanted.push((name, tensor.shape().to_vec()))
    });
    let found: Vec<(String, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(name, tensor)| (name, tensor.shape().to_vec()))
        .collect();
    let differences = tensor_differences(&wanted, &found);
    if !differences.is_empty() {
        return Err(ModelFileError::Tensors {
            path: path.into(),
            differences,
        });
    }
    let mut tensors = HashMap::new();
    for (name, _) in &wanted {
        let tensor = file.tensor(name).map_err(|e| format_error(path, e))?;
        let values = decode::<T>(path, name, &tensor)?;
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(ModelFileError::NotFinite {
                path: path.into(),
                name: (*name).to_owned(),
                value: v.as_f64(),
            });
        }
        tensors.insert(*name, values);
    }

    let mut assign = |name: &'static str, mut tensor: ndarray::ArrayViewMutD<'_, T>| {
        for (p, &v) in tensor.iter_mut().zip(&tensors[name]) {
            *p = v;
        }
    };
    network.visit_parameters_mut(&mut |p| assign(p.name, p.value));
    network.visit_state_mut(&mut assign);
    Ok(())
}

/// The name of the first tensor holding a value that is not finite, and that value.
pub(crate) fn first_not_finite<T: Float, N: Network<T>>(
    network: &N,
) -> Option<(&'static str, f64)> {
    let mut not_finite = None;
    visit_tensors(network, &mut |name, tensor| {
        if not_finite.is_none()
            && let Some(v) = tensor.iter().find(|v| !v.is_finite())
        {
            not_finite = Some((name, v.as_f64()));
        }
    });
    not_finite
}

/// Every tensor a model file holds: the parameters, then the persistent state.
fn visit_tensors<T: Float, N: Network<T>>(
    network: &N,
    visit: &mut dyn FnMut(&'static str, ndarray::ArrayViewD<'_, T>),
) {
    network.visit_parameters(&mut |p| visit(p.name, p.value));
    network.visit_state(visit);
}

/// How values of `T` are stored: f32 as `F32`, anything else as `F64`, which holds
/// every [`Float`] value exactly.
fn dtype_of<T: Float>() -> Dtype {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

fn to_bytes<T: Float, N: Network<T>>(network: &N) -> Result<Vec<u8>, safetensors::SafeTensorError> {
    let dtype = dtype_of::<T>();
    let mut encoded: Vec<(&'static str, Vec<usize>, Vec<u8>)> = Vec::new();
    visit_tensors(network, &mut |name, parameter| {
        let mut data = Vec::with_capacity(parameter.len() * dtype.bitsize() / 8);
        for &v in parameter.iter() {
            match dtype {
                Dtype::F32 => data.extend((v.as_f64() as f32).to_le_bytes()),
                _ => data.extend(v.as_f64().to_le_bytes()),
            }
        }
        encoded.push((name, parameter.shape().to_vec(), data));
    });
    let views = encoded
        .iter()
        .map(|(name, shape, data)| Ok((*name, TensorView::new(dtype, shape.clone(), data)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let metadata = HashMap::from([("format".to_owned(), "backprop".to_owned())]);
    safetensors::tensor::serialize(views, Some(metadata))
}

fn decode<T: Float>(
    path: &Path,
    name: &str,
    tensor: &TensorView<'_>,
) -> Result<Vec<T>, ModelFileError> {
    let data = tensor.data();
    match tensor.dtype() {
        Dtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|b| T::from_f64(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
            .collect()),
        Dtype::F64 => Ok(data
            .chunks_exact(8)
            .map(|b| {
                T::from_f64(f64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
            })
            .collect()),
        other => Err(ModelFileError::Dtype {
            path: path.into(),
            name: name.to_owned(),
            found: format!("{other:?}"),
        }),
    }
}

/// What a training checkpoint's metadata says it is (a model file says `backprop`):
/// kept here, where files are read, so that a checkpoint given as a model is named.
pub(crate) const CHECKPOINT_FORMAT: &str = "backprop-checkpoint-2";

/// Every way the tensors `found` (name, shape) differ from the network's `wanted`:
/// the missing ones, those of another shape, and those the network does not have, in
/// the network's order then by name.
pub(crate) fn tensor_differences(
    wanted: &[(&'static str, Vec<usize>)],
    found: &[(String, Vec<usize>)],
) -> Vec<String> {
    let mut differences = Vec::new();
    for (name, shape) in wanted {
        match found.iter().find(|(n, _)| n == name) {
            None => differences.push(format!("`{name}` (shape {shape:?}) is missing")),
            Some((_, saved)) if saved != shape => {
                differences.push(format!("`{name}` has shape {saved:?}, expected {shape:?}"))
            }
            Some(_) => {}
        }
    }
    let mut extra: Vec<&str> = found
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !wanted.iter().any(|(w, _)| w == n))
        .collect();
    extra.sort_unstable();
    if !extra.is_empty() {
        let names: Vec<&str> = wanted.iter().map(|(n, _)| *n).collect();
        differences.push(format!(
            "{} not in this network, whose tensors are {}",
            extra
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if extra.len() == 1 { " is" } else { " are" },
            names.join(", ")
        ));
    }
    differences
}

fn format_error(path: &Path, error: safetensors::SafeTensorError) -> ModelFileError {
    ModelFileError::Format {
        path: path.into(),
        message: error.to_string(),
    }
}

/// The message, as `Display` gives it: a `main` that returns this error prints what
/// went wrong, not the variant's fields.
impl std::fmt::Debug for ModelFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
