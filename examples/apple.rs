//! The book's sections 5.3–5.4: buying 2 apples and 3 oranges with 10 % tax, as a
//! computational graph of `MulLayer` and `AddLayer` nodes, forward then backward.
//!
//! Run with `cargo run --example apple`.

use backprop::layers::{AddLayer, MulLayer};

/// The price and the derivative of the price with respect to every input.
#[derive(Debug, PartialEq)]
pub struct Shopping {
    pub price: f64,
    pub d_apple: f64,
    pub d_apple_num: f64,
    pub d_orange: f64,
    pub d_orange_num: f64,
    pub d_tax: f64,
}

pub fn shop(apple: f64, apple_num: f64, orange: f64, orange_num: f64, tax: f64) -> Shopping {
    let mut mul_apple = MulLayer::new();
    let mut mul_orange = MulLayer::new();
    let add_fruits = AddLayer;
    let mut mul_tax = MulLayer::new();

    let apple_price = mul_apple.forward(apple, apple_num);
    let orange_price = mul_orange.forward(orange, orange_num);
    let all_price = add_fruits.forward(apple_price, orange_price);
    let price = mul_tax.forward(all_price, tax);

    let (d_all_price, d_tax) = mul_tax.backward(1.0);
    let (d_apple_price, d_orange_price) = add_fruits.backward(d_all_price);
    let (d_orange, d_orange_num) = mul_orange.backward(d_orange_price);
    let (d_apple, d_apple_num) = mul_apple.backward(d_apple_price);
    Shopping {
        price,
        d_apple,
        d_apple_num,
        d_orange,
        d_orange_num,
        d_tax,
    }
}

#[allow(dead_code)] // the integration test includes this file for `shop` alone
fn main() {
    let s = shop(100.0, 2.0, 150.0, 3.0, 1.1);
    println!("price: {}", s.price.round());
    println!(
        "d(apple): {:.1}, d(apple_num): {}, d(orange): {:.1}, d(orange_num): {}, d(tax): {}",
        s.d_apple,
        s.d_apple_num.round(),
        s.d_orange,
        s.d_orange_num.round(),
        s.d_tax.round()
    );
}
