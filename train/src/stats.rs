//! Rank statistics the trainer reports (the runtime's `metrics` computes
//! the stored ones from f32 probabilities).

/// ROC AUC of `scores` for `labels` (Mann–Whitney with mid-ranks for ties);
/// `None` without both classes.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n1 = labels.iter().filter(|&&y| y).count();
    let n0 = labels.len() - n1;
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += idx[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * mid;
        i = j + 1;
    }
    let u = rank_sum - (n1 * (n1 + 1)) as f64 / 2.0;
    Some(u / (n1 as f64 * n0 as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_pair_counting() {
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2];
        let y = [false, true, false, true, false, true, true];
        let mut num = 0.0;
        let mut den = 0.0;
        for i in 0..s.len() {
            for j in 0..s.len() {
                if y[i] && !y[j] {
                    den += 1.0;
                    num += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        let a = auc(&s, &y).unwrap();
        assert!((a - num / den).abs() < 1e-12, "{a} vs {}", num / den);
        assert_eq!(auc(&s, &[true; 7]), None);
    }

    #[test]
    fn auc_counts_ties_as_half() {
        let s = [0.1, 0.4, 0.35, 0.8, 0.4];
        let y = [false, false, true, true, true];
        // Pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>both, 0.4>0.1, 0.4=0.4.
        assert!((auc(&s, &y).unwrap() - 4.5 / 6.0).abs() < 1e-12);
    }
}
