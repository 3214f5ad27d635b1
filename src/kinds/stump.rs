//! A decision stump: one split on one design column, a log-odds value on
//! each side. The smallest kind there is, kept as the worked example of
//! adding a kind (ARCHITECTURE.md) and as the benchmark a model validator
//! compares every real model against ("how much better than the single
//! most telling feature?").
//!
//! Explanation: exact. With one split the path-dependent Shapley value of
//! the split column is `f(x) − E[f]` (the expectation over the training
//! covers of the two sides) and every other column gets 0.

use serde::{Deserialize, Serialize};

use super::{Attribution, Cost, Design, Kind, Output, PerPlayer};

#[derive(Debug, Clone, PartialEq)]
pub struct Stump {
    /// Design column the split reads.
    pub column: u32,
    /// `x <= threshold` goes left (in `f32`, as in the tree kinds).
    pub threshold: f32,
    /// Side a missing value (NaN) takes.
    pub default_left: bool,
    /// Log-odds on each side.
    pub left: f32,
    pub right: f32,
    /// Training rows on each side (the explanation's expectation).
    pub left_cover: f32,
    pub right_cover: f32,
}

/// Section `stump` (format v3).
#[derive(Debug, Serialize, Deserialize)]
pub struct StumpWire {
    pub column: u32,
    pub threshold: f32,
    pub default_left: bool,
    pub values: [f32; 2],
    pub covers: [f32; 2],
}

impl Stump {
    fn expected(&self) -> f64 {
        let (lc, rc) = (self.left_cover as f64, self.right_cover as f64);
        (lc * self.left as f64 + rc * self.right as f64) / (lc + rc)
    }
}

impl Kind for Stump {
    const TAG: &'static str = "stump";
    type Wire = StumpWire;

    fn to_wire(&self) -> StumpWire {
        StumpWire {
            column: self.column,
            threshold: self.threshold,
            default_left: self.default_left,
            values: [self.left, self.right],
            covers: [self.left_cover, self.right_cover],
        }
    }

    fn from_wire(w: StumpWire) -> Result<Self, String> {
        let [left, right] = w.values;
        let [left_cover, right_cover] = w.covers;
        Ok(Stump {
            column: w.column,
            threshold: w.threshold,
            default_left: w.default_left,
            left,
            right,
            left_cover,
            right_cover,
        })
    }

    fn decode(body: &[u8]) -> Result<Self, crate::error::FormatError> {
        super::read_section(
            body,
            |w| StumpWire {
                column: w.u32(),
                threshold: w.f32(),
                default_left: w.bool(),
                values: [w.f32(), w.f32()],
                covers: [w.f32(), w.f32()],
            },
            Self::from_wire,
        )
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.column as usize >= d.width {
            return Err(format!(
                "stump column {} is outside the design width {}",
                self.column, d.width
            ));
        }
        if self.threshold.is_nan() {
            return Err("stump threshold is NaN".into());
        }
        super::all_finite("stump values", &[self.left, self.right])?;
        let covers = [self.left_cover, self.right_cover];
        if covers.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
            return Err("stump covers must be positive".into());
        }
        Ok(())
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        let v = x.get(self.column as usize).copied().unwrap_or(f32::NAN);
        let go_left = if v.is_nan() {
            self.default_left
        } else {
            v <= self.threshold
        };
        if go_left {
            self.left
        } else {
            self.right
        }
    }

    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let expected = self.expected();
        let mut cols = vec![0.0f64; d.width];
        if let Some(c) = cols.get_mut(self.column as usize) {
            *c = scale * (self.output(x) as f64 - expected);
        }
        Attribution {
            base: scale * expected + offset,
            per: PerPlayer::Columns(cols),
            convergence: None,
        }
    }

    fn takes_missing(&self) -> bool {
        true
    }

    fn method(&self) -> &'static str {
        "exact Shapley values of a single split"
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        Cost {
            predict: 1,
            explain: d.width as u64,
        }
    }

    fn summary(&self) -> String {
        format!(
            "decision stump on design column {} at {}",
            self.column,
            crate::num::F32(self.threshold)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_goes_left_and_nan_follows_default() {
        let s = Stump {
            column: 1,
            threshold: 2.0,
            default_left: false,
            left: -1.0,
            right: 1.5,
            left_cover: 3.0,
            right_cover: 1.0,
        };
        assert_eq!(s.output(&[9.0, 2.0]), -1.0);
        assert_eq!(s.output(&[9.0, 2.000_001]), 1.5);
        assert_eq!(s.output(&[9.0, f32::NAN]), 1.5);
        // E[f] = (3·(−1) + 1·1.5) / 4 = −0.375
        assert_eq!(s.expected(), -0.375);
    }
}
