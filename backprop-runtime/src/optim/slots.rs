//! One tensor of optimizer state per parameter: made on first use, sized to its
//! parameter, reused on every later step, and saved under `name.index`.

use crate::{Error, Float, Result};

#[derive(Clone, Debug)]
pub(super) struct Slots<T> {
    name: &'static str,
    tensors: Vec<Vec<T>>,
}

impl<T: Float> Slots<T> {
    pub(super) const fn new(name: &'static str) -> Self {
        Slots {
            name,
            tensors: Vec::new(),
        }
    }

    /// Parameter `index`'s state, zeros of `len` the first time.
    pub(super) fn get(&mut self, index: usize, len: usize) -> &mut [T] {
        if self.tensors.len() <= index {
            self.tensors.resize_with(index + 1, Vec::new);
        }
        let tensor = &mut self.tensors[index];
        if tensor.len() != len {
            tensor.clear();
            tensor.resize(len, T::zero());
        }
        tensor
    }

    pub(super) fn save(&self, out: &mut Vec<(String, Vec<T>)>) {
        for (index, tensor) in self.tensors.iter().enumerate() {
            out.push((format!("{}.{index}", self.name), tensor.clone()));
        }
    }

    /// This slot set's tensors in `state` (`name.0`, `name.1`, … with no gap), to be
    /// installed with [`Slots::install`] once every slot set of the optimizer has read
    /// its own.
    pub(super) fn read(&self, state: &[(String, Vec<T>)]) -> Result<Vec<Vec<T>>> {
        let prefix = format!("{}.", self.name);
        let mut found: Vec<(usize, &Vec<T>)> = Vec::new();
        for (name, tensor) in state {
            if let Some(index) = name.strip_prefix(&prefix) {
                let index = index.parse().map_err(|_| {
                    Error::OptimizerState(format!("`{name}`: expected `{prefix}` and a number"))
                })?;
                found.push((index, tensor));
            }
        }
        found.sort_by_key(|(index, _)| *index);
        if let Some(gap) = found.iter().enumerate().find(|(i, (index, _))| i != index) {
            return Err(Error::OptimizerState(format!(
                "`{prefix}{}` is missing",
                gap.0
            )));
        }
        Ok(found
            .into_iter()
            .map(|(_, tensor)| tensor.clone())
            .collect())
    }

    pub(super) fn install(&mut self, tensors: Vec<Vec<T>>) {
        self.tensors = tensors;
    }

    pub(super) fn name(&self) -> &'static str {
        self.name
    }
}

/// The state of an optimizer whose state is these slot sets.
pub(super) fn save_all<T: Float>(slots: &[&Slots<T>]) -> Vec<(String, Vec<T>)> {
    let mut state = Vec::new();
    for slot in slots {
        slot.save(&mut state);
    }
    state
}

/// Restores these slot sets from `state`, checking every name first: on an error
/// nothing changes.
pub(super) fn load_all<T: Float>(
    slots: &mut [&mut Slots<T>],
    state: &[(String, Vec<T>)],
) -> Result<()> {
    let names: Vec<&str> = slots.iter().map(|s| s.name()).collect();
    check_names(state, &names, &[])?;
    let read = slots
        .iter()
        .map(|slot| slot.read(state))
        .collect::<Result<Vec<_>>>()?;
    for (slot, tensors) in slots.iter_mut().zip(read) {
        slot.install(tensors);
    }
    Ok(())
}

/// Checks that `state` names nothing but `known` prefixes (and `extra` whole names).
pub(super) fn check_names<T>(
    state: &[(String, Vec<T>)],
    known: &[&str],
    extra: &[&str],
) -> Result<()> {
    for (name, _) in state {
        let prefix = name.split('.').next().unwrap_or_default();
        let ok = extra.contains(&name.as_str()) || (name.contains('.') && known.contains(&prefix));
        if !ok {
            return Err(Error::OptimizerState(format!(
                "unexpected tensor `{name}`; expected {}",
                known
                    .iter()
                    .map(|k| format!("`{k}.N`"))
                    .chain(extra.iter().map(|e| format!("`{e}`")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}
