//! Threshold policies: how a model file's decision threshold was chosen,
//! and the figures a lender reads at a cut-off.
//!
//! A customer is refused (the positive, "bad" class is predicted) when
//! `probability >= threshold`; approved otherwise. A bad customer approved
//! is a false negative, a good customer refused a false positive. The
//! trainer chooses the threshold with [`choose`] on rows the model did not
//! train on (out-of-fold predictions of the training split) and records
//! the policy, where it was chosen and the figures there in [`Decision`].

use crate::num::F64;

/// How the threshold is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// A threshold given by hand.
    Fixed(f32),
    /// Minimise the expected cost per customer: `fn_cost` for each bad
    /// customer approved, `fp_cost` for each good customer refused.
    Cost { fn_cost: f64, fp_cost: f64 },
    /// Approve this share of customers (the lowest probabilities).
    ApprovalRate(f64),
    /// Maximise F1 of the positive class.
    MaxF1,
    /// Maximise the Kolmogorov–Smirnov distance (TPR − FPR).
    Ks,
}

/// Approval, bad rate and cost at one threshold on labelled rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutFigures {
    pub threshold: f32,
    pub rows: u64,
    /// Share of rows approved (`probability < threshold`).
    pub approval_rate: f64,
    /// Share of bad customers among the approved (0 when none is approved).
    pub bad_rate_approved: f64,
    /// Expected cost per customer under the policy's costs (cost policies).
    pub expected_cost: Option<f64>,
}

/// The decision methodology recorded in a model file.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub policy: Policy,
    /// Rows the threshold (and the calibration) were chosen on, in words.
    pub chosen_on: String,
    /// Figures at the threshold on those rows.
    pub chosen: CutFigures,
    /// The same figures on the evaluation rows, at the threshold and at 0.5
    /// (for comparison), when there are evaluation rows.
    pub evaluated: Option<(CutFigures, CutFigures)>,
    /// What the stored metrics were computed on, in words.
    pub evaluated_on: String,
    /// The calibration applied, and how it was chosen.
    pub calibration: String,
    pub calibration_chosen_by: String,
}

impl Policy {
    /// Canonical text: `fixed:0.5`, `cost:FN=5,FP=1`, `approval-rate:0.7`,
    /// `max-f1`, `ks` (what [`Policy::parse`] reads).
    pub fn text(&self) -> String {
        match *self {
            Policy::Fixed(t) => format!("fixed:{}", crate::num::F32(t)),
            Policy::Cost { fn_cost, fp_cost } => {
                format!("cost:FN={},FP={}", F64(fn_cost), F64(fp_cost))
            }
            Policy::ApprovalRate(r) => format!("approval-rate:{}", F64(r)),
            Policy::MaxF1 => "max-f1".into(),
            Policy::Ks => "ks".into(),
        }
    }

    /// The policy's kind: `fixed`, `cost`, `approval-rate`, `max-f1`, `ks`.
    pub fn kind(&self) -> &'static str {
        match self {
            Policy::Fixed(_) => "fixed",
            Policy::Cost { .. } => "cost",
            Policy::ApprovalRate(_) => "approval-rate",
            Policy::MaxF1 => "max-f1",
            Policy::Ks => "ks",
        }
    }

    /// Reads `cost:FN=5,FP=1`, `approval-rate:0.7`, `max-f1`, `ks` or
    /// `fixed:0.3`.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let t = text.trim();
        let (name, arg) = match t.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (t, None),
        };
        let number = |s: &str, what: &str| -> Result<f64, String> {
            crate::num::parse_f64(s.trim())
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what}: '{s}' is not a number"))
        };
        match (name, arg) {
            ("max-f1", None) => Ok(Policy::MaxF1),
            ("ks", None) => Ok(Policy::Ks),
            ("fixed", Some(a)) => {
                let v = number(a, "fixed")?;
                if v > 0.0 && v < 1.0 {
                    Ok(Policy::Fixed(v as f32))
                } else {
                    Err(format!("fixed: threshold {a} is not in (0, 1)"))
                }
            }
            ("approval-rate", Some(a)) => {
                let v = number(a, "approval-rate")?;
                if v > 0.0 && v < 1.0 {
                    Ok(Policy::ApprovalRate(v))
                } else {
                    Err(format!("approval-rate: {a} is not a share in (0, 1)"))
                }
            }
            ("cost", Some(a)) => {
                let (mut fn_cost, mut fp_cost) = (None, None);
                for part in a.split(',') {
                    let Some((k, v)) = part.split_once('=') else {
                        return Err(format!("cost: '{part}' is not NAME=VALUE (FN=5,FP=1)"));
                    };
                    let v = number(v, k.trim())?;
                    if v < 0.0 {
                        return Err(format!("cost: {} = {} is negative", k.trim(), F64(v)));
                    }
                    match k.trim() {
                        "FN" | "fn" => fn_cost = Some(v),
                        "FP" | "fp" => fp_cost = Some(v),
                        other => {
                            return Err(format!("cost: unknown cost '{other}' (use FN and FP)"))
                        }
                    }
                }
                match (fn_cost, fp_cost) {
                    (Some(f), Some(p)) if f + p > 0.0 => Ok(Policy::Cost {
                        fn_cost: f,
                        fp_cost: p,
                    }),
                    (Some(_), Some(_)) => Err("cost: FN and FP are both 0".into()),
                    _ => Err("cost: give both costs, e.g. cost:FN=5,FP=1".into()),
                }
            }
            _ => Err(format!(
                "unknown threshold policy '{t}' (use cost:FN=5,FP=1, approval-rate:0.7, max-f1, ks or fixed:0.5)"
            )),
        }
    }

    /// Costs (FN, FP) of a cost policy.
    pub fn costs(&self) -> Option<(f64, f64)> {
        match *self {
            Policy::Cost { fn_cost, fp_cost } => Some((fn_cost, fp_cost)),
            _ => None,
        }
    }

    /// Human description for reports.
    pub fn describe(&self) -> String {
        match *self {
            Policy::Fixed(t) => format!("fixed threshold {}", crate::num::F32(t)),
            Policy::Cost { fn_cost, fp_cost } => format!(
                "lowest expected cost (a bad customer approved costs {}, a good customer refused {})",
                F64(fn_cost),
                F64(fp_cost)
            ),
            Policy::ApprovalRate(r) => format!("approve {} % of customers", F64(r * 100.0)),
            Policy::MaxF1 => "highest F1 of the positive class".into(),
            Policy::Ks => "largest KS distance (TPR - FPR)".into(),
        }
    }
}

impl Decision {
    /// Every figure finite and in range (a file's decision section).
    pub fn validate(&self) -> Result<(), String> {
        let policy_ok = match self.policy {
            Policy::Fixed(t) => t > 0.0 && t < 1.0,
            Policy::Cost { fn_cost, fp_cost } => {
                fn_cost.is_finite() && fp_cost.is_finite() && fn_cost >= 0.0 && fp_cost >= 0.0
            }
            Policy::ApprovalRate(r) => r > 0.0 && r < 1.0,
            Policy::MaxF1 | Policy::Ks => true,
        };
        if !policy_ok {
            return Err("decision: the threshold policy's parameters are out of range".into());
        }
        let cuts =
            std::iter::once(&self.chosen).chain(self.evaluated.iter().flat_map(|(a, b)| [a, b]));
        for c in cuts {
            let share = |v: f64| (0.0..=1.0).contains(&v);
            if !(c.threshold >= 0.0
                && c.threshold <= 1.0
                && share(c.approval_rate)
                && share(c.bad_rate_approved)
                && c.expected_cost.is_none_or(|v| v.is_finite() && v >= 0.0))
            {
                return Err("decision: figures at the cut-off are out of range".into());
            }
        }
        Ok(())
    }
}

/// Approval, bad rate and (for cost policies) cost at `threshold`.
pub fn figures(probs: &[f32], labels: &[bool], threshold: f32, policy: &Policy) -> CutFigures {
    let (mut approved, mut bad_approved, mut good_refused) = (0u64, 0u64, 0u64);
    for (&p, &y) in probs.iter().zip(labels) {
        if p >= threshold {
            good_refused += u64::from(!y);
        } else {
            approved += 1;
            bad_approved += u64::from(y);
        }
    }
    let n = probs.len().min(labels.len()) as u64;
    let share = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    CutFigures {
        threshold,
        rows: n,
        approval_rate: share(approved, n),
        bad_rate_approved: share(bad_approved, approved),
        expected_cost: policy.costs().map(|(cf, cp)| {
            if n == 0 {
                0.0
            } else {
                (bad_approved as f64 * cf + good_refused as f64 * cp) / n as f64
            }
        }),
    }
}

/// Lowest and highest thresholds a file may hold.
const LOW: f32 = 1e-6;
const HIGH: f32 = 1.0 - 1e-6;

/// The threshold `policy` picks on labelled probabilities: cut-offs lie
/// halfway between neighbouring distinct probabilities (so the rows it was
/// chosen on fall on the same side at any nearby value), within (0, 1).
/// Ties between cut-offs go to the higher threshold (fewer refusals).
/// `None` without rows of both classes (except for a fixed policy).
pub fn choose(policy: &Policy, probs: &[f32], labels: &[bool]) -> Option<f32> {
    if let Policy::Fixed(t) = *policy {
        return Some(t);
    }
    let n = probs.len().min(labels.len());
    let pos = labels.iter().take(n).filter(|&&y| y).count();
    let neg = n - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Distinct probabilities, highest first, with their label counts.
    let keys: Vec<f64> = probs.iter().take(n).map(|&p| f64::from(p)).collect();
    let order = crate::num::order_desc(&keys);
    let mut groups: Vec<(f32, u64, u64)> = Vec::new(); // (p, positives, negatives)
    for &i in &order {
        let (p, y) = (probs[i], labels[i]);
        match groups.last_mut() {
            Some(g) if g.0 == p => {
                if y {
                    g.1 += 1
                } else {
                    g.2 += 1
                }
            }
            _ => groups.push((p, u64::from(y), u64::from(!y))),
        }
    }
    // Cut k refuses groups[..k]: k = 0 refuses nobody, k = len everybody.
    let cut = |k: usize| -> f32 {
        let t = match (k.checked_sub(1).and_then(|j| groups.get(j)), groups.get(k)) {
            (None, Some(g)) => (g.0 + 1.0) / 2.0,
            (Some(hi), Some(lo)) => lo.0 + (hi.0 - lo.0) / 2.0,
            (Some(hi), None) => hi.0 / 2.0,
            (None, None) => 0.5,
        };
        t.clamp(LOW, HIGH)
    };
    let (p_all, n_all) = (pos as f64, neg as f64);
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    let mut best = (f64::NEG_INFINITY, 0usize);
    for k in 0..=groups.len() {
        if k > 0 {
            if let Some(g) = groups.get(k - 1) {
                tp += g.1 as f64;
                fp += g.2 as f64;
            }
        }
        let fn_ = p_all - tp;
        let score = match *policy {
            Policy::Cost { fn_cost, fp_cost } => -(fn_ * fn_cost + fp * fp_cost),
            Policy::ApprovalRate(r) => -(((n as f64 - tp - fp) / n as f64) - r).abs(),
            Policy::MaxF1 => {
                if tp == 0.0 {
                    0.0
                } else {
                    2.0 * tp / (2.0 * tp + fp + fn_)
                }
            }
            Policy::Ks => tp / p_all - fp / n_all,
            Policy::Fixed(_) => 0.0,
        };
        // Strictly better only: the first (highest-threshold) cut wins ties.
        if score > best.0 {
            best = (score, k);
        }
    }
    Some(cut(best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lcg(u64);
    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn sample(n: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
        let mut r = Lcg(seed);
        let mut p = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let q = (r.unit() * 100.0).round() / 100.0; // ties on purpose
            p.push(q as f32);
            y.push(r.unit() < q);
        }
        (p, y)
    }

    /// Oracle: try every threshold in a fine grid and take the best value
    /// of the objective computed from scratch.
    fn brute(policy: &Policy, p: &[f32], y: &[bool]) -> f64 {
        let mut best = f64::NEG_INFINITY;
        for k in 0..=1001 {
            let t = k as f32 / 1000.0;
            best = best.max(objective(policy, p, y, t));
        }
        best
    }

    fn objective(policy: &Policy, p: &[f32], y: &[bool], t: f32) -> f64 {
        let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
        for (&q, &l) in p.iter().zip(y) {
            match (l, q >= t) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fn_ += 1.0,
                _ => {}
            }
        }
        let n = p.len() as f64;
        let pos = tp + fn_;
        match *policy {
            Policy::Cost { fn_cost, fp_cost } => -(fn_ * fn_cost + fp * fp_cost),
            Policy::ApprovalRate(r) => -(((n - tp - fp) / n) - r).abs(),
            Policy::MaxF1 => {
                if tp == 0.0 {
                    0.0
                } else {
                    2.0 * tp / (2.0 * tp + fp + fn_)
                }
            }
            Policy::Ks => tp / pos - fp / (n - pos),
            Policy::Fixed(_) => 0.0,
        }
    }

    #[test]
    fn chosen_thresholds_reach_the_best_objective() {
        for seed in 1..20 {
            let (p, y) = sample(400, seed);
            for policy in [
                Policy::Cost {
                    fn_cost: 5.0,
                    fp_cost: 1.0,
                },
                Policy::Cost {
                    fn_cost: 1.0,
                    fp_cost: 3.0,
                },
                Policy::ApprovalRate(0.7),
                Policy::MaxF1,
                Policy::Ks,
            ] {
                let t = choose(&policy, &p, &y).unwrap();
                assert!(t > 0.0 && t < 1.0, "{t}");
                let got = objective(&policy, &p, &y, t);
                let want = brute(&policy, &p, &y);
                assert!(
                    (got - want).abs() < 1e-9,
                    "{policy:?} seed {seed}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn figures_count_the_cut() {
        let p = [0.9, 0.8, 0.3, 0.6, 0.1];
        let y = [true, false, true, false, false];
        let c = Policy::Cost {
            fn_cost: 5.0,
            fp_cost: 1.0,
        };
        let f = figures(&p, &y, 0.5, &c);
        // Refused: 0.9 (bad), 0.8, 0.6 (good); approved: 0.3 (bad), 0.1.
        assert_eq!(f.approval_rate, 2.0 / 5.0);
        assert_eq!(f.bad_rate_approved, 1.0 / 2.0);
        assert_eq!(f.expected_cost, Some((5.0 + 2.0) / 5.0));
        assert_eq!(figures(&p, &y, 0.5, &Policy::MaxF1).expected_cost, None);
    }

    #[test]
    fn policies_read_and_write_their_text() {
        for t in [
            "cost:FN=5,FP=1",
            "approval-rate:0.7",
            "max-f1",
            "ks",
            "fixed:0.35",
        ] {
            assert_eq!(Policy::parse(t).unwrap().text(), t);
        }
        for bad in [
            "cost:FN=5",
            "cost:FN=-1,FP=1",
            "cost:FN=x,FP=1",
            "cost:FN=0,FP=0",
            "approval-rate:1.5",
            "fixed:0",
            "best",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
        assert!(Policy::parse("cost:XX=1,FP=1").unwrap_err().contains("XX"));
    }

    #[test]
    fn one_class_has_no_choice() {
        assert_eq!(choose(&Policy::MaxF1, &[0.2, 0.4], &[true, true]), None);
        assert_eq!(choose(&Policy::Fixed(0.3), &[], &[]), Some(0.3));
    }
}
