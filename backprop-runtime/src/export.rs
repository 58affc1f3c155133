//! A network's inference graph in ONNX's terms: standard operators, their attributes and
//! the constant tensors they read, in plain Rust values.
//!
//! Each layer adds its own nodes ([`Layer::export`](crate::layers::Layer::export),
//! beside its forward pass), and the code `network!` writes chains them, so a new layer
//! brings its mapping with it. [`onnx`](crate::onnx) (feature `onnx`) encodes the graph
//! as an ONNX model file.
//!
//! Shapes here are of one sample: the batch axis is added when the graph is encoded.

use ndarray::ArrayViewD;

use crate::Float;

/// The names of the graph's input and of its possible outputs.
const RESERVED: [&str; 3] = ["input", "scores", "probabilities"];

/// A tensor flowing between nodes: its name in the graph and its shape for one sample
/// (`[C, H, W]`, or `[features]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// The name nodes refer to it by.
    pub name: String,
    /// The shape of one sample.
    pub shape: Vec<usize>,
}

impl Value {
    /// The number of values in one sample.
    pub fn width(&self) -> usize {
        self.shape.iter().product()
    }
}

/// An attribute of a node, as ONNX types them.
#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    /// One integer (`axis`, `transB`).
    Int(i64),
    /// A list of integers (`kernel_shape`, `strides`, `pads`).
    Ints(Vec<i64>),
}

/// One operator applied to named inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's own name: the layer's field, with a suffix when a layer adds several.
    pub name: String,
    /// The standard operator, as ONNX spells it: `Gemm`, `Conv`, `MaxPool`, `Relu`, ….
    pub op: &'static str,
    /// The names of the values and constants it reads, in the operator's order.
    pub inputs: Vec<String>,
    /// The name of the value it writes.
    pub output: String,
    /// Its attributes, by name.
    pub attributes: Vec<(&'static str, Attribute)>,
}

/// A constant tensor of the graph: a parameter by the book's name (`W1`), or a value a
/// layer derives from its state (BatchNorm's scale).
#[derive(Clone, Debug, PartialEq)]
pub struct Constant<T> {
    /// Its name in the graph.
    pub name: String,
    /// Its full shape (no batch axis: constants are not per sample).
    pub dims: Vec<usize>,
    /// Its values in row-major order.
    pub values: Vec<T>,
}

/// The graph a network's layers add their nodes to, in order.
///
/// A layer reads its input [`Value`], adds nodes with [`node`](Graph::node) and
/// constants with [`parameter`](Graph::parameter) or [`constant`](Graph::constant), and
/// returns the value its last node writes.
#[derive(Clone, Debug)]
pub struct Graph<T> {
    input: Value,
    output: Option<Value>,
    nodes: Vec<Node>,
    constants: Vec<Constant<T>>,
    /// The layer adding nodes now: its field, and the names its parameters take.
    layer: &'static str,
    parameter_names: std::slice::Iter<'static, &'static str>,
}

impl<T: Float> Graph<T> {
    /// An empty graph whose input, named `input`, has `shape` per sample.
    pub fn new(shape: &[usize]) -> Self {
        Graph {
            input: Value {
                name: "input".into(),
                shape: shape.to_vec(),
            },
            output: None,
            nodes: Vec::new(),
            constants: Vec::new(),
            layer: "",
            parameter_names: [].iter(),
        }
    }

    /// The graph's input.
    pub fn input(&self) -> Value {
        self.input.clone()
    }

    /// The graph's output, once [`finish`](Graph::finish) has named it.
    pub fn output(&self) -> Option<&Value> {
        self.output.as_ref()
    }

    /// The nodes, in the order they run.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The constant tensors the nodes read.
    pub fn constants(&self) -> &[Constant<T>] {
        &self.constants
    }

    /// Starts the nodes of the layer in field `field`, whose parameters take `names`
    /// in the order it adds them (`["W1", "b1"]`).
    pub fn begin_layer(&mut self, field: &'static str, names: &'static [&'static str]) {
        self.layer = field;
        self.parameter_names = names.iter();
    }

    /// Adds `op` reading `inputs` and returns its output, of shape `shape`. The node
    /// is named after the layer, with `op` appended if the layer already added one.
    pub fn node(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attributes: Vec<(&'static str, Attribute)>,
        shape: Vec<usize>,
    ) -> Value {
        // The graph's input and output names are kept for them: a field named
        // `input` or `scores` names its node `input.Gemm`.
        let taken = |name: &str| {
            RESERVED.contains(&name) || self.nodes.iter().any(|node| node.name == name)
        };
        let name = if taken(self.layer) {
            let mut name = format!("{}.{op}", self.layer);
            let mut suffix = 2;
            while taken(&name) {
                name = format!("{}.{op}{suffix}", self.layer);
                suffix += 1;
            }
            name
        } else {
            self.layer.to_owned()
        };
        self.nodes.push(Node {
            name: name.clone(),
            op,
            inputs: inputs.iter().map(|&input| input.to_owned()).collect(),
            output: name.clone(),
            attributes,
        });
        Value { name, shape }
    }

    /// Adds the layer's next parameter under the book's name and returns that name.
    ///
    /// # Panics
    /// If the layer adds more parameters than the network named: the layer's
    /// `export` disagrees with its `visit_parameters`, a bug in the layer.
    pub fn parameter(&mut self, tensor: ArrayViewD<'_, T>) -> String {
        let Some(&name) = self.parameter_names.next() else {
            panic!(
                "layer `{}` exports more parameters than it visits",
                self.layer
            )
        };
        self.push_constant(name.to_owned(), tensor);
        name.to_owned()
    }

    /// Adds a constant derived by the layer, named `<field>.<what>`, and returns
    /// that name.
    pub fn constant(&mut self, what: &str, tensor: ArrayViewD<'_, T>) -> String {
        let name = format!("{}.{what}", self.layer);
        self.push_constant(name.clone(), tensor);
        name
    }

    fn push_constant(&mut self, name: String, tensor: ArrayViewD<'_, T>) {
        self.constants.push(Constant {
            name,
            dims: tensor.shape().to_vec(),
            values: tensor.iter().copied().collect(),
        });
    }

    /// Makes `value` the graph's output, named `scores` or `probabilities` as `output`
    /// says. The node writing it writes that name instead; if no node writes it (every
    /// layer passed the input on), an `Identity` does.
    pub fn finish(&mut self, value: Value, output: Output) {
        let name = match output {
            Output::Scores => "scores",
            Output::Probabilities => "probabilities",
        };
        if self.nodes.iter().any(|node| node.output == value.name) {
            for node in &mut self.nodes {
                if node.output == value.name {
                    node.output = name.to_owned();
                }
                for input in &mut node.inputs {
                    if *input == value.name {
                        *input = name.to_owned();
                    }
                }
            }
        } else {
            self.layer = name;
            self.node("Identity", &[&value.name], vec![], value.shape.clone());
            if let Some(node) = self.nodes.last_mut() {
                node.output = name.to_owned();
            }
        }
        self.output = Some(Value {
            name: name.to_owned(),
            shape: value.shape,
        });
    }

    /// `x` as `[features]`: a `Flatten` node when it has several axes (C, H, W flatten
    /// in that order, as the layers see them), `x` itself otherwise.
    pub fn flat(&mut self, x: Value) -> Value {
        if x.shape.len() <= 1 {
            return x;
        }
        let width = x.width();
        self.node(
            "Flatten",
            &[&x.name],
            vec![("axis", Attribute::Int(1))],
            vec![width],
        )
    }
}

/// What an exported network outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// The scores, as [`predict`](crate::Network::infer) returns them (the default).
    #[default]
    Scores,
    /// The class probabilities, as `probabilities` returns them: a `Softmax` after the
    /// scores.
    Probabilities,
}
