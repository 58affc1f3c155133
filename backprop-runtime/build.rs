//! Tells the trainer whether this crate is compiled without optimisation, so that a
//! program built so can learn it at once rather than after minutes of waiting.
//!
//! With the `onnx` feature, also generates the ONNX message types from the vendored
//! `proto/onnx.proto` (ONNX's own file, Apache-2.0) with protox, a protobuf compiler
//! written in Rust, so that building needs no `protoc` installed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(backprop_unoptimised)");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=backprop_unoptimised");
    }
    #[cfg(feature = "onnx")]
    onnx_messages();
}

#[cfg(feature = "onnx")]
fn onnx_messages() {
    const PROTO: &str = "proto/onnx.proto";
    println!("cargo::rerun-if-changed={PROTO}");
    let descriptors = match protox::compile([PROTO], ["proto"]) {
        Ok(descriptors) => descriptors,
        Err(error) => panic!("{PROTO} does not compile: {error}"),
    };
    if let Err(error) = prost_build::Config::new().compile_fds(descriptors) {
        panic!("generating the ONNX messages from {PROTO}: {error}");
    }
}
