//! Tells the trainer whether this crate is compiled without optimisation, so that a
//! program built so can learn it at once rather than after minutes of waiting.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(backprop_unoptimised)");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=backprop_unoptimised");
    }
}
