//! Tests of the tape as a whole: graph traversal, memory, accumulation and misuse. Each
//! operation's own gradient tests sit beside its code.

use std::rc::Rc;

use ndarray::{Array2, ArrayD, arr0, arr1, arr2};

use super::gradcheck::{
    assert_gradient_matches, assert_gradients_match, random_array, weighted_sum,
};
use super::{TapeError, Var};

/// The single element of a gradient, NaN if there is none (so comparisons fail).
fn scalar_grad(var: &Var<f64>) -> f64 {
    var.grad()
        .and_then(|g| g.first().copied())
        .unwrap_or(f64::NAN)
}

#[test]
fn two_layer_network_matches_numerical_gradients() {
    let x = Var::constant(random_array(&[5, 4], 50));
    let w1 = random_array(&[4, 3], 51);
    let b1 = random_array(&[3], 52);
    let w2 = random_array(&[3, 2], 53);
    let b2 = random_array(&[1, 2], 54);
    assert_gradients_match(&[w1, b1, w2, b2], |p| {
        x.matmul(&p[0])?
            .add(&p[1])?
            .sigmoid()
            .matmul(&p[2])?
            .add(&p[3])?
            .softmax_cross_entropy(&[0, 1, 1, 0, 1])
    });
}

#[test]
fn diamond_shaped_graph_accumulates_both_branches() {
    // h feeds two branches that meet again: its gradient must be the sum of both.
    let x = random_array(&[2, 3], 55);
    assert_gradient_matches(&x, |v| {
        let h = v.exp();
        weighted_sum(
            &h.mul(&h)?
                .add(&h.sigmoid())?
                .sub(&h.transpose().transpose())?,
        )
    });
}

#[test]
fn chain_of_a_hundred_thousand_operations_neither_recurses_nor_overflows() -> Result<(), TapeError>
{
    const LENGTH: usize = 100_000;
    let x = Var::scalar(2.0);
    let step = Var::scalar(1.0);
    let mut y = x.clone();
    for _ in 0..LENGTH {
        y = y.add(&step)?;
    }
    y.backward()?;
    assert_eq!(y.item()?, 2.0 + LENGTH as f64);
    assert_eq!(x.grad(), Some(arr0(1.0).into_dyn()));
    assert_eq!(step.grad(), Some(arr0(LENGTH as f64).into_dyn()));

    // Dropping the chain must not recurse either, and must release every node.
    drop(y);
    assert_eq!(Rc::strong_count(&step.node), 1);
    assert_eq!(Rc::strong_count(&x.node), 1);
    Ok(())
}

#[test]
fn dropping_the_result_frees_the_whole_graph() -> Result<(), TapeError> {
    let x = Var::constant(random_array(&[3, 2], 56));
    let w = Var::leaf(random_array(&[2, 2], 57));
    let b = Var::leaf(random_array(&[2], 58));
    let hidden = x.matmul(&w)?.add(&b)?.relu();
    let loss = hidden.sum();
    let hidden_node = Rc::downgrade(&hidden.node);
    drop(hidden);
    loss.backward()?;
    assert!(
        hidden_node.upgrade().is_some(),
        "the result keeps its inputs alive"
    );

    drop(loss);
    assert!(
        hidden_node.upgrade().is_none(),
        "intermediate value outlived its result"
    );
    for leaf in [&x, &w, &b] {
        assert_eq!(
            Rc::strong_count(&leaf.node),
            1,
            "a leaf is still referenced"
        );
    }
    assert!(
        w.grad().is_some(),
        "gradients stay on the leaves after the graph is gone"
    );
    Ok(())
}

#[test]
fn values_made_only_from_constants_keep_nothing_alive() {
    let c = Var::constant(arr1(&[1.0, 2.0]));
    let y = c.exp().scale(2.0);
    assert_eq!(Rc::strong_count(&c.node), 1);
    assert_eq!(y.op(), Some("scale"));
    assert!(!y.requires_grad());
    assert_eq!(y.sum().backward(), Err(TapeError::NoGradientPath));
}

#[test]
fn constants_in_a_mixed_graph_get_no_gradient() -> Result<(), TapeError> {
    let x = Var::constant(arr2(&[[1.0, 2.0]]));
    let w = Var::leaf(arr2(&[[3.0], [4.0]]));
    x.matmul(&w)?.sum().backward()?;
    assert_eq!(x.grad(), None);
    assert_eq!(w.grad(), Some(arr2(&[[1.0], [2.0]]).into_dyn()));
    Ok(())
}

#[test]
fn leaves_accumulate_until_zeroed_while_intermediates_keep_the_last_pass() -> Result<(), TapeError>
{
    let x = Var::leaf(arr1(&[1.0, -2.0]));
    let square = x.mul(&x)?;
    let loss = square.sum();
    loss.backward()?;
    loss.backward()?;
    assert_eq!(x.grad(), Some(arr1(&[4.0, -8.0]).into_dyn())); // 2 × 2x
    assert_eq!(square.grad(), Some(arr1(&[1.0, 1.0]).into_dyn()));

    x.zero_grad();
    assert_eq!(x.grad(), None);
    loss.backward()?;
    assert_eq!(x.grad(), Some(arr1(&[2.0, -4.0]).into_dyn()));
    Ok(())
}

#[test]
fn rebuilding_the_graph_every_step_trains_and_frees_old_graphs() -> Result<(), TapeError> {
    // Gradient descent on (w − 3)², the way a training loop uses the tape.
    let target = Var::constant(arr0(3.0));
    let mut w = 0.0;
    let mut previous_graph = None;
    for _ in 0..50 {
        let param = Var::scalar(w);
        let loss = param.sub(&target)?.powf(2.0);
        loss.backward()?;
        w -= 0.1 * scalar_grad(&param);
        previous_graph = Some(Rc::downgrade(&loss.node));
    }
    assert!((w - 3.0).abs() < 1e-4, "w = {w}");
    assert!(previous_graph.is_some_and(|node| node.upgrade().is_none()));
    assert_eq!(Rc::strong_count(&target.node), 1);
    Ok(())
}

#[test]
fn backward_from_a_non_scalar_needs_a_seed() -> Result<(), TapeError> {
    let x = Var::leaf(arr1(&[1.0, 2.0, 3.0]));
    let y = x.exp();
    let err = y.backward().unwrap_err();
    assert_eq!(err, TapeError::NonScalarBackward { shape: vec![3] });
    assert!(err.to_string().contains("backward_with(seed)"), "{err}");

    y.backward_with(arr1(&[1.0, 0.0, 2.0]))?;
    let expected = arr1(&[1.0_f64.exp(), 0.0, 2.0 * 3.0_f64.exp()]).into_dyn();
    assert_eq!(x.grad(), Some(expected));
    Ok(())
}

#[test]
fn a_seed_of_the_wrong_shape_is_an_error_naming_both_shapes() {
    let y = Var::leaf(Array2::<f64>::zeros((2, 3))).relu();
    let err = y.backward_with(Array2::<f64>::ones((3, 2))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "backward_with: the seed has shape [3, 2] but the result has shape [2, 3]"
    );
}

#[test]
fn single_element_matrix_counts_as_scalar_but_a_vector_has_no_item() -> Result<(), TapeError> {
    let w = Var::leaf(arr2(&[[2.0]]));
    let y = w.matmul(&w)?;
    y.backward()?;
    assert_eq!(w.grad(), Some(arr2(&[[4.0]]).into_dyn()));
    assert_eq!(
        Var::leaf(arr1(&[1.0, 2.0])).item(),
        Err(TapeError::NotAScalar { shape: vec![2] })
    );
    Ok(())
}

#[test]
fn a_value_remembers_the_operation_that_made_it() -> Result<(), TapeError> {
    let x = Var::leaf(arr1(&[1.0]));
    assert_eq!(x.op(), None);
    assert!(x.is_leaf());
    let y = x.sigmoid().sum_axis(0)?;
    assert_eq!(y.op(), Some("sum_axis"));
    assert!(!y.is_leaf() && y.requires_grad());
    assert!(format!("{y:?}").contains("sum_axis"));
    Ok(())
}

#[test]
fn the_tape_works_in_f32_too() -> Result<(), TapeError> {
    fn loss<T: super::Float>(
        w: &Var<T>,
        x: &ArrayD<T>,
        t: &ArrayD<T>,
    ) -> Result<Var<T>, TapeError> {
        Var::constant(x.clone())
            .matmul(w)?
            .sigmoid()
            .mse(&Var::constant(t.clone()))
    }
    let (x, t, w) = (
        random_array(&[4, 3], 60),
        random_array(&[4, 1], 61),
        random_array(&[3, 1], 62),
    );
    let w64 = Var::leaf(w.clone());
    let w32 = Var::leaf(w.mapv(|v| v as f32));
    let loss64 = loss(&w64, &x, &t)?;
    let loss32 = loss(&w32, &x.mapv(|v| v as f32), &t.mapv(|v| v as f32))?;
    loss64.backward()?;
    loss32.backward()?;
    assert!((f64::from(loss32.item()?) - loss64.item()?).abs() < 1e-6);
    let (g64, g32) = (
        w64.grad().unwrap_or_default(),
        w32.grad().unwrap_or_default(),
    );
    assert_eq!(g32.len(), 3);
    for (a, b) in g32.iter().zip(&g64) {
        assert!((f64::from(*a) - b).abs() < 1e-6, "f32 {a} vs f64 {b}");
    }
    Ok(())
}
