//! Dropout and BatchNorm through the layer table: the book's names for their tensors,
//! arguments in the summary, and training through the trait.
use backprop::prelude::*;
use rand::SeedableRng;

network! {
    pub struct Extended(784) {
        Dropout(0.2) -> Affine(_, 100) -> BatchNorm -> Relu -> Dropout(0.5, inverted = true)
            -> Affine(100, 50) -> BatchNorm(momentum = 0.8, eps = 1e-5) -> Tanh
            -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut net = Extended::<f32>::new(&mut rng);
    let mut names = Vec::new();
    net.visit_parameters(&mut |p| names.push(p.name));
    assert_eq!(names, ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]);
    let mut state = Vec::new();
    net.visit_state(&mut |name, _| state.push(name));
    assert_eq!(state, ["running_mean1", "running_var1", "running_mean2", "running_var2"]);
    let layers: Vec<String> = Extended::summary().layers.into_iter().map(|l| l.layer).collect();
    assert_eq!(layers[0], "Dropout(0.2)");
    assert_eq!(layers[4], "Dropout(0.5, inverted = true)");
    assert_eq!(layers[6], "BatchNorm(50, momentum = 0.8, eps = 0.00001)");
    let x = Batch::<f32, 784>::zeros(4);
    let t = [1usize, 2, 3, 4];
    let mut context_rng = rand::rngs::StdRng::seed_from_u64(1);
    let loss = net
        .train_step(x.as_array().view(), &(&t).into(), &mut backprop::layers::Context::training(&mut context_rng))
        .unwrap();
    assert!(loss.is_finite());
}
