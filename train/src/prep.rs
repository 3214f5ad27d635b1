//! Fitting the preprocessing on the training rows, and encoding rows through
//! the runtime's own code path (`Schema::parse_value` + `Schema::encode`), so
//! training sees exactly the design rows that scoring will compute.

use ferrisk::schema::{
    CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, RawValue, Schema,
};
use ferrisk::ScoreError;

use crate::bins::Matrix;
use crate::data::{ColType, Dataset, Table};

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Fits imputation values, category tables and scaling on `rows` only.
pub fn fit_schema(table: &Table, ds: &Dataset, rows: &[usize], encoding: Encoding) -> Schema {
    let mut features = Vec::with_capacity(ds.features.len());
    for (col, name, ty) in &ds.features {
        let mut missing = 0usize;
        let kind = match ty {
            ColType::Numeric => {
                let mut vals: Vec<f64> = Vec::with_capacity(rows.len());
                for &r in rows {
                    let cell = &table.rows[r][*col];
                    match cell.parse::<f64>() {
                        // Round through f32 exactly as the runtime parses.
                        Ok(v) if !ferrisk::csv::is_missing(cell) && v.is_finite() => {
                            vals.push(v as f32 as f64)
                        }
                        _ => missing += 1,
                    }
                }
                vals.sort_by(f64::total_cmp);
                let n = vals.len().max(1) as f64;
                let mean = vals.iter().sum::<f64>() / n;
                let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                let std = var.sqrt() as f32;
                FeatureKind::Numeric(NumericFeature {
                    min: vals.first().copied().unwrap_or(0.0) as f32,
                    max: vals.last().copied().unwrap_or(0.0) as f32,
                    mean: mean as f32,
                    std: if std.is_finite() && std > 0.0 {
                        std
                    } else {
                        1.0
                    },
                    median: median(&vals) as f32,
                })
            }
            ColType::Categorical => {
                let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
                for &r in rows {
                    let cell = table.rows[r][*col].as_str();
                    if ferrisk::csv::is_missing(cell) {
                        missing += 1;
                    } else {
                        *counts.entry(cell).or_default() += 1;
                    }
                }
                let mut cats: Vec<(&str, usize)> = counts.into_iter().collect();
                // Most frequent first; ties by name: a deterministic order.
                cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                if cats.is_empty() {
                    cats.push(("(missing)", 0));
                }
                let total = cats.iter().map(|c| c.1).sum::<usize>().max(1) as f64;
                FeatureKind::Categorical(CategoricalFeature {
                    categories: cats.iter().map(|c| c.0.to_string()).collect(),
                    frequencies: cats.iter().map(|c| (c.1 as f64 / total) as f32).collect(),
                    mode: 0,
                })
            }
        };
        features.push(Feature {
            name: name.clone(),
            kind,
            missing_rate: (missing as f64 / rows.len().max(1) as f64) as f32,
        });
    }
    Schema {
        features,
        label: ds.label.clone(),
        positive: ds.positive.clone(),
        negative: ds.negative.clone(),
        encoding,
    }
}

/// Encodes `rows` of the table with the runtime's preprocessing.
pub fn encode_rows(
    schema: &Schema,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Matrix, (usize, ScoreError)> {
    let width = schema.width();
    let mut m = Matrix::zeros(rows.len(), width);
    let mut values = Vec::with_capacity(ds.features.len());
    let mut warnings = Vec::new();
    for (k, &r) in rows.iter().enumerate() {
        values.clear();
        for (i, (col, _, _)) in ds.features.iter().enumerate() {
            let v = schema
                .parse_value(i, RawValue::Text(&table.rows[r][*col]))
                .map_err(|e| (table.lines[r], e))?;
            values.push(v);
        }
        warnings.clear();
        schema
            .encode(&values, m.row_mut(k), &mut warnings)
            .map_err(|e| (table.lines[r], e))?;
    }
    Ok(m)
}
