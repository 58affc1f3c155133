//! Reusable storage for a layer's activations and gradients.

use ndarray::{ArrayView2, ArrayViewMut2};

/// A row-major matrix buffer that keeps its allocation across batches.
///
/// Layers keep their outputs and input gradients here: it grows when a larger batch
/// arrives and is reused otherwise, so a warm training step allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Buffer<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
}

impl<T: Copy + Default> Buffer<T> {
    /// An empty buffer; it allocates on first use.
    pub const fn new() -> Self {
        Self {
            data: Vec::new(),
            rows: 0,
            cols: 0,
        }
    }

    /// Sets the shape to `rows × cols`, growing the storage only if it is too small.
    /// The contents are unspecified afterwards: callers overwrite every element.
    pub fn reshape(&mut self, rows: usize, cols: usize) {
        let len = rows * cols;
        if self.data.len() < len {
            self.data.resize(len, T::default());
        }
        self.rows = rows;
        self.cols = cols;
    }

    /// The current shape as `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The matrix as a view.
    pub fn view(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape((self.rows, self.cols), &self.data[..self.rows * self.cols])
            .expect("a buffer always holds rows × cols elements")
    }

    /// The matrix as a mutable view.
    pub fn view_mut(&mut self) -> ArrayViewMut2<'_, T> {
        let len = self.rows * self.cols;
        ArrayViewMut2::from_shape((self.rows, self.cols), &mut self.data[..len])
            .expect("a buffer always holds rows × cols elements")
    }

    /// The values, row-major, to be overwritten.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let len = self.rows * self.cols;
        &mut self.data[..len]
    }

    /// Reshapes, then returns the matrix as a mutable view to be overwritten.
    pub fn prepare(&mut self, rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
        self.reshape(rows, cols);
        self.view_mut()
    }
}
