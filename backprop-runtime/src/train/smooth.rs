//! The book's `smooth_curve` (`common/util.py`), for loss plots.

/// The book's smoothing of a loss curve: a Kaiser window of 11 points with β = 2,
/// normalised to sum 1, over the series extended by reflecting 10 samples at each end,
/// in "valid" mode, with 5 points trimmed from each end, so that the output is as long
/// as the input. A series of fewer than 11 points is returned as it is (the reflection
/// needs 10 on each side).
///
/// ```
/// use backprop::train::smooth_curve;
/// let flat = vec![2.0; 30];
/// assert!(smooth_curve(&flat).iter().all(|v| (v - 2.0).abs() < 1e-12));
/// assert_eq!(smooth_curve(&flat).len(), 30);
/// ```
pub fn smooth_curve(values: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 11;
    let n = values.len();
    if n < WINDOW {
        return values.to_vec();
    }
    let weights = kaiser(WINDOW, 2.0);
    let total: f64 = weights.iter().sum();
    // NumPy's x[window_len-1:0:-1], x, x[-1:-window_len:-1].
    let mut extended: Vec<f64> = (1..WINDOW).rev().map(|i| values[i]).collect();
    extended.extend_from_slice(values);
    extended.extend((n - WINDOW + 1..n).rev().map(|i| values[i]));
    let valid: Vec<f64> = extended
        .windows(WINDOW)
        .map(|w| w.iter().zip(&weights).map(|(v, k)| v * k).sum::<f64>() / total)
        .collect();
    valid[5..valid.len() - 5].to_vec()
}

/// NumPy's `kaiser(m, beta)`: `I0(β·√(1 − (2n/(m−1) − 1)²)) / I0(β)`.
fn kaiser(m: usize, beta: f64) -> Vec<f64> {
    let last = (m - 1) as f64;
    (0..m)
        .map(|n| {
            let r = 2.0 * n as f64 / last - 1.0;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

/// The modified Bessel function of the first kind, order 0, by its power series
/// (converges fast for the small arguments of a window).
fn bessel_i0(x: f64) -> f64 {
    let (mut term, mut sum, q) = (1.0, 1.0, x * x / 4.0);
    for k in 1..50 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kaiser_window_matches_numpy() {
        // numpy.kaiser(11, 2): symmetric, 1 in the middle.
        let expected = [0.43867628, 0.61139435, 0.767675, 0.89216143, 0.9723298, 1.0];
        let window = kaiser(11, 2.0);
        for (i, e) in expected.iter().enumerate() {
            assert!((window[i] - e).abs() < 1e-8, "{i}: {} vs {e}", window[i]);
            assert!((window[10 - i] - e).abs() < 1e-8);
        }
    }

    #[test]
    fn a_curve_smooths_as_the_books_code_smooths_it() {
        // The book's smooth_curve of x^1.5 for x = 0..40, as NumPy computes it.
        let curve: Vec<f64> = (0..40).map(|i| f64::from(i).powf(1.5)).collect();
        let smooth = smooth_curve(&curve);
        for (i, expected) in [
            (0, 4.131856944838187),
            (3, 7.2898438931825185),
            (20, 90.08991956592936),
            (39, 226.31048208907228),
        ] {
            assert!(
                (smooth[i] - expected).abs() < 1e-10,
                "{i}: {} vs {expected}",
                smooth[i]
            );
        }
    }

    #[test]
    fn a_line_stays_a_line_away_from_the_ends() {
        let line: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let smooth = smooth_curve(&line);
        assert_eq!(smooth.len(), 40);
        // The window is symmetric: a line comes out unchanged where no reflection reaches.
        for (i, v) in smooth.iter().enumerate().take(30).skip(10) {
            assert!((v - i as f64).abs() < 1e-9, "{i}: {v}");
        }
    }
}
