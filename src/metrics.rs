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
    /// Calibration and precision figures; `None` for metrics read from
    /// files written before they were stored.
    pub extra: Option<Extra>,
}

/// One bin of the reliability curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Mean predicted probability of the bin's rows.
    pub mean_predicted: f64,
    /// Share of positives among them.
    pub observed: f64,
    pub rows: u64,
}

/// Figures computed with the metrics since format 3's report section.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    /// Expected calibration error over [`RELIABILITY_BINS`] equal-frequency
    /// bins: Σ (rows/n)·|mean predicted − observed|.
    pub ece: f64,
    /// The bins, lowest probabilities first.
    pub reliability: Vec<ReliabilityBin>,
    /// Average precision: Σ (recall_k − recall_{k−1})·precision_k over
    /// distinct thresholds, highest first.
    pub average_precision: f64,
}

/// Equal-frequency bins of the reliability curve and the ECE.
pub const RELIABILITY_BINS: usize = 10;

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
    let mut ap = 0.0f64;
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
        ap += (tp - tp0) as f64 / pos as f64 * (tp as f64 / (tp + fp) as f64);
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
        log_loss: log_loss(&probs[..n], &labels[..n]),
        confusion: c,
        roc: thin_roc(roc),
        extra: Some(Extra {
            ece: 0.0,
            reliability: reliability(probs, labels, &order),
            average_precision: ap,
        }),
    })
    .map(|mut m| {
        if let Some(e) = m.extra.as_mut() {
            e.ece = ece(&e.reliability, n as u64);
        }
        m
    })
}

/// Mean log-loss, probabilities clamped to [1e-15, 1 − 1e-15].
pub fn log_loss(probs: &[f32], labels: &[bool]) -> f64 {
    const EPS: f64 = 1e-15;
    let mut ll = 0.0f64;
    for (&p, &y) in probs.iter().zip(labels) {
        let pc = f64::from(p).clamp(EPS, 1.0 - EPS);
        ll -= if y { pc.ln() } else { (1.0 - pc).ln() };
    }
    ll / probs.len().min(labels.len()).max(1) as f64
}

/// [`RELIABILITY_BINS`] equal-frequency bins over the rows in ascending
/// probability (`order` is descending); bin k holds ranks
/// `k·n/B .. (k+1)·n/B`.
fn reliability(probs: &[f32], labels: &[bool], order: &[usize]) -> Vec<ReliabilityBin> {
    let n = order.len();
    let mut bins = Vec::with_capacity(RELIABILITY_BINS);
    for k in 0..RELIABILITY_BINS {
        let (lo, hi) = (k * n / RELIABILITY_BINS, (k + 1) * n / RELIABILITY_BINS);
        if hi <= lo {
            continue;
        }
        let (mut sum_p, mut pos) = (0.0f64, 0u64);
        for r in lo..hi {
            // Ascending rank r is descending position n - 1 - r.
            if let Some(&i) = order.get(n - 1 - r) {
                sum_p += f64::from(probs[i]);
                pos += u64::from(labels[i]);
            }
        }
        let rows = (hi - lo) as u64;
        bins.push(ReliabilityBin {
            mean_predicted: sum_p / rows as f64,
            observed: pos as f64 / rows as f64,
            rows,
        });
    }
    bins
}

/// Σ (rows/n)·|mean predicted − observed|.
pub fn ece(bins: &[ReliabilityBin], n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    bins.iter()
        .map(|b| b.rows as f64 / n as f64 * (b.mean_predicted - b.observed).abs())
        .sum()
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

    fn sample(n: usize) -> (Vec<f32>, Vec<bool>) {
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let p = (next() * 50.0).round() / 50.0; // ties
                (p as f32, next() < p * 0.8 + 0.05)
            })
            .unzip()
    }

    #[test]
    fn ece_matches_equal_frequency_bins_computed_directly() {
        let (p, y) = sample(1003);
        let m = compute(&p, &y, 0.5).unwrap();
        let e = m.extra.unwrap();
        // Oracle: ranks by a standard sort (ascending probability, index
        // order among ties, as order_desc reversed), bins of n·k/10.
        let mut idx: Vec<usize> = (0..p.len()).collect();
        idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)));
        let n = p.len();
        let mut want = 0.0;
        for k in 0..10 {
            let bin = &idx[k * n / 10..(k + 1) * n / 10];
            let mp: f64 = bin.iter().map(|&i| p[i] as f64).sum::<f64>() / bin.len() as f64;
            let ob = bin.iter().filter(|&&i| y[i]).count() as f64 / bin.len() as f64;
            want += bin.len() as f64 / n as f64 * (mp - ob).abs();
            assert_eq!(e.reliability[k].rows, bin.len() as u64);
            assert!((e.reliability[k].mean_predicted - mp).abs() < 1e-12);
        }
        assert!((e.ece - want).abs() < 1e-12, "{} vs {want}", e.ece);
    }

    #[test]
    fn average_precision_is_the_mean_precision_at_each_positive() {
        let (p, y) = sample(500);
        let m = compute(&p, &y, 0.5).unwrap();
        // Oracle: for every positive, the precision among rows scored at
        // least as high (ties included), averaged over the positives.
        let pos: Vec<usize> = (0..p.len()).filter(|&i| y[i]).collect();
        let mut want = 0.0;
        for &i in &pos {
            let above: Vec<usize> = (0..p.len()).filter(|&j| p[j] >= p[i]).collect();
            let tp = above.iter().filter(|&&j| y[j]).count();
            want += tp as f64 / above.len() as f64;
        }
        want /= pos.len() as f64;
        let got = m.extra.unwrap().average_precision;
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
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
