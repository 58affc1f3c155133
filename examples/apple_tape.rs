//! The book's shopping graph (§5.4) on the autograd tape: 2 apples at 100 and 3 oranges at
//! 150 with 10% tax. Prints the price and the derivative of the price with respect to each
//! input, which the book works out by hand with MulLayer and AddLayer.
//!
//! Run with `cargo run --example apple_tape`.

use backprop::autograd::{TapeError, Var};

/// The price and its derivative with respect to each input, in the order
/// apple, apple_num, orange, orange_num, tax.
pub fn shop_on_tape(
    apple: f64,
    apple_num: f64,
    orange: f64,
    orange_num: f64,
    tax: f64,
) -> Result<(f64, [f64; 5]), TapeError> {
    let inputs = [apple, apple_num, orange, orange_num, tax].map(Var::scalar);
    let [apple, apple_num, orange, orange_num, tax] = &inputs;

    let apple_price = apple.mul(apple_num)?;
    let orange_price = orange.mul(orange_num)?;
    let all_price = apple_price.add(&orange_price)?;
    let price = all_price.mul(tax)?;
    price.backward()?;

    let gradient = |var: &Var<f64>| {
        var.grad()
            .and_then(|g| g.first().copied())
            .unwrap_or(f64::NAN)
    };
    Ok((price.item()?, inputs.each_ref().map(gradient)))
}

#[allow(dead_code)] // the integration test includes this file for `shop_on_tape` alone
fn main() -> Result<(), TapeError> {
    let (price, gradients) = shop_on_tape(100.0, 2.0, 150.0, 3.0, 1.1)?;
    println!("price: {price:.1}"); // 715
    let names = ["apple", "apple_num", "orange", "orange_num", "tax"];
    for (name, value) in names.iter().zip(gradients) {
        println!("d price / d {name}: {value:.1}"); // 2.2, 110, 3.3, 165, 650
    }
    Ok(())
}
