//! Draw a digit in a browser and watch a trained network read it.
//!
//! ```sh
//! cargo run --release --example simple_convnet -- --data DIR --save convnet.safetensors
//! cargo run --release --example digits -- --model convnet.safetensors --net convnet
//! ```
//!
//! serves a page on 127.0.0.1 with a canvas: the page turns the strokes into a 28×28
//! image as MNIST was made and asks `POST /predict` for the ten probabilities.

#[path = "../common/book_nets.rs"]
mod book_nets;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use backprop::model_file;
use book_nets::{SimpleConvNet, TwoLayerNet};
use clap::{Parser, ValueEnum};

/// Serve a page where a person draws a digit and a trained network reads it.
#[derive(Parser, Debug)]
struct Args {
    /// The trained model: a model file saved by `--save` of the MNIST examples.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Which network the model file holds (a model file holds weights, not the
    /// architecture).
    #[arg(long, value_enum, default_value_t = Net::Dense)]
    net: Net,
    /// The port on 127.0.0.1; 0 takes any free one.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Threads answering requests [default: every core].
    #[arg(long)]
    threads: Option<usize>,
}

/// The networks a model file can be for.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Net {
    /// `examples/mnist`'s 784-50-10 network.
    Dense,
    /// `examples/simple_convnet`'s SimpleConvNet.
    Convnet,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let Some(path) = &args.model else {
        return Err(
            "no --model given. Train and save one first, then serve it:\n  \
             cargo run --release --example mnist -- --save mnist.safetensors\n  \
             cargo run --release --example digits -- --model mnist.safetensors\n\
             or, reading better:\n  \
             cargo run --release --example simple_convnet -- --save convnet.safetensors\n  \
             cargo run --release --example digits -- --model convnet.safetensors --net convnet"
                .into(),
        );
    };
    let threads = match args.threads {
        Some(0) => return Err("--threads 0: expected at least one thread".into()),
        Some(threads) => threads,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut rng = backprop::rand::rng();
    let wrong_net = |e: model_file::ModelFileError| {
        format!("{e}\n(is it a model of the other network? --net dense or --net convnet)")
    };
    match args.net {
        Net::Dense => {
            let mut net = TwoLayerNet::<f32>::new(&mut rng);
            model_file::load(&mut net, path).map_err(wrong_net)?;
            server::serve(&net, "784-50-10", path, args.port, threads)
        }
        Net::Convnet => {
            let mut net = SimpleConvNet::<f32>::new(&mut rng);
            model_file::load(&mut net, path).map_err(wrong_net)?;
            server::serve(&net, "SimpleConvNet", path, args.port, threads)
        }
    }
}
