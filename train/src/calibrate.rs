//! Post-hoc calibration, fitted on out-of-fold outputs of the training
//! split and kept only when it improves on the kind's own calibration.
//!
//! Candidates: the kind's own calibration (the logistic link of logistic
//! regression, boosting and attention; the SVM's own Platt fit; a forest's
//! identity); Platt scaling refitted on out-of-fold outputs — of the
//! decision value for kinds whose output is a score, of the log-odds of
//! the probability for kinds whose output is one (a forest:
//! `Calibration::PlattLogit`); and, for probability outputs, isotonic
//! regression (`Calibration::Isotonic`, pool adjacent violators). The
//! choice is made by cross-fitted log-loss over the same folds: each
//! candidate fitted on the other folds' outputs scores each fold, so the
//! comparison uses no row twice. The file records the choice and the
//! figures it was made on.

use ferrisk::calibration::PLATT_LOGIT_CLAMP;
use ferrisk::kinds::Output;
use ferrisk::Calibration;

/// How the calibration is chosen (`ferrisk train --calibration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CalibrationChoice {
    /// The lowest cross-fitted log-loss of the kind's own, Platt and (for
    /// probability outputs) isotonic.
    #[default]
    Auto,
    /// The kind's own calibration.
    Own,
    /// Always Platt on out-of-fold outputs.
    Platt,
    /// Always isotonic regression on out-of-fold outputs (probability
    /// outputs: the random forest).
    Isotonic,
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

/// Fits a calibration on outputs and labels (`None`: it cannot be fitted).
type Fitter<'a> = dyn Fn(&[f32], &[bool]) -> Option<Calibration> + 'a;

/// Cross-fitted probabilities of a calibration fitted by `fit` on the
/// other folds' rows (`None` from `fit`: that fold keeps `fallback`).
fn cross_fit(held: &Held<'_>, fallback: &[f32], fit: &Fitter<'_>) -> Vec<f32> {
    let mut crossed = fallback.to_vec();
    for f in 0..held.folds {
        let (ot, yt): (Vec<f32>, Vec<bool>) = held
            .outputs
            .iter()
            .zip(held.labels)
            .zip(held.fold_of)
            .filter(|(_, &g)| g != f)
            .map(|((&o, &y), _)| (o, y))
            .unzip();
        if let Some(cal) = fit(&ot, &yt) {
            for (i, _) in held.fold_of.iter().enumerate().filter(|(_, &g)| g == f) {
                crossed[i] = cal.probability(held.outputs[i]);
            }
        }
    }
    crossed
}

/// Chooses and fits the calibration of a kind whose own calibration is
/// `own_calibration` and whose raw output is a `kind`.
///
/// Candidates: the kind's own, Platt, and for probability outputs isotonic
/// regression (a score output keeps an affine map to log-odds, so its
/// explanations stay additive in log-odds). Each is scored by cross-fitted
/// log-loss over the out-of-fold rows; `auto` takes the lowest. A
/// probability output never keeps its own (identity) calibration under
/// `auto`: raw 0 and 1 would give infinite scorecard points.
pub fn choose(
    choice: CalibrationChoice,
    own_calibration: Calibration,
    kind: Output,
    held: &Held<'_>,
) -> Result<Calibrated, String> {
    let (outputs, own, labels) = (held.outputs, held.own, held.labels);
    if choice == CalibrationChoice::Own {
        return Ok(Calibrated {
            method: format!("{} (the kind's own)", own_calibration.name()),
            calibration: own_calibration,
            probabilities: own.to_vec(),
            chosen_by: "--calibration own".into(),
        });
    }
    if choice == CalibrationChoice::Isotonic && kind != Output::Probability {
        return Err(
            "--calibration isotonic applies to models whose output is a probability (the random forest); \
             a score output is calibrated by Platt scaling, which keeps explanations additive in log-odds"
                .into(),
        );
    }
    let platt_fit = |o: &[f32], y: &[bool]| -> Option<Calibration> {
        let z: Vec<f64> = o.iter().map(|&v| platt_input(kind, v)).collect();
        let (a, b) = fit_platt(&z, y);
        Some(platt_calibration(kind, a, b))
    };
    let iso_fit = |o: &[f32], y: &[bool]| fit_isotonic(o, y).map(Calibration::Isotonic);
    let platt_crossed = cross_fit(held, own, &platt_fit);
    let platt_loss = log_loss(&platt_crossed, labels);
    let own_loss = log_loss(own, labels);
    let iso = if kind == Output::Probability {
        let crossed = cross_fit(held, &platt_crossed, &iso_fit);
        let loss = log_loss(&crossed, labels);
        Some((crossed, loss))
    } else {
        None
    };
    let mut figures = format!(
        "cross-fitted log-loss on out-of-fold predictions of the training split ({} rows, {} folds): Platt {:.4}",
        labels.len(),
        held.folds,
        platt_loss,
    );
    if let Some((_, loss)) = &iso {
        figures.push_str(&format!(", isotonic {loss:.4}"));
    }
    figures.push_str(&format!(
        ", the kind's own {} {:.4}",
        own_calibration.name(),
        own_loss
    ));
    // Which candidate: 0 own, 1 Platt, 2 isotonic.
    let pick = match choice {
        CalibrationChoice::Platt => 1,
        CalibrationChoice::Isotonic => 2,
        _ => {
            let mut pick = if kind == Output::Probability || platt_loss < own_loss {
                1
            } else {
                0
            };
            if let Some((_, loss)) = &iso {
                if *loss < platt_loss {
                    pick = 2;
                }
            }
            pick
        }
    };
    let forced = match choice {
        CalibrationChoice::Platt => Some("--calibration platt".to_string()),
        CalibrationChoice::Isotonic => Some("--calibration isotonic".to_string()),
        _ if kind == Output::Probability => Some(
            "a probability output is always calibrated (raw 0 and 1 have infinite log-odds); \
             the lower log-loss decides"
                .to_string(),
        ),
        _ => None,
    };
    let chosen_by = match forced {
        Some(why) => format!("{why}; {figures}"),
        None => figures,
    };
    let (calibration, probabilities) = match pick {
        0 => (own_calibration, own.to_vec()),
        1 => (
            platt_fit(outputs, labels).unwrap_or(own_calibration),
            platt_crossed,
        ),
        _ => match (fit_isotonic(outputs, labels), iso) {
            (Some(f), Some((crossed, _))) => (Calibration::Isotonic(f), crossed),
            _ => return Err(
                "isotonic calibration: the out-of-fold outputs take fewer than two distinct values"
                    .into(),
            ),
        },
    };
    let method = if pick == 0 {
        format!("{} (the kind's own)", calibration.name())
    } else {
        format!("{} fitted on out-of-fold outputs", calibration.name())
    };
    Ok(Calibrated {
        calibration,
        probabilities,
        method,
        chosen_by,
    })
}

/// Isotonic regression of the labels on `outputs` by pool adjacent
/// violators: equal outputs pooled first, then neighbouring blocks merged
/// while their means do not increase. Each block becomes a knot at its
/// smallest and largest output (one when they coincide), its mean clamped
/// into [`PLATT_LOGIT_CLAMP`, 1 − `PLATT_LOGIT_CLAMP`] so points stay
/// finite. `None` when fewer than two knots result or more than the
/// runtime accepts.
pub fn fit_isotonic(outputs: &[f32], labels: &[bool]) -> Option<ferrisk::calibration::Isotonic> {
    let mut order: Vec<usize> = (0..outputs.len().min(labels.len()))
        .filter(|&i| outputs[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| outputs[a].total_cmp(&outputs[b]));
    // Blocks: (sum of labels, count, smallest output, largest output).
    let mut blocks: Vec<(f64, f64, f32, f32)> = Vec::new();
    for i in order {
        let (o, y) = (outputs[i], f64::from(u8::from(labels[i])));
        match blocks.last_mut() {
            Some(last) if last.3 == o => {
                last.0 += y;
                last.1 += 1.0;
            }
            _ => blocks.push((y, 1.0, o, o)),
        }
        while blocks.len() >= 2 {
            let n = blocks.len();
            let (prev, cur) = (blocks[n - 2], blocks[n - 1]);
            if prev.0 / prev.1 < cur.0 / cur.1 {
                break;
            }
            blocks[n - 2] = (prev.0 + cur.0, prev.1 + cur.1, prev.2, cur.3);
            blocks.pop();
        }
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (sum, count, lo, hi) in blocks {
        let mean = ((sum / count) as f32).clamp(PLATT_LOGIT_CLAMP, 1.0 - PLATT_LOGIT_CLAMP);
        x.push(lo);
        y.push(mean);
        if hi > lo {
            x.push(hi);
            y.push(mean);
        }
    }
    let iso = ferrisk::calibration::Isotonic { x, y };
    Calibration::Isotonic(iso.clone())
        .validate()
        .ok()
        .map(|()| iso)
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
        let held = Held {
            outputs: &out,
            own: &own,
            labels: &y,
            fold_of: &fold_of,
            folds: 5,
        };
        let c = choose(
            CalibrationChoice::Auto,
            Calibration::Logistic,
            Output::Score,
            &held,
        )
        .unwrap();
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
            &held,
        )
        .unwrap();
        assert_eq!(forced.calibration, Calibration::Logistic);
        assert_eq!(forced.probabilities, own);
    }

    /// Isotonic regression by its min-max formula (each fitted value is the
    /// largest over earlier starts of the smallest mean over later ends), on
    /// outputs sorted and distinct: an oracle independent of pooling.
    fn min_max(y: &[f64]) -> Vec<f64> {
        let n = y.len();
        (0..n)
            .map(|i| {
                (0..=i)
                    .map(|j| {
                        (i..n)
                            .map(|k| y[j..=k].iter().sum::<f64>() / (k - j + 1) as f64)
                            .fold(f64::INFINITY, f64::min)
                    })
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect()
    }

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn pooling_adjacent_violators_matches_the_min_max_formula() {
        let mut next = lcg(9);
        for trial in 0..40 {
            let n = 3 + trial % 37;
            // Distinct outputs, shuffled; labels more likely for larger ones.
            let mut out: Vec<f32> = (0..n).map(|i| (i as f32 + 0.5) / n as f32).collect();
            for i in (1..n).rev() {
                out.swap(i, (next() * (i + 1) as f64) as usize);
            }
            let y: Vec<bool> = out.iter().map(|&o| next() < 0.2 + 0.6 * o as f64).collect();
            let Some(iso) = fit_isotonic(&out, &y) else {
                // Only a constant fit (every label equal) gives one knot.
                assert!(y.iter().all(|&v| v == y[0]), "trial {trial}");
                continue;
            };
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| out[a].total_cmp(&out[b]));
            let sorted: Vec<f64> = order.iter().map(|&i| f64::from(u8::from(y[i]))).collect();
            let want = min_max(&sorted);
            for (&i, w) in order.iter().zip(&want) {
                let w = w.clamp(
                    f64::from(PLATT_LOGIT_CLAMP),
                    1.0 - f64::from(PLATT_LOGIT_CLAMP),
                );
                let got = Calibration::Isotonic(iso.clone()).probability(out[i]);
                assert!(
                    (f64::from(got) - w).abs() < 1e-6,
                    "trial {trial}: {got} vs {w}"
                );
            }
        }
    }

    /// A probability output whose true calibration is a step (no sigmoid of
    /// its log-odds fits it): auto picks isotonic, with a lower cross-fitted
    /// log-loss than Platt, and the file's calibration is isotonic.
    #[test]
    fn isotonic_is_chosen_for_a_step_shaped_probability_output() {
        let mut next = lcg(3);
        let (mut out, mut y) = (Vec::new(), Vec::new());
        for _ in 0..6000 {
            let q = next() as f32;
            let truth = if q < 0.5 {
                0.05
            } else if q < 0.6 {
                0.5
            } else {
                0.9
            };
            out.push(q);
            y.push(next() < truth);
        }
        let fold_of: Vec<usize> = (0..out.len()).map(|i| i % 5).collect();
        let held = Held {
            outputs: &out,
            own: &out,
            labels: &y,
            fold_of: &fold_of,
            folds: 5,
        };
        let c = choose(
            CalibrationChoice::Auto,
            Calibration::Identity,
            Output::Probability,
            &held,
        )
        .unwrap();
        assert!(
            matches!(c.calibration, Calibration::Isotonic(_)),
            "{}",
            c.chosen_by
        );
        assert!(c.chosen_by.contains("isotonic"), "{}", c.chosen_by);
        let platt = choose(
            CalibrationChoice::Platt,
            Calibration::Identity,
            Output::Probability,
            &held,
        )
        .unwrap();
        assert!(log_loss(&c.probabilities, &y) < log_loss(&platt.probabilities, &y));
        // Near the step the calibrated probabilities follow it.
        let p = |q: f32| c.calibration.probability(q);
        assert!(p(0.2) < 0.1 && p(0.55) > 0.3 && p(0.55) < 0.7 && p(0.8) > 0.8);
        // A score output cannot be calibrated isotonically.
        assert!(choose(
            CalibrationChoice::Isotonic,
            Calibration::Logistic,
            Output::Score,
            &held
        )
        .is_err());
    }
}
