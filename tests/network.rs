//! What every declared network does at run time: inference, losses, training steps,
//! bad input, saving and loading.

use backprop::gradient_check::relative_error;
use backprop::layers::Context;
use backprop::model_file::{self, ModelFileError, Overwrite};
use backprop::prelude::*;
use ndarray::{Array2, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    /// A small classifier: 4 features, 3 classes.
    pub struct Small {
        Affine(4, 5) -> Relu -> Affine(5, 3) -> SoftmaxWithLoss
    }

    /// The same widths with other activations and names.
    pub(crate) struct SmallSigmoid {
        hidden: Affine(4, 5) -> Sigmoid -> scores: Affine(_, 3) -> loss: SoftmaxWithLoss
    }

    /// Another architecture, for loading a file that does not fit.
    struct Wider {
        Affine(4, 6) -> Relu -> Affine(6, 3) -> SoftmaxWithLoss
    }

    /// BatchNorm's running statistics are state that model files keep.
    struct Normed {
        Affine(4, 6) -> BatchNorm -> Relu -> Dropout(0.3) -> Affine(6, 3) -> SoftmaxWithLoss
    }

    /// The book's net, big enough for its first layer's products to use two threads.
    struct Book {
        Affine(784, 50) -> Relu -> Affine(50, 10) -> SoftmaxWithLoss
    }
}

fn random_batch(rng: &mut StdRng, rows: usize) -> (Batch<f64, 4>, Vec<usize>) {
    let x = (0..rows * 4).map(|_| rng.random_range(-2.0..2.0)).collect();
    let t = (0..rows).map(|_| rng.random_range(0..3)).collect();
    (Batch::from_vec(x).unwrap(), t)
}

#[test]
fn predict_is_x_w_plus_b_through_the_layers() {
    let mut rng = StdRng::seed_from_u64(1);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 7);
    let x_arr = x.as_array();
    let hidden = (x_arr.dot(&net.affine1.W) + &net.affine1.b).mapv(|v| v.max(0.0));
    let expected = hidden.dot(&net.affine2.W) + &net.affine2.b;
    let scores = net.predict(&x);
    for (a, b) in scores.as_array().iter().zip(expected.iter()) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn probabilities_are_the_softmax_of_the_scores() {
    let mut rng = StdRng::seed_from_u64(2);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 5);
    let scores = net.predict(&x);
    let probs = net.probabilities(&x);
    for (s, p) in scores
        .as_array()
        .rows()
        .into_iter()
        .zip(probs.as_array().rows())
    {
        let total: f64 = s.iter().map(|v| v.exp()).sum();
        for (sv, pv) in s.iter().zip(p.iter()) {
            assert!((sv.exp() / total - pv).abs() < 1e-12);
        }
    }
}

#[test]
fn a_single_sample_is_a_batch_of_one_row() {
    let mut rng = StdRng::seed_from_u64(3);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 3);
    let one = Batch::<f64, 4>::from_rows(&[[
        x.as_array()[[1, 0]],
        x.as_array()[[1, 1]],
        x.as_array()[[1, 2]],
        x.as_array()[[1, 3]],
    ]]);
    assert_eq!(
        net.predict(&one).as_array().row(0),
        net.predict(&x).as_array().row(1)
    );
}

#[test]
fn gradient_returns_the_loss_that_loss_computes() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 6);
    let inference = net.loss(&x, &t).unwrap();
    let training = net.gradient(&x, &t).unwrap();
    assert!((inference - training).abs() < 1e-12);
}

#[test]
fn accuracy_counts_argmax_hits_with_labels_or_one_hot() {
    let mut rng = StdRng::seed_from_u64(5);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 50);
    let predicted: Vec<usize> = net
        .predict(&x)
        .as_array()
        .rows()
        .into_iter()
        .map(|r| (0..3).rev().max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap()) // first on ties, as NumPy
        .collect();
    let mut labels = predicted.clone();
    for label in labels.iter_mut().take(10) {
        *label = (*label + 1) % 3;
    }
    assert_eq!(net.accuracy(&x, &labels).unwrap(), 0.8);
    let mut one_hot = Array2::<f64>::zeros((50, 3));
    for (r, &l) in labels.iter().enumerate() {
        one_hot[[r, l]] = 1.0;
    }
    assert_eq!(net.accuracy(&x, &one_hot).unwrap(), 0.8);
}

#[test]
fn sgd_steps_lower_the_loss() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 32);
    let mut sgd = Sgd { lr: 0.1 };
    let first = net.gradient(&x, &t).unwrap();
    sgd.update(&mut net);
    for _ in 0..200 {
        net.gradient(&x, &t).unwrap();
        sgd.update(&mut net);
    }
    let last = net.loss(&x, &t).unwrap();
    assert!(last < first * 0.7, "loss went from {first} to {last}");
}

#[test]
fn sgd_moves_each_parameter_by_lr_times_its_gradient() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 4);
    let before = net.clone();
    net.gradient(&x, &t).unwrap();
    let grads = net.gradients();
    Sgd { lr: 0.5 }.update(&mut net);
    let expected = &before.affine1.W - &(&grads.W1 * 0.5);
    assert!(
        net.affine1
            .W
            .iter()
            .zip(expected.iter())
            .all(|(a, b)| (a - b).abs() < 1e-15)
    );
    let expected = &before.affine2.b - &(&grads.b2 * 0.5);
    assert!(
        net.affine2
            .b
            .iter()
            .zip(expected.iter())
            .all(|(a, b)| (a - b).abs() < 1e-15)
    );
}

#[test]
fn input_gradient_matches_central_differences() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut net = SmallSigmoid::<f64>::with_weight_init(WeightInit::Xavier, &mut rng);
    let (x, t) = random_batch(&mut rng, 3);
    let dx = net.input_gradient(&x, &t).unwrap();
    let h = 1e-5;
    for i in 0..x.as_slice().len() {
        let mut above = x.clone();
        above.as_mut_slice()[i] += h;
        let mut below = x.clone();
        below.as_mut_slice()[i] -= h;
        let numerical = (net.loss(&above, &t).unwrap() - net.loss(&below, &t).unwrap()) / (2.0 * h);
        assert!(
            relative_error(dx.as_slice()[i], numerical) < 1e-6,
            "element {i}"
        );
    }
}

#[test]
fn f32_and_f64_networks_from_one_seed_agree() {
    let net64 = Small::<f64>::with_weight_init(WeightInit::He, &mut StdRng::seed_from_u64(9));
    let net32 = Small::<f32>::with_weight_init(WeightInit::He, &mut StdRng::seed_from_u64(9));
    let x64 = Batch::<f64, 4>::from_rows(&[[0.5, -1.0, 2.0, 0.25]]);
    let x32 = Batch::<f32, 4>::from_rows(&[[0.5, -1.0, 2.0, 0.25]]);
    let (a, b) = (net64.predict(&x64), net32.predict(&x32));
    for (a, b) in a.as_array().iter().zip(b.as_array().iter()) {
        assert!((a - f64::from(*b)).abs() < 1e-5);
    }
}

#[test]
fn inference_serves_several_threads_from_one_network() {
    let mut rng = StdRng::seed_from_u64(10);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 20);
    let expected = net.predict(&x);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| net.predict(&x))).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

#[test]
fn large_batches_are_evaluated_in_chunks_with_the_same_result() {
    let mut rng = StdRng::seed_from_u64(11);
    let net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 5000);
    let mut by_rows = 0.0;
    let mut hits = 0;
    for r in 0..5000 {
        let row = x.view().slice_rows(r, r + 1);
        by_rows += net.loss(&row, &t[r..r + 1]).unwrap();
        hits += (net.accuracy(&row, &t[r..r + 1]).unwrap() == 1.0) as usize;
    }
    assert!((net.loss(&x, &t).unwrap() - by_rows / 5000.0).abs() < 1e-12);
    assert_eq!(net.accuracy(&x, &t).unwrap(), hits as f64 / 5000.0);
    let mut buffers = SmallScratch::default();
    let mut out = Batch::zeros(0);
    net.predict_into(&x, &mut buffers, &mut out);
    assert_eq!(out, net.predict(&x));
}

#[test]
fn constants_and_summary_describe_the_network() {
    assert_eq!(<Small<f32> as Network<f32>>::INPUT_WIDTH, 4);
    assert_eq!(<Small<f32> as Network<f32>>::OUTPUT_WIDTH, 3);
    assert_eq!(
        <Small<f32> as Network<f32>>::PARAMETER_COUNT,
        4 * 5 + 5 + 5 * 3 + 3
    );
    let summary = SmallSigmoid::summary();
    // The same from a network of any float, as a method.
    let net = SmallSigmoid::<f64>::new(&mut StdRng::seed_from_u64(20));
    assert_eq!(net.summary(), summary);
    assert_eq!(summary.parameters(), 43);
    let fields: Vec<_> = summary.layers.iter().map(|l| l.field).collect();
    assert_eq!(fields, ["hidden", "sigmoid1", "scores", "loss"]);
    let text = summary.to_string();
    assert!(
        text.contains("Affine(5, 3)") && text.contains("total parameters: 43"),
        "{text}"
    );
}

#[test]
fn bad_input_is_an_error_that_says_what_was_expected() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut net = Small::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, _) = random_batch(&mut rng, 2);

    let err = Batch::<f64, 4>::from_array(Array2::zeros((2, 5))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Batch<4> from an ndarray: expected rows of 4 values, found 5"
    );

    let err = net.gradient(&x, &[0usize, 1, 2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x has 2 rows but t has 3: every input row needs exactly one target"
    );

    let empty = Batch::<f64, 4>::zeros(0);
    let err = net.loss(&empty, &Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x: the batch is empty; expected at least one row"
    );
    assert!(net.accuracy(&empty, &Vec::new()).is_err());

    let err = net.gradient(&x, &[0usize, 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "target row 1: class index 3 is out of range; expected an index below 3"
    );

    let err = net
        .numerical_gradient(&x, &array![[1.0, 0.0], [0.0, 1.0]])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "one-hot targets: expected 3 columns (one per class), found 2"
    );
}

#[test]
fn saved_parameters_load_back_in_either_precision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.safetensors");
    let mut rng = StdRng::seed_from_u64(13);
    let net = Small::<f32>::with_weight_init(WeightInit::He, &mut rng);
    model_file::save(&net, &path, Overwrite::Never).unwrap();

    let mut same = Small::<f32>::new(&mut rng);
    model_file::load(&mut same, &path).unwrap();
    assert_eq!(same.affine1.W, net.affine1.W);
    assert_eq!(same.affine2.b, net.affine2.b);

    let mut wide = Small::<f64>::new(&mut rng);
    model_file::load(&mut wide, &path).unwrap();
    assert_eq!(wide.affine1.W.mapv(|v| v as f32), net.affine1.W);

    // Saving the same model again is harmless; a different one is refused.
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let other = Small::<f32>::new(&mut rng);
    let err = model_file::save(&other, &path, Overwrite::Never).unwrap_err();
    assert!(matches!(err, ModelFileError::Exists { .. }), "{err}");
    model_file::save(&other, &path, Overwrite::Allowed).unwrap();
    model_file::load(&mut same, &path).unwrap();
    assert_eq!(same.affine1.W, other.affine1.W);
}

#[test]
fn loading_a_file_that_does_not_fit_names_every_difference_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wider.safetensors");
    let mut rng = StdRng::seed_from_u64(14);
    model_file::save(&Wider::<f64>::new(&mut rng), &path, Overwrite::Never).unwrap();

    let mut net = Small::<f64>::new(&mut rng);
    let before = net.affine1.W.clone();
    let err = model_file::load(&mut net, &path).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "the file's tensors do not fit this network: `W1` has shape [4, 6], expected [4, 5]; \
             `b1` has shape [6], expected [5]; `W2` has shape [6, 3], expected [5, 3]"
        ),
        "{err}"
    );
    assert_eq!(net.affine1.W, before);

    std::fs::write(&path, b"not a model").unwrap();
    let err = model_file::load(&mut net, &path).unwrap_err();
    assert!(matches!(err, ModelFileError::Format { .. }), "{err}");
}

#[test]
fn model_files_keep_batch_norm_state_and_name_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("normed.safetensors");
    let mut rng = StdRng::seed_from_u64(15);
    let mut net = Normed::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 16);
    let mut adam = backprop::optim::Adam::<f64>::default();
    for _ in 0..5 {
        let mut context = Context::training(&mut rng);
        net.train_step(x.as_array().view(), &(&t).into(), &mut context)
            .unwrap();
        adam.update(&mut net);
    }
    assert!(net.batchnorm1.running_var.iter().all(|&v| v > 0.0));
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let mut loaded = Normed::<f64>::new(&mut rng);
    model_file::load(&mut loaded, &path).unwrap();
    assert_eq!(loaded.batchnorm1.running_mean, net.batchnorm1.running_mean);
    assert_eq!(loaded.batchnorm1.gamma, net.batchnorm1.gamma);
    assert_eq!(loaded.predict(&x), net.predict(&x));

    // A file with the parameters but not the statistics is refused, naming them all.
    let plain_path = dir.path().join("no-state.safetensors");
    model_file::save(&Wider::<f64>::new(&mut rng), &plain_path, Overwrite::Never).unwrap();
    let err = model_file::load(&mut loaded, &plain_path)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(
            "`gamma1` (shape [6]) is missing; `beta1` (shape [6]) is missing; \
             `running_mean1` (shape [6]) is missing; `running_var1` (shape [6]) is missing"
        ),
        "{err}"
    );
    // And the other way: a file with more tensors than the network names the extra.
    let mut plain = Wider::<f64>::new(&mut rng);
    let err = model_file::load(&mut plain, &path).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "`beta1`, `gamma1`, `running_mean1`, `running_var1` are not in this network, \
             whose tensors are W1, b1, W2, b2"
        ),
        "{err}"
    );
    assert_eq!(loaded.predict(&x), net.predict(&x), "nothing changed");
}

#[test]
fn a_whole_data_set_as_a_batch_its_predicted_classes_and_confusion_matrix() {
    use backprop::data::{Dataset, MiniBatch, confusion_matrix, evaluate};
    let mut rng = StdRng::seed_from_u64(21);
    let pixels: Vec<u8> = (0..50 * 4).map(|_| rng.random_range(0..=255)).collect();
    let labels: Vec<u8> = (0..50).map(|_| rng.random_range(0..3)).collect();
    let data = Dataset::from_raw(pixels, labels.clone(), 2, 2, 3).unwrap();
    let net = Small::<f32>::with_weight_init(WeightInit::He, &mut rng);

    let all = MiniBatch::<f32, 4>::all(&data).unwrap();
    assert_eq!(all.x.rows(), 50);
    assert_eq!(
        all.labels,
        labels.iter().map(|&l| usize::from(l)).collect::<Vec<_>>()
    );
    let predicted = net.predict(&all.x).classes();
    let matrix = confusion_matrix(&net, &data).unwrap();
    for class in 0..3 {
        let truly: usize = matrix.counts[class].iter().sum();
        assert_eq!(truly, all.labels.iter().filter(|&&l| l == class).count());
        let as_it: usize = matrix.counts.iter().map(|row| row[class]).sum();
        assert_eq!(as_it, predicted.iter().filter(|&&p| p == class).count());
    }
    assert_eq!(matrix.accuracy(), evaluate(&net, &data).unwrap().accuracy);
    assert!(matrix.to_string().starts_with("true\\predicted"));
    assert!(MiniBatch::<f32, 5>::all(&data).is_err());
}

#[test]
fn a_network_comes_straight_from_its_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("normed.safetensors");
    let mut rng = StdRng::seed_from_u64(22);
    let mut net = Normed::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 8);
    net.train_step(
        x.as_array().view(),
        &(&t).into(),
        &mut Context::training(&mut rng),
    )
    .unwrap();
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let loaded = Normed::<f64>::from_model_file(&path).unwrap();
    assert_eq!(loaded.predict(&x), net.predict(&x));
    let missing = Normed::<f64>::from_model_file(&dir.path().join("none")).unwrap_err();
    assert!(matches!(missing, ModelFileError::Io { .. }), "{missing}");
}

#[test]
fn errors_print_their_message_when_main_returns_them() {
    let mut rng = StdRng::seed_from_u64(18);
    let net = Small::<f32>::new(&mut rng);
    let x = Batch::<f32, 4>::zeros(1);
    let err = net.loss(&x, &[7usize]).unwrap_err();
    assert_eq!(
        format!("{err:?}"),
        "target row 0: class index 7 is out of range; expected an index below 3"
    );
}

#[cfg(unix)]
#[test]
fn a_saved_model_gets_the_mode_of_an_ordinary_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (model, ordinary) = (dir.path().join("m.safetensors"), dir.path().join("plain"));
    let net = Small::<f32>::new(&mut StdRng::seed_from_u64(19));
    model_file::save(&net, &model, Overwrite::Never).unwrap();
    std::fs::write(&ordinary, b"x").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&model), mode(&ordinary));
}

#[test]
fn a_model_whose_values_are_not_finite_is_neither_saved_nor_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    let mut rng = StdRng::seed_from_u64(17);
    let mut net = Small::<f32>::new(&mut rng);
    net.affine2.b[1] = f32::NAN;
    let err = model_file::save(&net, &path, Overwrite::Never)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("tensor `b2` holds NaN, which is not a finite number; nothing was changed"),
        "{err}"
    );
    assert!(!path.exists());

    // A file that holds one (written by another program) is refused on load.
    net.affine2.b[1] = 1234.5;
    model_file::save(&net, &path, Overwrite::Never).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == 1234.5f32.to_le_bytes())
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let mut loaded = Small::<f32>::new(&mut rng);
    let before = loaded.affine2.b.clone();
    let err = model_file::load(&mut loaded, &path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tensor `b2` holds inf"), "{err}");
    assert_eq!(loaded.affine2.b, before);
}

#[test]
fn training_and_inference_differ_where_the_layers_say_and_inference_is_deterministic() {
    let mut rng = StdRng::seed_from_u64(16);
    let mut net = Normed::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let (x, t) = random_batch(&mut rng, 8);
    let t = Targets::from(&t);
    let train = |net: &mut Normed<f64>, seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        net.train_loss(x.as_array().view(), &t, &mut Context::training(&mut rng))
            .unwrap()
    };
    let (a, b) = (train(&mut net, 1), train(&mut net, 2));
    assert_ne!(a, b, "another Dropout mask, another loss");
    assert_eq!(train(&mut net, 1), a, "the same generator, the same mask");
    let frozen = net.clone();
    let inferred = frozen.loss(&x, t).unwrap();
    assert_eq!(
        frozen.loss(&x, t).unwrap(),
        inferred,
        "inference draws nothing"
    );
    assert_ne!(inferred, a);
    let mut rng = StdRng::seed_from_u64(1);
    let evaluated = net
        .train_loss(x.as_array().view(), &t, &mut Context::evaluating(&mut rng))
        .unwrap();
    assert!(
        (evaluated - inferred).abs() < 1e-12,
        "evaluation mode is inference"
    );
}

#[test]
fn sgd_after_two_thread_products_moves_every_element_by_lr_times_its_gradient() {
    // With two threads the batch-100 dense products are split, and the update that
    // follows is split the same way; every element must still move exactly once.
    backprop::parallel::set_threads(2);
    let mut rng = StdRng::seed_from_u64(11);
    let mut net = Book::<f64>::with_weight_init(WeightInit::He, &mut rng);
    let x =
        Batch::<f64, 784>::from_vec((0..100 * 784).map(|_| rng.random_range(0.1..1.0)).collect())
            .unwrap();
    let t: Vec<usize> = (0..100).map(|_| rng.random_range(0..10)).collect();
    let before = net.clone();
    net.gradient(&x, &t).unwrap();
    let grads = net.gradients();
    Sgd { lr: 0.5 }.update(&mut net);
    for (name, moved, start, gradient) in [
        ("W1", &net.affine1.W, &before.affine1.W, &grads.W1),
        ("W2", &net.affine2.W, &before.affine2.W, &grads.W2),
    ] {
        let expected = start - &(gradient * 0.5);
        let worst = moved
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-15, "{name}: off by up to {worst}");
    }
}
