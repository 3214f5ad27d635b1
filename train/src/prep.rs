//! Fitting the preprocessing on the training rows, and encoding rows through
//! the runtime's own code path (`Schema::parse_value` + `Schema::encode`), so
//! training sees exactly the design rows that scoring will compute.

use ferrisk::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, Schema};

use crate::bins::Matrix;
use crate::data::{Cells, ColType, Column, DataError, Dataset, Table};
use crate::pipeline::TrainError;

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
pub fn fit_schema(
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
    encoding: Encoding,
) -> Result<Schema, DataError> {
    let mut features = Vec::with_capacity(ds.features.len());
    for (col, name, ty) in &ds.features {
        let mut missing = 0usize;
        let kind = match ty {
            ColType::Numeric => {
                // A number's value as `str::parse::<f64>` gives it, NaN
                // when the cell is missing or no finite number.
                let per_text: Vec<f64>;
                let value: Box<dyn Fn(usize) -> f64 + '_> = match table.data(*col) {
                    Some(Column::Numbers(v)) => {
                        Box::new(move |r| v.get(r).copied().unwrap_or(f64::NAN))
                    }
                    _ => {
                        let t = table.texts(*col)?;
                        per_text = t
                            .dict
                            .iter()
                            .map(|cell| match cell.parse::<f64>() {
                                Ok(v) if !ferrisk::csv::is_missing(cell) && v.is_finite() => v,
                                _ => f64::NAN,
                            })
                            .collect();
                        let per_text = &per_text;
                        Box::new(move |r| {
                            t.codes
                                .get(r)
                                .and_then(|c| per_text.get(c as usize))
                                .copied()
                                .unwrap_or(f64::NAN)
                        })
                    }
                };
                let mut vals: Vec<f64> = Vec::with_capacity(rows.len());
                for &r in rows {
                    match value(r) {
                        // Round through f32 exactly as the runtime parses.
                        v if v.is_finite() => vals.push(v as f32 as f64),
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
                let t = table.texts(*col)?;
                let mut per_code = vec![0usize; t.dict.len()];
                for &r in rows {
                    if let Some(n) = t.codes.get(r).and_then(|c| per_code.get_mut(c as usize)) {
                        *n += 1;
                    }
                }
                let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
                for (cell, &n) in t.dict.iter().zip(&per_code) {
                    if n == 0 {
                        continue;
                    }
                    if ferrisk::csv::is_missing(cell) {
                        missing += n;
                    } else {
                        *counts.entry(cell).or_default() += n;
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
    Ok(Schema {
        features,
        label: ds.label.clone(),
        positive: ds.positive.clone(),
        negative: ds.negative.clone(),
        encoding,
    })
}

/// The cells of the dataset's features, parsed for `schema` (fitted on `ds`).
pub fn cells<'a>(
    schema: &'a Schema,
    table: &'a Table,
    ds: &Dataset,
) -> Result<Cells<'a>, DataError> {
    Cells::new(
        schema,
        table,
        ds.features.iter().enumerate().map(|(i, (c, _, _))| (i, *c)),
    )
}

/// Encodes `rows` of the table with the runtime's preprocessing.
pub fn encode_rows(
    schema: &Schema,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Matrix, TrainError> {
    let cells = cells(schema, table, ds)?;
    let row_err = |r: usize| {
        move |source| TrainError::Row {
            path: table.file_name(),
            line: table.line(r),
            source,
        }
    };
    let width = schema.width();
    let mut m = Matrix::zeros(rows.len(), width);
    let mut values = Vec::with_capacity(ds.features.len());
    let mut warnings = Vec::new();
    for (k, &r) in rows.iter().enumerate() {
        cells.row(r, &mut values).map_err(row_err(r))?;
        warnings.clear();
        schema
            .encode(&values, m.row_mut(k), &mut warnings)
            .map_err(row_err(r))?;
    }
    Ok(m)
}

/// Decile edges of sorted values, deduplicated (at most 9 edges).
/// Smallest share of the baseline rows a drift bin may hold: PSI over
/// near-empty bins is dominated by noise.
pub const MIN_BIN_SHARE: f64 = 0.05;

/// Edges of up to 10 equal-frequency bins of `sorted` (a value `v` falls in
/// the first bin whose edge is `>= v`), merged so that every bin holds at
/// least [`MIN_BIN_SHARE`] of the values (ties can make deciles uneven).
fn decile_edges(sorted: &[f32]) -> Vec<f32> {
    let n = sorted.len();
    let mut edges: Vec<f32> = Vec::new();
    let Some(&max) = sorted.last() else {
        return edges;
    };
    let min_rows = ((n as f64 * MIN_BIN_SHARE).ceil() as usize).max(1);
    // Rows at or below a value: the bins' cumulative counts.
    let at_or_below = |e: f32| sorted.partition_point(|&v| v <= e);
    let mut below = 0;
    for k in 1..10 {
        let e = sorted[(k * n / 10).min(n - 1)];
        let upto = at_or_below(e);
        if edges.last().is_none_or(|&l| e > l) && e < max && upto - below >= min_rows {
            edges.push(e);
            below = upto;
        }
    }
    // The last bin (above the last edge) must hold enough rows too.
    while let Some(&last) = edges.last() {
        if n - at_or_below(last) >= min_rows {
            break;
        }
        edges.pop();
    }
    edges
}

fn shares(counts: &[u32]) -> Vec<f32> {
    let n: u32 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if n == 0 {
                0.0
            } else {
                (c as f64 / n as f64) as f32
            }
        })
        .collect()
}

/// Training-population bins for PSI: decile bins (plus missing) for numeric
/// features, category shares (plus unknown/missing) for categoricals, and
/// decile bins of the training probabilities. Counted through the runtime's
/// own `DriftProfile::add`, so batch counts use identical binning.
pub fn fit_drift(
    schema: &Schema,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
    probs: &[f32],
) -> Result<ferrisk::drift::DriftProfile, DataError> {
    use ferrisk::drift::{Bins, DriftProfile};
    // Two passes over the rows, one parsed row at a time: the numeric
    // features' values for their edges, then the counts.
    let cells = cells(schema, table, ds)?;
    // A cell that does not parse counts as missing.
    let parse = |r: usize, out: &mut Vec<ferrisk::Value>| cells.row_lenient(r, out);
    let numeric: Vec<usize> = (0..schema.features.len())
        .filter(|&i| matches!(schema.features[i].kind, FeatureKind::Numeric(_)))
        .collect();
    let mut vals: Vec<Vec<f32>> = numeric.iter().map(|_| Vec::new()).collect();
    let mut row = Vec::with_capacity(schema.features.len());
    for &r in rows {
        parse(r, &mut row);
        for (k, &i) in numeric.iter().enumerate() {
            if let Some(ferrisk::Value::Number(x)) = row.get(i) {
                vals[k].push(*x);
            }
        }
    }
    let mut features = Vec::with_capacity(schema.features.len());
    let mut vals = vals.into_iter();
    for f in &schema.features {
        match &f.kind {
            FeatureKind::Numeric(_) => {
                let mut v = vals.next().unwrap_or_default();
                v.sort_by(f32::total_cmp);
                let edges = decile_edges(&v);
                features.push(Bins {
                    expected: vec![0.0; edges.len() + 2],
                    edges,
                });
            }
            FeatureKind::Categorical(c) => features.push(Bins {
                edges: Vec::new(),
                expected: vec![0.0; c.categories.len() + 1],
            }),
        }
    }
    let mut sorted = probs.to_vec();
    sorted.sort_by(f32::total_cmp);
    let score_edges = decile_edges(&sorted);
    let mut profile = DriftProfile {
        features,
        score: Bins {
            expected: vec![0.0; score_edges.len() + 2],
            edges: score_edges,
        },
    };
    let mut counts = profile.counter();
    for (&r, &p) in rows.iter().zip(probs) {
        parse(r, &mut row);
        profile.add(&mut counts, &row, p);
    }
    let mut offset = 0;
    for b in profile
        .features
        .iter_mut()
        .chain(std::iter::once(&mut profile.score))
    {
        let n = b.expected.len();
        b.expected = shares(&counts.counts[offset..offset + n]);
        offset += n;
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: count the values in each bin the way the runtime bins them.
    fn bin_counts(sorted: &[f32], edges: &[f32]) -> Vec<usize> {
        let b = ferrisk::drift::Bins {
            edges: edges.to_vec(),
            expected: vec![0.0; edges.len() + 2],
        };
        let mut c = vec![0; edges.len() + 1];
        for &v in sorted {
            c[b.numeric_bin(v)] += 1;
        }
        c
    }

    #[test]
    fn drift_bins_hold_a_minimum_share_even_with_ties() {
        let cases: Vec<Vec<f32>> = vec![
            (0..1000).map(|i| i as f32).collect(),
            // 93 % of the values tied at 0, a thin tail.
            (0..1000)
                .map(|i| if i < 930 { 0.0 } else { i as f32 })
                .collect(),
            // A few distinct values with uneven mass.
            (0..1000).map(|i| (i % 7 / 3) as f32).collect(),
            vec![1.0; 50],
        ];
        for mut v in cases {
            v.sort_by(f32::total_cmp);
            let edges = decile_edges(&v);
            assert!(edges.windows(2).all(|w| w[0] < w[1]), "{edges:?}");
            let counts = bin_counts(&v, &edges);
            let min = (v.len() as f64 * MIN_BIN_SHARE).ceil() as usize;
            assert!(counts.iter().all(|&c| c >= min), "{edges:?}: {counts:?}");
        }
        let even: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        assert_eq!(decile_edges(&even).len(), 9, "untied data keeps ten bins");
    }
}
