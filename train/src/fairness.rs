//! The fair-lending audit, proxy screening and monotonicity check the
//! trainer stores in a file's `report/governance` section
//! ([`ferrisk::governance`]).
//!
//! - **Protected attributes** (`--protected age_in_years:<25,personal_status_and_sex`):
//!   a numeric column is grouped by cut points (`<25`, or `25/40/60`), any
//!   other column by its values; a blank or unreadable cell is `(missing)`.
//! - **Audit**: per group, at the file's threshold, on held-out rows (the
//!   evaluation rows; without any, the training rows' out-of-fold
//!   predictions): approval rate (a negative decision), adverse-impact
//!   ratio to the most approved group (four-fifths rule), TPR and FPR of
//!   the positive class and their largest gaps (equal opportunity,
//!   equalised odds), AUC, mean predicted vs observed rate.
//! - **Proxies**: for each input that is not protected and each protected
//!   attribute, the AUC of telling each group from the rest by that input
//!   alone (a number by its value; a category by the group's share among
//!   the training rows of that category), on the same held-out rows, folded
//!   to >= 0.5; the best group of at least [`PROXY_MIN_ROWS`] rows counts. The strongest input of each
//!   attribute is flagged.
//! - **Monotone check**: each constrained feature swept over its training
//!   range on the held-out rows through the exported file; a row violates
//!   when its probability moves against the direction.

use std::collections::BTreeMap;

use ferrisk::governance::{Group, Monotone, Protected, Proxy};
use ferrisk::schema::{FeatureKind, Value};
use ferrisk::{ScoreOptions, Scorer};

use crate::data::Table;

/// A protected column and how it is grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedSpec {
    pub column: String,
    /// Cut points of a numeric column, ascending; empty: by value.
    pub cuts: Vec<f64>,
}

impl ProtectedSpec {
    /// `age_in_years:<25`, `age_in_years:25/40`, `personal_status_and_sex`.
    pub fn parse(spec: &str) -> Result<ProtectedSpec, String> {
        let (column, bands) = match spec.split_once(':') {
            Some((c, b)) => (c.trim(), Some(b.trim())),
            None => (spec.trim(), None),
        };
        if column.is_empty() {
            return Err(format!("--protected '{spec}': no column name"));
        }
        let mut cuts = Vec::new();
        if let Some(b) = bands {
            for part in b.trim_start_matches('<').split('/') {
                let v: f64 = part.trim().parse().map_err(|_| {
                    format!("--protected '{spec}': '{part}' is not a number (bands are like <25 or 25/40/60)")
                })?;
                if !v.is_finite() || cuts.last().is_some_and(|&l| v <= l) {
                    return Err(format!(
                        "--protected '{spec}': cut points must be finite and ascending"
                    ));
                }
                cuts.push(v);
            }
        }
        Ok(ProtectedSpec {
            column: column.to_string(),
            cuts,
        })
    }

    /// The bands as given (`<25`, `25/40`), empty for a categorical column.
    pub fn bands(&self) -> String {
        match self.cuts.as_slice() {
            [] => String::new(),
            [c] => format!("<{c}"),
            cs => cs
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("/"),
        }
    }

    /// The group of a cell, with its sort key (bands in order, categories
    /// by name, missing last).
    fn group(&self, cell: &str) -> (u32, String) {
        let cell = cell.trim();
        if ferrisk::csv::is_missing(cell) {
            return (u32::MAX, "(missing)".into());
        }
        if self.cuts.is_empty() {
            return (0, cell.to_string());
        }
        let Ok(v) = cell.parse::<f64>() else {
            return (u32::MAX, "(missing)".into());
        };
        let k = self.cuts.iter().take_while(|&&c| v >= c).count();
        let name = match (k, self.cuts.len()) {
            (0, _) => format!("< {}", self.cuts[0]),
            (k, n) if k == n => format!(">= {}", self.cuts[n - 1]),
            (k, _) => format!("{} to < {}", self.cuts[k - 1], self.cuts[k]),
        };
        (k as u32, name)
    }

    /// Group names of `rows` of `table`, and the list of groups in order.
    pub fn groups(
        &self,
        table: &Table,
        rows: &[usize],
    ) -> Result<(Vec<usize>, Vec<String>), String> {
        let col = table.column(&self.column).ok_or_else(|| {
            format!(
                "{}: --protected names column '{}', which the file does not have",
                table.file_name(),
                self.column
            )
        })?;
        let text = table.texts(col).map_err(|e| e.to_string())?;
        // Each distinct text's group, once.
        let of_text: Vec<(u32, String)> = text.dict.iter().map(|t| self.group(t)).collect();
        let mut names: BTreeMap<(u32, String), usize> = BTreeMap::new();
        let keys: Vec<&(u32, String)> = rows
            .iter()
            .filter_map(|&r| text.codes.get(r).and_then(|c| of_text.get(c as usize)))
            .collect();
        for &k in &keys {
            names.entry(k.clone()).or_insert(0);
        }
        for (i, v) in names.values_mut().enumerate() {
            *v = i;
        }
        let of = keys.iter().map(|&k| names[k]).collect();
        Ok((of, names.into_keys().map(|(_, n)| n).collect()))
    }
}

/// The audit of one protected attribute on scored, labelled rows.
pub fn audit(
    spec: &ProtectedSpec,
    input: bool,
    group_of: &[usize],
    names: &[String],
    probs: &[f32],
    labels: &[bool],
    threshold: f32,
) -> Protected {
    let mut groups: Vec<Group> = names
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let rows: Vec<usize> = (0..probs.len()).filter(|&i| group_of[i] == g).collect();
            let p: Vec<f32> = rows.iter().map(|&i| probs[i]).collect();
            let y: Vec<bool> = rows.iter().map(|&i| labels[i]).collect();
            let n = rows.len().max(1) as f64;
            let positives = y.iter().filter(|&&v| v).count();
            let negatives = y.len() - positives;
            let refused = |want: bool| {
                p.iter()
                    .zip(&y)
                    .filter(|(&q, &v)| v == want && q >= threshold)
                    .count() as f64
            };
            let approved = p.iter().filter(|&&q| q < threshold).count() as f64;
            Group {
                name: name.clone(),
                rows: rows.len() as u64,
                positives: positives as u64,
                approval_rate: approved / n,
                impact_ratio: 1.0,
                tpr: refused(true) / positives.max(1) as f64,
                fpr: refused(false) / negatives.max(1) as f64,
                auc: ferrisk::metrics::compute(&p, &y, threshold).map(|m| m.roc_auc),
                mean_predicted: p.iter().map(|&q| f64::from(q)).sum::<f64>() / n,
                observed: positives as f64 / n,
            }
        })
        .collect();
    let best = groups.iter().map(|g| g.approval_rate).fold(0.0, f64::max);
    for g in &mut groups {
        g.impact_ratio = if best > 0.0 {
            g.approval_rate / best
        } else {
            1.0
        };
    }
    let spread = |f: &dyn Fn(&Group) -> Option<f64>| {
        let v: Vec<f64> = groups.iter().filter_map(f).collect();
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        if v.len() < 2 {
            0.0
        } else {
            hi - lo
        }
    };
    let tpr_gap = spread(&|g| (g.positives > 0).then_some(g.tpr));
    let fpr_gap = spread(&|g| (g.rows > g.positives).then_some(g.fpr));
    Protected {
        name: spec.column.clone(),
        bands: spec.bands(),
        input,
        min_impact_ratio: groups.iter().map(|g| g.impact_ratio).fold(1.0, f64::min),
        groups,
        tpr_gap,
        fpr_gap,
    }
}

/// A group needs this many held-out rows to be screened for (smaller
/// groups give AUCs that are mostly noise).
pub const PROXY_MIN_ROWS: usize = 20;

/// The proxy screening: every input of `scorer`'s schema that is not
/// protected against every protected attribute. Category shares come from
/// `fit_rows` of `fit_table`; AUCs are measured on `rows` of `table`.
pub fn proxies(
    scorer: &Scorer,
    specs: &[ProtectedSpec],
    (fit_table, fit_rows): (&Table, &[usize]),
    (table, rows): (&Table, &[usize]),
) -> Result<Vec<Proxy>, String> {
    let schema = &scorer.bundle().schema;
    let mut out = Vec::new();
    for spec in specs {
        let (fit_groups, names) = spec.groups(fit_table, fit_rows)?;
        let (groups, eval_names) = spec.groups(table, rows)?;
        let mut first = out.len();
        for (fi, f) in schema.features.iter().enumerate() {
            if specs.iter().any(|s| s.column == f.name) {
                continue;
            }
            let (Some(fc), Some(tc)) = (fit_table.column(&f.name), table.column(&f.name)) else {
                continue;
            };
            let cells =
                crate::data::Cells::new(schema, table, [(fi, tc)]).map_err(|e| e.to_string())?;
            let mut one = Vec::new();
            let mut parse = |r: usize| {
                cells
                    .row(r, &mut one)
                    .map(|()| one.get(fi).cloned().unwrap_or(Value::Missing))
            };
            let mut best: f64 = 0.5;
            for (gi, gname) in eval_names.iter().enumerate() {
                let y: Vec<bool> = groups.iter().map(|&g| g == gi).collect();
                if y.iter().filter(|&&v| v).count() < PROXY_MIN_ROWS {
                    continue; // too few rows for a meaningful AUC
                }
                let scores: Vec<f64> = match &f.kind {
                    FeatureKind::Numeric(_) => rows
                        .iter()
                        .map(|&r| match parse(r) {
                            Ok(Value::Number(v)) => f64::from(v),
                            _ => f64::MIN,
                        })
                        .collect(),
                    FeatureKind::Categorical(_) => {
                        // The group's share per category on the fitting rows.
                        let fit_g = names.iter().position(|n| n == gname);
                        let mut counts: BTreeMap<String, (f64, f64)> = BTreeMap::new();
                        let mut all = (0.0f64, 0.0f64);
                        let fit_text = fit_table.texts(fc).map_err(|e| e.to_string())?;
                        let text = table.texts(tc).map_err(|e| e.to_string())?;
                        for (k, &r) in fit_rows.iter().enumerate() {
                            let hit = f64::from(u8::from(Some(fit_groups[k]) == fit_g));
                            let cell = fit_text.text(r);
                            let e = counts.entry(cell.to_string()).or_default();
                            e.0 += hit;
                            e.1 += 1.0;
                            all.0 += hit;
                            all.1 += 1.0;
                        }
                        let overall = all.0 / all.1.max(1.0);
                        rows.iter()
                            .map(|&r| {
                                let cell = text.text(r);
                                counts.get(cell).map_or(overall, |&(h, n)| h / n)
                            })
                            .collect()
                    }
                };
                if let Some(a) = crate::stats::auc(&scores, &y) {
                    best = best.max(a.max(1.0 - a));
                }
                if eval_names.len() == 2 {
                    break; // one group against the other: the same AUC
                }
            }
            out.push(Proxy {
                feature: f.name.clone(),
                protected: spec.column.clone(),
                auc: best,
                flagged: false,
            });
        }
        // Flag the strongest proxy of this attribute.
        let mut top: Option<usize> = None;
        while first < out.len() {
            if top.is_none_or(|t| out[first].auc > out[t].auc) {
                top = Some(first);
            }
            first += 1;
        }
        if let Some(t) = top {
            out[t].flagged = true;
        }
    }
    Ok(out)
}

/// Steps of the monotone sweep over a feature's training range.
pub const SWEEP_STEPS: usize = 32;

/// Sweeps each constrained feature over its training range (min..max in
/// [`SWEEP_STEPS`] steps) on `rows` of `table` through `scorer`; counts the
/// rows whose probability moves against the direction.
pub fn check_monotone(
    scorer: &Scorer,
    constraints: &[(String, i8)],
    enforced: bool,
    table: &Table,
    rows: &[usize],
) -> Result<Vec<Monotone>, String> {
    let schema = &scorer.bundle().schema;
    let map = scorer
        .map_header(&table.header)
        .map_err(|e| format!("{}: {e}", table.file_name()))?;
    let mut out = Vec::new();
    for (name, dir) in constraints {
        let i = scorer
            .feature_index(name)
            .ok_or_else(|| format!("--monotone: '{name}' is not an input of the model"))?;
        let FeatureKind::Numeric(n) = &schema.features[i].kind else {
            return Err(format!("--monotone: '{name}' is not numeric"));
        };
        let grid: Vec<f32> = (0..=SWEEP_STEPS)
            .map(|k| n.min + (n.max - n.min) * k as f32 / SWEEP_STEPS as f32)
            .collect();
        let cells = crate::data::Cells::mapped(schema, table, &map).map_err(|e| e.to_string())?;
        let mut scoring = scorer.rows(ScoreOptions::default());
        let mut violations = 0;
        let mut values = Vec::new();
        for &r in rows {
            if cells.row(r, &mut values).is_err() {
                continue;
            }
            let mut last: Option<f32> = None;
            let mut bad = false;
            for &v in &grid {
                values[i] = Value::Number(v);
                let p = scoring
                    .score_values(&values, Vec::new())
                    .map_err(|e| e.to_string())?
                    .prediction
                    .probability;
                if let Some(l) = last {
                    bad |= if *dir > 0 { p < l } else { p > l };
                }
                last = Some(p);
            }
            violations += u64::from(bad);
        }
        out.push(Monotone {
            feature: name.clone(),
            direction: *dir,
            enforced,
            rows: rows.len() as u64,
            violations,
        });
    }
    Ok(out)
}

/// `duration_in_month=+1,age_in_years=-1` into (column, ±1) pairs.
pub fn parse_monotone(specs: &[String]) -> Result<Vec<(String, i8)>, String> {
    let mut out: Vec<(String, i8)> = Vec::new();
    for s in specs {
        let (c, d) = s
            .split_once('=')
            .ok_or_else(|| format!("--monotone '{s}': expected COLUMN=+1 or COLUMN=-1"))?;
        let d = match d.trim() {
            "+1" | "1" => 1,
            "-1" => -1,
            other => {
                return Err(format!(
                    "--monotone '{s}': direction '{other}' is not +1 or -1"
                ))
            }
        };
        let c = c.trim().to_string();
        if out.iter().any(|(n, _)| *n == c) {
            return Err(format!("--monotone: '{c}' is constrained twice"));
        }
        out.push((c, d));
    }
    Ok(out)
}

/// Held-out rows for the audit: the table, its row indices, their
/// probabilities from the exported file, their labels, and what they are.
pub struct Held<'a> {
    pub table: &'a Table,
    pub rows: &'a [usize],
    pub probs: &'a [f32],
    pub labels: &'a [bool],
    pub on: String,
}

/// The `report/governance` section of the exported file `scorer`: the
/// audit of each protected attribute and the proxy screening on `held`, and
/// the monotone check of `monotone` (`enforced` when the fitter enforced
/// it; otherwise it is a report); `None` when neither was asked for. Used
/// by training and by `ferrisk import` alike.
pub fn section(
    scorer: &Scorer,
    protected: &[ProtectedSpec],
    monotone: &[(String, i8)],
    enforced: bool,
    fit: (&Table, &[usize]),
    held: &Held<'_>,
) -> Result<Option<ferrisk::governance::Section>, String> {
    if protected.is_empty() && monotone.is_empty() {
        return Ok(None);
    }
    let threshold = scorer.bundle().threshold;
    let mut audits = Vec::new();
    for spec in protected {
        let (of, names) = spec.groups(held.table, held.rows)?;
        let input = scorer.feature_index(&spec.column).is_some();
        audits.push(audit(
            spec,
            input,
            &of,
            &names,
            held.probs,
            held.labels,
            threshold,
        ));
    }
    let g = ferrisk::governance::Governance {
        protected: audits,
        evaluated_on: held.on.clone(),
        proxies: proxies(scorer, protected, fit, (held.table, held.rows))?,
        monotone: check_monotone(scorer, monotone, enforced, held.table, held.rows)?,
    };
    g.validate()?;
    Ok(Some(ferrisk::governance::Section {
        protected: g.protected.iter().map(|p| p.name.clone()).collect(),
        report: serde_json::to_string(&g).map_err(|e| e.to_string())?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_groups() {
        let s = ProtectedSpec::parse("age:<25").unwrap();
        assert_eq!(s.cuts, vec![25.0]);
        assert_eq!(s.group("24").1, "< 25");
        assert_eq!(s.group("25").1, ">= 25");
        assert_eq!(s.group("").1, "(missing)");
        let s = ProtectedSpec::parse("age:25/40").unwrap();
        assert_eq!(s.group("30").1, "25 to < 40");
        assert_eq!(s.bands(), "25/40");
        assert!(ProtectedSpec::parse("age:40/25").is_err());
        assert!(ProtectedSpec::parse("age:x").is_err());
        assert_eq!(ProtectedSpec::parse("sex").unwrap().cuts, Vec::<f64>::new());
    }

    #[test]
    fn the_audit_counts_by_hand() {
        let spec = ProtectedSpec::parse("g").unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let of = [0, 0, 0, 0, 1, 1, 1, 1];
        let p = [0.9f32, 0.2, 0.1, 0.6, 0.9, 0.8, 0.7, 0.1];
        let y = [true, false, false, false, true, true, false, false];
        let a = audit(&spec, false, &of, &names, &p, &y, 0.5);
        let (ga, gb) = (&a.groups[0], &a.groups[1]);
        assert_eq!((ga.rows, ga.positives), (4, 1));
        assert!((ga.approval_rate - 0.5).abs() < 1e-12);
        assert!((gb.approval_rate - 0.25).abs() < 1e-12);
        assert!((gb.impact_ratio - 0.5).abs() < 1e-12 && ga.impact_ratio == 1.0);
        assert!((ga.tpr - 1.0).abs() < 1e-12 && (gb.tpr - 1.0).abs() < 1e-12);
        assert!((ga.fpr - 1.0 / 3.0).abs() < 1e-12 && (gb.fpr - 0.5).abs() < 1e-12);
        assert!((a.fpr_gap - (0.5 - 1.0 / 3.0)).abs() < 1e-12 && a.tpr_gap == 0.0);
        assert!((a.min_impact_ratio - 0.5).abs() < 1e-12);
        assert!((ga.observed - 0.25).abs() < 1e-12);
    }

    #[test]
    fn monotone_specs_parse() {
        let m = parse_monotone(&["a=+1".into(), "b=-1".into()]).unwrap();
        assert_eq!(m, vec![("a".to_string(), 1), ("b".to_string(), -1)]);
        assert!(parse_monotone(&["a=2".into()]).is_err());
        assert!(parse_monotone(&["a".into()]).is_err());
        assert!(parse_monotone(&["a=1".into(), "a=-1".into()]).is_err());
    }
}
