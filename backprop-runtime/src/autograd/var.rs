//! `Var`, the node of the tape, and the backward pass over it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use ndarray::{Array, ArrayD, Dimension};

use super::Float;
use super::error::TapeError;

/// Turns the gradient of an operation's output into the gradients of its inputs.
///
/// Arguments: the input values (in the order the operation took them), the output value and the
/// gradient flowing into the output. Returns one gradient per input, each of that input's shape.
type BackwardFn<T> =
    Box<dyn Fn(&[&ArrayD<T>], &ArrayD<T>, &ArrayD<T>) -> Result<Vec<ArrayD<T>>, TapeError>>;

/// A value on the tape: an array, its gradient once `backward` has run, and how it was made.
///
/// Cloning is cheap (it clones an `Rc`), and every clone is the same node: a gradient stored by
/// `backward` is visible through all of them.
///
/// * [`Var::leaf`] makes a value that receives a gradient (a parameter or an input you want
///   the derivative for); [`Var::constant`] makes one that does not.
/// * Operations (`add`, `matmul`, `relu`, ...) return new values that remember their inputs and
///   how to differentiate. A result depends only on values made before it, so the graph has no
///   cycles and is freed as soon as the last handle to its result is dropped.
/// * A result whose inputs all are constants is itself a constant and remembers nothing.
///
/// ```
/// use backprop::autograd::Var;
/// use backprop::ndarray::arr1;
///
/// let x = Var::leaf(arr1(&[1.0, 2.0, 3.0]));
/// let y = x.mul(&x)?.sum(); // y = Σ x², dy/dx = 2x
/// y.backward()?;
/// assert_eq!(y.item()?, 14.0);
/// assert_eq!(x.grad().unwrap(), arr1(&[2.0, 4.0, 6.0]).into_dyn());
/// # Ok::<(), backprop::autograd::TapeError>(())
/// ```
pub struct Var<T: Float> {
    pub(super) node: Rc<Node<T>>,
}

/// The shared state behind every clone of one `Var`.
pub(super) struct Node<T: Float> {
    value: ArrayD<T>,
    grad: RefCell<Option<ArrayD<T>>>,
    requires_grad: bool,
    op: Option<&'static str>,
    /// Inputs and derivative, kept only when some input requires a gradient.
    origin: Option<Origin<T>>,
}

struct Origin<T: Float> {
    inputs: Vec<Var<T>>,
    backward: BackwardFn<T>,
}

impl<T: Float> Drop for Node<T> {
    /// Unlinks the graph with a loop: the default recursive drop would overflow the stack on a
    /// long chain (each node owning the previous one).
    fn drop(&mut self) {
        let mut orphans: Vec<Var<T>> = self.origin.take().map(|o| o.inputs).unwrap_or_default();
        while let Some(var) = orphans.pop() {
            if let Some(mut node) = Rc::into_inner(var.node)
                && let Some(origin) = node.origin.take()
            {
                orphans.extend(origin.inputs);
            }
        }
    }
}

impl<T: Float> Clone for Var<T> {
    fn clone(&self) -> Self {
        Var {
            node: Rc::clone(&self.node),
        }
    }
}

impl<T: Float> fmt::Debug for Var<T> {
    /// Shows this node only: printing the inputs would walk the whole graph.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Var")
            .field("op", &self.op().unwrap_or("leaf"))
            .field("shape", &self.shape())
            .field("requires_grad", &self.requires_grad())
            .field("value", &self.node.value)
            .field("grad", &self.node.grad.borrow())
            .finish()
    }
}

impl<T: Float> Var<T> {
    /// A leaf that requires a gradient: `backward` accumulates into its [`grad`](Var::grad).
    ///
    /// Takes an array of any dimension (`arr0` for a scalar, `Array1`, `Array2`, ...).
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// let w = Var::leaf(ndarray::Array2::<f64>::zeros((3, 2)));
    /// assert!(w.requires_grad() && w.is_leaf());
    /// ```
    pub fn leaf<D: Dimension>(value: Array<T, D>) -> Self {
        Self::new_leaf(value.into_dyn(), true)
    }

    /// A leaf that never gets a gradient (data, targets, fixed coefficients).
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// let x = Var::constant(backprop::ndarray::arr1(&[1.0_f64, 2.0]));
    /// assert!(!x.requires_grad());
    /// ```
    pub fn constant<D: Dimension>(value: Array<T, D>) -> Self {
        Self::new_leaf(value.into_dyn(), false)
    }

    /// A 0-dimensional leaf that requires a gradient; short for `Var::leaf(arr0(value))`.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// assert_eq!(Var::scalar(2.5_f64).item(), Ok(2.5));
    /// ```
    pub fn scalar(value: T) -> Self {
        Self::leaf(ndarray::arr0(value))
    }

    fn new_leaf(value: ArrayD<T>, requires_grad: bool) -> Self {
        Var {
            node: Rc::new(Node {
                value,
                grad: RefCell::new(None),
                requires_grad,
                op: None,
                origin: None,
            }),
        }
    }

    /// The result of operation `op`; the inputs and `backward` are kept only if a gradient can
    /// flow through them, so constant sub-expressions hold nothing alive.
    fn from_op(
        op: &'static str,
        value: ArrayD<T>,
        inputs: Vec<Var<T>>,
        backward: BackwardFn<T>,
    ) -> Self {
        let requires_grad = inputs.iter().any(Var::requires_grad);
        let origin = requires_grad.then(|| Origin { inputs, backward });
        Var {
            node: Rc::new(Node {
                value,
                grad: RefCell::new(None),
                requires_grad,
                op: Some(op),
                origin,
            }),
        }
    }

    /// The result of a one-input operation. `backward(x, y, dy)` gets the input, the output
    /// and the output's gradient, and returns the input's gradient.
    pub(super) fn unary(
        &self,
        op: &'static str,
        value: ArrayD<T>,
        backward: impl Fn(&ArrayD<T>, &ArrayD<T>, &ArrayD<T>) -> ArrayD<T> + 'static,
    ) -> Self {
        let derivative: BackwardFn<T> =
            Box::new(move |inputs, output, grad| Ok(vec![backward(inputs[0], output, grad)]));
        Var::from_op(op, value, vec![self.clone()], derivative)
    }

    /// The result of a two-input operation `self ∘ other`. `backward(a, b, dy)` gets both
    /// inputs and the output's gradient, and returns the gradients of `a` and `b`.
    pub(super) fn binary(
        &self,
        op: &'static str,
        other: &Var<T>,
        value: ArrayD<T>,
        backward: impl Fn(&ArrayD<T>, &ArrayD<T>, &ArrayD<T>) -> Result<[ArrayD<T>; 2], TapeError>
        + 'static,
    ) -> Self {
        let derivative: BackwardFn<T> = Box::new(move |inputs, _output, grad| {
            Ok(Vec::from(backward(inputs[0], inputs[1], grad)?))
        });
        Var::from_op(op, value, vec![self.clone(), other.clone()], derivative)
    }

    /// The array this value holds.
    pub fn value(&self) -> &ArrayD<T> {
        &self.node.value
    }

    /// The shape of [`value`](Var::value).
    pub fn shape(&self) -> &[usize] {
        self.node.value.shape()
    }

    /// The single element of a value with exactly one element (a loss, say).
    ///
    /// # Errors
    /// [`TapeError::NotAScalar`] when the value has more than one element, or none.
    pub fn item(&self) -> Result<T, TapeError> {
        match self.node.value.iter().next() {
            Some(&x) if self.node.value.len() == 1 => Ok(x),
            _ => Err(TapeError::NotAScalar {
                shape: self.shape().to_vec(),
            }),
        }
    }

    /// The gradient of the last differentiated result with respect to this value, if any.
    ///
    /// For a leaf it is the sum over every `backward` since the last
    /// [`zero_grad`](Var::zero_grad); for an intermediate value it is the gradient of the most
    /// recent backward pass through it. `None` before any backward pass reached it, and always
    /// for constants.
    pub fn grad(&self) -> Option<ArrayD<T>> {
        self.node.grad.borrow().clone()
    }

    /// Forgets the stored gradient, so the next `backward` starts from zero.
    pub fn zero_grad(&self) {
        self.node.grad.replace(None);
    }

    /// Whether a gradient flows into this value: true for [`Var::leaf`], false for
    /// [`Var::constant`], and for results true when any input requires a gradient.
    pub fn requires_grad(&self) -> bool {
        self.node.requires_grad
    }

    /// Whether the user made this value (with `leaf`, `constant` or `scalar`) rather than an
    /// operation.
    pub fn is_leaf(&self) -> bool {
        self.node.op.is_none()
    }

    /// The name of the operation that produced this value (`"matmul"`, `"relu"`, ...), or
    /// `None` for a leaf.
    pub fn op(&self) -> Option<&'static str> {
        self.node.op
    }

    /// Differentiates this single-element result with respect to every value it depends on,
    /// storing the gradients in their [`grad`](Var::grad).
    ///
    /// # Errors
    /// [`TapeError::NonScalarBackward`] if the value has more than one element (use
    /// [`backward_with`](Var::backward_with)); [`TapeError::NoGradientPath`] if no leaf it
    /// depends on requires a gradient.
    pub fn backward(&self) -> Result<(), TapeError> {
        if self.node.value.len() != 1 {
            return Err(TapeError::NonScalarBackward {
                shape: self.shape().to_vec(),
            });
        }
        self.propagate(ArrayD::ones(self.node.value.raw_dim()))
    }

    /// Like [`backward`](Var::backward) for a value of any shape, starting from `seed`, the
    /// gradient of some downstream scalar with respect to this value.
    ///
    /// ```
    /// use backprop::autograd::Var;
    /// use backprop::ndarray::arr1;
    ///
    /// let x = Var::leaf(arr1(&[1.0, 2.0]));
    /// let y = x.scale(3.0);
    /// y.backward_with(arr1(&[1.0, 10.0]))?;
    /// assert_eq!(x.grad().unwrap(), arr1(&[3.0, 30.0]).into_dyn());
    /// # Ok::<(), backprop::autograd::TapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`TapeError::SeedShape`] if `seed` does not have this value's shape;
    /// [`TapeError::NoGradientPath`] as for `backward`.
    pub fn backward_with<D: Dimension>(&self, seed: Array<T, D>) -> Result<(), TapeError> {
        if seed.shape() != self.shape() {
            return Err(TapeError::SeedShape {
                expected: self.shape().to_vec(),
                found: seed.shape().to_vec(),
            });
        }
        self.propagate(seed.into_dyn())
    }

    /// One sweep in reverse topological order: each node's gradient is complete (all its
    /// consumers have contributed) before it is passed on to its inputs.
    fn propagate(&self, seed: ArrayD<T>) -> Result<(), TapeError> {
        if !self.requires_grad() {
            return Err(TapeError::NoGradientPath);
        }
        let mut pending: HashMap<*const Node<T>, ArrayD<T>> = HashMap::new();
        pending.insert(Rc::as_ptr(&self.node), seed);
        for var in self.reverse_topological_order() {
            let Some(grad) = pending.remove(&Rc::as_ptr(&var.node)) else {
                continue;
            };
            if let Some(origin) = &var.node.origin {
                let input_values: Vec<&ArrayD<T>> =
                    origin.inputs.iter().map(|input| input.value()).collect();
                let input_grads = (origin.backward)(&input_values, var.value(), &grad)?;
                for (input, input_grad) in origin.inputs.iter().zip(input_grads) {
                    if input.requires_grad() {
                        pending
                            .entry(Rc::as_ptr(&input.node))
                            .and_modify(|sum| add_into(sum, &input_grad))
                            .or_insert(input_grad);
                    }
                }
            }
            var.store_grad(grad);
        }
        Ok(())
    }

    /// Leaves accumulate across passes (as parameters do between `zero_grad` calls); an
    /// intermediate value keeps only this pass's gradient, which was already passed on.
    fn store_grad(&self, grad: ArrayD<T>) {
        let mut slot = self.node.grad.borrow_mut();
        match slot.as_mut() {
            Some(sum) if self.is_leaf() => add_into(sum, &grad),
            _ => *slot = Some(grad),
        }
    }

    /// Every node that requires a gradient and that this one depends on, consumers before
    /// their inputs. Iterative depth-first search, so a long chain cannot overflow the stack.
    fn reverse_topological_order(&self) -> Vec<Var<T>> {
        let mut finished = Vec::new();
        let mut visited = std::collections::HashSet::new();
        // `true` marks a node whose inputs have all been pushed above it: when it surfaces
        // again, everything it depends on is finished.
        let mut stack = vec![(self.clone(), false)];
        while let Some((var, inputs_done)) = stack.pop() {
            if inputs_done {
                finished.push(var);
                continue;
            }
            if !visited.insert(Rc::as_ptr(&var.node)) {
                continue;
            }
            let inputs = var
                .node
                .origin
                .as_ref()
                .map(|origin| origin.inputs.clone())
                .unwrap_or_default();
            stack.push((var, true));
            stack.extend(
                inputs
                    .into_iter()
                    .filter(|input| input.requires_grad())
                    .map(|input| (input, false)),
            );
        }
        finished.reverse();
        finished
    }
}

/// `sum += addend` for two arrays of the same shape.
fn add_into<T: Float>(sum: &mut ArrayD<T>, addend: &ArrayD<T>) {
    sum.zip_mut_with(addend, |s, &a| *s += a);
}
