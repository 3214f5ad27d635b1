//! Binary-classification metrics computed from probabilities and labels.
//! The trainer stores these figures in the model file after scoring the test
//! split through this same runtime, and the browser recomputes them from a
//! labelled CSV with the same code.

/// One point of the ROC curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    pub fpr: f32,
    pub tpr: f32,
    /// Scores `>= threshold` are called positive at this point.
    pub threshold: f32,
}

/// Counts at the decision threshold; "positive" is the model's positive class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confusion {
    pub tn: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tp: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub rows: u64,
    pub positives: u64,
    pub threshold: f32,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub roc_auc: f64,
    pub ks: f64,
    pub brier: f64,
    pub log_loss: f64,
    pub confusion: Confusion,
    /// At most [`MAX_ROC_POINTS`] points from (0,0) to (1,1).
    pub roc: Vec<RocPoint>,
}

/// Upper bound on stored ROC points (enough for a smooth plot).
pub const MAX_ROC_POINTS: usize = 201;

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Computes all metrics. `probs` and `labels` have the same length; `true`
/// marks the positive class. Returns `None` when fewer than one row of each
/// class is present (AUC and KS are undefined then).
pub fn compute(probs: &[f32], labels: &[bool], threshold: f32) -> Option<Metrics> {
    let n = probs.len().min(labels.len());
    let pos = labels[..n].iter().filter(|&&y| y).count() as u64;
    let neg = n as u64 - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut c = Confusion::default();
    let mut brier = 0.0f64;
    let mut ll = 0.0f64;
    const EPS: f64 = 1e-15;
    for (&p, &y) in probs[..n].iter().zip(&labels[..n]) {
        let called = p >= threshold;
        match (y, called) {
            (true, true) => c.tp += 1,
            (true, false) => c.fn_ += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
        }
        let pf = p as f64;
        let t = if y { 1.0 } else { 0.0 };
        brier += (pf - t) * (pf - t);
        let pc = pf.clamp(EPS, 1.0 - EPS);
        ll -= if y { pc.ln() } else { (1.0 - pc).ln() };
    }
    let precision = ratio(c.tp, c.tp + c.fp);
    let recall = ratio(c.tp, c.tp + c.fn_);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };

    // ROC: sort by score descending, walk distinct scores.
    let keys: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
    let order = crate::num::order_desc(&keys);
    let mut roc = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: f32::INFINITY,
    }];
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut auc = 0.0f64;
    let mut ks = 0.0f64;
    let mut i = 0;
    while i < n {
        let s = probs[order[i]];
        let (tp0, fp0) = (tp, fp);
        while i < n && probs[order[i]].total_cmp(&s).is_eq() {
            if labels[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        // Trapezoid: ties count one half, as the Mann-Whitney statistic does.
        auc += (fp - fp0) as f64 * (tp + tp0) as f64 / 2.0;
        let tpr = tp as f64 / pos as f64;
        let fpr = fp as f64 / neg as f64;
        ks = ks.max(tpr - fpr);
        roc.push(RocPoint {
            fpr: fpr as f32,
            tpr: tpr as f32,
            threshold: s,
        });
    }
    auc /= pos as f64 * neg as f64;

    Some(Metrics {
        rows: n as u64,
        positives: pos,
        threshold,
        accuracy: ratio(c.tp + c.tn, n as u64),
        precision,
        recall,
        f1,
        roc_auc: auc,
        ks,
        brier: brier / n as f64,
        log_loss: ll / n as f64,
        confusion: c,
        roc: thin_roc(roc),
    })
}

/// Keeps at most `MAX_ROC_POINTS`, always the first and last, evenly by index.
fn thin_roc(roc: Vec<RocPoint>) -> Vec<RocPoint> {
    if roc.len() <= MAX_ROC_POINTS {
        return roc;
    }
    let last = roc.len() - 1;
    (0..MAX_ROC_POINTS)
        .filter_map(|k| roc.get(k * last / (MAX_ROC_POINTS - 1)).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AUC by counting all positive/negative pairs: an independent definition.
    fn pairwise_auc(p: &[f32], y: &[bool]) -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for i in 0..p.len() {
            for j in 0..p.len() {
                if y[i] && !y[j] {
                    den += 1.0;
                    if p[i] > p[j] {
                        num += 1.0
                    } else if p[i] == p[j] {
                        num += 0.5
                    }
                }
            }
        }
        num / den
    }

    #[test]
    fn auc_matches_pair_count_with_ties() {
        let p = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.1, 0.65];
        let y = [false, false, true, true, true, true, false, false];
        let m = compute(&p, &y, 0.5).unwrap();
        assert!((m.roc_auc - pairwise_auc(&p, &y)).abs() < 1e-12);
        let first = m.roc[0];
        let last = m.roc[m.roc.len() - 1];
        assert_eq!((first.fpr, first.tpr), (0.0, 0.0));
        assert_eq!((last.fpr, last.tpr), (1.0, 1.0));
    }

    #[test]
    fn confusion_and_rates() {
        let p = [0.9, 0.8, 0.3, 0.6, 0.1];
        let y = [true, false, true, false, false];
        let m = compute(&p, &y, 0.5).unwrap();
        assert_eq!(
            m.confusion,
            Confusion {
                tp: 1,
                fp: 2,
                fn_: 1,
                tn: 1
            }
        );
        assert!((m.accuracy - 0.4).abs() < 1e-12);
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 0.5).abs() < 1e-12);
        let brier = (0.01 + 0.64 + 0.49 + 0.36 + 0.01) / 5.0;
        assert!((m.brier - brier).abs() < 1e-7);
        // KS: max over thresholds of TPR - FPR; at 0.9: 0.5 - 0 = 0.5.
        assert!((m.ks - 0.5).abs() < 1e-12);
    }

    #[test]
    fn one_class_is_none() {
        assert!(compute(&[0.2, 0.3], &[true, true], 0.5).is_none());
    }

    #[test]
    fn roc_is_thinned_but_keeps_ends() {
        let n = 5000;
        let p: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        let y: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let m = compute(&p, &y, 0.5).unwrap();
        assert_eq!(m.roc.len(), MAX_ROC_POINTS);
        assert_eq!(m.roc[MAX_ROC_POINTS - 1].tpr, 1.0);
    }
}
