//! Turning a model's raw output into a probability of the positive class.

use crate::kinds::Output;
use crate::num::F32;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// The output already is a probability (a random forest's average of
    /// leaf probabilities); clamped to [0, 1].
    Identity,
    /// The output is log-odds: `p = 1 / (1 + exp(−m))` (logistic
    /// regression, gradient boosting, the attention model).
    Logistic,
    /// Platt scaling of a decision value: `p = 1 / (1 + exp(a·m + b))`.
    Platt { a: f32, b: f32 },
    /// Platt scaling of a probability's log-odds (a random forest's
    /// average): `p = 1 / (1 + exp(a·logit(q) + b))`, with `q` kept in
    /// [`PLATT_LOGIT_CLAMP`, 1 − `PLATT_LOGIT_CLAMP`] so a pure leaf gives a
    /// finite, moderate probability. Format 3 (`calibration/platt-logit`).
    PlattLogit { a: f32, b: f32 },
}

/// How close to 0 or 1 a probability may be before [`Calibration::PlattLogit`]
/// takes its log-odds.
pub const PLATT_LOGIT_CLAMP: f32 = 1e-4;

impl Calibration {
    /// The calibration's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Calibration::Identity => "identity",
            Calibration::Logistic => "logistic",
            Calibration::Platt { .. } => "Platt",
            Calibration::PlattLogit { .. } => "Platt (log-odds)",
        }
    }

    pub fn probability(self, output: f32) -> f32 {
        match self {
            Calibration::Identity if output.is_nan() => output,
            Calibration::Identity => output.clamp(0.0, 1.0),
            // Written as Platt {a: −1, b: 0} so that files of every format
            // version give the same bits: (−1)·m + 0 equals −m for every m
            // except the sign of a zero, which expf ignores.
            Calibration::Logistic => sigmoid_affine(-1.0, 0.0, output),
            Calibration::Platt { a, b } => sigmoid_affine(a, b, output),
            Calibration::PlattLogit { .. } if output.is_nan() => output,
            Calibration::PlattLogit { a, b } => {
                let q = output.clamp(PLATT_LOGIT_CLAMP, 1.0 - PLATT_LOGIT_CLAMP);
                // libm's logf: the same bits natively and in wasm.
                sigmoid_affine(a, b, libm::logf(q / (1.0 - q)))
            }
        }
    }

    /// Log-odds of the calibrated probability as an affine map of the
    /// output, when there is one (`Some((scale, offset))`: log-odds =
    /// scale·m + offset).
    pub fn log_odds_affine(self) -> Option<(f32, f32)> {
        match self {
            Calibration::Identity | Calibration::PlattLogit { .. } => None,
            Calibration::Logistic => Some((1.0, -0.0)),
            Calibration::Platt { a, b } => Some((-a, -b)),
        }
    }

    /// The kind of raw output this calibration expects.
    pub fn expects(self) -> Output {
        match self {
            Calibration::Identity | Calibration::PlattLogit { .. } => Output::Probability,
            Calibration::Logistic | Calibration::Platt { .. } => Output::Score,
        }
    }

    /// Parameters are finite (a NaN Platt parameter would score every
    /// customer 0.5).
    pub fn validate(self) -> Result<(), String> {
        match self {
            Calibration::Platt { a, b } | Calibration::PlattLogit { a, b }
                if !(a.is_finite() && b.is_finite()) =>
            {
                Err(format!(
                "Platt calibration parameters ({}, {}) are not finite numbers",
                    F32(a),
                    F32(b)
                ))
            }
            Calibration::Platt { a, .. } | Calibration::PlattLogit { a, .. }
                if a.abs() < f32::MIN_POSITIVE =>
            {
                Err(format!(
                "Platt calibration slope {} is (nearly) 0: every customer would get one probability",
                    F32(a)
                ))
            }
            _ => Ok(()),
        }
    }
}

/// NaN in, NaN out: the scorer refuses such a row instead of reporting a
/// made-up 0.5.
fn sigmoid_affine(a: f32, b: f32, m: f32) -> f32 {
    1.0 / (1.0 + libm::expf(a * m + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_and_logistic() {
        assert_eq!(Calibration::Logistic.probability(0.0), 0.5);
        let p = Calibration::Logistic.probability(2.0);
        assert!((p as f64 - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-7);
        let p = Calibration::Platt { a: -2.0, b: 1.0 }.probability(0.5);
        assert_eq!(p, 0.5);
        assert_eq!(Calibration::Identity.probability(1.5), 1.0);
    }

    #[test]
    fn logistic_is_bitwise_the_platt_form_it_replaced() {
        let old = Calibration::Platt { a: -1.0, b: 0.0 };
        for m in [-30.0f32, -1.5, -0.0, 0.0, 1e-7, 0.75, 12.0, 88.0] {
            assert_eq!(
                Calibration::Logistic.probability(m).to_bits(),
                old.probability(m).to_bits()
            );
        }
    }
}
