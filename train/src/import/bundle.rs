//! From a [`Foreign`] ensemble and a labelled sample CSV to a normal model
//! file: the schema of the columns the model uses, the trees over ferrisk's
//! design columns, provenance, and the decision methodology of trained
//! files — calibration and threshold chosen on one part of the rows, metrics
//! and the drift baseline from the other, held-out part.
//!
//! Column mapping: a library feature whose name is a column of the data is
//! numeric (trees get raw values; a missing value takes the library's
//! missing branch). A library feature named `SOURCE_CAT` or `SOURCE=CAT`
//! where `SOURCE` is given with `--one-hot` is the one-hot dummy of category
//! `CAT` of the categorical column `SOURCE`: ferrisk's own one-hot column of
//! that category (1 for the category, 0 otherwise), and its contributions
//! fold into `SOURCE`. A feature no split uses needs no column.

use ferrisk::bundle::{Algorithm, Bundle, Metadata, TrainingReport};
use ferrisk::kinds::trees::{CatSplit, Node, Tree, TreeEnsemble, LEAF};
use ferrisk::kinds::CatTrees;
use ferrisk::kinds::{Model, Output};
use ferrisk::policy::{self, Decision, Policy};
use ferrisk::schema::{Encoding, FeatureKind};
use ferrisk::{metrics, Calibration};

use super::{Foreign, ImportError};
use crate::calibrate::{self, CalibrationChoice};
use crate::data::{ColType, Dataset, Table};
use crate::pipeline::{evaluate_held, exported_scorer, score_rows_full, TrainError};
use crate::{prep, split};

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Categorical columns whose one-hot dummies (`COL_cat`, `COL=cat`) the
    /// model splits on.
    pub one_hot: Vec<String>,
    /// Share of the labelled rows held out for the evaluation (metrics,
    /// drift baseline); the rest chooses the calibration and threshold.
    pub eval_share: f64,
    pub seed: u64,
    pub policy: Policy,
    pub calibration: CalibrationChoice,
    /// Folds over the calibration rows for the cross-fitted calibration choice.
    pub folds: usize,
    /// The imported file's name (no directories) and SHA-256.
    pub model_name: String,
    pub model_sha256: String,
    pub scorecard: ferrisk::credit::Scorecard,
    pub reasons: Vec<ferrisk::credit::ReasonText>,
    /// Protected attributes to audit (`--protected`): the imported model
    /// keeps whatever inputs it was trained on, but they are never reasons.
    pub protected: Vec<crate::fairness::ProtectedSpec>,
    /// Monotone directions to check (a report: the library fitted the model).
    pub monotone: Vec<(String, i8)>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            one_hot: Vec::new(),
            eval_share: 0.5,
            seed: 42,
            policy: Policy::MaxF1,
            calibration: CalibrationChoice::Own,
            folds: 5,
            model_name: String::new(),
            model_sha256: String::new(),
            scorecard: Default::default(),
            reasons: Vec::new(),
            protected: Vec::new(),
            monotone: Vec::new(),
        }
    }
}

/// Where a library feature goes.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// The data column of this name, numeric.
    Numeric(String),
    /// One-hot dummy: (source column, category).
    Dummy(String, String),
    /// A library categorical feature: the data column of this name.
    Category(String),
    /// Used by no split and not in the data.
    Unused,
}

fn target(name: &str, categorical: bool, table: &Table, one_hot: &[String]) -> Option<Target> {
    if categorical {
        return table
            .column(name)
            .is_some()
            .then(|| Target::Category(name.to_string()));
    }
    if table.column(name).is_some() && !one_hot.iter().any(|s| s == name) {
        return Some(Target::Numeric(name.to_string()));
    }
    for s in one_hot {
        if let Some(rest) = name.strip_prefix(s.as_str()) {
            if let Some(cat) = rest.strip_prefix('_').or_else(|| rest.strip_prefix('=')) {
                return Some(Target::Dummy(s.clone(), cat.to_string()));
            }
        }
    }
    None
}

/// Builds the model file's bundle (evaluated, calibrated, thresholded) and
/// its bytes.
pub fn build(
    foreign: &Foreign,
    table: &Table,
    ds: &Dataset,
    opts: &ImportOptions,
) -> Result<(Vec<u8>, Bundle), ImportError> {
    let lib = foreign.library.name();
    for s in &opts.one_hot {
        if table.column(s).is_none() {
            return Err(ImportError::Mapping(format!(
                "--one-hot {s}: {} has no column '{s}'",
                table.file_name()
            )));
        }
    }
    // 1. Map every library feature.
    let used = foreign.split_counts();
    let mut targets = Vec::with_capacity(foreign.features.len());
    let mut missing = Vec::new();
    for (i, (name, &n)) in foreign.features.iter().zip(&used).enumerate() {
        let categorical = foreign.categories.get(i).is_some_and(Option::is_some);
        match target(name, categorical, table, &opts.one_hot) {
            Some(t) => targets.push(t),
            None if n == 0 => targets.push(Target::Unused),
            None => {
                missing.push(format!("'{name}' ({n} splits)"));
                targets.push(Target::Unused);
            }
        }
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(8).map(String::as_str).collect();
        return Err(ImportError::Mapping(format!(
            "{lib} features not found among the columns of {}: {}{} (a one-hot dummy such as \
             purpose_car or purpose=car folds back with --one-hot purpose)",
            table.file_name(),
            shown.join(", "),
            if missing.len() > 8 { ", ..." } else { "" }
        )));
    }

    // 2. The schema: the data's columns the model uses, in file order.
    let mut features: Vec<(usize, String, ColType)> = Vec::new();
    for (col, name, ty) in &ds.features {
        let numeric = targets
            .iter()
            .zip(&used)
            .any(|(t, &n)| n > 0 && matches!(t, Target::Numeric(c) if c == name));
        let source = targets.iter().zip(&used).any(|(t, &n)| {
            n > 0
                && (matches!(t, Target::Dummy(s, _) if s == name)
                    || matches!(t, Target::Category(c) if c == name))
        });
        if numeric {
            if *ty == ColType::Categorical {
                let text = table
                    .texts(*col)
                    .map_err(|e| ImportError::Mapping(e.to_string()))?;
                let example = (0..table.rows())
                    .map(|r| text.text(r))
                    .find(|c| !ferrisk::csv::is_missing(c) && c.trim().parse::<f64>().is_err())
                    .unwrap_or("");
                return Err(ImportError::Mapping(format!(
                    "the {lib} model splits on '{name}' as a number, but column '{name}' of {} \
                     holds text (e.g. '{example}')",
                    table.file_name()
                )));
            }
            features.push((*col, name.clone(), ColType::Numeric));
        } else if source {
            features.push((*col, name.clone(), ColType::Categorical));
        }
    }
    if features.is_empty() {
        return Err(ImportError::Mapping(format!(
            "the {lib} model uses none of the columns of {}",
            table.file_name()
        )));
    }
    let ds = Dataset {
        features,
        ..ds.clone()
    };

    // 3. Rows: calibration/threshold part and held-out evaluation part.
    let (cal_rows, eval_rows) = if opts.eval_share > 0.0 {
        split::stratified_split(&ds.labels, opts.eval_share, opts.seed)
    } else {
        ((0..ds.labels.len()).collect(), Vec::new())
    };
    let encoding = Encoding {
        scale: false,
        impute_numeric: false,
    };
    let mut schema = prep::fit_schema(table, &ds, &cal_rows, encoding).map_err(TrainError::from)?;
    // Every dummy's category is a category of its source, seen or not, and
    // so is every category of a library categorical feature.
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match t {
            Target::Dummy(s, cat) => wanted.push((s.clone(), cat.clone())),
            Target::Category(c) => {
                for k in foreign
                    .categories
                    .get(i)
                    .and_then(|t| t.as_ref())
                    .into_iter()
                    .flatten()
                {
                    wanted.push((c.clone(), k.clone()));
                }
            }
            _ => {}
        }
    }
    for (s, cat) in &wanted {
        if let Some(f) = schema.features.iter_mut().find(|f| &f.name == s) {
            if let FeatureKind::Categorical(c) = &mut f.kind {
                if !c.categories.iter().any(|k| k == cat) {
                    if c.categories.len() == 1 && c.frequencies.first() == Some(&0.0) {
                        // fit_schema's placeholder for a column with no values.
                        c.categories.clear();
                        c.frequencies.clear();
                    }
                    c.categories.push(cat.clone());
                    c.frequencies.push(0.0);
                }
            }
        }
    }

    // 4. Library feature -> design column.
    let columns = schema.columns();
    let design_col = |t: &Target| -> Option<u32> {
        match t {
            Target::Numeric(name) => {
                let f = schema.position(name)?;
                columns
                    .iter()
                    .position(|&c| c == (f, None))
                    .map(|c| c as u32)
            }
            Target::Dummy(s, cat) => {
                let f = schema.position(s)?;
                let FeatureKind::Categorical(c) = &schema.features.get(f)?.kind else {
                    return None;
                };
                let k = c.categories.iter().position(|x| x == cat)?;
                columns
                    .iter()
                    .position(|&c| c == (f, Some(k)))
                    .map(|c| c as u32)
            }
            Target::Category(name) => {
                let f = schema.position(name)?;
                columns
                    .iter()
                    .position(|&c| c == (f, Some(0)))
                    .map(|c| c as u32)
            }
            Target::Unused => None,
        }
    };
    let map: Vec<Option<u32>> = targets.iter().map(design_col).collect();
    // For a library categorical feature: per schema category, its library code.
    let codes: Vec<Option<Vec<Option<u32>>>> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let Target::Category(name) = t else {
                return None;
            };
            let table = foreign.categories.get(i)?.as_ref()?;
            let f = schema.features.get(schema.position(name)?)?;
            let FeatureKind::Categorical(c) = &f.kind else {
                return None;
            };
            Some(
                c.categories
                    .iter()
                    .map(|k| table.iter().position(|x| x == k).map(|p| p as u32))
                    .collect(),
            )
        })
        .collect();
    let (model, cats) = ensemble(foreign, &map, &codes)?;
    let model = if cats.iter().any(|c| !c.is_empty()) {
        Model::CatTrees(Box::new(CatTrees {
            ensemble: model,
            cats,
        }))
    } else {
        Model::Trees(Box::new(model))
    };

    // 5. The bundle, round-tripped through the file format.
    let x = prep::encode_rows(&schema, table, &ds, &cal_rows)?;
    let mut bundle = Bundle {
        algorithm: Algorithm::new(
            foreign.library.id(),
            &format!("{lib} {} (imported)", foreign.booster),
        ),
        schema,
        model,
        calibration: Calibration::Logistic,
        threshold: 0.5,
        background: x.column_means(),
        background_set: None,
        report: None,
        metadata: Metadata::default(),
        scorecard: opts.scorecard,
        reasons: opts.reasons.clone(),
        drift: None,
        decision: None,
        governance: None,
    };
    let (_, scorer) = exported_scorer(&bundle)?;

    // 6. Calibration, then threshold, on the calibration rows.
    let (own, outputs) = score_rows_full(&scorer, table, &cal_rows)?;
    let labels: Vec<bool> = cal_rows.iter().map(|&r| ds.labels[r]).collect();
    let folds = opts.folds.clamp(2, labels.len().max(2));
    let fold_of: Vec<usize> = (0..labels.len()).map(|i| i % folds).collect();
    let cal = calibrate::choose(
        opts.calibration,
        Calibration::Logistic,
        Output::Score,
        &calibrate::Held {
            outputs: &outputs,
            own: &own,
            labels: &labels,
            fold_of: &fold_of,
            folds,
        },
    )
    .map_err(TrainError::Data)?;
    bundle.calibration = cal.calibration;
    let threshold = policy::choose(&opts.policy, &cal.probabilities, &labels).ok_or_else(|| {
        TrainError::Data(
            "the calibration rows have only one class; cannot choose a threshold".into(),
        )
    })?;
    bundle.threshold = threshold;
    let chosen_on = format!(
        "the calibration part of {} ({} rows, stratified, seed {}); the model was trained elsewhere",
        table.file_name(),
        cal_rows.len(),
        opts.seed
    );
    let chosen = policy::figures(&cal.probabilities, &labels, threshold, &opts.policy);
    let mut notes = vec![format!(
        "imported from {} ({lib} {}, {}, {} booster); the library's raw probability is the \
         logistic of the model output (margin)",
        opts.model_name, foreign.version, foreign.objective, foreign.booster
    )];
    notes.extend(foreign.notes.iter().cloned());
    let n_used = used.iter().filter(|&&n| n > 0).count();
    let mut params = vec![
        ("library".to_string(), lib.to_string()),
        ("library version".into(), foreign.version.clone()),
        ("objective".into(), foreign.objective.clone()),
        ("booster".into(), foreign.booster.clone()),
        ("model file".into(), opts.model_name.clone()),
        ("model sha256".into(), opts.model_sha256.clone()),
        ("trees".into(), foreign.trees.len().to_string()),
        (
            "features".into(),
            format!("{} ({n_used} used by splits)", foreign.features.len()),
        ),
    ];
    if foreign.average {
        params.push(("output".into(), "average of the trees (rf)".into()));
    }
    if !opts.one_hot.is_empty() {
        params.push(("one-hot".into(), opts.one_hot.join(",")));
    }
    // The library's category codes of each native categorical feature.
    for (i, t) in targets.iter().enumerate() {
        if let (Target::Category(name), Some(Some(table))) = (t, foreign.categories.get(i)) {
            let codes: Vec<String> = table
                .iter()
                .enumerate()
                .map(|(k, c)| format!("{k}={c}"))
                .collect();
            params.push((format!("codes {name}"), codes.join(", ")));
        }
    }
    params.push(("policy".into(), opts.policy.text()));
    params.push(("seed".into(), opts.seed.to_string()));
    bundle.metadata = Metadata {
        producer: format!("ferrisk {}", env!("CARGO_PKG_VERSION")),
        created_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        data_name: table.file_name(),
        data_sha256: table.sha256.clone(),
        data_rows: ds.labels.len() as u64,
        params,
        notes,
    };
    let (_, scorer) = exported_scorer(&bundle)?;

    // 7. The evaluation rows, touched once.
    let (test, evaluated, evaluated_on, test_rows, drift_rows, drift_probs) =
        if eval_rows.is_empty() {
            let m = metrics::compute(&cal.probabilities, &labels, threshold)
                .ok_or_else(|| TrainError::Data("the rows have only one class".into()))?;
            (
                m,
                None,
                "the calibration rows (no evaluation rows: --eval-share 0)".to_string(),
                0,
                cal_rows.clone(),
                cal.probabilities.clone(),
            )
        } else {
            let (m, cuts, probs) = evaluate_held(
                &scorer,
                (table, &ds, &eval_rows),
                &opts.policy,
                "use more data or another --eval-share",
            )?;
            let text = format!(
                "the held-out evaluation part of {} ({} rows, {} %, stratified, seed {})",
                table.file_name(),
                eval_rows.len(),
                ferrisk::num::F64(opts.eval_share * 100.0),
                opts.seed
            );
            (
                m,
                Some(cuts),
                text,
                eval_rows.len() as u64,
                eval_rows.clone(),
                probs,
            )
        };
    let drift = prep::fit_drift(
        &scorer.bundle().schema,
        table,
        &ds,
        &drift_rows,
        &drift_probs,
    )
    .map_err(TrainError::from)?;
    let drift_labels: Vec<bool> = drift_rows.iter().map(|&r| ds.labels[r]).collect();
    let governance = crate::fairness::section(
        &scorer,
        &opts.protected,
        &opts.monotone,
        false,
        (table, &cal_rows),
        &crate::fairness::Held {
            table,
            rows: &drift_rows,
            probs: &drift_probs,
            labels: &drift_labels,
            on: evaluated_on.clone(),
        },
    )
    .map_err(TrainError::Data)?;
    let mut bundle = scorer.into_bundle();
    bundle.drift = Some(drift);
    bundle.governance = governance;
    bundle.metadata.notes.push(format!(
        "drift baseline: {} rows not used to choose the threshold or calibration",
        drift_rows.len()
    ));
    bundle.report = Some(TrainingReport {
        test,
        train_rows: cal_rows.len() as u64,
        test_rows,
        cv: None,
        fit_seconds: 0.0,
    });
    bundle.decision = Some(Decision {
        policy: opts.policy,
        chosen_on,
        chosen,
        evaluated,
        evaluated_on,
        calibration: cal.method,
        calibration_chosen_by: cal.chosen_by,
    });
    let bytes = ferrisk::format::encode(&bundle).map_err(TrainError::from)?;
    Ok((bytes, bundle))
}

/// The trees over design columns. Leaves of an averaged ensemble (rf) are
/// divided by the tree count (in f64) so the model sums, in log-odds;
/// inner nodes get the cover-weighted mean of the leaves below.
/// Categorical splits become [`CatSplit`]s over the feature's one-hot
/// columns (`codes`: per schema category of the feature, its library code).
#[allow(clippy::type_complexity)]
fn ensemble(
    foreign: &Foreign,
    map: &[Option<u32>],
    codes: &[Option<Vec<Option<u32>>>],
) -> Result<(TreeEnsemble, Vec<Vec<CatSplit>>), ImportError> {
    let scale = if foreign.average {
        1.0 / foreign.trees.len().max(1) as f64
    } else {
        1.0
    };
    let mut trees = Vec::with_capacity(foreign.trees.len());
    let mut all_cats = Vec::with_capacity(foreign.trees.len());
    for t in &foreign.trees {
        let mut cats = Vec::new();
        let n = t.nodes.len();
        let mut mean = vec![0.0f64; n];
        for i in (0..n).rev() {
            let node = &t.nodes[i];
            mean[i] = match node.children {
                None => node.value * scale,
                Some((l, r)) => {
                    let (l, r) = (l as usize, r as usize);
                    let (cl, cr) = (t.nodes[l].cover, t.nodes[r].cover);
                    (cl * mean[l] + cr * mean[r]) / (cl + cr)
                }
            };
        }
        let mut nodes = Vec::with_capacity(n);
        for (i, node) in t.nodes.iter().enumerate() {
            let (feature, left, right) = match node.children {
                None => (0, LEAF, LEAF),
                Some((l, r)) => {
                    let Some(c) = map.get(node.feature).copied().flatten() else {
                        return Err(ImportError::Mapping(format!(
                            "feature '{}' is used by a split but has no column",
                            foreign
                                .features
                                .get(node.feature)
                                .map_or("?", |s| s.as_str())
                        )));
                    };
                    if let Some(fc) = &node.category {
                        let Some(Some(code_of)) = codes.get(node.feature) else {
                            return Err(ImportError::Mapping(format!(
                                "feature '{}' has categorical splits but no category table",
                                foreign
                                    .features
                                    .get(node.feature)
                                    .map_or("?", |s| s.as_str())
                            )));
                        };
                        let width = code_of.len();
                        let mut left = vec![0u32; width.div_ceil(32)];
                        for (k, code) in code_of.iter().enumerate() {
                            let goes = match code {
                                Some(code) => fc.left.contains(code),
                                None => fc.unknown_left,
                            };
                            if goes {
                                left[k / 32] |= 1 << (k % 32);
                            }
                        }
                        cats.push(CatSplit {
                            node: i as u32,
                            width: width as u32,
                            left,
                            none_left: fc.unknown_left,
                        });
                    }
                    (c, l, r)
                }
            };
            let value = mean[i] as f32;
            if !value.is_finite() {
                return Err(super::invalid(format!("node {i}"), "value overflows f32"));
            }
            nodes.push(Node {
                feature,
                threshold: node.threshold,
                left,
                right,
                value,
                cover: node.cover as f32,
                default_left: node.default_left,
            });
        }
        trees.push(Tree { nodes });
        all_cats.push(cats);
    }
    let base = foreign.base_margin as f32;
    if !base.is_finite() {
        return Err(super::invalid("base score", "overflows f32"));
    }
    Ok((
        TreeEnsemble {
            trees,
            base,
            average: false,
        },
        all_cats,
    ))
}
