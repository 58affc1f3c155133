//! Suggestions for misspelt names.

/// The candidate closest to a misspelt name, if any is close enough to be a typo.
pub fn closest<'a>(unknown: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = unknown.to_lowercase();
    candidates
        .map(|known| (edit_distance(&lower, &known.to_lowercase()), known))
        .filter(|&(distance, known)| distance <= (known.len() / 3).max(2))
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYERS: [&str; 4] = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss"];

    #[test]
    fn suggestions_catch_typos_and_case_but_not_strangers() {
        let closest = |name| closest(name, LAYERS.into_iter());
        assert_eq!(closest("Relux"), Some("Relu"));
        assert_eq!(closest("relu"), Some("Relu"));
        assert_eq!(closest("Afine"), Some("Affine"));
        assert_eq!(closest("SoftmaxLoss"), Some("SoftmaxWithLoss"));
        assert_eq!(closest("Convolution"), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
