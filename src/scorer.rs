//! The scorer: a loaded model file ready to score customers, explain scores
//! and evaluate labelled data. The CLI, the HTTP service and the wasm
//! bindings all go through this type, so they give the same numbers.

use crate::bundle::Bundle;
use crate::credit::{self, Reason};
use crate::csv::CsvText;
use crate::drift::{DriftCounts, DriftReport};
use crate::error::{CsvError, EvalError, FormatError, ScoreError};
use crate::explain::{self, Explanation};
use crate::format;
use crate::kinds::check_width;
use crate::metrics::{self, Metrics};
use crate::schema::{Feature, RawValue, Value, Warning, WarningKind};

/// Result of scoring one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of the positive class (e.g. `bad`).
    pub probability: f32,
    /// `probability >= threshold`.
    pub decision: bool,
    pub threshold: f32,
    /// Raw model output before calibration.
    pub margin: f32,
    pub warnings: Vec<Warning>,
}

/// One CSV row's outcome in batch scoring.
#[derive(Debug, Clone, PartialEq)]
pub enum RowScore {
    Scored { line: usize, probability: f32 },
    Failed { line: usize, error: ScoreError },
}

/// What to compute for each row beyond its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreOptions {
    /// Explain the score: contributions, principal reasons, points per feature.
    pub explain: bool,
    /// How many principal reasons (with `explain`).
    pub reasons: usize,
    /// Principal reasons for every customer, not only the refused ones
    /// (reason codes are owed for adverse decisions; default false).
    pub reasons_always: bool,
    /// Language of the reason texts.
    pub lang: String,
    /// Count scored rows into the model's drift bins (files with a profile).
    pub drift: bool,
    /// Attach a decision record ([`crate::record`]) to each scored row.
    pub record: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            explain: false,
            reasons: credit::DEFAULT_REASONS,
            reasons_always: false,
            lang: "en".into(),
            drift: false,
            record: false,
        }
    }
}

/// One scored row: its prediction and points, and with
/// [`ScoreOptions::explain`] the explanation, the principal reasons and the
/// points per feature (base, then one per feature in schema order).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub prediction: Prediction,
    pub points: f32,
    pub explanation: Option<Explanation>,
    pub reasons: Vec<Reason>,
    pub breakdown: Option<(f32, Vec<f32>)>,
    /// With [`ScoreOptions::record`]: the decision record.
    pub record: Option<crate::views::RecordView>,
}

/// The one row-scoring path: parse → design row → score → explain →
/// warnings, for rows given by name (a JSON or JS customer) or as CSV cells.
/// The CLI's `predict` and `explain`, the service's `/predict`, the
/// trainer's evaluation and the wasm batch paths all score through it. It
/// reuses its buffers, counts rows into the drift bins when asked, and
/// tallies scored and failed rows; an error leaves it usable.
#[derive(Debug)]
pub struct RowScorer<'s> {
    scorer: &'s Scorer,
    opts: ScoreOptions,
    x: Vec<f32>,
    drift: Option<DriftCounts>,
    /// Rows scored so far.
    pub scored: u64,
    /// Rows that failed so far.
    pub failed: u64,
}

impl<'s> RowScorer<'s> {
    /// Scores parsed values; `warnings` are those of parsing. A row whose
    /// every feature is missing is an error ("no values"), not the score of
    /// the imputed typical customer.
    pub fn score_values(
        &mut self,
        values: &[Value],
        mut warnings: Vec<Warning>,
    ) -> Result<Scored, ScoreError> {
        let result = if values.iter().all(|v| *v == Value::Missing) {
            Err(ScoreError::NoValues)
        } else {
            self.score_inner(values, &mut warnings)
        };
        match result {
            Ok(mut s) => {
                self.scored += 1;
                s.prediction.warnings = warnings;
                if self.opts.record {
                    s.record = Some(crate::record::build(self.scorer, values, &s, &self.opts));
                }
                Ok(s)
            }
            Err(e) => {
                self.failed += 1;
                Err(e)
            }
        }
    }

    fn score_inner(
        &mut self,
        values: &[Value],
        warnings: &mut Vec<Warning>,
    ) -> Result<Scored, ScoreError> {
        let sc = self.scorer;
        sc.design_row(values, &mut self.x, warnings)?;
        let b = &sc.bundle;
        let margin = b.model.output(&self.x);
        let probability = finite_probability(b.calibration.probability(margin))?;
        if let Some(c) = self.drift.as_mut() {
            sc.count_drift(c, values, probability);
        }
        let refused = probability >= b.threshold;
        let (explanation, reasons, breakdown) = if self.opts.explain {
            let e = sc.explain_design(values, &self.x, Vec::new())?;
            let r = if refused || self.opts.reasons_always {
                sc.reasons(&e, self.opts.reasons, &self.opts.lang)
            } else {
                Vec::new()
            };
            let bd = sc.points_breakdown(&e);
            (Some(e), r, Some(bd))
        } else {
            (None, Vec::new(), None)
        };
        Ok(Scored {
            prediction: Prediction {
                probability,
                decision: refused,
                threshold: b.threshold,
                margin,
                warnings: Vec::new(),
            },
            points: sc.points(probability),
            explanation,
            reasons,
            breakdown,
            record: None,
        })
    }

    /// Scores a customer given as `(feature name, value)` pairs.
    pub fn score_fields<'a, I>(&mut self, fields: I) -> Result<Scored, ScoreError>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        match self.scorer.parse_record(fields) {
            Ok((values, warnings)) => self.score_values(&values, warnings),
            Err(e) => {
                self.failed += 1;
                Err(e)
            }
        }
    }

    /// Scores one CSV row (cells in header order; `map` from
    /// [`Scorer::map_header`]).
    pub fn score_cells(
        &mut self,
        map: &[Option<usize>],
        cells: &[String],
    ) -> Result<Scored, ScoreError> {
        match self.scorer.parse_row(map, cells) {
            Ok(values) => self.score_values(&values, Vec::new()),
            Err(e) => {
                self.failed += 1;
                Err(e)
            }
        }
    }

    /// Drift counts so far (when asked for and the file has a profile).
    pub fn drift(&self) -> Option<&DriftCounts> {
        self.drift.as_ref()
    }

    pub fn into_drift(self) -> Option<DriftCounts> {
        self.drift
    }

    /// Counts into `counts` from now on (the drift counts of earlier rows
    /// of the same stream, e.g. a CSV scored chunk by chunk); `None` stops
    /// counting.
    pub fn with_drift(mut self, counts: Option<DriftCounts>) -> Self {
        self.drift = counts;
        self
    }
}

/// A probability a lender can act on, or an error: a model whose finite
/// parameters overflow for this row (e.g. weights near `f32::MAX`) gives NaN,
/// which is never passed off as 0.5.
fn finite_probability(p: f32) -> Result<f32, ScoreError> {
    if p.is_nan() {
        Err(ScoreError::NotFiniteOutput)
    } else {
        Ok(p)
    }
}

/// Feature name -> schema index: open addressing over FNV-1a hashes of
/// the names, slots holding index + 1 (0: empty), at least twice as many
/// slots as names. Not std's `HashMap`: its SipHash and table code cost
/// the wasm bundle more (the size pass, ARCHITECTURE.md). The names come
/// from the file, so colliding ones can only make a lookup a scan of them.
#[derive(Debug, Clone)]
struct Names {
    slots: Vec<u32>,
}

impl Names {
    fn hash(name: &str) -> usize {
        let mut h = 0xcbf2_9ce4_8422_2325_u64;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h as usize
    }

    /// The index of `features`' names; `Err` names one that appears twice.
    fn new(features: &[Feature]) -> Result<Names, &str> {
        let mask = (2 * features.len()).next_power_of_two().max(2) - 1;
        let mut slots = vec![0u32; mask + 1];
        for (i, f) in features.iter().enumerate() {
            let mut k = Names::hash(&f.name) & mask;
            while let Some(slot) = slots.get_mut(k) {
                if *slot == 0 {
                    *slot = u32::try_from(i + 1).map_err(|_| f.name.as_str())?;
                    break;
                }
                if features
                    .get(*slot as usize - 1)
                    .is_some_and(|g| g.name == f.name)
                {
                    return Err(&f.name);
                }
                k = (k + 1) & mask;
            }
        }
        Ok(Names { slots })
    }

    /// The schema index of `name` (`features`: the names indexed).
    fn get(&self, features: &[Feature], name: &str) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut k = Names::hash(name) & mask;
        loop {
            let i = (*self.slots.get(k)? as usize).checked_sub(1)?;
            if features.get(i)?.name == name {
                return Some(i);
            }
            k = (k + 1) & mask;
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scorer {
    bundle: Bundle,
    width: usize,
    index: Names,
    /// Cost of one explanation (`Kind::cost`), computed once at load.
    explain_cost: u64,
    /// SHA-256 of the model file's body, as its header records it:
    /// decision records name the model by it.
    sha256: [u8; 32],
}

impl Scorer {
    /// Loads and checks a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Scorer, FormatError> {
        // `decode` validated the bundle.
        let (header, bundle) = format::decode_with_header(bytes)?;
        let mut s = Scorer::indexed(bundle)?;
        s.sha256 = header.checksum;
        Ok(s)
    }

    /// Wraps an in-memory bundle (validated here too).
    pub fn new(bundle: Bundle) -> Result<Scorer, FormatError> {
        bundle.validate().map_err(FormatError::Invalid)?;
        // Records name the body this bundle encodes to.
        let bytes = format::encode(&bundle)?;
        let mut s = Scorer::indexed(bundle)?;
        if let Some(c) = bytes.get(20..format::HEADER_LEN) {
            s.sha256.copy_from_slice(c);
        }
        Ok(s)
    }

    /// A validated bundle with its feature index and explanation cost.
    fn indexed(bundle: Bundle) -> Result<Scorer, FormatError> {
        let index = Names::new(&bundle.schema.features).map_err(|name| {
            FormatError::Invalid(format!("feature '{name}' appears twice in the schema"))
        })?;
        let groups = crate::kinds::groups(&bundle.schema);
        let explain_cost = bundle.model.cost(&bundle.design(&groups)).explain;
        Ok(Scorer {
            width: bundle.schema.width(),
            bundle,
            index,
            explain_cost,
            sha256: [0; 32],
        })
    }

    /// Hex SHA-256 of the model file's body (the checksum its header
    /// carries, shown by `ferrisk inspect`): the same for a signed and an
    /// unsigned copy of the file.
    pub fn model_sha256(&self) -> String {
        crate::record::hex(&self.sha256)
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    pub fn into_bundle(self) -> Bundle {
        self.bundle
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.index.get(&self.bundle.schema.features, name)
    }

    /// Parses a customer given as `(feature name, value)` pairs. Features
    /// not given are missing; names the model does not know are ignored
    /// with a warning (except the label column).
    pub fn parse_record<'a, I>(&self, fields: I) -> Result<(Vec<Value>, Vec<Warning>), ScoreError>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        let schema = &self.bundle.schema;
        let mut values = vec![Value::Missing; schema.features.len()];
        let mut warnings = Vec::new();
        for (name, raw) in fields {
            match self.feature_index(name) {
                Some(i) => values[i] = schema.parse_value(i, raw)?,
                None if name == schema.label => {}
                None => warnings.push(Warning {
                    feature: name.to_string(),
                    message: "not a feature of this model; ignored".into(),
                    kind: WarningKind::NotAFeature,
                }),
            }
        }
        Ok((values, warnings))
    }

    /// Builds the design row `x` (resized to the design width) for parsed values.
    pub fn design_row(
        &self,
        values: &[Value],
        x: &mut Vec<f32>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), ScoreError> {
        x.clear();
        x.resize(self.width, 0.0);
        self.bundle.schema.encode(values, x, warnings)
    }

    /// A row scorer with these options (see [`RowScorer`]).
    pub fn rows(&self, opts: ScoreOptions) -> RowScorer<'_> {
        RowScorer {
            scorer: self,
            drift: if opts.drift {
                self.drift_counter()
            } else {
                None
            },
            opts,
            x: Vec::with_capacity(self.width),
            scored: 0,
            failed: 0,
        }
    }

    /// Probability for an encoded design row.
    pub fn probability(&self, x: &[f32]) -> Result<f32, ScoreError> {
        check_width(x, self.width)?;
        finite_probability(
            self.bundle
                .calibration
                .probability(self.bundle.model.output(x)),
        )
    }

    /// Scores one customer.
    pub fn predict<'a, I>(&self, fields: I) -> Result<Prediction, ScoreError>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        Ok(self
            .rows(ScoreOptions::default())
            .score_fields(fields)?
            .prediction)
    }

    /// Per-feature contributions for one customer (see [`explain`]).
    pub fn explain<'a, I>(&self, fields: I) -> Result<Explanation, ScoreError>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        let (values, mut warnings) = self.parse_record(fields)?;
        let mut x = Vec::with_capacity(self.width);
        self.design_row(&values, &mut x, &mut warnings)?;
        self.explain_design(&values, &x, warnings)
    }

    /// Explanation for already parsed and encoded values (batch paths).
    pub fn explain_encoded(&self, values: &[Value], x: &[f32]) -> Result<Explanation, ScoreError> {
        check_width(x, self.width)?;
        self.explain_design(values, x, Vec::new())
    }

    /// Explains a design row, refusing a model whose explanation costs more
    /// than [`crate::kinds::EXPLAIN_BUDGET`] (with the figure).
    fn explain_design(
        &self,
        values: &[Value],
        x: &[f32],
        warnings: Vec<Warning>,
    ) -> Result<Explanation, ScoreError> {
        if self.explain_cost > crate::kinds::EXPLAIN_BUDGET {
            return Err(ScoreError::ExplainBudget {
                cost: self.explain_cost,
                budget: crate::kinds::EXPLAIN_BUDGET,
            });
        }
        explain::explain(&self.bundle, values, x, warnings)
    }

    /// Maps CSV header columns to feature indices; every feature must be present.
    pub fn map_header(&self, header: &[String]) -> Result<Vec<Option<usize>>, CsvError> {
        for f in &self.bundle.schema.features {
            if !header.iter().any(|h| h == &f.name) {
                return Err(CsvError::MissingColumn {
                    name: f.name.clone(),
                });
            }
        }
        Ok(header.iter().map(|h| self.feature_index(h)).collect())
    }

    /// Parses one CSV row (fields in header order) into values.
    pub fn parse_row(
        &self,
        map: &[Option<usize>],
        fields: &[String],
    ) -> Result<Vec<Value>, ScoreError> {
        let schema = &self.bundle.schema;
        let mut values = vec![Value::Missing; schema.features.len()];
        for (slot, cell) in map.iter().zip(fields) {
            if let Some(i) = *slot {
                values[i] = schema.parse_value(i, RawValue::Text(cell))?;
            }
        }
        Ok(values)
    }

    /// Scores every row of a CSV text. A bad row is reported and skipped;
    /// a structural CSV problem (ragged row, bad quoting) stops the run.
    /// `progress(done_rows)` is called every 4096 rows.
    pub fn score_csv(
        &self,
        text: &str,
        progress: impl FnMut(usize),
    ) -> Result<Vec<RowScore>, CsvError> {
        Ok(self.score_csv_counted(text, progress)?.0)
    }

    /// [`Scorer::score_csv`] that also counts the scored rows into the
    /// model's drift bins (when the file has a drift profile).
    pub fn score_csv_counted(
        &self,
        text: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<(Vec<RowScore>, Option<DriftCounts>), CsvError> {
        let mut rows = self.rows(ScoreOptions {
            drift: true,
            ..ScoreOptions::default()
        });
        let mut csv = CsvText::parse(text)?;
        let map = self.map_header(csv.header())?;
        let mut out = Vec::new();
        for row in &mut csv {
            let (line, fields) = row?;
            out.push(match rows.score_cells(&map, &fields) {
                Ok(s) => RowScore::Scored {
                    line,
                    probability: s.prediction.probability,
                },
                Err(error) => RowScore::Failed { line, error },
            });
            if out.len() % 4096 == 0 {
                progress(out.len());
            }
        }
        Ok((out, rows.into_drift()))
    }

    /// Empty drift counters for this model, if its file has a drift profile.
    pub fn drift_counter(&self) -> Option<DriftCounts> {
        self.bundle.drift.as_ref().map(|d| d.counter())
    }

    /// Counts one scored row into `counts`.
    pub fn count_drift(&self, counts: &mut DriftCounts, values: &[Value], probability: f32) {
        if let Some(d) = &self.bundle.drift {
            d.add(counts, values, probability);
        }
    }

    /// PSI per feature and for the score from accumulated counts.
    pub fn drift_report(&self, counts: &DriftCounts) -> Result<DriftReport, ScoreError> {
        let Some(d) = &self.bundle.drift else {
            return Err(ScoreError::Unsupported(
                "this model file has no drift profile (format v1)".into(),
            ));
        };
        d.report(&self.bundle.schema, counts)
            .map_err(ScoreError::Unsupported)
    }

    /// For the attention model: the [CLS] attention weight on each feature
    /// for this customer (last block, mean over heads).
    pub fn attention<'a, I>(&self, fields: I) -> Result<Vec<(String, f32)>, ScoreError>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        let Some(a) = self.bundle.model.as_attention() else {
            return Err(ScoreError::Unsupported(format!(
                "attention weights exist only for the attention model, not for {}",
                self.bundle.algorithm.name
            )));
        };
        let (values, mut warnings) = self.parse_record(fields)?;
        let mut x = Vec::with_capacity(self.width);
        self.design_row(&values, &mut x, &mut warnings)?;
        let w = a.cls_attention(&x);
        Ok(self
            .bundle
            .schema
            .features
            .iter()
            .map(|f| f.name.clone())
            .zip(w)
            .collect())
    }

    /// Scorecard points for a probability of the positive class.
    pub fn points(&self, probability: f32) -> f32 {
        self.bundle.scorecard.points(probability as f64) as f32
    }

    /// Base points and each feature's points (schema order) for an explanation.
    pub fn points_breakdown(&self, e: &Explanation) -> (f32, Vec<f32>) {
        let (base, per) = credit::points_breakdown(e, &self.bundle.scorecard);
        (base as f32, per.into_iter().map(|p| p as f32).collect())
    }

    /// The top `k` reasons for an explanation, texts in `lang`.
    pub fn reasons(&self, e: &Explanation, k: usize, lang: &str) -> Vec<Reason> {
        credit::reasons(
            e,
            &self.bundle.scorecard,
            &self.bundle.reasons,
            k,
            lang,
            self.bundle.governance.as_ref(),
        )
    }

    /// Parses a label cell: `Some(true)` for the positive class.
    pub fn parse_label(&self, cell: &str) -> Option<bool> {
        let t = cell.trim();
        let s = &self.bundle.schema;
        if t == s.positive {
            Some(true)
        } else if t == s.negative {
            Some(false)
        } else {
            None
        }
    }

    /// Scores a labelled CSV and computes the metrics at the model's
    /// threshold. Any bad row is an error naming its line: metrics over a
    /// silently filtered file would mislead.
    pub fn evaluate_csv(
        &self,
        text: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Metrics, EvalError> {
        let mut csv = CsvText::parse(text)?;
        let map = self.map_header(csv.header())?;
        let label = &self.bundle.schema.label;
        let label_col = csv
            .header()
            .iter()
            .position(|h| h == label)
            .ok_or_else(|| CsvError::MissingColumn {
                name: label.clone(),
            })?;
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        let mut rows = self.rows(ScoreOptions::default());
        for row in &mut csv {
            let (line, fields) = row?;
            let cell = fields.get(label_col).map(String::as_str).unwrap_or("");
            let y = self.parse_label(cell).ok_or_else(|| EvalError::Label {
                line,
                column: label.clone(),
                value: cell.trim().to_string(),
                positive: self.bundle.schema.positive.clone(),
                negative: self.bundle.schema.negative.clone(),
            })?;
            let p = rows
                .score_cells(&map, &fields)
                .map_err(|source| EvalError::Row { line, source })?
                .prediction
                .probability;
            probs.push(p);
            labels.push(y);
            if probs.len() % 4096 == 0 {
                progress(probs.len());
            }
        }
        if probs.is_empty() {
            return Err(CsvError::NoRows.into());
        }
        metrics::compute(&probs, &labels, self.bundle.threshold).ok_or_else(|| {
            let only = if labels.first().copied().unwrap_or(false) {
                self.bundle.schema.positive.clone()
            } else {
                self.bundle.schema.negative.clone()
            };
            EvalError::OneClass(only)
        })
    }

    /// Human description of what explanations this model supports.
    pub fn explanation_method(&self) -> &'static str {
        explain::method(&self.bundle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FeatureKind, NumericFeature};

    fn feature(name: String) -> Feature {
        Feature {
            name,
            kind: FeatureKind::Numeric(NumericFeature {
                min: 0.0,
                max: 1.0,
                mean: 0.5,
                std: 1.0,
                median: 0.5,
            }),
            missing_rate: 0.0,
        }
    }

    /// The name index finds what a scan of the names finds, for schemas of
    /// every size up to 600 names (many share hash slots), and refuses a
    /// name given twice.
    #[test]
    fn the_name_index_agrees_with_a_scan() {
        for n in [0usize, 1, 2, 3, 7, 64, 600] {
            let features: Vec<Feature> = (0..n)
                .map(|i| feature(format!("f{}", i * 7919 % 1000)))
                .collect();
            let names = Names::new(&features).unwrap();
            let scan = |q: &str| features.iter().position(|f| f.name == q);
            for q in (0..1200)
                .map(|i| format!("f{i}"))
                .chain(["".into(), "é".into()])
            {
                assert_eq!(names.get(&features, &q), scan(&q), "{n} names, {q}");
            }
            if n > 1 {
                let mut twice = features.clone();
                twice.push(feature(features[n / 2].name.clone()));
                assert_eq!(Names::new(&twice).unwrap_err(), features[n / 2].name);
            }
        }
    }
}
