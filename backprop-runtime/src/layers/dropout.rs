use ndarray::{ArrayView2, Zip};

use super::{Context, Init, Layer, Mode};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float};

/// The arguments of a `Dropout` declaration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutConfig {
    /// The share of units dropped in training, in [0, 1) (the book's default 0.5).
    pub ratio: f64,
    /// PyTorch's form: kept units scaled by `1 / (1 − ratio)` in training, and
    /// inference the identity. The book's (and the default) scales nothing in training
    /// and multiplies by `1 − ratio` in inference: the same expectation, other numbers.
    pub inverted: bool,
}

impl Default for DropoutConfig {
    fn default() -> Self {
        DropoutConfig {
            ratio: 0.5,
            inverted: false,
        }
    }
}

/// Dropout (the book's `Dropout`): in training, each value is kept where a fresh draw
/// `u ∈ [0, 1)` exceeds `ratio` and zeroed elsewhere; in inference every value is
/// multiplied by `1 − ratio`. `backward` multiplies by the last mask.
///
/// The draws come from the training step's [`Context`], so a run's Dropout has its own
/// random stream, and a mask can be reproduced by giving the same generator again.
/// With `inverted = true` it is PyTorch's form (see [`DropoutConfig::inverted`]).
///
/// ```
/// use backprop::layers::{Context, Dropout, DropoutConfig, Layer};
/// use backprop::ndarray::Array2;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(7);
/// let mut dropout = Dropout::<f64, 1000>::with_config(DropoutConfig::default());
/// let x = Array2::ones((1, 1000));
/// let kept = dropout.forward(x.view(), &mut Context::training(&mut rng)).sum();
/// assert!((400.0..600.0).contains(&kept), "about half are kept: {kept}");
/// let mut scratch = Default::default();
/// assert_eq!(dropout.infer(x.view(), &mut scratch).sum(), 500.0);
/// ```
#[derive(Clone, Debug)]
pub struct Dropout<T, const N: usize> {
    config: DropoutConfig,
    /// What the last forward multiplied each value by: 0 or the kept units' scale.
    mask: Buffer<T>,
    draws: Vec<u8>,
    out: Buffer<T>,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> Dropout<T, N> {
    /// A layer with this configuration.
    pub fn with_config(config: DropoutConfig) -> Self {
        Dropout {
            config,
            mask: Buffer::new(),
            draws: Vec::new(),
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }

    /// What a kept unit is multiplied by in training.
    fn kept_scale(&self) -> T {
        if self.config.inverted {
            T::one() / T::from_f64(1.0 - self.config.ratio)
        } else {
            T::one()
        }
    }

    /// What every unit is multiplied by in inference.
    fn inference_scale(&self) -> T {
        if self.config.inverted {
            T::one()
        } else {
            T::from_f64(1.0 - self.config.ratio)
        }
    }
}

impl<T: Float, const N: usize> Layer<T> for Dropout<T, N> {
    type Config = DropoutConfig;
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 0;

    fn new(config: DropoutConfig, _: &mut Init<'_>) -> Self {
        Self::with_config(config)
    }

    fn describe(config: &DropoutConfig) -> String {
        match config.inverted {
            false => format!("Dropout({})", config.ratio),
            true => format!("Dropout({}, inverted = true)", config.ratio),
        }
    }

    /// A fresh mask in training mode; in evaluation mode, inference's scaling.
    fn forward(&mut self, x: ArrayView2<'_, T>, context: &mut Context<'_>) -> ArrayView2<'_, T> {
        let (rows, cols) = x.dim();
        let (kept, inference) = (self.kept_scale(), self.inference_scale());
        let mut mask = self.mask.prepare(rows, cols);
        match context.mode() {
            Mode::Train => {
                // One call for the whole batch: four bytes a draw, `u = bits / 2³²`.
                self.draws.resize(rows * cols * 4, 0);
                context.rng().fill_bytes(&mut self.draws);
                let threshold = self.config.ratio * 4_294_967_296.0;
                let draws = self.draws.chunks_exact(4);
                for (m, bytes) in mask.iter_mut().zip(draws) {
                    let bits = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    *m = if f64::from(bits) > threshold {
                        kept
                    } else {
                        T::zero()
                    };
                }
            }
            Mode::Eval => mask.fill(inference),
        }
        Zip::from(self.out.prepare(rows, cols))
            .and(&x)
            .and(&self.mask.view())
            .for_each(|y, &x, &m| *y = x * m);
        self.out.view()
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        let scale = self.inference_scale();
        let (rows, cols) = x.dim();
        Zip::from(out.prepare(rows, cols))
            .and(&x)
            .for_each(|y, &x| *y = x * scale);
        out.view()
    }

    /// `dout` times the last mask.
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let (rows, cols) = dout.dim();
        Zip::from(self.dx.prepare(rows, cols))
            .and(&dout)
            .and(&self.mask.view())
            .for_each(|dx, &d, &m| *dx = d * m);
        self.dx.view()
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    /// Inference's scale as a `Mul` by a scalar constant in the book's form; nothing in
    /// the inverted form, whose inference is the identity.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        if self.config.inverted {
            return x;
        }
        let scale = ndarray::arr0(self.inference_scale()).into_dyn();
        let scale = graph.constant("scale", scale.view());
        graph.node("Mul", &[&x.name, &scale], vec![], x.shape)
    }

    /// `x` times the mask of the last `forward`, a constant.
    fn tape(&self, x: &Var<T>, _: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        x.mul(&Var::constant(self.mask.view().to_owned()))
    }
}
