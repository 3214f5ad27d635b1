//! Post-hoc calibration, fitted on out-of-fold outputs of the training
//! split and kept only when it improves on the kind's own calibration.
//!
//! Candidates: the kind's own calibration (the logistic link of logistic
//! regression, boosting and attention; the SVM's own Platt fit; a forest's
//! identity) and Platt scaling refitted on out-of-fold outputs — of the
//! decision value for kinds whose output is a score, of the log-odds of
//! the probability for kinds whose output is one (a forest:
//! `Calibration::PlattLogit`). The choice is made by cross-fitted log-loss
//! over the same folds: Platt fitted on the other folds' outputs scores
//! each fold, so the comparison uses no row twice.

use ferrisk::calibration::PLATT_LOGIT_CLAMP;
use ferrisk::kinds::Output;
use ferrisk::Calibration;

/// How the calibration is chosen (`ferrisk train --calibration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CalibrationChoice {
    /// Platt on out-of-fold outputs when its cross-fitted log-loss is lower.
    #[default]
    Auto,
    /// The kind's own calibration.
    Own,
    /// Always Platt on out-of-fold outputs.
    Platt,
}

/// What the calibration step decided, for the file and the report.
pub struct Calibrated {
    pub calibration: Calibration,
    /// The out-of-fold probabilities under the chosen calibration
    /// (cross-fitted when Platt was chosen).
    pub probabilities: Vec<f32>,
    pub method: String,
    pub chosen_by: String,
}

/// The value Platt scaling is fitted on for an output.
fn platt_input(kind: Output, output: f32) -> f64 {
    match kind {
        Output::Score => f64::from(output),
        Output::Probability => {
            let q = output.clamp(PLATT_LOGIT_CLAMP, 1.0 - PLATT_LOGIT_CLAMP);
            f64::from((q / (1.0 - q)).ln())
        }
    }
}

fn platt_calibration(kind: Output, a: f32, b: f32) -> Calibration {
    match kind {
        Output::Score => Calibration::Platt { a, b },
        Output::Probability => Calibration::PlattLogit { a, b },
    }
}

pub use ferrisk::metrics::log_loss;

/// Out-of-fold predictions, per row: raw outputs, probabilities under the
/// kind's own calibration, labels, and the fold each row was held out in.
pub struct Held<'a> {
    pub outputs: &'a [f32],
    pub own: &'a [f32],
    pub labels: &'a [bool],
    pub fold_of: &'a [usize],
    pub folds: usize,
}

/// Chooses and fits the calibration of a kind whose own calibration is
/// `own_calibration` and whose raw output is a `kind`.
pub fn choose(
    choice: CalibrationChoice,
    own_calibration: Calibration,
    kind: Output,
    held: &Held<'_>,
) -> Calibrated {
    let Held {
        outputs,
        own,
        labels,
        fold_of,
        folds,
    } = *held;
    let own_loss = log_loss(own, labels);
    let own_result = |chosen_by: String| Calibrated {
        calibration: own_calibration,
        probabilities: own.to_vec(),
        method: format!("{} (the kind's own)", own_calibration.name()),
        chosen_by,
    };
    if choice == CalibrationChoice::Own {
        return own_result("--calibration own".into());
    }
    let z: Vec<f64> = outputs.iter().map(|&o| platt_input(kind, o)).collect();
    // Cross-fitted Platt probabilities: each fold scored by a fit on the others.
    let mut crossed = vec![0.0f32; z.len()];
    for f in 0..folds {
        let (zt, yt): (Vec<f64>, Vec<bool>) = z
            .iter()
            .zip(labels)
            .zip(fold_of)
            .filter(|(_, &g)| g != f)
            .map(|((&z, &y), _)| (z, y))
            .unzip();
        let (a, b) = fit_platt(&zt, &yt);
        let cal = platt_calibration(kind, a, b);
        for (i, _) in fold_of.iter().enumerate().filter(|(_, &g)| g == f) {
            crossed[i] = cal.probability(outputs[i]);
        }
    }
    let platt_loss = log_loss(&crossed, labels);
    let (a, b) = fit_platt(&z, labels);
    let figures = format!(
        "cross-fitted log-loss on out-of-fold predictions of the training split ({} rows, {folds} folds): Platt {:.4}, the kind's own {} {:.4}",
        labels.len(),
        platt_loss,
        own_calibration.name(),
        own_loss
    );
    // A probability output (a forest's average) reaches exactly 0 and 1,
    // whose log-odds are infinite: the scorecard would clamp them into a
    // pile of customers at ±600 points. Auto always Platt-scales it.
    let forced = match (choice, kind) {
        (CalibrationChoice::Platt, _) => Some("--calibration platt"),
        (CalibrationChoice::Auto, Output::Probability) => Some(
            "a probability output is always Platt-scaled on its log-odds (raw 0 and 1 have infinite log-odds)",
        ),
        _ => None,
    };
    if forced.is_some() || platt_loss < own_loss {
        let calibration = platt_calibration(kind, a, b);
        Calibrated {
            calibration,
            probabilities: crossed,
            method: format!("{} fitted on out-of-fold outputs", calibration.name()),
            chosen_by: match forced {
                Some(why) => format!("{why}; {figures}"),
                None => figures,
            },
        }
    } else {
        own_result(figures)
    }
}

/// Platt scaling `p = 1 / (1 + exp(a·z + b))` with every row weighing 1
/// (the SVM's own fitter, [`crate::algo::linear::platt`]). Returns (a, b).
pub fn fit_platt(z: &[f64], y: &[bool]) -> (f32, f32) {
    let (a, b) = crate::algo::linear::platt(z, y, &vec![1.0; y.len()]);
    (a as f32, b as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_is_chosen_for_overconfident_outputs_and_lowers_log_loss() {
        // True log-odds v; the model outputs 3·v (overconfident).
        let mut s = 5u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut out, mut y) = (Vec::new(), Vec::new());
        for _ in 0..5000 {
            let v = next() * 4.0 - 2.0;
            out.push((3.0 * v) as f32);
            y.push(next() < 1.0 / (1.0 + (-v).exp()));
        }
        let own: Vec<f32> = out
            .iter()
            .map(|&m| Calibration::Logistic.probability(m))
            .collect();
        let fold_of: Vec<usize> = (0..out.len()).map(|i| i % 5).collect();
        let c = choose(
            CalibrationChoice::Auto,
            Calibration::Logistic,
            Output::Score,
            &Held {
                outputs: &out,
                own: &own,
                labels: &y,
                fold_of: &fold_of,
                folds: 5,
            },
        );
        let Calibration::Platt { a, .. } = c.calibration else {
            panic!("Platt not chosen: {}", c.chosen_by);
        };
        // p = 1/(1 + exp(a·3v + b)) recovers slope ≈ −1/3 on the output.
        assert!((a + 1.0 / 3.0).abs() < 0.05, "a = {a}");
        assert!(log_loss(&c.probabilities, &y) < log_loss(&own, &y));
        let forced = choose(
            CalibrationChoice::Own,
            Calibration::Logistic,
            Output::Score,
            &Held {
                outputs: &out,
                own: &own,
                labels: &y,
                fold_of: &fold_of,
                folds: 5,
            },
        );
        assert_eq!(forced.calibration, Calibration::Logistic);
        assert_eq!(forced.probabilities, own);
    }
}
