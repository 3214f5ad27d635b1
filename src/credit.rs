//! Credit conventions on top of a score: scorecard points (PDO scaling) and
//! reason codes (the principal features that pushed a customer towards the
//! positive, "bad", class), with texts from a reason catalogue.

use crate::explain::{Explanation, Unit};
use crate::num::F32;

/// Points-to-double-the-odds scaling: `base_score` points at good:bad odds
/// of `base_odds`:1, and every `pdo` points double the odds. Points rise
/// as risk falls, as on a bureau score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scorecard {
    pub base_score: f32,
    pub base_odds: f32,
    pub pdo: f32,
}

impl Default for Scorecard {
    fn default() -> Self {
        Scorecard {
            base_score: 600.0,
            base_odds: 50.0,
            pdo: 20.0,
        }
    }
}

impl Scorecard {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pdo.is_finite()
            && self.pdo > 0.0
            && self.base_odds.is_finite()
            && self.base_odds > 0.0
            && self.base_score.is_finite())
        {
            return Err(format!(
                "scorecard needs PDO > 0 and base odds > 0 (got PDO {}, odds {}, score {})",
                F32(self.pdo),
                F32(self.base_odds),
                F32(self.base_score)
            ));
        }
        Ok(())
    }

    /// Points per unit of log-odds (of "good").
    pub fn factor(&self) -> f64 {
        self.pdo as f64 / std::f64::consts::LN_2
    }

    pub fn offset(&self) -> f64 {
        self.base_score as f64 - self.factor() * libm::log(self.base_odds as f64)
    }

    /// Points for a log-odds of the *positive (bad)* class.
    pub fn points_for_log_odds(&self, log_odds_bad: f64) -> f64 {
        self.offset() - self.factor() * log_odds_bad
    }

    /// Points for a probability of the positive class.
    pub fn points(&self, p_bad: f64) -> f64 {
        self.points_for_log_odds(logit(p_bad))
    }
}

/// log(p / (1 − p)), clamped away from 0 and 1.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    libm::log(p / (1.0 - p))
}

/// Feature contributions and base value in log-odds of the positive class.
/// Probability-unit explanations (forests) are mapped with the secant of
/// the logit between the base value and the output, which keeps additivity.
pub fn log_odds_view(e: &Explanation) -> (f64, Vec<f64>) {
    match e.unit {
        Unit::LogOdds => (
            e.base as f64,
            e.contributions
                .iter()
                .map(|c| c.contribution as f64)
                .collect(),
        ),
        Unit::Probability => {
            let p0 = e.base as f64;
            let p1 = e.output as f64;
            let r = if (p1 - p0).abs() > 1e-9 {
                (logit(p1) - logit(p0)) / (p1 - p0)
            } else {
                let q = p0.clamp(1e-9, 1.0 - 1e-9);
                1.0 / (q * (1.0 - q))
            };
            (
                logit(p0),
                e.contributions
                    .iter()
                    .map(|c| r * c.contribution as f64)
                    .collect(),
            )
        }
    }
}

/// The score in points split by feature: `(base points, points per
/// feature)` with `base + Σ = the customer's points` (additive, because
/// points are affine in the log-odds).
pub fn points_breakdown(e: &Explanation, scorecard: &Scorecard) -> (f64, Vec<f64>) {
    let (base, lo) = log_odds_view(e);
    let f = scorecard.factor();
    (
        scorecard.points_for_log_odds(base),
        lo.iter().map(|c| -f * c).collect(),
    )
}

/// One reason text for a feature in one language. `{value}` in the text is
/// replaced by the customer's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonText {
    pub feature: String,
    pub lang: String,
    pub text: String,
}

/// A principal reason for a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub rank: u32,
    pub feature: String,
    pub value: String,
    /// Contribution towards the positive class, in the explanation's unit.
    pub contribution: f32,
    /// Scorecard points this feature cost the customer (negative).
    pub points: f32,
    pub text: String,
}

/// Default maximum number of reasons (Reg B practice: at most four).
pub const DEFAULT_REASONS: usize = 4;

/// `credit_amount` → `Credit amount`. Only an ASCII first letter is
/// capitalised: full Unicode case mapping would put its ~14 KB of tables in
/// the wasm bundle for a cosmetic change.
fn humanize(name: &str) -> String {
    let mut spaced = name.replace(['_', '.'], " ");
    if let Some(first) = spaced.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    spaced
}

/// `text` with every `{value}` replaced by `value` (byte search and checked
/// slicing: `str::replace` brings core's slicing panic and its Unicode
/// tables into the wasm bundle).
fn fill_value(text: &str, value: &str) -> String {
    fill(text, b"{value}", value)
}

/// `text` with every `slot` replaced by `value` (see [`fill_value`]).
fn fill(text: &str, slot: &[u8], value: &str) -> String {
    let mut out = String::with_capacity(text.len() + value.len());
    let mut rest = text;
    while let Some(i) = rest.as_bytes().windows(slot.len()).position(|w| w == slot) {
        out.push_str(rest.get(..i).unwrap_or_default());
        out.push_str(value);
        rest = rest.get(i + slot.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Generated text when the catalogue has none for a feature.
pub fn default_text(feature: &str, value: &str, lang: &str) -> String {
    match lang {
        "zh" | "zh-CN" | "zh-Hans" => format!("{feature} = {value}，提高了违约风险"),
        _ => format!("{}: {value} increases the risk", humanize(feature)),
    }
}

/// The reason text of a history's step: per channel its catalogue text
/// (the entry whose feature is the channel's name; `{value}` the step's
/// value, `{age}` e.g. "2 months ago") or "channel value", joined by ", ";
/// the age is appended unless a text placed it: "status 3, balance 1200
/// 2 months ago".
fn step_text(s: &crate::explain::Step, find: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for (ch, v) in &s.values {
        if !out.is_empty() {
            out.push_str(", ");
        }
        match find(ch) {
            Some(t) => out.push_str(&fill_value(&t, v)),
            None => {
                out.push_str(ch);
                out.push(' ');
                out.push_str(v);
            }
        }
    }
    let placed = fill(&out, b"{age}", &s.ago);
    if placed != out {
        return placed;
    }
    out.push(' ');
    out.push_str(&s.ago);
    out
}

/// Points below this (in magnitude) show as 0 and are never a reason.
pub const MIN_REASON_POINTS: f64 = 0.05;

/// The top `k` features that pushed the score towards the positive class,
/// largest first; ties keep schema order. A feature whose push is worth
/// less than [`MIN_REASON_POINTS`] scorecard points is no reason. Texts come from `catalogue` in
/// `lang` (falling back to English entries, then to generated text).
/// A protected attribute of `governance` is never a reason, even when the
/// model takes it as an input.
pub fn reasons(
    e: &Explanation,
    scorecard: &Scorecard,
    catalogue: &[ReasonText],
    k: usize,
    lang: &str,
    governance: Option<&crate::governance::Section>,
) -> Vec<Reason> {
    let (_, lo) = log_odds_view(e);
    let keys: Vec<f64> = e
        .contributions
        .iter()
        .map(|c| f64::from(c.contribution))
        .collect();
    let mut idx = crate::num::order_desc(&keys);
    let factor = scorecard.factor();
    idx.retain(|&i| {
        keys[i] > 0.0
            && factor * lo.get(i).copied().unwrap_or(0.0) >= MIN_REASON_POINTS
            && !governance.is_some_and(|g| g.is_protected(&e.contributions[i].feature))
    });
    idx.truncate(k);
    let lookup = |feature: &str, l: &str| {
        catalogue
            .iter()
            .find(|r| r.feature == feature && r.lang == l)
            .map(|r| r.text.clone())
    };
    idx.into_iter()
        .enumerate()
        .map(|(rank, i)| {
            let c = &e.contributions[i];
            let find = |f: &str| lookup(f, lang).or_else(|| lookup(f, "en"));
            let text = match &c.step {
                Some(step) => step_text(step, &find),
                None => find(&c.feature)
                    .map(|t| fill_value(&t, &c.value))
                    .unwrap_or_else(|| default_text(&c.feature, &c.value, lang)),
            };
            Reason {
                rank: rank as u32 + 1,
                feature: c.feature.clone(),
                value: c.value.clone(),
                contribution: c.contribution,
                points: (-scorecard.factor() * lo.get(i).copied().unwrap_or(0.0)) as f32,
                text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Contribution;

    #[test]
    fn value_slots_are_filled_as_str_replace_fills_them() {
        for t in [
            "",
            "{value}",
            "age {value} and {value}!",
            "{valu",
            "x{value}",
            "été {value} 年",
        ] {
            assert_eq!(fill_value(t, "35 ü"), t.replace("{value}", "35 ü"), "{t}");
        }
    }

    #[test]
    fn feature_names_read_as_words() {
        assert_eq!(humanize("credit_amount"), "Credit amount");
        assert_eq!(humanize("a.b"), "A b");
        assert_eq!(humanize("été_x"), "été x");
        assert_eq!(humanize(""), "");
    }

    #[test]
    fn points_are_finite_and_fall_as_the_probability_rises() {
        let s = Scorecard::default();
        let mut last = f64::INFINITY;
        for k in 1..10_000 {
            let p = f64::from(k) / 10_000.0;
            let pts = s.points(p);
            assert!(pts.is_finite() && pts < last, "p = {p}: {pts} after {last}");
            last = pts;
        }
        assert!(s.points(0.0).is_finite() && s.points(1.0).is_finite());
    }

    #[test]
    fn pdo_scaling_matches_its_definition() {
        let s = Scorecard::default();
        // At 50:1 good:bad odds the score is the base score.
        let p_bad = 1.0 / 51.0;
        assert!((s.points(p_bad) - 600.0).abs() < 1e-9);
        // Doubling the good odds adds PDO points.
        let p2 = 1.0 / 101.0;
        assert!((s.points(p2) - 620.0).abs() < 1e-9);
    }

    fn expl(unit: Unit, base: f32, c: &[f32]) -> Explanation {
        Explanation {
            base,
            output: base + c.iter().sum::<f32>(),
            unit,
            method: "test",
            convergence: None,
            contributions: c
                .iter()
                .enumerate()
                .map(|(i, &v)| Contribution {
                    feature: format!("f_{i}"),
                    value: format!("v{i}"),
                    contribution: v,
                    step: None,
                })
                .collect(),
            probability: 0.5,
            warnings: vec![],
        }
    }

    #[test]
    fn reasons_are_top_k_positive_with_stable_ties_and_catalogue_texts() {
        let e = expl(Unit::LogOdds, -1.0, &[0.5, -0.2, 0.9, 0.5, 0.1, 0.3]);
        let cat = vec![
            ReasonText {
                feature: "f_2".into(),
                lang: "en".into(),
                text: "Value {value} is high".into(),
            },
            ReasonText {
                feature: "f_2".into(),
                lang: "zh".into(),
                text: "{value} 偏高".into(),
            },
        ];
        let r = reasons(&e, &Scorecard::default(), &cat, 4, "en", None);
        let order: Vec<&str> = r.iter().map(|x| x.feature.as_str()).collect();
        assert_eq!(order, vec!["f_2", "f_0", "f_3", "f_5"]);
        assert_eq!(r[0].text, "Value v2 is high");
        assert_eq!(r[1].text, "F 0: v0 increases the risk");
        assert!((r[0].points as f64 + 0.9 * 20.0 / std::f64::consts::LN_2).abs() < 1e-4);
        let zh = reasons(&e, &Scorecard::default(), &cat, 2, "zh", None);
        assert_eq!(zh[0].text, "v2 偏高");
        assert_eq!(zh[1].text, "f_0 = v0，提高了违约风险");
        // Only features that pushed towards "bad" are reasons.
        let none = reasons(
            &expl(Unit::LogOdds, 0.0, &[-0.1, 0.0]),
            &Scorecard::default(),
            &[],
            4,
            "en",
            None,
        );
        assert!(none.is_empty());
        // A protected attribute is never a reason: the next feature moves up.
        let g = crate::governance::Section {
            protected: vec!["f_2".into()],
            report: String::new(),
        };
        let r = reasons(&e, &Scorecard::default(), &cat, 4, "en", Some(&g));
        let order: Vec<&str> = r.iter().map(|x| x.feature.as_str()).collect();
        assert_eq!(order, vec!["f_0", "f_3", "f_5", "f_4"]);
    }

    #[test]
    fn points_breakdown_adds_up_to_the_score() {
        let e = expl(Unit::LogOdds, -2.0, &[0.7, -0.3, 0.4]);
        let s = Scorecard::default();
        let (base, per) = points_breakdown(&e, &s);
        let total = base + per.iter().sum::<f64>();
        assert!(
            (total - s.points_for_log_odds(-2.0 + 0.8)).abs() < 1e-4,
            "{total}"
        );
        assert!(per[0] < 0.0 && per[1] > 0.0);
    }

    #[test]
    fn probability_explanations_map_additively_to_log_odds() {
        let e = expl(Unit::Probability, 0.3, &[0.2, -0.05, 0.1]);
        let (base, lo) = log_odds_view(&e);
        let total = base + lo.iter().sum::<f64>();
        assert!((total - logit(0.55)).abs() < 1e-6, "{total}");
    }
}
