//! The classic perceptron on the autograd tape: one sigmoid unit `y = σ(x·w + b)` fitted by
//! full-batch gradient descent on the mean squared error.
//!
//! The data are two Gaussian blobs in the plane (label 0 around (−2, −2), label 1 around
//! (2, 2)) drawn from a seeded RNG, so every run prints the same numbers. Prints the loss
//! every 50 epochs and the final training accuracy.
//!
//! Run with `cargo run --example perceptron`.

use std::error::Error;

use backprop::autograd::Var;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::Normal;

const SAMPLES_PER_CLASS: usize = 100;
const EPOCHS: usize = 500;
const LEARNING_RATE: f64 = 2.0;

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(42);
    let (inputs, labels) = two_blobs(&mut rng)?;
    let x = Var::constant(inputs);
    let t = Var::constant(labels.clone());

    // Small random weights break the symmetry between the two inputs; the bias starts at 0.
    let init = Normal::new(0.0, 0.1)?;
    let mut w = Array2::from_shape_simple_fn((2, 1), || rng.sample(init));
    let mut b = Array1::<f64>::zeros(1);

    for epoch in 0..=EPOCHS {
        // A fresh graph each epoch: the previous one is freed when `loss` goes out of scope.
        let w_var = Var::leaf(w.clone());
        let b_var = Var::leaf(b.clone());
        let loss = x.matmul(&w_var)?.add(&b_var)?.sigmoid().mse(&t)?;
        loss.backward()?;
        if epoch % 50 == 0 {
            println!("epoch {epoch:>3}  loss {:.5}", loss.item()?);
        }
        w.scaled_add(
            -LEARNING_RATE,
            &w_var.grad().ok_or("w received no gradient")?,
        );
        b.scaled_add(
            -LEARNING_RATE,
            &b_var.grad().ok_or("b received no gradient")?,
        );
    }

    let outputs = x
        .matmul(&Var::constant(w.clone()))?
        .add(&Var::constant(b.clone()))?
        .sigmoid();
    let correct = outputs
        .value()
        .iter()
        .zip(&labels)
        .filter(|&(&y, &label)| (y > 0.5) == (label > 0.5))
        .count();
    println!("w = {:?}, b = {:?}", w.as_slice(), b.as_slice());
    println!(
        "accuracy: {correct}/{} = {:.1}%",
        labels.len(),
        100.0 * correct as f64 / labels.len() as f64
    );
    Ok(())
}

/// `2·SAMPLES_PER_CLASS` points as an `n×2` matrix, and their 0/1 labels as an `n×1` column.
fn two_blobs(rng: &mut StdRng) -> Result<(Array2<f64>, Array2<f64>), Box<dyn Error>> {
    let spread = Normal::new(0.0, 1.0)?;
    let n = 2 * SAMPLES_PER_CLASS;
    let labels = Array2::from_shape_fn((n, 1), |(i, _)| (i % 2) as f64);
    let inputs = Array2::from_shape_fn((n, 2), |(i, _)| {
        let centre = if labels[[i, 0]] > 0.5 { 2.0 } else { -2.0 };
        centre + rng.sample(spread)
    });
    Ok((inputs, labels))
}
