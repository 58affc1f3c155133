use ndarray::{Array1, ArrayView2, Axis, Zip};

use super::{Context, Init, Layer, Mode, ParameterVisit, ParameterVisitMut, Role};
use crate::autograd::{TapeError, Var};
use crate::export::{Graph, Value};
use crate::{Buffer, Float};

/// The arguments of a `BatchNorm` declaration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// How much of the running statistics each training step keeps: `running ←
    /// momentum·running + (1 − momentum)·batch` (the book's 0.9).
    pub momentum: f64,
    /// Added to the variance under the square root (the book's `10e-7`, that is 1e-6).
    pub eps: f64,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            momentum: 0.9,
            eps: 1e-6,
        }
    }
}

/// Batch normalisation (the book's `BatchNormalization`), per feature: in training,
/// `x̂ = (x − μ) / √(σ² + ε)` with the batch's mean and biased variance, and
/// `out = γ·x̂ + β`; the running mean and variance (from zero) follow each batch's;
/// inference uses them instead. After a three-axis shape it normalises each of the
/// C·H·W activations, as the book (PyTorch's BatchNorm2d normalises per channel).
///
/// γ starts at 1 and β at 0; they are learned (roles scale and shift, never decayed).
/// The running statistics are persistent state, saved with the model.
///
/// ```
/// use backprop::layers::{BatchNorm, BatchNormConfig, Context, Layer};
/// use backprop::ndarray::array;
/// use backprop::rand::SeedableRng;
///
/// let mut rng = backprop::rand::rngs::StdRng::seed_from_u64(0);
/// let mut bn = BatchNorm::<f64, 1>::with_config(BatchNormConfig::default());
/// let x = array![[1.0], [3.0]];
/// let y = bn.forward(x.view(), &mut Context::training(&mut rng)).to_owned();
/// // Mean 2, variance 1: ±1 / √(1 + 1e-6).
/// assert!((y[[0, 0]] + 1.0).abs() < 1e-6 && (y[[1, 0]] - 1.0).abs() < 1e-6);
/// assert!((bn.running_mean[0] - 0.2).abs() < 1e-12); // 0.9·0 + 0.1·2
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm<T, const N: usize> {
    /// γ, the learned scale of each feature.
    pub gamma: Array1<T>,
    /// β, the learned shift of each feature.
    pub beta: Array1<T>,
    /// The gradient of γ, written by `backward`.
    pub dgamma: Array1<T>,
    /// The gradient of β, written by `backward`.
    pub dbeta: Array1<T>,
    /// The running mean of each feature, for inference.
    pub running_mean: Array1<T>,
    /// The running variance of each feature, for inference.
    pub running_var: Array1<T>,
    config: BatchNormConfig,
    /// Of the last forward: the standard deviation it divided by, per feature…
    std: Array1<T>,
    /// …the input less the mean, and the normalised input.
    xc: Buffer<T>,
    xn: Buffer<T>,
    /// Whether the last forward used the batch's statistics (training).
    batch_statistics: bool,
    out: Buffer<T>,
    dx: Buffer<T>,
}

impl<T: Float, const N: usize> BatchNorm<T, N> {
    /// γ = 1, β = 0, running statistics zero.
    pub fn with_config(config: BatchNormConfig) -> Self {
        BatchNorm {
            gamma: Array1::ones(N),
            beta: Array1::zeros(N),
            dgamma: Array1::zeros(N),
            dbeta: Array1::zeros(N),
            running_mean: Array1::zeros(N),
            running_var: Array1::zeros(N),
            config,
            std: Array1::zeros(N),
            xc: Buffer::new(),
            xn: Buffer::new(),
            batch_statistics: false,
            out: Buffer::new(),
            dx: Buffer::new(),
        }
    }
}

impl<T: Float, const N: usize> Layer<T> for BatchNorm<T, N> {
    type Config = BatchNormConfig;
    type Scratch = Buffer<T>;
    const PARAMETERS: usize = 2 * N;

    fn new(config: BatchNormConfig, _: &mut Init<'_>) -> Self {
        Self::with_config(config)
    }

    fn describe(config: &BatchNormConfig) -> String {
        if *config == BatchNormConfig::default() {
            format!("BatchNorm({N})")
        } else {
            format!(
                "BatchNorm({N}, momentum = {}, eps = {})",
                config.momentum, config.eps
            )
        }
    }

    /// Training: normalise with the batch's statistics and update the running ones.
    /// Evaluation mode: normalise with the running ones.
    fn forward(&mut self, x: ArrayView2<'_, T>, context: &mut Context<'_>) -> ArrayView2<'_, T> {
        let (rows, cols) = x.dim();
        let eps = T::from_f64(self.config.eps);
        let mut xc = self.xc.prepare(rows, cols);
        xc.assign(&x);
        self.batch_statistics = context.mode() == Mode::Train;
        if self.batch_statistics {
            let (keep, take) = (
                T::from_f64(self.config.momentum),
                T::from_f64(1.0 - self.config.momentum),
            );
            let count = T::from_f64(rows as f64);
            for (j, mut column) in xc.axis_iter_mut(Axis(1)).enumerate() {
                let mean = column.sum() / count;
                column.mapv_inplace(|v| v - mean);
                let var = column.fold(T::zero(), |acc, &v| acc + v * v) / count;
                self.std[j] = (var + eps).sqrt();
                self.running_mean[j] = keep * self.running_mean[j] + take * mean;
                self.running_var[j] = keep * self.running_var[j] + take * var;
            }
        } else {
            Zip::from(&mut self.std)
                .and(&self.running_var)
                .for_each(|s, &v| *s = (v + eps).sqrt());
            for mut row in xc.rows_mut() {
                row -= &self.running_mean;
            }
        }
        let mut xn = self.xn.prepare(rows, cols);
        for (mut xn, xc) in xn.rows_mut().into_iter().zip(self.xc.view().rows()) {
            Zip::from(&mut xn)
                .and(&xc)
                .and(&self.std)
                .for_each(|n, &c, &s| *n = c / s);
        }
        let mut out = self.out.prepare(rows, cols);
        for (mut y, xn) in out.rows_mut().into_iter().zip(self.xn.view().rows()) {
            Zip::from(&mut y)
                .and(&xn)
                .and(&self.gamma)
                .and(&self.beta)
                .for_each(|y, &n, &g, &b| *y = g * n + b);
        }
        self.out.view()
    }

    fn infer<'s>(&self, x: ArrayView2<'_, T>, out: &'s mut Buffer<T>) -> ArrayView2<'s, T> {
        let eps = T::from_f64(self.config.eps);
        let (rows, cols) = x.dim();
        let mut out_view = out.prepare(rows, cols);
        for (mut y, x) in out_view.rows_mut().into_iter().zip(x.rows()) {
            Zip::from(&mut y)
                .and(&x)
                .and(&self.running_mean)
                .and(&self.running_var)
                .for_each(|y, &x, &m, &v| *y = (x - m) / (v + eps).sqrt());
            Zip::from(&mut y)
                .and(&self.gamma)
                .and(&self.beta)
                .for_each(|y, &g, &b| *y = g * *y + b);
        }
        out.view()
    }

    /// The book's backward through the batch statistics (or, after an evaluation-mode
    /// forward, through the fixed running ones).
    fn backward(&mut self, _: ArrayView2<'_, T>, dout: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        let (rows, cols) = dout.dim();
        let count = T::from_f64(rows as f64);
        let (xc, xn) = (self.xc.view(), self.xn.view());
        let mut dx = self.dx.prepare(rows, cols);
        for j in 0..cols {
            let (dout, xc, xn) = (dout.column(j), xc.column(j), xn.column(j));
            let (gamma, std) = (self.gamma[j], self.std[j]);
            self.dbeta[j] = dout.sum();
            self.dgamma[j] = Zip::from(&xn)
                .and(&dout)
                .fold(T::zero(), |acc, &n, &d| acc + n * d);
            let mut dx = dx.column_mut(j);
            if !self.batch_statistics {
                Zip::from(&mut dx)
                    .and(&dout)
                    .for_each(|dx, &d| *dx = gamma * d / std);
                continue;
            }
            // dxn = γ·dout; dxc = dxn/σ; dvar = −Σ(dxn·xc)/σ³ / 2;
            // dxc += 2·xc·dvar/N; dx = dxc − Σdxc/N.
            let dstd = -Zip::from(&dout)
                .and(&xc)
                .fold(T::zero(), |acc, &d, &c| acc + gamma * d * c)
                / (std * std);
            let dvar = T::from_f64(0.5) * dstd / std;
            let two = T::from_f64(2.0);
            Zip::from(&mut dx)
                .and(&dout)
                .and(&xc)
                .for_each(|dx, &d, &c| *dx = gamma * d / std + two * c * dvar / count);
            let mean = dx.sum() / count;
            dx.mapv_inplace(|v| v - mean);
        }
        self.dx.view()
    }

    fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }

    fn visit_parameters(&self, visit: &mut ParameterVisit<'_, T>) {
        visit(
            Role::Scale,
            self.gamma.view().into_dyn(),
            self.dgamma.view().into_dyn(),
        );
        visit(
            Role::Shift,
            self.beta.view().into_dyn(),
            self.dbeta.view().into_dyn(),
        );
    }

    fn visit_parameters_mut(&mut self, visit: &mut ParameterVisitMut<'_, T>) {
        visit(
            Role::Scale,
            self.gamma.view_mut().into_dyn(),
            self.dgamma.view_mut().into_dyn(),
        );
        visit(
            Role::Shift,
            self.beta.view_mut().into_dyn(),
            self.dbeta.view_mut().into_dyn(),
        );
    }

    fn visit_state(&self, visit: &mut dyn FnMut(ndarray::ArrayViewD<'_, T>)) {
        visit(self.running_mean.view().into_dyn());
        visit(self.running_var.view().into_dyn());
    }

    fn visit_state_mut(&mut self, visit: &mut dyn FnMut(ndarray::ArrayViewMutD<'_, T>)) {
        visit(self.running_mean.view_mut().into_dyn());
        visit(self.running_var.view_mut().into_dyn());
    }

    /// Inference's transform `γ·(x − μ)/√(σ² + ε) + β` folded into `x·scale + shift`,
    /// two constants in the shape of one sample (C, H, W after a convolution).
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
        let eps = T::from_f64(self.config.eps);
        let scale = Zip::from(&self.gamma)
            .and(&self.running_var)
            .map_collect(|&g, &v| g / (v + eps).sqrt());
        let shift = Zip::from(&self.beta)
            .and(&self.running_mean)
            .and(&scale)
            .map_collect(|&b, &m, &s| b - m * s);
        let per_sample = |values: ndarray::Array1<T>| {
            values
                .into_shape_with_order(x.shape.clone())
                .expect("a BatchNorm's width is its input's")
        };
        let scale = graph.constant("scale", per_sample(scale).view());
        let shift = graph.constant("shift", per_sample(shift).view());
        let scaled = graph.node("Mul", &[&x.name, &scale], vec![], x.shape.clone());
        graph.node("Add", &[&scaled.name, &shift], vec![], x.shape)
    }

    /// The training form, with the batch's statistics: `γ·(x − μ)/√(σ² + ε) + β`.
    fn tape(&self, x: &Var<T>, leaves: &mut Vec<Var<T>>) -> Result<Var<T>, TapeError> {
        let (gamma, beta) = (Var::leaf(self.gamma.clone()), Var::leaf(self.beta.clone()));
        let xc = x.sub(&x.mean_axis(0)?)?;
        let var = xc.mul(&xc)?.mean_axis(0)?;
        let std = var
            .add(&Var::scalar(T::from_f64(self.config.eps)))?
            .powf(T::from_f64(0.5));
        let y = xc.div(&std)?.mul(&gamma)?.add(&beta)?;
        leaves.extend([gamma, beta]);
        Ok(y)
    }
}
