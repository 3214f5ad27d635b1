//! Target `model`: the model reader and everything a loaded file reaches.
//!
//! One execution: `Scorer::from_bytes`; for a file that loads, `predict` on
//! a handful of varied customers built from the file's own schema, one
//! `explain`, one fully explained row through `RowScorer` (reasons, points),
//! block scoring (`Model::outputs`, compared bit for bit with
//! `Model::output`), the attention weights, the drift report and the
//! schema/metadata views.

use ferrisk::schema::FeatureKind;
use ferrisk::views::{MetadataView, SchemaView, ScoredView};
use ferrisk::{Bundle, RawValue, ScoreOptions, Scorer};

use crate::corpus::Seed;
use crate::mutate::{mutate, Source};
use crate::rng::Rng;
use crate::{Input, Outcome};

/// An owned raw value (customers are built per file).
#[derive(Debug, Clone)]
enum Raw {
    Missing,
    Number(f64),
    Text(String),
}

fn fields(row: &[(String, Raw)]) -> Vec<(&str, RawValue<'_>)> {
    row.iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                match v {
                    Raw::Missing => RawValue::Missing,
                    Raw::Number(x) => RawValue::Number(*x),
                    Raw::Text(t) => RawValue::Text(t),
                },
            )
        })
        .collect()
}

/// Customers that differ in every feature the schema has: its own
/// statistics and categories, an unknown category, and all missing.
fn customers(b: &Bundle) -> Vec<Vec<(String, Raw)>> {
    let mut rows = Vec::new();
    for r in 0..6usize {
        let mut row = Vec::new();
        for f in &b.schema.features {
            let v = match &f.kind {
                FeatureKind::Numeric(n) => {
                    let (lo, hi) = (n.min as f64, n.max as f64);
                    let x = match r {
                        0 => lo,
                        1 => hi,
                        2 => n.median as f64,
                        3 => n.mean as f64 - 2.0 * n.std as f64,
                        4 => n.mean as f64 + 2.0 * n.std as f64,
                        _ => lo + (hi - lo) * 0.37,
                    };
                    if x.is_finite() && (x as f32).is_finite() {
                        Raw::Number(x)
                    } else {
                        Raw::Number(r as f64 - 2.5)
                    }
                }
                FeatureKind::Categorical(c) => {
                    if r == 5 || c.categories.is_empty() {
                        Raw::Text("<unknown category>".into())
                    } else {
                        Raw::Text(c.categories[r % c.categories.len()].clone())
                    }
                }
            };
            row.push((f.name.clone(), v));
        }
        rows.push(row);
    }
    rows.push(
        b.schema
            .features
            .iter()
            .map(|f| (f.name.clone(), Raw::Missing))
            .collect(),
    );
    rows
}

/// What a file does with the varied customers (for `replay --verbose`).
pub fn describe(bytes: &[u8]) -> Vec<String> {
    let scorer = match Scorer::from_bytes(bytes) {
        Ok(s) => s,
        Err(e) => return vec![format!("refused: {e}")],
    };
    let b = scorer.bundle();
    let mut out = vec![format!(
        "loads: {} ({}), calibration {:?}, {} features, width {}",
        b.model.tag(),
        b.model.summary(),
        b.calibration,
        b.schema.features.len(),
        scorer.width()
    )];
    let rows = customers(b);
    for (i, row) in rows.iter().enumerate() {
        let t = std::time::Instant::now();
        match scorer.predict(fields(row)) {
            Ok(p) => out.push(format!(
                "customer {i}: p = {} margin = {} ({:.1} ms)",
                p.probability,
                p.margin,
                t.elapsed().as_secs_f64() * 1e3
            )),
            Err(e) => out.push(format!("customer {i}: {e}")),
        }
    }
    if let Some(row) = rows.first() {
        let t = std::time::Instant::now();
        let e = scorer.explain(fields(row));
        out.push(format!(
            "explain customer 0 took {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        ));
        match e {
            Ok(e) => out.push(format!(
                "explain customer 0: unit {:?}, base {}, output {}, contributions {:?}",
                e.unit,
                e.base,
                e.output,
                e.contributions
                    .iter()
                    .map(|c| c.contribution)
                    .collect::<Vec<_>>()
            )),
            Err(e) => out.push(format!("explain customer 0: {e}")),
        }
    }
    out
}

fn bad(p: f32) -> bool {
    !(0.0..=1.0).contains(&p)
}

/// Runs one model file through the runtime and checks the oracles.
pub fn execute(bytes: &[u8]) -> Outcome {
    let scorer = match Scorer::from_bytes(bytes) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::rejected(crate::error_class(&format!("{e:?}"), &e.to_string()));
        }
    };
    let mut out = Outcome::accepted();
    let b = scorer.bundle();
    let tag = b.model.tag();
    let cal = match b.calibration {
        ferrisk::Calibration::Identity => "identity",
        ferrisk::Calibration::Logistic => "logistic",
        ferrisk::Calibration::Platt { .. } => "platt",
        ferrisk::Calibration::PlattLogit { .. } => "platt-logit",
        ferrisk::Calibration::Isotonic(_) => "isotonic",
    };
    let sig = format!("{tag}/{cal}");
    let rows = customers(b);

    // Scoring, one customer at a time.
    let mut probs = Vec::new();
    let mut xs: Vec<f32> = Vec::new();
    let mut designs: Vec<Vec<f32>> = Vec::new();
    let mut rs = scorer.rows(ScoreOptions {
        drift: true,
        ..ScoreOptions::default()
    });
    for row in &rows {
        match rs.score_fields(fields(row)) {
            Ok(s) => {
                let p = s.prediction.probability;
                if p.is_nan() {
                    out.find("nan-probability", &sig, "predict gave NaN");
                } else if bad(p) {
                    out.find("probability-out-of-range", &sig, &format!("p = {p}"));
                }
                if s.prediction.margin.is_nan() {
                    out.find(
                        "nan-margin",
                        &sig,
                        &format!("model output NaN, reported as p = {p}"),
                    );
                }
                if s.points.is_nan() {
                    out.find("nan-points", &sig, "scorecard points NaN");
                }
                probs.push(p);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        if let Ok((values, mut warnings)) = scorer.parse_record(fields(row)) {
            let mut x = Vec::new();
            if scorer.design_row(&values, &mut x, &mut warnings).is_ok() {
                xs.extend_from_slice(&x);
                designs.push(x);
            }
        }
    }
    if let Some(counts) = rs.into_drift() {
        if let Ok(report) = scorer.drift_report(&counts) {
            if report.features.iter().any(|(_, psi)| psi.is_nan()) || report.score.is_nan() {
                out.find("nan-psi", &sig, "drift report has a NaN PSI");
            }
        }
    }

    // The oracle of a varied input: not one probability for all.
    let varied = designs.windows(2).any(|w| {
        w[0].iter()
            .zip(&w[1])
            .any(|(a, c)| a.to_bits() != c.to_bits())
    });
    if probs.len() >= 3 && varied && probs.windows(2).all(|w| w[0].to_bits() == w[1].to_bits()) {
        let how = if probs[0] == 0.0 || probs[0] == 1.0 {
            "saturated"
        } else {
            "flat"
        };
        out.find(
            "constant-model",
            &format!("{sig}/{how}"),
            &format!("{} varied customers all scored {}", probs.len(), probs[0]),
        );
    }

    // One explanation, and one fully explained row (reasons, points).
    if let Some(row) = rows.first() {
        if let Ok(e) = scorer.explain(fields(row)) {
            let sum: f64 = e.contributions.iter().map(|c| c.contribution as f64).sum();
            if !(e.base.is_finite() && sum.is_finite()) {
                out.find(
                    "explain-not-finite",
                    &sig,
                    &format!("base {} + contributions {sum}", e.base),
                );
            } else if let Some(x) = designs.first() {
                let m = b.model.output(x) as f64;
                let want = match b.calibration.log_odds_affine() {
                    Some((s, o)) => s as f64 * m + o as f64,
                    None => m,
                };
                let got = e.base as f64 + sum;
                if want.is_finite() && (got - want).abs() > 1e-3 * (1.0 + want.abs()) {
                    out.find(
                        "explain-not-additive",
                        &sig,
                        &format!("base + sum = {got}, output {want}"),
                    );
                }
            }
        }
        let mut full = scorer.rows(ScoreOptions {
            explain: true,
            reasons: 3,
            ..ScoreOptions::default()
        });
        if let Ok(s) = full.score_fields(fields(row)) {
            let _ = ScoredView::from(&s);
        }
        if b.model.as_attention().is_some() {
            let _ = scorer.attention(fields(row));
        }
    }

    // Block scoring gives every row the bits of the one-row path.
    let width = scorer.width();
    if width > 0 && !designs.is_empty() {
        let mut block = vec![0.0f32; designs.len()];
        b.model.outputs(&xs, width, &mut block);
        for (x, o) in designs.iter().zip(&block) {
            let one = b.model.output(x);
            if one.to_bits() != o.to_bits() && !(one.is_nan() && o.is_nan()) {
                out.find(
                    "block-mismatch",
                    &sig,
                    &format!("outputs {o} vs output {one}"),
                );
                break;
            }
        }
        // Ragged buffers are cut, never indexed past.
        let mut short = vec![0.0f32; designs.len() + 1];
        b.model
            .outputs(&xs[..xs.len().saturating_sub(1)], width, &mut short);
    }
    let _ = SchemaView::new(b);
    let _ = MetadataView::new(b, 3);
    out
}

/// Generates mutated model files from the seeds (goldens, crafted bundles
/// and mutants that loaded), and keeps mutants that load as new seeds.
pub struct Generator {
    seeds: Vec<Seed>,
    fixed: usize,
    /// Index of the seed of the last input (for feedback).
    last: Option<(usize, Vec<String>)>,
    pub crafted: u64,
}

const MAX_SEEDS: usize = 192;

impl Generator {
    pub fn new(rng: &mut Rng) -> Generator {
        let mut seeds = crate::corpus::golden_seeds();
        for i in 0..24 {
            let b = crate::craft::random_bundle(rng);
            if let Some(f) = crate::craft::file(&b) {
                if let Some(s) = Seed::from_file(format!("craft/{i}"), &f) {
                    seeds.push(s);
                }
            }
        }
        let fixed = seeds.len();
        Generator {
            seeds,
            fixed,
            last: None,
            crafted: 0,
        }
    }

    pub fn seeds(&self) -> usize {
        self.seeds.len()
    }

    pub fn untraced(&self) -> Vec<&str> {
        self.seeds
            .iter()
            .filter(|s| s.layout.is_none())
            .map(|s| s.name.as_str())
            .collect()
    }

    pub fn next(&mut self, rng: &mut Rng) -> Input {
        // A fresh structure-aware bundle, sometimes.
        if rng.one_in(12) {
            self.crafted += 1;
            let b = crate::craft::random_bundle(rng);
            if let Some(f) = crate::craft::file(&b) {
                self.last = None;
                let bytes = if rng.coin() {
                    f
                } else if let Some(seed) = Seed::from_file("craft".into(), &f) {
                    let (body, notes) = mutate(
                        rng,
                        &Source {
                            body: &seed.body,
                            layout: seed.layout.as_ref(),
                        },
                        None,
                        3,
                    );
                    let _ = notes;
                    ferrisk::format::frame(seed.version, seed.min_reader, &body)
                } else {
                    f
                };
                return Input {
                    bytes,
                    note: "craft: random bundle".into(),
                };
            }
        }
        let i = rng.below(self.seeds.len());
        let j = rng.below(self.seeds.len());
        let (Some(seed), Some(other)) = (self.seeds.get(i), self.seeds.get(j)) else {
            return Input {
                bytes: Vec::new(),
                note: "empty".into(),
            };
        };
        let src = Source {
            body: &seed.body,
            layout: seed.layout.as_ref(),
        };
        let oth = Source {
            body: &other.body,
            layout: other.layout.as_ref(),
        };
        let (body, notes) = mutate(rng, &src, Some(&oth), 5);
        let (version, min_reader) = if rng.one_in(24) {
            *rng.pick(&[
                (1, 1),
                (2, 1),
                (2, 2),
                (3, 1),
                (3, 3),
                (4, 1),
                (4, 3),
                (7, 2),
            ])
            .unwrap_or(&(3, 1))
        } else {
            (seed.version, seed.min_reader)
        };
        let bytes = ferrisk::format::frame(version, min_reader, &body);
        let note = format!("{} [{}]: {}", seed.name, other.name, notes.join(" + "));
        self.last = Some((i, notes));
        Input { bytes, note }
    }

    /// A mutant that loaded becomes a seed now and then.
    pub fn feedback(&mut self, rng: &mut Rng, input: &Input, outcome: &Outcome) {
        if !outcome.loaded || self.last.is_none() || !rng.one_in(4) {
            return;
        }
        let Some(seed) = Seed::from_file(format!("mutant/{}", self.seeds.len()), &input.bytes)
        else {
            return;
        };
        if self.seeds.len() < MAX_SEEDS {
            self.seeds.push(seed);
        } else if self.seeds.len() > self.fixed {
            let k = self.fixed + rng.below(self.seeds.len() - self.fixed);
            if let Some(slot) = self.seeds.get_mut(k) {
                *slot = seed;
            }
        }
    }
}
