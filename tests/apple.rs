//! The book's apple-shopping graph (sections 5.3–5.4) gives the book's numbers, with
//! the `MulLayer`/`AddLayer` nodes and on the autograd tape alike.

#[path = "../examples/apple.rs"]
mod apple;
#[path = "../examples/apple_tape.rs"]
mod apple_tape;

/// The price, then d(apple), d(apple_num), d(orange), d(orange_num), d(tax).
const BOOK: [f64; 6] = [715.0, 2.2, 110.0, 3.3, 165.0, 650.0];

/// The same six figures from the `MulLayer`/`AddLayer` graph.
fn with_layers() -> [f64; 6] {
    let s = apple::shop(100.0, 2.0, 150.0, 3.0, 1.1);
    [
        s.price,
        s.d_apple,
        s.d_apple_num,
        s.d_orange,
        s.d_orange_num,
        s.d_tax,
    ]
}

/// The same six figures from the autograd tape.
fn on_tape() -> [f64; 6] {
    let (price, [a, b, c, d, e]) = apple_tape::shop_on_tape(100.0, 2.0, 150.0, 3.0, 1.1).unwrap();
    [price, a, b, c, d, e]
}

#[test]
fn apple_shopping_matches_the_book() {
    for (found, book) in with_layers().into_iter().zip(BOOK) {
        assert!(
            (found - book).abs() < 1e-9,
            "found {found}, the book prints {book}"
        );
    }
}

#[test]
fn the_tape_gives_the_same_derivatives_as_the_layers() {
    for ((tape, layers), book) in on_tape().into_iter().zip(with_layers()).zip(BOOK) {
        assert!(
            (tape - layers).abs() < 1e-12,
            "tape {tape} vs layers {layers}"
        );
        assert!(
            (tape - book).abs() < 1e-9,
            "tape {tape}, the book prints {book}"
        );
    }
}
