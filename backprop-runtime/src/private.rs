//! What the code `network!` generates calls, and nothing else does. Not public API:
//! it may change in any release.

use ndarray::{Array, ArrayD, ArrayView2, ArrayViewD, ArrayViewMutD, Dimension};

use crate::autograd::{TapeError, Var};
use crate::layers::{self, Layer};
use crate::network::{
    Evaluation, Network, Parameter, ParameterMut, ParameterVisitor, TapeRun, check_width,
};
use crate::{Batch, BatchView, Float, Result, Targets, gradient_check};

pub use crate::layers::{Context, Init, Loss};
pub use crate::{WeightInit, rand};

/// A training step with weight decay, as the trait's provided method takes it: the
/// generated impl calls it, so that its documentation shows the signature as written
/// rather than the expanded ndarray types of a provided method from another crate.
pub fn weight_decayed_step<T: Float, N: Network<T>>(
    network: &mut N,
    x: ArrayView2<'_, T>,
    t: &Targets<'_, T>,
    context: &mut Context<'_>,
    weight_decay: f64,
) -> Result<T> {
    crate::network::weight_decayed_step(network, x, t, context, weight_decay)
}

/// The widest of `widths`: a network's [`Network::WIDEST_ROW`].
pub const fn widest(widths: &[usize]) -> usize {
    let (mut widest, mut i) = (0, 0);
    while i < widths.len() {
        if widths[i] > widest {
            widest = widths[i];
        }
        i += 1;
    }
    widest
}

/// The input of a training step: `INPUT_WIDTH` columns, targets that fit.
pub fn check_step<T: Float>(
    x: ArrayView2<'_, T>,
    t: &Targets<'_, T>,
    input_width: usize,
    classes: usize,
) -> Result<()> {
    check_width("the input of a training step", input_width, x.ncols())?;
    t.validate(x.nrows(), classes)
}

/// A training step's context with the calling thread's random generator, for the
/// inherent `gradient` methods; the trainer passes a seeded stream instead.
pub fn with_thread_rng<R>(work: impl FnOnce(&mut Context<'_>) -> R) -> R {
    let mut rng = rand::rng();
    work(&mut Context::training(&mut rng))
}

/// A generator for weights that a model file is about to replace.
pub fn placeholder_rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::seed_from_u64(0)
}

/// Visits a layer's parameters under the names the macro gave them.
pub fn visit_parameters<T: Float, L: Layer<T>>(
    layer: &L,
    names: &[&'static str],
    visit: &mut dyn FnMut(Parameter<'_, T>),
) {
    let mut names = names.iter();
    layer.visit_parameters(&mut |role, value, gradient| {
        let name = names.next().expect("the layer table names every parameter");
        visit(Parameter {
            name,
            role,
            value,
            gradient,
        });
    });
}

/// Visits a layer's parameters, writable, under the names the macro gave them.
pub fn visit_parameters_mut<T: Float, L: Layer<T>>(
    layer: &mut L,
    names: &[&'static str],
    visit: &mut ParameterVisitor<'_, T>,
) {
    let mut names = names.iter();
    layer.visit_parameters_mut(&mut |role, value, gradient| {
        let name = names.next().expect("the layer table names every parameter");
        visit(ParameterMut {
            name,
            role,
            value,
            gradient,
        });
    });
}

/// Visits a layer's persistent state under the names the macro gave it.
pub fn visit_state<T: Float, L: Layer<T>>(
    layer: &L,
    names: &[&'static str],
    visit: &mut dyn FnMut(&'static str, ArrayViewD<'_, T>),
) {
    let mut names = names.iter();
    layer.visit_state(&mut |value| {
        visit(
            names.next().expect("the layer table names every state"),
            value,
        );
    });
}

/// Visits a layer's persistent state, writable.
pub fn visit_state_mut<T: Float, L: Layer<T>>(
    layer: &mut L,
    names: &[&'static str],
    visit: &mut dyn FnMut(&'static str, ArrayViewMutD<'_, T>),
) {
    let mut names = names.iter();
    layer.visit_state_mut(&mut |value| {
        visit(
            names.next().expect("the layer table names every state"),
            value,
        );
    });
}

/// A copy of the gradient of parameter `index` of `layer`, in the parameter's rank.
pub fn gradient<T: Float, L: Layer<T>, D: Dimension>(layer: &L, index: usize) -> Array<T, D> {
    let mut found = None;
    let mut seen = 0;
    layer.visit_parameters(&mut |_, _, gradient| {
        if seen == index {
            found = Some(gradient.to_owned());
        }
        seen += 1;
    });
    into_rank(found.expect("the layer table counts every parameter"))
}

/// The next of the numerical gradients, in the rank the layer table states for it.
pub fn next_gradient<T, D: Dimension>(
    gradients: &mut std::vec::IntoIter<ArrayD<T>>,
) -> Array<T, D> {
    into_rank(
        gradients
            .next()
            .expect("one numerical gradient per parameter"),
    )
}

/// `tensor` in the rank the layer table states for it.
fn into_rank<T, D: Dimension>(tensor: ArrayD<T>) -> Array<T, D> {
    tensor
        .into_dimensionality()
        .expect("the layer table states each parameter's rank")
}

/// Central differences of the training loss for every parameter, in visiting order:
/// each forward pass in training mode draws from a generator seeded with `seed`, so a
/// Dropout's mask is the same in every one (and in a training step given the same
/// seed), and the persistent state (BatchNorm's running statistics) is put back as it
/// was.
pub fn numerical_gradients<T: Float, N: Network<T>, const IN: usize>(
    network: &mut N,
    x: BatchView<'_, T, IN>,
    t: &Targets<'_, T>,
    seed: u64,
) -> Result<Vec<ArrayD<T>>> {
    use rand::SeedableRng;

    t.validate(x.rows(), N::OUTPUT_WIDTH)?;
    let mut state = Vec::new();
    network.visit_state(&mut |_, tensor| state.push(tensor.to_owned()));
    let loss = |network: &mut N| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        network.train_loss(x.as_array(), t, &mut Context::training(&mut rng))
    };
    let mut shapes = Vec::new();
    network.visit_parameters(&mut |p| shapes.push(p.value.raw_dim()));
    let mut gradients = Vec::with_capacity(shapes.len());
    for (index, shape) in shapes.into_iter().enumerate() {
        let mut error = None;
        let gradient = gradient_check::numerical_gradient_of(
            network,
            |network, element, change| set_element(network, index, element, change),
            shape,
            |network| match loss(network) {
                Ok(loss) => loss,
                Err(e) => {
                    error.get_or_insert(e);
                    T::nan()
                }
            },
        );
        if let Some(error) = error {
            return Err(error);
        }
        gradients.push(gradient);
    }
    let mut saved = state.into_iter();
    network.visit_state_mut(&mut |_, mut tensor| {
        tensor.assign(&saved.next().expect("the same state as before"));
    });
    Ok(gradients)
}

/// Applies `change` to element `element` of parameter `index`.
fn set_element<T: Float, N: Network<T>>(
    network: &mut N,
    index: usize,
    element: usize,
    change: &mut dyn FnMut(&mut T),
) {
    let mut seen = 0;
    network.visit_parameters_mut(&mut |mut p| {
        if seen == index {
            let values = p.value.as_slice_mut();
            change(&mut values.expect("parameters are kept in standard layout")[element]);
        }
        seen += 1;
    });
}

/// The scores of every row of `x`, computed chunk by chunk.
pub fn predict<T: Float, N: Network<T>, const IN: usize, const OUT: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
) -> Batch<T, OUT> {
    let mut out = Batch::<T, OUT>::zeros(x.rows());
    predict_into(network, x, &mut N::Scratch::default(), &mut out);
    out
}

/// The scores of every row of `x` into `out` (resized to fit), reusing `scratch`: once
/// both have grown, this allocates nothing.
pub fn predict_into<T: Float, N: Network<T>, const IN: usize, const OUT: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    scratch: &mut N::Scratch,
    out: &mut Batch<T, OUT>,
) {
    out.resize_rows(x.rows());
    let out = out.as_mut_slice();
    let chunk_rows = crate::network::evaluation_chunk_rows::<T, N>();
    for start in (0..x.rows()).step_by(chunk_rows) {
        let chunk = x.slice_rows(start, start + chunk_rows);
        let scores = network.infer(chunk.as_array(), scratch);
        let dest = &mut out[start * OUT..(start + chunk.rows()) * OUT];
        for (d, s) in dest.iter_mut().zip(scores.iter()) {
            *d = *s;
        }
    }
}

/// The softmax of every row's scores.
pub fn probabilities<T: Float, const OUT: usize>(scores: Batch<T, OUT>) -> Batch<T, OUT> {
    let mut probs = Batch::<T, OUT>::zeros(scores.rows());
    let view = ndarray::ArrayViewMut2::from_shape((scores.rows(), OUT), probs.as_mut_slice())
        .expect("a batch holds rows × OUT values");
    layers::softmax_into(scores.as_array().view(), view);
    probs
}

/// Loss and accuracy of the network over `x` against `t`.
pub fn evaluate<T: Float, N: Network<T>, const IN: usize>(
    network: &N,
    x: BatchView<'_, T, IN>,
    t: &Targets<'_, T>,
) -> Result<Evaluation> {
    t.validate(x.rows(), N::OUTPUT_WIDTH)?;
    network.evaluate(&(x, *t))
}

/// Names the leaves each layer pushed onto the tape, and finishes the record.
pub fn tape_run<T: Float, N: Network<T>>(
    network: &N,
    leaves: Vec<Var<T>>,
    outputs: Vec<(String, Var<T>)>,
    loss: Var<T>,
) -> std::result::Result<TapeRun<T>, TapeError> {
    let mut named = Vec::new();
    network.visit_parameters(&mut |p| named.push((p.name, p.role)));
    assert_eq!(
        named.len(),
        leaves.len(),
        "every parameter is a leaf of the tape"
    );
    Ok(TapeRun {
        loss,
        parameters: named
            .into_iter()
            .zip(leaves)
            .map(|((name, role), leaf)| (name, role, leaf))
            .collect(),
        outputs,
    })
}

/// `x` as a constant of the tape.
pub fn tape_input<T: Float>(x: ArrayView2<'_, T>) -> Var<T> {
    Var::constant(x.to_owned())
}

/// The gradient of the input, as a typed batch.
pub fn input_gradient<T: Float, const IN: usize>(d: ArrayView2<'_, T>) -> Result<Batch<T, IN>> {
    Batch::from_array(d.to_owned())
}

/// A layer's field, its type and its description, for a summary row.
pub fn summary_row(
    field: &'static str,
    layer: String,
    output_shape: &[usize],
    parameters: usize,
) -> crate::LayerSummary {
    crate::LayerSummary {
        field,
        layer,
        output_shape: output_shape.to_vec(),
        parameters,
    }
}
