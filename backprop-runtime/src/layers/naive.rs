use crate::Float;

/// The multiplication node of the book's section 5.4: `out = x · y`.
///
/// ```
/// use backprop::layers::MulLayer;
///
/// let mut mul = MulLayer::new();
/// assert_eq!(mul.forward(100.0, 2.0), 200.0);
/// assert_eq!(mul.backward(1.0), (2.0, 100.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MulLayer<T> {
    x: T,
    y: T,
}

impl<T: Float> MulLayer<T> {
    /// A node that has not seen an input yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `x · y`, remembering both factors for `backward`.
    pub fn forward(&mut self, x: T, y: T) -> T {
        self.x = x;
        self.y = y;
        x * y
    }

    /// `(dout · y, dout · x)`: each input's gradient is the other input, swapped.
    pub fn backward(&self, dout: T) -> (T, T) {
        (dout * self.y, dout * self.x)
    }
}

/// The addition node of the book's section 5.4: `out = x + y`.
///
/// ```
/// use backprop::layers::AddLayer;
///
/// let add = AddLayer;
/// assert_eq!(add.forward(1.0, 2.0), 3.0);
/// assert_eq!(add.backward(1.5), (1.5, 1.5));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AddLayer;

impl AddLayer {
    /// `x + y`; nothing needs remembering.
    pub fn forward<T: Float>(&self, x: T, y: T) -> T {
        x + y
    }

    /// `(dout, dout)`: addition passes the gradient through unchanged.
    pub fn backward<T: Float>(&self, dout: T) -> (T, T) {
        (dout, dout)
    }
}
