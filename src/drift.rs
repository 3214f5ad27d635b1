//! Population stability (PSI) against the training population.
//!
//! The model file stores, for each feature and for the score, the bins of
//! the training split and the share of training rows in each. A batch is
//! counted into the same bins ([`DriftCounts`], mergeable, so a browser can
//! count chunk by chunk) and compared: `PSI = Σ (a − e) · ln(a / e)` over
//! bins, shares floored at 1e-4 so an empty bin stays finite. Conventional
//! reading: below 0.10 stable, 0.10–0.25 worth watching, 0.25 and above a
//! significant shift.

use crate::schema::{FeatureKind, Schema, Value};

pub const PSI_WATCH: f64 = 0.10;
pub const PSI_SHIFT: f64 = 0.25;
const FLOOR: f64 = 1e-4;

/// Bins of one variable: numeric bins are `x <= edges[k]` (the last bin
/// takes the rest) plus a final missing bin; categorical bins are the
/// training categories plus a final "unknown or missing" bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    pub edges: Vec<f32>,
    /// Training share of each bin (sums to 1).
    pub expected: Vec<f32>,
}

impl Bins {
    pub fn len(&self) -> usize {
        self.expected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.expected.is_empty()
    }

    /// Bin of a numeric value (NaN → the missing bin).
    pub fn numeric_bin(&self, v: f32) -> usize {
        if v.is_nan() {
            return self.len().saturating_sub(1);
        }
        self.edges.partition_point(|&e| e < v)
    }
}

/// Training bins of every feature (schema order) and of the probability.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftProfile {
    pub features: Vec<Bins>,
    pub score: Bins,
}

impl DriftProfile {
    /// Total counters: every feature's bins, then the score's.
    pub fn width(&self) -> usize {
        self.features.iter().map(Bins::len).sum::<usize>() + self.score.len()
    }

    pub fn validate(&self, schema: &Schema) -> Result<(), String> {
        if self.features.len() != schema.features.len() {
            return Err(format!(
                "drift profile has {} features, the schema {}",
                self.features.len(),
                schema.features.len()
            ));
        }
        for (b, f) in self.features.iter().zip(&schema.features) {
            let want = match &f.kind {
                FeatureKind::Numeric(_) => b.edges.len() + 2,
                FeatureKind::Categorical(c) => c.categories.len() + 1,
            };
            if b.expected.len() != want {
                return Err(format!(
                    "drift bins of '{}' have {} shares, expected {want}",
                    f.name,
                    b.expected.len()
                ));
            }
        }
        if self.score.expected.len() != self.score.edges.len() + 2 {
            return Err("score drift bins are inconsistent".into());
        }
        Ok(())
    }

    pub fn counter(&self) -> DriftCounts {
        DriftCounts {
            counts: vec![0; self.width()],
        }
    }

    /// Counts one scored row.
    pub fn add(&self, counts: &mut DriftCounts, values: &[Value], probability: f32) {
        let mut offset = 0;
        for (bins, v) in self.features.iter().zip(values) {
            let bin = match v {
                Value::Number(x) => bins.numeric_bin(*x),
                Value::Category(k) => (*k as usize).min(bins.len().saturating_sub(1)),
                Value::Missing => bins.len().saturating_sub(1),
                Value::Unknown(_) => bins.len().saturating_sub(1),
            };
            if let Some(c) = counts.counts.get_mut(offset + bin) {
                *c += 1;
            }
            offset += bins.len();
        }
        if let Some(c) = counts
            .counts
            .get_mut(offset + self.score.numeric_bin(probability))
        {
            *c += 1;
        }
    }

    /// PSI per feature and for the score from accumulated counts.
    pub fn report(&self, schema: &Schema, counts: &DriftCounts) -> Result<DriftReport, String> {
        if counts.counts.len() != self.width() {
            return Err(format!(
                "drift counts have {} entries, expected {}",
                counts.counts.len(),
                self.width()
            ));
        }
        let mut offset = 0;
        let mut features = Vec::with_capacity(self.features.len());
        let mut rows = 0u64;
        for (bins, f) in self.features.iter().zip(&schema.features) {
            let slice = &counts.counts[offset..offset + bins.len()];
            rows = slice.iter().map(|&c| c as u64).sum();
            features.push((f.name.clone(), psi(&bins.expected, slice)));
            offset += bins.len();
        }
        let score = psi(&self.score.expected, &counts.counts[offset..]);
        Ok(DriftReport {
            rows,
            features,
            score,
        })
    }
}

/// Mergeable bin counts of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftCounts {
    pub counts: Vec<u32>,
}

impl DriftCounts {
    pub fn merge(&mut self, other: &DriftCounts) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DriftReport {
    pub rows: u64,
    /// (feature, PSI) in schema order.
    pub features: Vec<(String, f64)>,
    pub score: f64,
}

/// "stable", "watch" (≥ 0.10) or "shift" (≥ 0.25).
pub fn level(psi: f64) -> &'static str {
    if psi >= PSI_SHIFT {
        "shift"
    } else if psi >= PSI_WATCH {
        "watch"
    } else {
        "stable"
    }
}

/// Population stability index of observed counts against expected shares.
pub fn psi(expected: &[f32], observed: &[u32]) -> f64 {
    let n: f64 = observed.iter().map(|&c| c as f64).sum();
    if n == 0.0 {
        return 0.0;
    }
    expected
        .iter()
        .zip(observed)
        .map(|(&e, &o)| {
            let e = (e as f64).max(FLOOR);
            let a = (o as f64 / n).max(FLOOR);
            (a - e) * libm::log(a / e)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_of_identical_shares_is_zero_and_grows_with_shift() {
        let e = [0.25f32, 0.25, 0.25, 0.25];
        assert!(psi(&e, &[25, 25, 25, 25]).abs() < 1e-12);
        // Hand-computed: shares (0.4, 0.3, 0.2, 0.1) against uniform.
        let want = (0.15f64) * (0.4f64 / 0.25).ln()
            + 0.05 * (0.3f64 / 0.25).ln()
            + (-0.05) * (0.2f64 / 0.25).ln()
            + (-0.15) * (0.1f64 / 0.25).ln();
        assert!((psi(&e, &[40, 30, 20, 10]) - want).abs() < 1e-6);
        assert_eq!(level(0.05), "stable");
        assert_eq!(level(0.1), "watch");
        assert_eq!(level(0.3), "shift");
    }

    #[test]
    fn numeric_bins_and_missing() {
        let b = Bins {
            edges: vec![1.0, 2.0],
            expected: vec![0.3, 0.3, 0.3, 0.1],
        };
        assert_eq!(b.numeric_bin(0.5), 0);
        assert_eq!(b.numeric_bin(1.0), 0);
        assert_eq!(b.numeric_bin(1.5), 1);
        assert_eq!(b.numeric_bin(9.0), 2);
        assert_eq!(b.numeric_bin(f32::NAN), 3);
    }
}
