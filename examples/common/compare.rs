//! Several trainings of the book's 784-[100×4]-10 ReLU network side by side, each with
//! its own optimizer and initialisation, all on the same MNIST batches: the
//! experiments of the book's sections 6.1.8 and 6.2.4.

use backprop::data::{self, MiniBatch, Mnist, Sampler, SamplingMode};
use backprop::layers::Context;
use backprop::optim::Optimizer;
use backprop::prelude::*;
use backprop::train::{Streams, smooth_curve};
use plotters::coord::Shift;
use plotters::prelude::*;

network! {
    /// The book's MultiLayerNet with four hidden layers of 100.
    pub struct DeepNet(784) {
        Affine(_, 100) -> Relu -> Affine(100, 100) -> Relu -> Affine(100, 100) -> Relu
            -> Affine(100, 100) -> Relu -> Affine(100, 10) -> SoftmaxWithLoss
    }
}

/// One training: its name, optimizer, network and losses so far.
pub struct Run {
    pub name: String,
    pub optimizer: Box<dyn Optimizer<f32>>,
    pub net: DeepNet<f32>,
    pub losses: Vec<f64>,
}

impl Run {
    /// A run whose network starts as `init` draws it from the seed's stream.
    pub fn new(
        name: &str,
        optimizer: Box<dyn Optimizer<f32>>,
        init: WeightInit,
        streams: Streams,
        iters: usize,
    ) -> Self {
        Run {
            name: name.to_owned(),
            optimizer,
            net: DeepNet::with_weight_init(init, &mut streams.initialisation()),
            losses: Vec::with_capacity(iters),
        }
    }
}

/// Trains every run on the same batches, printing the losses every 100 steps, then
/// each run's smoothed final loss and test accuracy.
pub fn train_side_by_side(
    runs: &mut [Run],
    mnist: &Mnist,
    iters: usize,
    batch_size: usize,
    streams: Streams,
) -> backprop::Result<()> {
    let mut sampler = Sampler::new(mnist.train.len(), batch_size, SamplingMode::WithReplacement)?;
    let mut batch = MiniBatch::<f32, 784>::new();
    let header: Vec<String> = runs.iter().map(|run| format!("{:>10}", run.name)).collect();
    println!("iteration {}", header.join(" "));
    for step in 0..iters {
        batch.fill(
            &mnist.train,
            sampler.next_batch(&mut streams.sampling(step)),
        )?;
        for run in runs.iter_mut() {
            let mut masks = streams.dropout(step);
            let mut context = Context::training(&mut masks);
            let loss = run
                .net
                .gradient_with(&batch.x, batch.targets(), &mut context, 0.0)?;
            run.optimizer.update(&mut run.net);
            run.losses.push(loss.as_f64());
        }
        if step % 100 == 0 {
            let cells: Vec<String> = runs
                .iter()
                .map(|run| format!("{:>10.4}", run.losses[step]))
                .collect();
            println!("{step:>9} {}", cells.join(" "));
        }
    }
    for run in runs.iter() {
        println!(
            "{:>10}: smoothed loss at the end {:.4}, test accuracy {:.4}",
            run.name,
            smooth_curve(&run.losses)
                .last()
                .copied()
                .unwrap_or(f64::NAN),
            data::evaluate(&run.net, &mnist.test)?.accuracy
        );
    }
    Ok(())
}

/// The runs' loss curves, smoothed as the book's `smooth_curve`.
pub struct Curves<'a> {
    pub title: &'a str,
    pub runs: &'a [Run],
}

impl crate::figure::Figure for Curves<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let steps = self.runs.first().map_or(1, |run| run.losses.len().max(1));
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..steps as f64, 0.0..2.5)?;
        chart
            .configure_mesh()
            .x_desc("iterations")
            .y_desc("loss (smoothed as the book's smooth_curve)")
            .draw()?;
        let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
        for (run, color) in self.runs.iter().zip(colors) {
            let smooth = smooth_curve(&run.losses);
            let line = smooth
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64, l.min(2.5)));
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))?
                .label(run.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}
