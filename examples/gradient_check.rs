//! The book's gradient check (section 5.7.3, `ch05/gradient_check.py`): the two-layer
//! net's backprop gradients against central differences on the first three MNIST
//! training samples, in f64, printing the mean absolute difference per parameter.
//!
//! Run with `cargo run --release --example gradient_check`. It reads MNIST from
//! `$MNIST_DIR` or `./data/mnist` when present, and otherwise uses three random images.

use std::time::Instant;

use backprop::data::{self, MiniBatch};
use backprop::gradient_check::compare;
use backprop::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    /// The two-layer net of Deep Learning from Scratch, chapter 5.
    pub struct TwoLayerNet {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() -> Result<(), backprop::Error> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut batch = MiniBatch::<f64, 784>::new();
    let env = std::env::var_os(data::MNIST_DIR_ENV);
    let (dir, _) = data::choose_mnist_dir(None, env.as_deref());
    match data::load_mnist(&dir) {
        Ok(mnist) => {
            println!(
                "the first 3 training images of MNIST from {}",
                dir.display()
            );
            batch.fill(&mnist.train, &[0, 1, 2])?;
        }
        Err(error) => {
            println!("MNIST not found ({error});\nusing 3 random images instead");
            let pixels: Vec<f64> = (0..3 * 784).map(|_| rng.random_range(0.0..1.0)).collect();
            batch.x = Batch::from_vec(pixels)?;
            batch.labels = (0..3).map(|_| rng.random_range(0..10)).collect();
        }
    }

    let mut net = TwoLayerNet::<f64>::new(&mut rng);
    let started = Instant::now();
    net.gradient(&batch.x, batch.targets())?;
    let backprop_time = started.elapsed();
    let started = Instant::now();
    let numerical = net.numerical_gradient(&batch.x, batch.targets())?;
    let numerical_time = started.elapsed();

    for difference in compare(&net.gradients(), &numerical) {
        println!(
            "{}:{:e}   (max relative error {:.1e})",
            difference.name, difference.mean_abs, difference.max_relative
        );
    }
    println!(
        "backprop took {:.1} µs, central differences {:.2} s",
        backprop_time.as_secs_f64() * 1e6,
        numerical_time.as_secs_f64()
    );
    Ok(())
}
