//! The book's apple-shopping graph (sections 5.3–5.4) gives the book's numbers, with
//! the `MulLayer`/`AddLayer` nodes and on the autograd tape alike.

#[path = "../examples/apple.rs"]
mod apple;
#[path = "../examples/apple_tape.rs"]
mod apple_tape;

const BOOK: [f64; 6] = [715.0, 2.2, 110.0, 3.3, 165.0, 650.0];

#[test]
fn apple_shopping_matches_the_book() {
    let s = apple::shop(100.0, 2.0, 150.0, 3.0, 1.1);
    let found = [
        s.price,
        s.d_apple,
        s.d_apple_num,
        s.d_orange,
        s.d_orange_num,
        s.d_tax,
    ];
    for (found, book) in found.into_iter().zip(BOOK) {
        assert!(
            (found - book).abs() < 1e-9,
            "found {found}, the book prints {book}"
        );
    }
}

#[test]
fn the_tape_gives_the_same_derivatives_as_the_layers() {
    let s = apple::shop(100.0, 2.0, 150.0, 3.0, 1.1);
    let layers = [
        s.price,
        s.d_apple,
        s.d_apple_num,
        s.d_orange,
        s.d_orange_num,
        s.d_tax,
    ];
    let (price, gradients) = apple_tape::shop_on_tape(100.0, 2.0, 150.0, 3.0, 1.1).unwrap();
    let tape = [
        price,
        gradients[0],
        gradients[1],
        gradients[2],
        gradients[3],
        gradients[4],
    ];
    for ((tape, layers), book) in tape.into_iter().zip(with_layers()).zip(BOOK) {
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
