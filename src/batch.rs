//! Column-major batch scoring: many customers given as columns of numbers
//! and category codes (the fast path of the browser's `predictBatch`).
//!
//! A [`BatchPlan`] is built once per [`Scorer`]: for every feature, where its
//! input column is, where it goes in the design row, and the preprocessing
//! constants [`crate::Schema::encode`] applies to it, copied so the loop
//! reads no schema. [`BatchPlan::score`] encodes rows in blocks of
//! [`BLOCK_ROWS`] design rows (one reused buffer), scores each block with
//! [`crate::Model::outputs`] and calibrates. The encoder repeats
//! `Schema::encode`'s operations in the same order (without warnings), so
//! the probabilities are bit-identical to scoring the rows one by one; the
//! wasm golden and parity tests compare them bit for bit.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/lr.frk"))?;
//! use ferrisk::{batch::BatchPlan, Scorer};
//! let scorer = Scorer::from_bytes(&bytes)?;
//! let mut plan = BatchPlan::new(&scorer);
//! // Two customers, every value missing (NaN numbers, -1 codes): imputed.
//! let numeric = vec![f64::NAN; 2 * plan.numeric_columns()];
//! let codes = vec![-1; 2 * plan.categorical_columns()];
//! let p = plan.score(&scorer, &numeric, &codes, 2)?;
//! assert_eq!(p.len(), 2);
//! assert_eq!(p[0].to_bits(), p[1].to_bits());
//! # Ok(()) }
//! ```

use thiserror::Error;

use crate::schema::{FeatureKind, WarningKind};
use crate::scorer::Scorer;

/// Design rows encoded and scored together ([`crate::Model::outputs`]:
/// the same bits as row by row, faster for tree ensembles and RBF SVMs).
pub const BLOCK_ROWS: usize = 128;

/// A batch that cannot be scored. Rows count from 0 (positions in the batch).
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BatchError {
    #[error(
        "{what} has {got} values, expected rows × {kind} features = {rows} × {cols} = {want}",
        want = rows.saturating_mul(*cols)
    )]
    Shape {
        what: &'static str,
        kind: &'static str,
        got: usize,
        rows: usize,
        cols: usize,
    },
    #[error("row {row}, feature '{feature}': {} is not a finite number", crate::num::js(*value))]
    NotFinite {
        row: usize,
        feature: String,
        value: f64,
    },
    #[error(
        "row {row}, feature '{feature}': code {code} is not a category index (0 to {}) nor -1 for missing",
        width.saturating_sub(1)
    )]
    BadCode {
        row: usize,
        feature: String,
        code: i32,
        width: usize,
    },
    #[error("this batch plan was made for another model")]
    OtherModel,
}

/// Where one feature's input comes from and where it goes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Numeric feature: column `input` of `numeric`, design column `col`.
    Numeric {
        feature: usize,
        input: usize,
        col: usize,
        /// Value for a missing input: the median, or NaN when the model
        /// keeps missing values (gradient boosting).
        fill: f32,
        /// Standard scaling `(x - mean) / std`, when the encoding scales.
        scale: Option<(f32, f32)>,
        /// The training [min, max] (a value outside is noted), unless the
        /// feature had no training values.
        range: Option<(f32, f32)>,
    },
    /// Categorical feature: column `input` of `codes`, one-hot block at `col`.
    Categorical {
        feature: usize,
        input: usize,
        col: usize,
        width: usize,
        /// Category imputed for a missing input (the most frequent).
        mode: usize,
    },
}

/// The column plan of one model plus the block buffers it reuses.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    slots: Vec<Slot>,
    numeric: usize,
    categorical: usize,
    width: usize,
    block: Vec<f32>,
    margins: Vec<f32>,
}

impl BatchPlan {
    /// The plan for `scorer`'s model.
    pub fn new(scorer: &Scorer) -> BatchPlan {
        let schema = &scorer.bundle().schema;
        let mut slots = Vec::with_capacity(schema.features.len());
        let (mut numeric, mut categorical, mut col) = (0, 0, 0);
        for (feature, f) in schema.features.iter().enumerate() {
            match &f.kind {
                FeatureKind::Numeric(n) => {
                    slots.push(Slot::Numeric {
                        feature,
                        input: numeric,
                        col,
                        fill: if schema.encoding.impute_numeric {
                            n.median
                        } else {
                            f32::NAN
                        },
                        scale: schema.encoding.scale.then_some((n.mean, n.std)),
                        range: (f.missing_rate < 1.0).then_some((n.min, n.max)),
                    });
                    numeric += 1;
                    col += 1;
                }
                FeatureKind::Categorical(c) => {
                    let width = c.categories.len();
                    slots.push(Slot::Categorical {
                        feature,
                        input: categorical,
                        col,
                        width,
                        mode: c.mode as usize,
                    });
                    categorical += 1;
                    col += width;
                }
            }
        }
        BatchPlan {
            slots,
            numeric,
            categorical,
            width: scorer.width(),
            block: Vec::new(),
            margins: Vec::new(),
        }
    }

    /// Numeric features (columns of `numeric`), schema order.
    pub fn numeric_columns(&self) -> usize {
        self.numeric
    }

    /// Categorical features (columns of `codes`), schema order.
    pub fn categorical_columns(&self) -> usize {
        self.categorical
    }

    /// Scores `rows` customers given column-major: `numeric` holds the
    /// numeric features in schema order (NaN = missing, imputed as
    /// [`crate::Schema::encode`] does), `codes` the categorical features in
    /// schema order as indices into that feature's categories (-1 =
    /// missing). Returns one probability per row. A bad value fails the
    /// whole batch, naming its row and feature; the plan stays usable.
    pub fn score(
        &mut self,
        scorer: &Scorer,
        numeric: &[f64],
        codes: &[i32],
        rows: usize,
    ) -> Result<Vec<f32>, BatchError> {
        self.score_noted(scorer, numeric, codes, rows, None)
    }

    /// [`BatchPlan::score`], and each row's warnings in `notes`: row-major,
    /// one byte per row and schema feature, [`WarningKind::code`] of the
    /// warning the row-by-row path gives that cell (imputed, out of
    /// training range) or 0. Typed-array inputs cannot hold an unknown
    /// category (a bad code fails the batch).
    pub fn score_noted(
        &mut self,
        scorer: &Scorer,
        numeric: &[f64],
        codes: &[i32],
        rows: usize,
        mut notes: Option<&mut [u8]>,
    ) -> Result<Vec<f32>, BatchError> {
        if scorer.width() != self.width || scorer.bundle().schema.features.len() != self.slots.len()
        {
            return Err(BatchError::OtherModel);
        }
        let shape = |what, kind, got: usize, cols: usize| match rows.checked_mul(cols) {
            Some(want) if want == got => Ok(()),
            _ => Err(BatchError::Shape {
                what,
                kind,
                got,
                rows,
                cols,
            }),
        };
        shape("numeric", "numeric", numeric.len(), self.numeric)?;
        shape("codes", "categorical", codes.len(), self.categorical)?;
        if let Some(notes) = notes.as_deref_mut() {
            shape("notes", "schema", notes.len(), self.slots.len())?;
            notes.fill(0);
        }
        let width = self.width;
        self.block.resize(BLOCK_ROWS * width, 0.0);
        self.margins.resize(BLOCK_ROWS, 0.0);
        let bundle = scorer.bundle();
        let mut out = Vec::with_capacity(rows);
        let mut start = 0;
        while start < rows {
            let n = (rows - start).min(BLOCK_ROWS);
            self.encode_block(scorer, numeric, codes, rows, start, n)?;
            if let Some(notes) = notes.as_deref_mut() {
                self.note_block(numeric, codes, rows, start, n, notes);
            }
            let (xs, ms) = (
                self.block.get(..n * width).unwrap_or_default(),
                self.margins.get_mut(..n).unwrap_or_default(),
            );
            bundle.model.outputs(xs, width, ms);
            out.extend(ms.iter().map(|&m| bundle.calibration.probability(m)));
            start += n;
        }
        Ok(out)
    }

    /// The notes of rows `start..start + n` (inputs already checked by
    /// `encode_block`): the conditions of `Schema::encode`'s warnings.
    fn note_block(
        &self,
        numeric: &[f64],
        codes: &[i32],
        rows: usize,
        start: usize,
        n: usize,
        notes: &mut [u8],
    ) {
        let features = self.slots.len();
        for (feature, slot) in self.slots.iter().enumerate() {
            for r in start..start + n {
                let note = match *slot {
                    Slot::Numeric { input, range, .. } => {
                        let v = numeric.get(input * rows + r).copied().unwrap_or(f64::NAN);
                        let x = v as f32;
                        if v.is_nan() {
                            WarningKind::Imputed.code()
                        } else if range.is_some_and(|(lo, hi)| x < lo || x > hi) {
                            WarningKind::OutOfRange.code()
                        } else {
                            0
                        }
                    }
                    Slot::Categorical { input, .. } => {
                        if codes.get(input * rows + r) == Some(&-1) {
                            WarningKind::Imputed.code()
                        } else {
                            0
                        }
                    }
                };
                if let Some(cell) = notes.get_mut(r * features + feature) {
                    *cell = note;
                }
            }
        }
    }

    /// Encodes rows `start..start + n` of the batch into the block (`n`
    /// design rows), feature by feature, with `Schema::encode`'s operations
    /// in the same order. The input lengths were checked by the caller.
    fn encode_block(
        &mut self,
        scorer: &Scorer,
        numeric: &[f64],
        codes: &[i32],
        rows: usize,
        start: usize,
        n: usize,
    ) -> Result<(), BatchError> {
        let width = self.width;
        let name = |feature: usize| {
            scorer
                .bundle()
                .schema
                .features
                .get(feature)
                .map_or_else(String::new, |f| f.name.clone())
        };
        let block = self.block.get_mut(..n * width).unwrap_or_default();
        for slot in &self.slots {
            match *slot {
                Slot::Numeric {
                    feature,
                    input,
                    col,
                    fill,
                    scale,
                    ..
                } => {
                    let from = input * rows + start;
                    let column = numeric.get(from..from + n).unwrap_or_default();
                    for (k, (&v, x)) in column.iter().zip(block.chunks_exact_mut(width)).enumerate()
                    {
                        let raw = if v.is_nan() {
                            fill
                        } else {
                            let f = v as f32;
                            if !v.is_finite() || !f.is_finite() {
                                return Err(BatchError::NotFinite {
                                    row: start + k,
                                    feature: name(feature),
                                    value: v,
                                });
                            }
                            f
                        };
                        let enc = match scale {
                            Some((mean, std)) if !raw.is_nan() => (raw - mean) / std,
                            _ => raw,
                        };
                        if let Some(c) = x.get_mut(col) {
                            *c = enc;
                        }
                    }
                }
                Slot::Categorical {
                    feature,
                    input,
                    col,
                    width: w,
                    mode,
                } => {
                    let from = input * rows + start;
                    let column = codes.get(from..from + n).unwrap_or_default();
                    for (k, (&code, x)) in
                        column.iter().zip(block.chunks_exact_mut(width)).enumerate()
                    {
                        let one = match code {
                            -1 => mode,
                            c if c >= 0 && (c as usize) < w => c as usize,
                            code => {
                                return Err(BatchError::BadCode {
                                    row: start + k,
                                    feature: name(feature),
                                    code,
                                    width: w,
                                })
                            }
                        };
                        if let Some(onehot) = x.get_mut(col..col + w) {
                            onehot.fill(0.0);
                            if let Some(o) = onehot.get_mut(one) {
                                *o = 1.0;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::{is_missing, CsvText};
    use crate::RawValue;

    fn golden(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/golden/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Column-major inputs of the rows of synthetic.csv whose categories
    /// are known, and those rows' indices.
    fn columns(scorer: &Scorer, text: &str) -> (Vec<f64>, Vec<i32>, Vec<usize>, Vec<Vec<String>>) {
        let mut csv = CsvText::parse(text).unwrap();
        let header = csv.header().to_vec();
        let table: Vec<Vec<String>> = (&mut csv).map(|r| r.unwrap().1).collect();
        let feats = &scorer.bundle().schema.features;
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let known = |r: &Vec<String>| {
            feats.iter().all(|f| match &f.kind {
                FeatureKind::Numeric(_) => true,
                FeatureKind::Categorical(c) => {
                    let cell = r[col(&f.name)].trim();
                    is_missing(cell) || c.categories.iter().any(|k| k == cell)
                }
            })
        };
        let rows: Vec<usize> = (0..table.len()).filter(|&i| known(&table[i])).collect();
        let (mut numeric, mut codes) = (Vec::new(), Vec::new());
        for f in feats {
            for &r in &rows {
                let cell = table[r][col(&f.name)].trim();
                match &f.kind {
                    FeatureKind::Numeric(_) => numeric.push(if is_missing(cell) {
                        f64::NAN
                    } else {
                        cell.parse().unwrap()
                    }),
                    FeatureKind::Categorical(c) => codes.push(if is_missing(cell) {
                        -1
                    } else {
                        c.categories.iter().position(|k| k == cell).unwrap() as i32
                    }),
                }
            }
        }
        let records = rows
            .iter()
            .map(|&r| {
                header
                    .iter()
                    .zip(&table[r])
                    .map(|(h, v)| format!("{h}={v}"))
                    .collect()
            })
            .collect();
        (numeric, codes, rows, records)
    }

    fn feats_of(scorer: &Scorer) -> &[crate::schema::Feature] {
        &scorer.bundle().schema.features
    }

    #[test]
    fn batches_equal_row_by_row_scoring_bit_for_bit() {
        let text = String::from_utf8(golden("synthetic.csv")).unwrap();
        for kind in [
            "lr",
            "svm-linear",
            "svm-rbf",
            "rf",
            "gbm",
            "attention",
            "stump",
        ] {
            let scorer = Scorer::from_bytes(&golden(&format!("{kind}.frk"))).unwrap();
            let mut plan = BatchPlan::new(&scorer);
            let (numeric, codes, rows, records) = columns(&scorer, &text);
            assert!(rows.len() > BLOCK_ROWS / 2, "{kind}");
            let got = plan.score(&scorer, &numeric, &codes, rows.len()).unwrap();
            let nf = feats_of(&scorer).len();
            let mut notes = vec![9u8; rows.len() * nf];
            let noted = plan
                .score_noted(&scorer, &numeric, &codes, rows.len(), Some(&mut notes))
                .unwrap();
            assert_eq!(noted, got, "{kind}: notes change no probability");
            let mut noted_cells = 0;
            for (i, record) in records.iter().enumerate() {
                let fields = record.iter().map(|kv: &String| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k, RawValue::Text(v))
                });
                let p = scorer.predict(fields).unwrap();
                assert_eq!(got[i].to_bits(), p.probability.to_bits(), "{kind} row {i}");
                // Oracle for the notes: the row-by-row path's warnings.
                let mut want = vec![0u8; nf];
                for w in &p.warnings {
                    let f = feats_of(&scorer)
                        .iter()
                        .position(|f| f.name == w.feature)
                        .unwrap();
                    want[f] = w.kind.code();
                }
                assert_eq!(&notes[i * nf..(i + 1) * nf], &want[..], "{kind} row {i}");
                noted_cells += want.iter().filter(|&&c| c != 0).count();
            }
            assert!(
                noted_cells > 0,
                "{kind}: the golden rows exercise some warnings"
            );
            // More rows than one block: blocks join seamlessly.
            let reps = 3 * BLOCK_ROWS / rows.len() + 1;
            let n = rows.len() * reps;
            let tile = |cols: &[f64], k: usize| -> Vec<f64> {
                (0..k)
                    .flat_map(|c| {
                        let col = &cols[c * rows.len()..(c + 1) * rows.len()];
                        (0..reps).flat_map(move |_| col.iter().copied())
                    })
                    .collect()
            };
            let big_num = tile(&numeric, plan.numeric_columns());
            let codes_f: Vec<f64> = codes.iter().map(|&c| c as f64).collect();
            let big_codes: Vec<i32> = tile(&codes_f, plan.categorical_columns())
                .into_iter()
                .map(|c| c as i32)
                .collect();
            let big = plan.score(&scorer, &big_num, &big_codes, n).unwrap();
            for (i, p) in big.iter().enumerate() {
                assert_eq!(p.to_bits(), got[i % rows.len()].to_bits(), "{kind} row {i}");
            }
        }
    }

    #[test]
    fn bad_batches_name_row_and_feature_and_the_plan_stays_usable() {
        let scorer = Scorer::from_bytes(&golden("gbm.frk")).unwrap();
        let mut plan = BatchPlan::new(&scorer);
        let (nn, nc) = (plan.numeric_columns(), plan.categorical_columns());
        let rows = 10;
        let numeric = vec![1.0; rows * nn];
        let codes = vec![0; rows * nc];
        let good = plan.score(&scorer, &numeric, &codes, rows).unwrap();

        let e = plan
            .score(&scorer, &numeric[1..], &codes, rows)
            .unwrap_err();
        let want = format!(
            "numeric has {} values, expected rows × numeric features = {rows} × {nn} = {}",
            rows * nn - 1,
            rows * nn
        );
        assert_eq!(e.to_string(), want);
        let e = plan.score(&scorer, &[], &[], usize::MAX).unwrap_err();
        assert!(e.to_string().starts_with("numeric has 0 values"), "{e}");

        let feats = &scorer.bundle().schema.features;
        let first_num = feats.iter().find(|f| f.is_numeric()).unwrap();
        let mut bad = numeric.clone();
        bad[7] = f64::INFINITY;
        let e = plan.score(&scorer, &bad, &codes, rows).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "row 7, feature '{}': Infinity is not a finite number",
                first_num.name
            )
        );
        bad[7] = 1e300;
        let e = plan.score(&scorer, &bad, &codes, rows).unwrap_err();
        assert!(
            e.to_string().contains("1e+300 is not a finite number"),
            "{e}"
        );

        let first_cat = feats.iter().find(|f| !f.is_numeric()).unwrap();
        let mut bad = codes.clone();
        bad[3] = -2;
        let e = plan.score(&scorer, &numeric, &bad, rows).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "row 3, feature '{}': code -2 is not a category index (0 to ",
                first_cat.name
            )),
            "{e}"
        );

        let other = Scorer::from_bytes(&golden("lr.frk")).unwrap();
        if other.width() != scorer.width() {
            assert_eq!(
                plan.score(&other, &numeric, &codes, rows),
                Err(BatchError::OtherModel)
            );
        }
        // Row 0's first numeric value far outside the training range, row 1's
        // missing; row 2's first category missing.
        let first_num_at = feats.iter().position(|f| f.is_numeric()).unwrap();
        let first_cat_at = feats.iter().position(|f| !f.is_numeric()).unwrap();
        let mut odd = numeric.clone();
        odd[0] = 1e9;
        odd[1] = f64::NAN;
        let mut odd_codes = codes.clone();
        odd_codes[2] = -1;
        let mut notes = vec![0u8; rows * feats.len()];
        plan.score_noted(&scorer, &odd, &odd_codes, rows, Some(&mut notes))
            .unwrap();
        let at = |r: usize, f: usize| notes[r * feats.len() + f];
        assert_eq!(at(0, first_num_at), WarningKind::OutOfRange.code());
        assert_eq!(at(1, first_num_at), WarningKind::Imputed.code());
        assert_eq!(at(2, first_cat_at), WarningKind::Imputed.code());
        let mut short = vec![0u8; rows * feats.len() - 1];
        let e = plan
            .score_noted(&scorer, &numeric, &codes, rows, Some(&mut short))
            .unwrap_err();
        assert!(e.to_string().starts_with("notes has "), "{e}");
        assert!(plan.score(&scorer, &[], &[], 0).unwrap().is_empty());
        let again = plan.score(&scorer, &numeric, &codes, rows).unwrap();
        assert_eq!(again, good);
    }
}
