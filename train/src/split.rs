//! Seeded, stratified train/test split and k-fold assignment.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn shuffled_by_class(labels: &[bool], seed: u64) -> [Vec<usize>; 2] {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut neg: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    let mut pos: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
    neg.shuffle(&mut rng);
    pos.shuffle(&mut rng);
    [neg, pos]
}

/// Splits row indices into (train, test) keeping the class balance; each
/// class contributes `round(n_class * test_fraction)` rows (at least one
/// each way when the class has two or more rows). Both outputs are sorted.
pub fn stratified_split(
    labels: &[bool],
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in shuffled_by_class(labels, seed) {
        let n = class.len();
        let mut k = (n as f64 * test_fraction).round() as usize;
        if n >= 2 {
            k = k.clamp(1, n - 1);
        }
        test.extend_from_slice(&class[..k.min(n)]);
        train.extend_from_slice(&class[k.min(n)..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Assigns rows to `k` stratified folds; returns each fold's sorted rows.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let k = k.max(2);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for class in shuffled_by_class(labels, seed) {
        for i in class {
            folds[next % k].push(i);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds
}

/// All rows not in `fold`.
pub fn complement(n: usize, fold: &[usize]) -> Vec<usize> {
    let mut mark = vec![false; n];
    for &i in fold {
        mark[i] = true;
    }
    (0..n).filter(|&i| !mark[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let labels: Vec<bool> = (0..1000).map(|i| i % 10 < 3).collect();
        let (tr, te) = stratified_split(&labels, 0.3, 7);
        assert_eq!(tr.len() + te.len(), 1000);
        assert_eq!(te.len(), 300);
        assert_eq!(te.iter().filter(|&&i| labels[i]).count(), 90);
        assert!(tr.iter().all(|i| te.binary_search(i).is_err()));
        assert_eq!(stratified_split(&labels, 0.3, 7), (tr.clone(), te.clone()));
        assert_ne!(stratified_split(&labels, 0.3, 8).1, te);
    }

    #[test]
    fn folds_cover_everything_once_with_balance() {
        let labels: Vec<bool> = (0..103).map(|i| i % 4 == 0).collect();
        let folds = stratified_folds(&labels, 5, 1);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for f in &folds {
            let pos = f.iter().filter(|&&i| labels[i]).count();
            assert!((5..=6).contains(&pos), "{pos}");
        }
        assert_eq!(complement(103, &folds[0]).len(), 103 - folds[0].len());
    }
}
