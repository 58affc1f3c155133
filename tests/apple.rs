//! The book's apple-shopping graph (sections 5.3–5.4) gives the book's numbers.

#[path = "../examples/apple.rs"]
mod apple;

#[test]
fn apple_shopping_matches_the_book() {
    let s = apple::shop(100.0, 2.0, 150.0, 3.0, 1.1);
    let expected = [
        (s.price, 715.0),
        (s.d_apple, 2.2),
        (s.d_apple_num, 110.0),
        (s.d_orange, 3.3),
        (s.d_orange_num, 165.0),
        (s.d_tax, 650.0),
    ];
    for (found, book) in expected {
        assert!(
            (found - book).abs() < 1e-9,
            "found {found}, the book prints {book}"
        );
    }
}
