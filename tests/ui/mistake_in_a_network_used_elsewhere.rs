//! A declaration with a mistake is still a type with its methods: the rest of the
//! program compiles against it, and the only error is the mistake itself.
use backprop::prelude::*;
use rand::SeedableRng;

network! {
    struct Net {
        Affine(784, 50) -> Relu -> Affine(40, 10) -> SoftmaxWithLoss
    }
}

fn parameters<N: Network<f32>>(_: &N) -> usize {
    N::PARAMETER_COUNT
}

fn main() -> backprop::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut net = Net::<f32>::new(&mut rng);
    let x = Batch::<f32, 784>::zeros(2);
    let t = [1usize, 2];
    let loss = net.gradient(&x, &t)?;
    let scores = net.predict(&x);
    let accuracy = net.accuracy(&x, &t)?;
    let weights = net.affine1.W.sum();
    println!("{loss} {} {accuracy} {weights} {}", scores.rows(), parameters(&net));
    println!("{}", Net::summary());
    Ok(())
}
