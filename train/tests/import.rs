//! `ferrisk import` against the libraries' own outputs (tests/import/, made
//! by scripts/gen-import-fixtures.sh with pinned xgboost and lightgbm; no
//! Python here): raw probabilities within 1e-5 of the library's predict,
//! TreeSHAP within 1e-5 of pred_contribs / pred_contrib relative to Σ|φ|
//! (one-hot dummies summed into their column), the committed model files
//! equal to a fresh import, refusals naming what was found, and hostile
//! files refused with their position.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ferrisk::csv::CsvText;
use ferrisk::{RawValue, ScoreOptions, Scorer};
use ferrisk_train::calibrate::CalibrationChoice;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::import::{self, ImportError, ImportOptions};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/import")
}

struct Fixture {
    model: &'static str,
    data: &'static str,
    label: &'static str,
    positive: &'static str,
    one_hot: &'static [&'static str],
}

/// The same list as scripts/gen-import-fixtures.sh.
const FIXTURES: [Fixture; 8] = [
    Fixture {
        model: "xgb-german-numeric.json",
        data: "german.csv",
        label: "creditability",
        positive: "bad",
        one_hot: &[],
    },
    Fixture {
        model: "xgb-german-onehot.json",
        data: "german.csv",
        label: "creditability",
        positive: "bad",
        one_hot: &["purpose"],
    },
    Fixture {
        model: "xgb-bank-numeric.json",
        data: "bank.csv",
        label: "y",
        positive: "yes",
        one_hot: &[],
    },
    Fixture {
        model: "lgb-bank-numeric.txt",
        data: "bank.csv",
        label: "y",
        positive: "yes",
        one_hot: &[],
    },
    Fixture {
        model: "lgb-german-numeric.txt",
        data: "german.csv",
        label: "creditability",
        positive: "bad",
        one_hot: &[],
    },
    Fixture {
        model: "lgb-bank-rf-onehot.txt",
        data: "bank.csv",
        label: "y",
        positive: "yes",
        one_hot: &["job"],
    },
    Fixture {
        model: "xgb-german-categorical.json",
        data: "german.csv",
        label: "creditability",
        positive: "bad",
        one_hot: &[],
    },
    Fixture {
        model: "lgb-bank-categorical.txt",
        data: "bank.csv",
        label: "y",
        positive: "yes",
        one_hot: &[],
    },
];

impl Fixture {
    fn stem(&self) -> &str {
        self.model.rsplit_once('.').unwrap().0
    }

    /// Imports as scripts/gen-import-fixtures.sh does (the CLI's defaults,
    /// the library's own calibration, SOURCE_DATE_EPOCH=1700000000).
    fn import(&self) -> (Vec<u8>, Scorer, Table) {
        let bytes = std::fs::read(dir().join(self.model)).unwrap();
        let foreign = import::read(&bytes).unwrap();
        let table = Table::read(&dir().join(self.data)).unwrap();
        let ds = data::prepare(
            &table,
            self.label,
            self.positive,
            &[],
            &SchemaFile::default(),
        )
        .unwrap();
        let opts = ImportOptions {
            one_hot: self.one_hot.iter().map(|s| s.to_string()).collect(),
            calibration: CalibrationChoice::Own,
            model_name: self.model.to_string(),
            model_sha256: ferrisk::format::sha256_hex(&bytes),
            ..ImportOptions::default()
        };
        let (_, mut bundle) = import::build(&foreign, &table, &ds, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", self.model));
        ferrisk_train::reproducible::stamp(&mut bundle, 1_700_000_000);
        let file = ferrisk::format::encode(&bundle).unwrap();
        let scorer = Scorer::from_bytes(&file).unwrap();
        (file, scorer, table)
    }

    /// The library's outputs: header and rows of numbers.
    fn oracle(&self) -> (Vec<String>, Vec<Vec<f64>>) {
        let text =
            std::fs::read_to_string(dir().join(format!("{}.oracle.csv", self.stem()))).unwrap();
        let mut csv = CsvText::parse(&text).unwrap();
        let header = csv.header().to_vec();
        let mut rows = Vec::new();
        for r in &mut csv {
            let (_, fields) = r.unwrap();
            rows.push(fields.iter().map(|f| f.parse::<f64>().unwrap()).collect());
        }
        (header, rows)
    }

    /// The ferrisk feature a library feature's contributions fold into.
    fn feature_of(&self, name: &str) -> String {
        for s in self.one_hot {
            if let Some(rest) = name.strip_prefix(s) {
                if rest.starts_with('_') || rest.starts_with('=') {
                    return s.to_string();
                }
            }
        }
        name.to_string()
    }
}

fn fields(table: &Table, r: usize) -> Vec<(&str, RawValue<'_>)> {
    table
        .header
        .iter()
        .enumerate()
        .map(|(c, h)| (h.as_str(), RawValue::Text(table.texts(c).unwrap().text(r))))
        .collect()
}

#[test]
fn raw_probabilities_equal_the_libraries_predict() {
    for fx in &FIXTURES {
        let (_, scorer, table) = fx.import();
        let (_, oracle) = fx.oracle();
        assert_eq!(oracle.len(), table.rows(), "{}", fx.model);
        assert!(oracle.len() >= 300);
        let map = scorer.map_header(&table.header).unwrap();
        let mut rows = scorer.rows(ScoreOptions::default());
        let mut worst = 0.0f64;
        let mut missing = 0;
        for (r, want) in oracle.iter().enumerate() {
            let s = rows
                .score_cells(&map, &table.row_texts(r).unwrap())
                .unwrap();
            // The library's own calibration: the file's probability is the
            // logistic of the raw margin, as the library computes it.
            let p = f64::from(s.prediction.probability);
            let raw = 1.0 / (1.0 + (-f64::from(s.prediction.margin)).exp());
            assert!((p - raw).abs() < 1e-6);
            let d = (p - want[0]).abs();
            worst = worst.max(d);
            assert!(
                d <= 1e-5,
                "{} row {r}: ferrisk {p} vs library {}",
                fx.model,
                want[0]
            );
            missing += usize::from(table.row_texts(r).unwrap().iter().any(|c| c.is_empty()));
        }
        assert!(
            missing > 50,
            "{}: only {missing} rows with missing values",
            fx.model
        );
        eprintln!("{}: max |p - library| = {worst:e}", fx.model);
    }
}

#[test]
fn treeshap_equals_the_libraries_contributions() {
    for fx in &FIXTURES {
        let (_, scorer, table) = fx.import();
        let (header, oracle) = fx.oracle();
        let names = &header[2..header.len() - 1];
        let schema = &scorer.bundle().schema;
        let trees = match &scorer.bundle().model {
            ferrisk::Model::Trees(t) => t.trees.len() as f64,
            ferrisk::Model::CatTrees(t) => t.ensemble.trees.len() as f64,
            _ => panic!("not trees"),
        };
        // LightGBM's rf contributions are per tree summed; the model averages.
        let per = if fx.model.contains("-rf-") {
            1.0 / trees
        } else {
            1.0
        };
        let mut worst = 0.0f64;
        for (r, row) in oracle.iter().enumerate().take(150) {
            let e = scorer.explain(fields(&table, r)).unwrap();
            assert_eq!(e.unit, ferrisk::Unit::LogOdds);
            let lib = &row[2..row.len() - 1];
            let bias = row[row.len() - 1] * per;
            let mut want = vec![0.0f64; schema.features.len()];
            for (name, v) in names.iter().zip(lib) {
                let f = fx.feature_of(name);
                match schema.position(&f) {
                    Some(i) => want[i] += v * per,
                    None => assert_eq!(*v, 0.0, "{}: {name} unused but contributes", fx.model),
                }
            }
            let total: f64 = want.iter().map(|v| v.abs()).sum::<f64>().max(1e-12);
            for (c, w) in e.contributions.iter().zip(&want) {
                let d = (f64::from(c.contribution) - w).abs() / total;
                worst = worst.max(d);
                assert!(
                    d <= 1e-5,
                    "{} row {r} {}: ferrisk {} vs library {w} (Σ|φ| {total})",
                    fx.model,
                    c.feature,
                    c.contribution
                );
            }
            assert!(
                (f64::from(e.base) - bias).abs() <= 1e-5 * (1.0 + bias.abs()),
                "{} row {r}: base {} vs bias {bias}",
                fx.model,
                e.base
            );
        }
        eprintln!("{}: max |φ - library| / Σ|φ| = {worst:e}", fx.model);
    }
}

#[test]
fn the_committed_files_are_a_fresh_import_and_score_as_recorded() {
    for fx in &FIXTURES {
        let (file, scorer, _) = fx.import();
        let committed = std::fs::read(dir().join(format!("{}.frk", fx.stem()))).unwrap();
        assert!(
            file == committed,
            "{}: tests/import/{}.frk differs from a fresh import; run scripts/gen-import-fixtures.sh",
            fx.model,
            fx.stem()
        );
        let b = scorer.bundle();
        assert_eq!(
            b.algorithm.id,
            if fx.model.starts_with("xgb") {
                "xgboost"
            } else {
                "lightgbm"
            }
        );
        let params: std::collections::BTreeMap<_, _> = b.metadata.params.iter().cloned().collect();
        let sha = ferrisk::format::sha256_hex(&std::fs::read(dir().join(fx.model)).unwrap());
        assert_eq!(params["model sha256"], sha);
        assert_eq!(params["model file"], fx.model);
        for key in ["library", "library version", "objective", "booster"] {
            assert!(!params[key].is_empty(), "{key}");
        }
        // Held-out evaluation, threshold policy and drift baseline, as trained files.
        let d = b.decision.as_ref().unwrap();
        assert!(d.evaluated_on.contains("held-out"), "{}", d.evaluated_on);
        assert!(d.evaluated.is_some());
        let r = b.report.as_ref().unwrap();
        assert_eq!(r.train_rows + r.test_rows, 400);
        assert!(r.test.roc_auc > 0.6, "{}: AUC {}", fx.model, r.test.roc_auc);
        assert!(b.drift.is_some());
        // The native probabilities recorded next to the file (the wasm suite
        // must give these bits).
        let data = std::fs::read_to_string(dir().join(fx.data)).unwrap();
        let want =
            std::fs::read_to_string(dir().join(format!("expected-{}.csv", fx.stem()))).unwrap();
        let mut csv = CsvText::parse(&want).unwrap();
        let col = csv
            .header()
            .iter()
            .position(|h| h == "probability")
            .unwrap();
        let mut expected = Vec::new();
        for r in &mut csv {
            expected.push(r.unwrap().1[col].parse::<f32>().unwrap());
        }
        let got = scorer.score_csv(&data, |_| {}).unwrap();
        assert_eq!(got.len(), expected.len());
        for (g, w) in got.iter().zip(&expected) {
            match g {
                ferrisk::RowScore::Scored { probability, .. } => {
                    assert_eq!(probability.to_bits(), w.to_bits(), "{}", fx.model)
                }
                ferrisk::RowScore::Failed { line, error } => panic!("{line}: {error}"),
            }
        }
    }
}

fn refused(name: &str) -> String {
    let bytes = std::fs::read(dir().join("refused").join(name)).unwrap();
    match import::read(&bytes) {
        Err(e @ ImportError::Unsupported(_)) => e.to_string(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn xgboost_multiclass_is_refused() {
    let e = refused("xgb-multiclass.json");
    assert!(
        e.contains("multi:softprob") && e.contains("3 classes"),
        "{e}"
    );
}

#[test]
fn xgboost_gblinear_is_refused() {
    let e = refused("xgb-gblinear.json");
    assert!(e.contains("booster 'gblinear'"), "{e}");
}

#[test]
fn xgboost_dart_is_refused() {
    let e = refused("xgb-dart.json");
    assert!(e.contains("booster 'dart'"), "{e}");
}

#[test]
fn xgboost_regression_objective_is_refused() {
    let e = refused("xgb-regression.json");
    assert!(e.contains("objective 'reg:squarederror'"), "{e}");
}

#[test]
fn lightgbm_multiclass_is_refused() {
    let e = refused("lgb-multiclass.txt");
    assert!(e.contains("multiclass") && e.contains("3 classes"), "{e}");
}

#[test]
fn lightgbm_regression_objective_is_refused() {
    let e = refused("lgb-regression.txt");
    assert!(e.contains("objective 'regression'"), "{e}");
}

#[test]
fn lightgbm_dart_is_refused() {
    let e = refused("lgb-dart.txt");
    assert!(e.contains("boosting 'dart'"), "{e}");
}

#[test]
fn lightgbm_linear_trees_are_refused() {
    let e = refused("lgb-linear-tree.txt");
    assert!(e.contains("linear tree"), "{e}");
}

#[test]
fn native_categorical_models_import_as_trees_with_category_splits() {
    for stem in ["xgb-german-categorical", "lgb-bank-categorical"] {
        let fx = FIXTURES.iter().find(|f| f.stem() == stem).unwrap();
        let (_, scorer, _) = fx.import();
        let b = scorer.bundle();
        assert_eq!(b.model.tag(), "trees-cat", "{stem}");
        let ferrisk::Model::CatTrees(m) = &b.model else {
            panic!()
        };
        assert!(m.cats.iter().map(Vec::len).sum::<usize>() > 20, "{stem}");
        // The code table: every category of the library's table is a
        // category of the schema, in the data's order (most frequent first).
        let f = b.schema.features.iter().find(|f| !f.is_numeric()).unwrap();
        assert!(f.width() >= 3, "{stem}: {}", f.name);
        let codes = b
            .metadata
            .params
            .iter()
            .find(|(k, _)| k == &format!("codes {}", f.name))
            .map(|(_, v)| v.clone())
            .unwrap();
        assert!(codes.starts_with("0="), "{codes}");
        // A file with categorical splits needs a v3 reader.
        let bytes = ferrisk::format::encode(b).unwrap();
        let (header, _) = ferrisk::format::read_header(&bytes).unwrap();
        assert_eq!(header.min_reader, 3);
    }
}

#[test]
fn hostile_categorical_splits_are_refused() {
    let bytes = std::fs::read(dir().join("xgb-german-categorical.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let k = v["learner"]["gradient_booster"]["model"]["trees"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| !t["categories_nodes"].as_array().unwrap().is_empty())
        .unwrap();
    let mut bad = v.clone();
    bad["learner"]["gradient_booster"]["model"]["trees"][k]["categories"][0] = 99.into();
    let e = import::read(&serde_json::to_vec(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("tree {k}")) && e.contains("category code 99"),
        "{e}"
    );
    let mut bad = v.clone();
    bad["learner"]["gradient_booster"]["model"]["trees"][k]["categories_segments"][0] =
        100000.into();
    let e = import::read(&serde_json::to_vec(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("categories_segments[0]") && e.contains("out of range"),
        "{e}"
    );
    let mut bad = v;
    bad["learner"]["gradient_booster"]["model"]
        .as_object_mut()
        .unwrap()
        .remove("cats");
    let e = import::read(&serde_json::to_vec(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("category table"), "{e}");
    let text = std::fs::read_to_string(dir().join("lgb-bank-categorical.txt")).unwrap();
    let bad = text.replacen("cat_boundaries=0 1 2", "cat_boundaries=0 1 9", 1);
    let e = import::read(bad.as_bytes()).unwrap_err().to_string();
    assert!(
        e.contains("cat_threshold") || e.contains("category sets"),
        "{e}"
    );
}

/// The XGBoost fixture with one edit made to its JSON.
fn xgb_edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<import::Foreign, ImportError> {
    let bytes = std::fs::read(dir().join("xgb-german-numeric.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    edit(&mut v["learner"]["gradient_booster"]["model"]["trees"][3]);
    import::read(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn hostile_xgboost_files_are_refused_with_their_position() {
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|t| t["left_children"][0] = 0.into()),
            "reached twice",
        ),
        (
            Box::new(|t| t["left_children"][0] = 9999.into()),
            "outside the tree",
        ),
        (
            Box::new(|t| t["split_indices"][0] = 70.into()),
            "split feature 70",
        ),
        (
            Box::new(|t| t["sum_hessian"][1] = (-1.0).into()),
            "cover -1",
        ),
        (
            Box::new(|t| t["split_conditions"][0] = 1e39.into()),
            "overflows f32",
        ),
        (
            Box::new(|t| t["default_left"][0] = 7.into()),
            "default_left is 7",
        ),
        (
            Box::new(|t| t["tree_param"]["num_nodes"] = "3".into()),
            "entries for 3 nodes",
        ),
        (
            Box::new(|t| {
                t["left_children"][1] = (-1).into();
                t["right_children"][1] = (-1).into();
            }),
            "not reached from the root",
        ),
    ];
    for (edit, want) in cases {
        let e = xgb_edited(edit).unwrap_err().to_string();
        assert!(e.contains("tree 3") && e.contains(want), "{want}: {e}");
    }
    let e = import::read(b"{\"learner\": 3}").unwrap_err().to_string();
    assert!(e.contains("gradient_booster"), "{e}");
    assert!(import::read(b"{not json").is_err());
}

#[test]
fn hostile_lightgbm_files_are_refused_with_their_position() {
    let text = std::fs::read_to_string(dir().join("lgb-german-numeric.txt")).unwrap();
    let edit = |key: &str, f: &dyn Fn(&str) -> String| -> String {
        let start = text.find("Tree=2\n").unwrap();
        let at = start + text[start..].find(&format!("\n{key}=")).unwrap() + 1;
        let end = at + text[at..].find('\n').unwrap();
        let line = &text[at + key.len() + 1..end];
        format!("{}{key}={}{}", &text[..at], f(line), &text[end..])
    };
    let first = |new: &str| {
        let new = new.to_string();
        move |l: &str| {
            let mut w: Vec<String> = l.split(' ').map(str::to_string).collect();
            w[0] = new.clone();
            w.join(" ")
        }
    };
    for (key, value, want) in [
        ("left_child", "0", "reached twice"),
        ("left_child", "-99", "outside the tree"),
        ("split_feature", "40", "split feature 40"),
        ("leaf_value", "nan", "leaf value is not a finite"),
        ("leaf_count", "0", "cover 0"),
        ("threshold", "nan", "threshold is NaN"),
        ("decision_type", "14", "missing type 3"),
        // zero_as_missing sending zero right while 0 <= 15.5 goes left.
        ("decision_type", "4", "zero_as_missing"),
    ] {
        let bad = edit(key, &first(value));
        let e = import::read(bad.as_bytes()).unwrap_err().to_string();
        assert!(
            e.contains("Tree=2") && e.contains(want),
            "{key}={value}: {e}"
        );
    }
    let bad = edit("leaf_value", &|l: &str| format!("{l} 0.5"));
    let e = import::read(bad.as_bytes()).unwrap_err().to_string();
    assert!(
        e.contains("Tree=2") && e.contains("'leaf_value' has"),
        "{e}"
    );
    let bad = text.replace("Tree=5\n", "Tree=7\n");
    let e = import::read(bad.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("out of sequence"), "{e}");
}

#[test]
fn columns_the_model_needs_are_checked() {
    let fx = &FIXTURES[1]; // one-hot purpose
    let bytes = std::fs::read(dir().join(fx.model)).unwrap();
    let foreign = import::read(&bytes).unwrap();
    let table = Table::read(&dir().join(fx.data)).unwrap();
    let ds = data::prepare(&table, fx.label, fx.positive, &[], &SchemaFile::default()).unwrap();
    // Without --one-hot the dummies are unknown columns.
    let e = import::build(&foreign, &table, &ds, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'purpose_car (new)'") && e.contains("--one-hot purpose"),
        "{e}"
    );
    // A numeric feature whose column holds text.
    let text = std::fs::read_to_string(dir().join(fx.data))
        .unwrap()
        .replace(",purpose,", ",purpose_x,")
        .replacen("\n6,", "\nsix,", 1);
    let t = Table::parse(Path::new("edited.csv"), &text, String::new()).unwrap();
    let d = data::prepare(&t, fx.label, fx.positive, &[], &SchemaFile::default()).unwrap();
    let foreign =
        import::read(&std::fs::read(dir().join("xgb-german-numeric.json")).unwrap()).unwrap();
    let e = import::build(&foreign, &t, &d, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'duration_in_month' as a number") && e.contains("'six'"),
        "{e}"
    );
}

/// An imported model gets the governance of a trained one: the fairness
/// audit of `--protected` on the rows it was evaluated on (all of them with
/// `eval_share` 0), recounted here from the imported file's own decisions;
/// a protected input never given as a reason; the monotone check as a
/// report.
#[test]
fn an_imported_model_is_audited_and_never_gives_a_protected_reason() {
    let f = &FIXTURES[0];
    let bytes = std::fs::read(dir().join(f.model)).unwrap();
    let foreign = import::read(&bytes).unwrap();
    let table = Table::read(&dir().join(f.data)).unwrap();
    let ds = data::prepare(&table, f.label, f.positive, &[], &SchemaFile::default()).unwrap();
    let opts = ImportOptions {
        eval_share: 0.0,
        calibration: CalibrationChoice::Own,
        protected: vec![ferrisk_train::fairness::ProtectedSpec::parse("age_in_years:<25").unwrap()],
        monotone: vec![("duration_in_month".into(), 1)],
        ..ImportOptions::default()
    };
    let (file, _) = import::build(&foreign, &table, &ds, &opts).unwrap();
    let s = Scorer::from_bytes(&file).unwrap();
    let section = s
        .bundle()
        .governance
        .as_ref()
        .expect("a governance section");
    assert_eq!(section.protected, vec!["age_in_years".to_string()]);
    let g: ferrisk::governance::Governance = serde_json::from_str(&section.report).unwrap();
    let audit = &g.protected[0];
    assert!(audit.input, "the library's model takes age as an input");
    // Recount the approval rate per band from the file's own decisions.
    let age = table.column("age_in_years").unwrap();
    let (mut young, mut old, mut missing) = ((0u64, 0u64), (0u64, 0u64), (0u64, 0u64));
    let mut reasons_seen = 0;
    let map = s.map_header(&table.header).unwrap();
    let mut rows = s.rows(ScoreOptions {
        explain: true,
        reasons_always: true,
        ..ScoreOptions::default()
    });
    for r in 0..table.rows() {
        let scored = rows
            .score_cells(&map, &table.row_texts(r).unwrap())
            .unwrap();
        let approved = !scored.prediction.decision;
        let band = match table.texts(age).unwrap().text(r) {
            "" => &mut missing,
            cell if cell.parse::<f64>().unwrap() < 25.0 => &mut young,
            _ => &mut old,
        };
        band.0 += 1;
        band.1 += u64::from(approved);
        for reason in &scored.reasons {
            reasons_seen += 1;
            assert_ne!(reason.feature, "age_in_years", "row {r}");
        }
    }
    assert!(reasons_seen > 0);
    assert!(missing.0 > 0, "the fixture has missing ages");
    for (name, (n, ok)) in [("< 25", young), (">= 25", old), ("(missing)", missing)] {
        let group = audit.groups.iter().find(|g| g.name == name).unwrap();
        assert_eq!(group.rows, n, "{name}");
        assert!(
            (group.approval_rate - ok as f64 / n as f64).abs() < 1e-12,
            "{name}"
        );
    }
    assert_eq!(g.monotone.len(), 1);
    assert!(!g.monotone[0].enforced, "a report, not a constraint");
}
