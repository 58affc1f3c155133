//! The book's shopping graph (§5.4) on the autograd tape: 2 apples at 100 and 3 oranges at
//! 150 with 10% tax. Prints the price and the derivative of the price with respect to each
//! input, which the book works out by hand with MulLayer and AddLayer.
//!
//! Run with `cargo run --example apple_tape`.

use backprop::autograd::{TapeError, Var};

fn main() -> Result<(), TapeError> {
    let apple = Var::scalar(100.0);
    let apple_num = Var::scalar(2.0);
    let orange = Var::scalar(150.0);
    let orange_num = Var::scalar(3.0);
    let tax = Var::scalar(1.1);

    let apple_price = apple.mul(&apple_num)?;
    let orange_price = orange.mul(&orange_num)?;
    let all_price = apple_price.add(&orange_price)?;
    let price = all_price.mul(&tax)?;

    price.backward()?;

    println!("price: {:.1}", price.item()?); // 715
    for (name, var) in [
        ("apple", &apple),           // 2.2
        ("apple_num", &apple_num),   // 110
        ("orange", &orange),         // 3.3
        ("orange_num", &orange_num), // 165
        ("tax", &tax),               // 650
    ] {
        let grad = var.grad().and_then(|g| g.first().copied());
        match grad {
            Some(value) => println!("d price / d {name}: {value:.1}"),
            None => println!("d price / d {name}: no gradient"),
        }
    }
    Ok(())
}
