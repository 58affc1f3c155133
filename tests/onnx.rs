//! ONNX export, checked by real engines: ONNX's own checker, onnxruntime (in Python)
//! and tract (in Rust) must give the scores `predict` gives, for every kind of network
//! the tests declare.
//!
//! The engine tests need a Python with `onnx` and `onnxruntime` (`tests/onnx/
//! requirements.txt`), named by `BACKPROP_ONNX_PYTHON`; `.ci/run` makes one. The
//! tests of what is refused run everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use backprop::data::load_mnist;
use backprop::export::Output;
use backprop::model_file::Overwrite;
use backprop::onnx::{self, OnnxError};
use backprop::optim::Adam;
use backprop::prelude::*;
use backprop::rand::SeedableRng;
use backprop::rand::rngs::StdRng;
use backprop::train::Trainer;
use rand_distr::{Distribution, StandardNormal, Uniform};

#[path = "../examples/common/book_nets.rs"]
mod book_nets;

use book_nets::{DeepConvNet, SimpleConvNet};

const HIDDEN: usize = 12;

network! {
    struct Dense { Affine(20, 30) -> Relu -> Affine(30, 7) -> SoftmaxWithLoss }

    struct Normalised { Affine(20, 16) -> BatchNorm -> Relu -> Affine(16, 5) -> SoftmaxWithLoss }

    struct Dropped {
        Affine(20, 16) -> Relu -> Dropout(0.3) -> Affine(16, 9)
            -> Dropout(0.5, inverted = true) -> SoftmaxWithLoss
    }

    struct Squashed { Affine(20, 16) -> Sigmoid -> Affine(16, 8) -> Tanh -> Affine(8, 4) -> SoftmaxWithLoss }

    struct Constants { Affine(20, HIDDEN) -> Relu -> Affine(HIDDEN, 3) -> SoftmaxWithLoss }

    /// Every image layer at once: a strided, padded convolution, BatchNorm and Dropout
    /// on C × H × W activations, an overlapping pool.
    struct ConvMix(3, 9, 9) {
        Convolution(4, 3, 3, stride = 2, pad = 1) -> BatchNorm -> Tanh
            -> Pooling(2, 2, stride = 1) -> Dropout(0.25) -> Affine(_, 6) -> SoftmaxWithLoss
    }
}

/// `net` with random parameters and running statistics (variances positive), so that
/// no layer is the identity by accident.
fn randomised<T: Float, N: Network<T>>(mut net: N, rng: &mut StdRng) -> N {
    net.visit_parameters_mut(&mut |mut p| {
        for v in p.value.iter_mut() {
            let draw: f64 = StandardNormal.sample(&mut *rng);
            *v = T::from_f64(0.5 * draw);
        }
    });
    net.visit_state_mut(&mut |name, mut tensor| {
        let positive = name.contains("var");
        for v in tensor.iter_mut() {
            let draw: f64 = Uniform::new(-1.0, 1.0).unwrap().sample(&mut *rng);
            *v = T::from_f64(if positive { 0.1 + draw.abs() } else { draw });
        }
    });
    net
}

fn random_rows<T: Float, const N: usize>(rows: usize, rng: &mut StdRng) -> Batch<T, N> {
    let values = (0..rows * N)
        .map(|_| T::from_f64(StandardNormal.sample(&mut *rng)))
        .collect::<Vec<_>>();
    Batch::from_vec(values).unwrap()
}

fn little_endian<T: Float>(values: &[T]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for &v in values {
        if size_of::<T>() == 4 {
            bytes.extend((v.as_f64() as f32).to_le_bytes());
        } else {
            bytes.extend(v.as_f64().to_le_bytes());
        }
    }
    bytes
}

fn from_little_endian<T: Float>(bytes: &[u8]) -> Vec<T> {
    if size_of::<T>() == 4 {
        let values = bytes.chunks_exact(4);
        values
            .map(|b| T::from_f64(f32::from_le_bytes(b.try_into().unwrap()) as f64))
            .collect()
    } else {
        let values = bytes.chunks_exact(8);
        values
            .map(|b| T::from_f64(f64::from_le_bytes(b.try_into().unwrap())))
            .collect()
    }
}

/// One model to run: what the engines must give back for its input.
struct Case {
    name: String,
    model: PathBuf,
    input: Vec<f64>,
    input_shape: Vec<usize>,
    output_path: PathBuf,
    expected: Vec<f64>,
    tolerance: f64,
}

impl Case {
    /// Whether `got` is within the tolerance of the largest expected magnitude.
    fn compare(&self, engine: &str, got: &[f64]) {
        assert_eq!(
            got.len(),
            self.expected.len(),
            "{} in {engine}: output size",
            self.name
        );
        let scale = self.expected.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(&self.expected)
            .map(|(g, e)| (g - e).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= self.tolerance * scale,
            "{}: {engine} differs from predict by {worst:e}, more than {:e} of the largest score {scale:e}",
            self.name,
            self.tolerance
        );
    }

    /// The f32 model run by tract.
    fn run_in_tract(&self) -> Vec<f64> {
        use tract_onnx::prelude::*;
        let datum = f32::datum_type();
        let plan = tract_onnx::onnx()
            .model_for_path(&self.model)
            .and_then(|model| {
                model.with_input_fact(0, InferenceFact::dt_shape(datum, &self.input_shape))
            })
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .unwrap_or_else(|e| panic!("{}: tract cannot load the model: {e:?}", self.name));
        let shape = tract_ndarray::IxDyn(&self.input_shape);
        let values = self.input.iter().map(|&v| v as f32).collect();
        let input: Tensor = tract_ndarray::ArrayD::from_shape_vec(shape, values)
            .unwrap()
            .into();
        let outputs = plan
            .run(tvec!(input.into()))
            .unwrap_or_else(|e| panic!("{}: tract cannot run the model: {e:?}", self.name));
        let output = outputs[0].cast_to::<f64>().unwrap();
        output.as_slice::<f64>().unwrap().to_vec()
    }
}

/// Models exported into one folder and run by one Python process.
struct Engines {
    dir: tempfile::TempDir,
    manifest: String,
    cases: Vec<Case>,
}

impl Engines {
    fn new() -> Self {
        Engines {
            dir: tempfile::tempdir().unwrap(),
            manifest: String::new(),
            cases: Vec::new(),
        }
    }

    /// Exports `net` and records what the engines must compute on `x`: the scores of
    /// `predict` or its probabilities, within `tolerance` of the largest magnitude.
    fn add<T: Float, N: Network<T>, const IN: usize>(
        &mut self,
        name: &str,
        net: &N,
        x: &Batch<T, IN>,
        output: Output,
        tolerance: f64,
    ) {
        let mut scratch = N::Scratch::default();
        let scores = net.infer(x.as_array().view(), &mut scratch);
        let expected: Vec<f64> = match output {
            Output::Scores => scores.iter().map(|v| v.as_f64()).collect(),
            Output::Probabilities => {
                let mut expected = Vec::new();
                for row in scores.rows() {
                    let max = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.as_f64()));
                    let exp: Vec<f64> = row.iter().map(|v| (v.as_f64() - max).exp()).collect();
                    let sum: f64 = exp.iter().sum();
                    expected.extend(exp.iter().map(|e| e / sum));
                }
                expected
            }
        };
        let model = self.dir.path().join(format!("{name}.onnx"));
        onnx::save(net, &model, output, Overwrite::Never).unwrap();
        let (input, output_path) = (
            self.dir.path().join(format!("{name}.in")),
            self.dir.path().join(format!("{name}.out")),
        );
        std::fs::write(&input, little_endian(x.as_slice())).unwrap();
        let dtype = if size_of::<T>() == 4 { "f32" } else { "f64" };
        let mut input_shape = vec![x.rows()];
        input_shape.extend(net.summary().input_shape);
        let shape: Vec<String> = input_shape.iter().map(usize::to_string).collect();
        self.manifest += &format!(
            "{} {} {} {dtype} {}\n",
            model.display(),
            input.display(),
            output_path.display(),
            shape.join(" ")
        );
        self.cases.push(Case {
            name: name.into(),
            model,
            input: x.as_slice().iter().map(|v| v.as_f64()).collect(),
            input_shape,
            output_path,
            expected,
            tolerance,
        });
    }

    /// Runs every model in the checker, onnxruntime and tract, compares, and returns
    /// what onnxruntime computed, model by model.
    fn check<T: Float>(self) -> Vec<Vec<T>> {
        let manifest = self.dir.path().join("manifest");
        std::fs::write(&manifest, &self.manifest).unwrap();
        run_python(&manifest);
        let mut outputs = Vec::new();
        for case in &self.cases {
            let got = from_little_endian::<T>(&std::fs::read(&case.output_path).unwrap());
            case.compare(
                "onnxruntime",
                &got.iter().map(|v| v.as_f64()).collect::<Vec<_>>(),
            );
            // tract 0.22 cannot load an f64 Gemm (its import makes Gemm's β an f32
            // constant and multiplies it with f64): it checks the f32 models.
            if size_of::<T>() == 4 {
                case.compare("tract", &case.run_in_tract());
            }
            outputs.push(got);
        }
        outputs
    }
}

fn run_python(manifest: &Path) {
    let python = std::env::var_os("BACKPROP_ONNX_PYTHON").expect(
        "BACKPROP_ONNX_PYTHON must name a Python with onnx and onnxruntime (.ci/run makes one)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/onnx/run_models.py");
    let run = Command::new(&python)
        .arg(&script)
        .arg(manifest)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", Path::new(&python).display()));
    assert!(
        run.status.success(),
        "the ONNX checker or onnxruntime refused a model:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&run.stdout));
}

/// Every dense kind of network, with random parameters, on the same random rows.
fn add_dense_networks<T: Float>(engines: &mut Engines, rng: &mut StdRng, tolerance: f64) {
    let x = random_rows::<T, 20>(6, rng);
    let dense = randomised(Dense::<T>::new(rng), rng);
    engines.add("dense", &dense, &x, Output::Scores, tolerance);
    let probabilities = Output::Probabilities;
    engines.add("dense_probabilities", &dense, &x, probabilities, tolerance);
    let normalised = randomised(Normalised::<T>::new(rng), rng);
    engines.add("batch_norm", &normalised, &x, Output::Scores, tolerance);
    let dropped = randomised(Dropped::<T>::new(rng), rng);
    engines.add("dropout", &dropped, &x, Output::Scores, tolerance);
    let squashed = randomised(Squashed::<T>::new(rng), rng);
    engines.add("sigmoid_tanh", &squashed, &x, Output::Scores, tolerance);
    let constants = randomised(Constants::<T>::new(rng), rng);
    engines.add("named_constants", &constants, &x, Output::Scores, tolerance);
}

#[test]
#[ignore = "needs onnx and onnxruntime: run with BACKPROP_ONNX_PYTHON=<python with both> and --ignored (.ci/run does)"]
fn dense_networks_in_f64_run_in_onnxruntime_as_in_backprop() {
    let mut engines = Engines::new();
    add_dense_networks::<f64>(&mut engines, &mut StdRng::seed_from_u64(1), 1e-12);
    let _ = engines.check::<f64>();
}

/// The convolutional nets are checked in f32 only: onnxruntime has no f64 `Conv`
/// ("NOT_IMPLEMENTED: Could not find an implementation for Conv(11)").
#[test]
#[ignore = "needs onnx and onnxruntime: run with BACKPROP_ONNX_PYTHON=<python with both> and --ignored (.ci/run does)"]
fn every_network_in_f32_runs_in_onnxruntime_as_in_backprop() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut engines = Engines::new();
    add_dense_networks::<f32>(&mut engines, &mut rng, 1e-5);
    let mix = randomised(ConvMix::<f32>::new(&mut rng), &mut rng);
    let images = random_rows::<f32, 243>(5, &mut rng);
    engines.add("conv_mix", &mix, &images, Output::Scores, 1e-5);
    engines.add(
        "conv_mix_probabilities",
        &mix,
        &images,
        Output::Probabilities,
        1e-5,
    );
    // The book's nets with their own initialisation: random weights of 0.5 would
    // saturate every score of the deep one.
    let digits = random_rows::<f32, 784>(4, &mut rng);
    let simple = SimpleConvNet::<f32>::with_weight_init(WeightInit::He, &mut rng);
    engines.add("simple_convnet", &simple, &digits, Output::Scores, 1e-5);
    let deep = DeepConvNet::<f32>::new(&mut rng);
    engines.add("deep_convnet", &deep, &digits, Output::Scores, 1e-5);
    let _ = engines.check::<f32>();
}

#[test]
#[ignore = "needs MNIST and onnxruntime: run with MNIST_DIR=<folder with the four IDX files>, BACKPROP_ONNX_PYTHON=<python with onnx and onnxruntime> and --ignored"]
fn a_trained_networks_test_accuracy_in_onnxruntime_is_backprops() {
    let dir =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let mnist = load_mnist(&dir).unwrap();
    let mut net = SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(0));
    let mut adam = Adam::<f32>::default();
    let outcome = Trainer::new()
        .iterations(300)
        .evaluation_samples(100)
        .seed(6)
        .fit(&mut net, &mut adam, &mnist.train, &mnist.test.first(100))
        .unwrap();
    assert_eq!(outcome.steps_done, 300);
    let printed = net.evaluate(&mnist.test).unwrap().accuracy;
    assert!(printed > 0.9, "300 steps should pass 90 %: {printed}");

    let mut x = vec![0.0_f32; mnist.test.len() * 784];
    let mut labels = vec![0; mnist.test.len()];
    mnist
        .test
        .range_into(0..mnist.test.len(), &mut x, &mut labels)
        .unwrap();
    let x = Batch::<f32, 784>::from_vec(x).unwrap();
    let mut engines = Engines::new();
    engines.add("mnist", &net, &x, Output::Scores, 1e-5);
    let scores = engines.check::<f32>().remove(0);
    let right = scores
        .chunks_exact(10)
        .zip(&labels)
        .filter(|(row, label)| {
            let best = (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            best == **label
        })
        .count();
    assert_eq!(right as f64 / labels.len() as f64, printed);
}

#[test]
fn a_graph_is_the_layers_operators_in_order_with_the_books_names() {
    let net = SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(3));
    let graph = net.export(Output::Probabilities);
    let ops: Vec<&str> = graph.nodes().iter().map(|node| node.op).collect();
    assert_eq!(
        ops,
        [
            "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"
        ]
    );
    let constants: Vec<(&str, &[usize])> = graph
        .constants()
        .iter()
        .map(|c| (c.name.as_str(), c.dims.as_slice()))
        .collect();
    assert_eq!(
        constants,
        [
            ("W1", &[30, 1, 5, 5][..]),
            ("b1", &[30][..]),
            ("W2", &[4320, 100][..]),
            ("b2", &[100][..]),
            ("W3", &[100, 10][..]),
            ("b3", &[10][..]),
        ]
    );
    assert_eq!(graph.input().shape, [1, 28, 28]);
    let output = graph.output().unwrap();
    assert_eq!(
        (output.name.as_str(), &output.shape[..]),
        ("probabilities", &[10][..])
    );
    assert_eq!(graph.nodes().last().unwrap().output, "probabilities");
    // Each node reads what the one before it wrote.
    for pair in graph.nodes().windows(2) {
        assert_eq!(pair[1].inputs[0], pair[0].output);
    }
}

#[test]
fn a_network_with_a_value_that_is_not_finite_is_refused_naming_the_tensor() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = Normalised::<f64>::new(&mut rng);
    net.visit_state_mut(&mut |name, mut tensor| {
        if name.contains("var") {
            tensor[[3]] = f64::INFINITY;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    let error = onnx::save(&net, &path, Output::Scores, Overwrite::Never).unwrap_err();
    assert!(
        matches!(&error, OnnxError::NotFinite { name, value } if name.contains("var") && value.is_infinite()),
        "{error:?}"
    );
    assert!(error.to_string().contains("not a finite number"), "{error}");
    assert!(!path.exists(), "nothing is written");
}

#[test]
fn an_existing_file_is_replaced_only_when_allowed() {
    let mut rng = StdRng::seed_from_u64(5);
    let (first, second) = (Dense::<f32>::new(&mut rng), Dense::<f32>::new(&mut rng));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    std::fs::write(&path, b"the user's notes").unwrap();
    let error = onnx::save(&first, &path, Output::Scores, Overwrite::Never).unwrap_err();
    assert!(matches!(error, OnnxError::Exists { .. }), "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), b"the user's notes");
    onnx::save(&first, &path, Output::Scores, Overwrite::Allowed).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(written, onnx::to_bytes(&first, Output::Scores).unwrap());
    // Saving the same model again is no replacement; another one is.
    onnx::save(&first, &path, Output::Scores, Overwrite::Never).unwrap();
    let error = onnx::save(&second, &path, Output::Scores, Overwrite::Never).unwrap_err();
    assert!(matches!(error, OnnxError::Exists { .. }), "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), written);
}
