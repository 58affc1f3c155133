//! The `network!` macro's messages are part of the product: each file in `tests/ui/`
//! makes one mistake, and its `.stderr` beside it is the message a user sees, reviewed
//! by eye. The pass cases show that correct declarations compile, warning-free, into
//! the API the documentation promises.
//!
//! After changing a message: `TRYBUILD=overwrite cargo test --test ui`, then read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
