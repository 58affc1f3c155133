//! Once warm, a training step (gradient + SGD update) and `predict_into` allocate
//! nothing: a counting global allocator proves it. This is a test of allocation
//! counts, not of time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use backprop::data::{Dataset, MiniBatch, Sampler, SamplingMode};
use backprop::layers::Context;
use backprop::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[path = "../examples/common/book_nets.rs"]
mod book_nets;

use book_nets::{DeepConvNet, TwoLayerNet, TwoLayerNetScratch};

network! {
    /// The book's extended net: BatchNorm after each hidden Affine, Dropout after the
    /// activation.
    struct Extended {
        Affine(784, 100) -> BatchNorm -> Relu -> Dropout(0.3) -> Affine(100, 50)
            -> BatchNorm -> Tanh -> Dropout(0.5, inverted = true) -> Affine(50, 10)
            -> SoftmaxWithLoss
    }

    struct Deep {
        Affine(784, 100) -> Relu -> Affine(100, 100) -> Sigmoid -> Affine(100, 100) -> Relu
            -> Affine(100, 10) -> SoftmaxWithLoss
    }

    /// A first convolution (no input gradient), pooling, and a padded one after it.
    struct Convolved(1, 28, 28) {
        Convolution(8, 5, 5) -> Relu -> Pooling(2, 2, stride = 2)
            -> Convolution(8, 3, 3, pad = 1) -> Relu -> Affine(_, 10) -> SoftmaxWithLoss
    }
}

/// Counts the allocations of every thread of the process while counting is on: a
/// step that allocated on a pool worker (gathering, the update) would show too. This
/// file has its own `main` (no test harness, whose threads would allocate too), and
/// runs its checks one after another on the main thread.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number of allocations `work` makes on this thread.
fn allocations_in(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    work();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

/// The thread counts every count is made with: all work on the calling thread, and
/// products, gathering and updates split with a pool worker.
const THREADS: [usize; 2] = [1, 2];

/// An MNIST-shaped data set of random images, about 80 % zeros as MNIST.
fn fake_mnist(rng: &mut StdRng, len: usize) -> Dataset {
    let pixels = (0..len * 784)
        .map(|_| {
            if rng.random_range(0..5) == 0 {
                rng.random_range(1..=255)
            } else {
                0
            }
        })
        .collect();
    let labels = (0..len).map(|_| rng.random_range(0..10)).collect();
    Dataset::from_raw(pixels, labels, 28, 28, 10).unwrap()
}

macro_rules! warm_steps_allocate_nothing {
    ($test:ident, $net:ident, $float:ty) => {
        fn $test() {
            let mut rng = StdRng::seed_from_u64(0);
            let data = fake_mnist(&mut rng, 1000);
            let mut net = $net::<$float>::new(&mut rng);
            let mut sampler = Sampler::new(data.len(), 100, SamplingMode::WithReplacement).unwrap();
            let mut batch = MiniBatch::<$float, 784>::new();
            let mut sgd = Sgd { lr: 0.1 };
            let mut step = |rng: &mut StdRng| {
                batch.fill(&data, sampler.next_batch(rng)).unwrap();
                net.gradient(&batch.x, batch.targets()).unwrap();
                sgd.update(&mut net);
            };
            for threads in THREADS {
                backprop::parallel::set_threads(threads);
                step(&mut rng);
                step(&mut rng);
                let count = allocations_in(|| {
                    for _ in 0..20 {
                        step(&mut rng);
                    }
                });
                assert_eq!(
                    count, 0,
                    "20 warm steps on {threads} threads allocated {count} times"
                );
            }
        }
    };
}

/// Adam with weight decay, through a trait object as a program picking the optimizer
/// by name would, and Dropout drawing from the step's own generator.
macro_rules! warm_adam_steps_with_weight_decay_allocate_nothing {
    ($test:ident, $float:ty) => {
        fn $test() {
            let mut rng = StdRng::seed_from_u64(0);
            let data = fake_mnist(&mut rng, 1000);
            let mut net = Extended::<$float>::new(&mut rng);
            let mut sampler = Sampler::new(data.len(), 100, SamplingMode::WithReplacement).unwrap();
            let mut batch = MiniBatch::<$float, 784>::new();
            let mut adam = backprop::optim::by_name::<$float>("adam").unwrap();
            let mut dropout_rng = StdRng::seed_from_u64(1);
            let mut step = |rng: &mut StdRng| {
                batch.fill(&data, sampler.next_batch(rng)).unwrap();
                let mut context = Context::training(&mut dropout_rng);
                let loss = net
                    .train_step_with_weight_decay(
                        batch.x.as_array().view(),
                        &batch.targets(),
                        &mut context,
                        1e-4,
                    )
                    .unwrap();
                assert!(loss.is_finite());
                adam.update(&mut net);
            };
            for threads in THREADS {
                backprop::parallel::set_threads(threads);
                step(&mut rng);
                step(&mut rng);
                let count = allocations_in(|| {
                    for _ in 0..20 {
                        step(&mut rng);
                    }
                });
                assert_eq!(
                    count, 0,
                    "20 warm steps on {threads} threads allocated {count} times"
                );
            }
        }
    };
}

warm_adam_steps_with_weight_decay_allocate_nothing!(extended_f32_adam_weight_decay_steps, f32);
warm_adam_steps_with_weight_decay_allocate_nothing!(extended_f64_adam_weight_decay_steps, f64);
warm_steps_allocate_nothing!(two_layer_f32_training_steps, TwoLayerNet, f32);
warm_steps_allocate_nothing!(two_layer_f64_training_steps, TwoLayerNet, f64);
warm_steps_allocate_nothing!(deep_f32_training_steps, Deep, f32);
warm_steps_allocate_nothing!(convolutional_f32_training_steps, Convolved, f32);
warm_steps_allocate_nothing!(convolutional_f64_training_steps, Convolved, f64);
warm_steps_allocate_nothing!(deep_convolutional_f32_training_steps, DeepConvNet, f32);

/// The trainer's steps allocate nothing either, with a learning-rate schedule and the
/// best model kept: a run of nearly twice the steps (with the same evaluations, after
/// step 0 and at the end) allocates exactly as often.
fn the_trainers_steps_allocate_nothing() {
    use backprop::train::{Trainer, WarmupCosine};
    let mut rng = StdRng::seed_from_u64(2);
    let (train_set, test_set) = (fake_mnist(&mut rng, 1000), fake_mnist(&mut rng, 200));
    let allocations_of = |steps: usize| {
        let mut net = Extended::<f32>::new(&mut StdRng::seed_from_u64(3));
        let mut adam = backprop::optim::Adam::<f32>::default();
        // With a schedule and the best model kept, whose copy is made at evaluations.
        let trainer = Trainer::new()
            .iterations(steps)
            .weight_decay(1e-4)
            .schedule(WarmupCosine::new(3, 20, 0.1))
            .keep_best(true)
            .patience(3);
        allocations_in(|| {
            trainer
                .fit(&mut net, &mut adam, &train_set, &test_set)
                .unwrap();
        })
    };
    for threads in THREADS {
        backprop::parallel::set_threads(threads);
        allocations_of(5);
        let (short, long) = (allocations_of(5), allocations_of(9));
        assert_eq!(
            short,
            long,
            "on {threads} threads, 4 more steps allocated {} more times",
            long as isize - short as isize
        );
    }
}

macro_rules! warm_predict_into_allocates_nothing {
    ($test:ident, $net:ident, $scratch:ident) => {
        fn $test() {
            let mut rng = StdRng::seed_from_u64(1);
            let data = fake_mnist(&mut rng, 300);
            let net = $net::<f32>::new(&mut rng);
            let mut batch = MiniBatch::<f32, 784>::new();
            let indices: Vec<usize> = (0..300).collect();
            batch.fill(&data, &indices).unwrap();
            let mut buffers = $scratch::default();
            let mut out = Batch::zeros(0);
            for threads in THREADS {
                backprop::parallel::set_threads(threads);
                net.predict_into(&batch.x, &mut buffers, &mut out);
                let count = allocations_in(|| {
                    for _ in 0..10 {
                        net.predict_into(&batch.x, &mut buffers, &mut out);
                    }
                });
                assert_eq!(
                    count, 0,
                    "10 warm predictions on {threads} threads allocated {count} times"
                );
            }
        }
    };
}

warm_predict_into_allocates_nothing!(
    warm_predict_into_allocates_nothing,
    TwoLayerNet,
    TwoLayerNetScratch
);
warm_predict_into_allocates_nothing!(
    warm_convolutional_predict_into_allocates_nothing,
    Convolved,
    ConvolvedScratch
);

fn the_counter_sees_allocations() {
    let count = allocations_in(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(count, 1);
}

fn main() {
    let checks: [(&str, fn()); 13] = [
        ("the_counter_sees_allocations", the_counter_sees_allocations),
        ("two_layer_f32_training_steps", two_layer_f32_training_steps),
        ("two_layer_f64_training_steps", two_layer_f64_training_steps),
        ("deep_f32_training_steps", deep_f32_training_steps),
        (
            "convolutional_f32_training_steps",
            convolutional_f32_training_steps,
        ),
        (
            "convolutional_f64_training_steps",
            convolutional_f64_training_steps,
        ),
        (
            "deep_convolutional_f32_training_steps",
            deep_convolutional_f32_training_steps,
        ),
        (
            "extended_f32_adam_weight_decay_steps",
            extended_f32_adam_weight_decay_steps,
        ),
        (
            "extended_f64_adam_weight_decay_steps",
            extended_f64_adam_weight_decay_steps,
        ),
        (
            "the_trainers_steps_allocate_nothing",
            the_trainers_steps_allocate_nothing,
        ),
        (
            "warm_predict_into_allocates_nothing",
            warm_predict_into_allocates_nothing,
        ),
        (
            "warm_convolutional_predict_into_allocates_nothing",
            warm_convolutional_predict_into_allocates_nothing,
        ),
        ("the_counter_stops_counting", the_counter_stops_counting),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        let passed = std::panic::catch_unwind(check).is_ok();
        println!("test {name} ... {}", if passed { "ok" } else { "FAILED" });
        failed += usize::from(!passed);
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

fn the_counter_stops_counting() {
    allocations_in(|| {});
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    drop(std::hint::black_box(vec![1u8; 64]));
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), before);
}
