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
) -> ferrisk::drift::DriftProfile {
    use ferrisk::drift::{Bins, DriftProfile};
    let mut parsed: Vec<Vec<ferrisk::Value>> = Vec::with_capacity(rows.len());
    for &r in rows {
        let v = ds
            .features
            .iter()
            .enumerate()
            .map(|(i, (col, _, _))| {
                schema
                    .parse_value(i, RawValue::Text(&table.rows[r][*col]))
                    .unwrap_or(ferrisk::Value::Missing)
            })
            .collect();
        parsed.push(v);
    }
    let mut features = Vec::with_capacity(schema.features.len());
    for (i, f) in schema.features.iter().enumerate() {
        match &f.kind {
            FeatureKind::Numeric(_) => {
                let mut vals: Vec<f32> = parsed
                    .iter()
                    .filter_map(|v| match v.get(i) {
                        Some(ferrisk::Value::Number(x)) => Some(*x),
                        _ => None,
                    })
                    .collect();
                vals.sort_by(f32::total_cmp);
                let edges = decile_edges(&vals);
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
    for (v, &p) in parsed.iter().zip(probs) {
        profile.add(&mut counts, v, p);
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
    profile
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
