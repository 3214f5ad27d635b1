//! Golden model files (tests/golden/<kind>.frk, each scored on the CSV it
//! was trained on: synthetic.csv, or histories.csv for gru/tcn): the shapes
//! of every result object, and agreement between the API's scoring paths.

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

fn finite(v: &JsValue, key: &str) -> f64 {
    let x = num(v, key);
    assert!(x.is_finite(), "{key} = {x} is not finite");
    x
}

fn in_unit(v: &JsValue, key: &str) -> f64 {
    let x = finite(v, key);
    assert!((0.0..=1.0).contains(&x), "{key} = {x} is not in [0, 1]");
    x
}

/// Checks the shape shared by `metrics()`, `evaluate()` and `metricsFor()`.
pub fn check_metrics(m: &JsValue, threshold: f64) {
    let rows = finite(m, "rows");
    let positives = finite(m, "positives");
    assert!(
        rows >= 2.0 && positives >= 1.0 && positives < rows,
        "rows {rows}, positives {positives}"
    );
    assert_eq!(
        num(m, "threshold"),
        threshold,
        "metrics threshold is the model's"
    );
    for key in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "rocAuc",
        "ks",
        "brier",
    ] {
        in_unit(m, key);
    }
    assert!(finite(m, "logLoss") >= 0.0);
    let c = get(m, "confusion");
    let (tn, fp, fnn, tp) = (num(&c, "tn"), num(&c, "fp"), num(&c, "fn"), num(&c, "tp"));
    assert_eq!(tn + fp + fnn + tp, rows, "confusion counts add up to rows");
    assert_eq!(tp + fnn, positives, "tp + fn = positives");
    assert!(
        (num(m, "accuracy") - (tp + tn) / rows).abs() < 1e-12,
        "accuracy agrees with the confusion matrix"
    );
    let roc = array(m, "roc");
    assert!(
        roc.len() >= 2 && roc.len() <= 201,
        "roc has {} points",
        roc.len()
    );
    let first = &roc[0];
    let last = &roc[roc.len() - 1];
    assert_eq!((num(first, "fpr"), num(first, "tpr")), (0.0, 0.0));
    assert_eq!((num(last, "fpr"), num(last, "tpr")), (1.0, 1.0));
    for w in roc.windows(2) {
        assert!(num(&w[1], "fpr") >= num(&w[0], "fpr") && num(&w[1], "tpr") >= num(&w[0], "tpr"));
        assert!(
            num(&w[1], "threshold") <= num(&w[0], "threshold"),
            "ROC thresholds descend"
        );
    }
}

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    let v = ok(ferrisk_wasm::version());
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(v.split('.').count(), 3);
}

#[wasm_bindgen_test]
fn golden_schema_metadata_and_metrics_have_their_shapes() {
    for (set, version) in golden_sets() {
        for kind in golden_kinds(&set) {
            shapes(&set, version, &kind);
        }
    }
}

fn shapes(set: &str, version: u16, kind: &str) {
    let bytes = golden(&format!("{set}{kind}.frk"));
    let scorer = load(bytes);

    let schema = ok(scorer.schema());
    for key in ["label", "positive", "negative"] {
        assert!(
            !string(&schema, key).is_empty(),
            "{set}{kind}: schema.{key} is empty"
        );
    }
    let features = array(&schema, "features");
    assert!(!features.is_empty(), "{set}{kind}: no features");
    for f in &features {
        let name = string(f, "name");
        let missing = in_unit(f, "missingRate");
        let typical = string(f, "typical");
        match string(f, "type").as_str() {
            "numeric" => {
                let (min, max) = (finite(f, "min"), finite(f, "max"));
                let (mean, median) = (finite(f, "mean"), finite(f, "median"));
                assert!(
                    min <= median && median <= max,
                    "{set}{kind}/{name}: median outside [min, max]"
                );
                assert!(
                    min <= mean && mean <= max,
                    "{set}{kind}/{name}: mean outside [min, max]"
                );
                let t: f64 = typical
                    .parse()
                    .unwrap_or_else(|_| panic!("{set}{kind}/{name}: typical {typical:?}"));
                assert_eq!(
                    t as f32, median as f32,
                    "{set}{kind}/{name}: typical is the median"
                );
                assert!(get(f, "categories").is_undefined());
            }
            "categorical" => {
                let cats = strings(f, "categories");
                let freqs: Vec<f64> = array(f, "frequencies")
                    .iter()
                    .map(|x| x.as_f64().unwrap_or(-1.0))
                    .collect();
                assert!(!cats.is_empty(), "{set}{kind}/{name}: no categories");
                assert_eq!(
                    cats.len(),
                    freqs.len(),
                    "{set}{kind}/{name}: one frequency per category"
                );
                assert!(freqs.iter().all(|&q| (0.0..=1.0).contains(&q)));
                let sum: f64 = freqs.iter().sum();
                // Shares of all rows (missing ones count in none) or of the non-missing rows.
                assert!(
                    sum > 1.0 - missing - 1e-3 && sum < 1.0 + 1e-3,
                    "{set}{kind}/{name}: frequencies sum to {sum} with missing rate {missing}"
                );
                assert!(
                    cats.contains(&typical),
                    "{set}{kind}/{name}: typical {typical:?} is a category"
                );
                assert!(get(f, "min").is_undefined());
            }
            other => panic!("{set}{kind}/{name}: type {other:?}"),
        }
    }

    let meta = ok(scorer.metadata());
    assert_eq!(string(&meta, "kind"), kind);
    assert!(!string(&meta, "kindName").is_empty());
    assert_eq!(
        num(&meta, "formatVersion"),
        f64::from(version),
        "{set}{kind}: format version"
    );
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), version);
    assert!(
        string(&meta, "producer").starts_with("ferrisk"),
        "{set}{kind}: producer"
    );
    assert!(
        finite(&meta, "createdUnix") >= 0.0,
        "{set}{kind}: createdUnix"
    );
    let sha = string(&meta, "dataSha256");
    assert!(
        sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()),
        "{set}{kind}: dataSha256 {sha:?}"
    );
    assert!(
        !string(&meta, "dataName").contains('/'),
        "{set}{kind}: dataName has no directories"
    );
    let data_rows = finite(&meta, "dataRows");
    for p in array(&meta, "params") {
        let pair = js_sys::Array::from(&p);
        assert_eq!(
            pair.length(),
            2,
            "{set}{kind}: params are [name, value] pairs"
        );
        assert!(pair.get(0).is_string() && pair.get(1).is_string());
    }
    strings(&meta, "notes");
    let threshold = num(&meta, "threshold");
    assert!(threshold > 0.0 && threshold < 1.0);
    assert!(!string(&meta, "explanationMethod").is_empty());
    assert_eq!(
        boolean(&meta, "embedsTrainingRows"),
        kind == "svm-rbf",
        "{set}{kind}: embedsTrainingRows"
    );

    let metrics = ok(scorer.metrics());
    assert!(
        !metrics.is_null(),
        "{set}{kind}: golden files carry their training report"
    );
    check_metrics(&metrics, threshold);
    let (train, test) = (finite(&metrics, "trainRows"), finite(&metrics, "testRows"));
    assert_eq!(
        test,
        num(&metrics, "rows"),
        "{set}{kind}: test metrics cover the test rows"
    );
    assert!(
        train + test <= data_rows,
        "{set}{kind}: train + test rows within the data rows"
    );
    let cv = get(&metrics, "cvAuc");
    assert!(
        cv.is_null() || js_sys::Array::is_array(&cv),
        "{set}{kind}: cvAuc is null or an array"
    );
    if !cv.is_null() {
        for a in js_sys::Array::from(&cv).iter() {
            let a = a.as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&a), "{set}{kind}: fold AUC {a}");
        }
    }
}

#[wasm_bindgen_test]
fn golden_scoring_paths_agree_bit_for_bit() {
    for (set, _) in golden_sets() {
        for kind in golden_kinds(&set) {
            scoring_paths(&set, golden_data(&set, &kind), &kind);
        }
    }
}

fn scoring_paths(set: &str, csv: &str, kind: &str) {
    let table = Table::read(csv);
    assert!(
        table.rows.len() >= 50,
        "{set}{kind}: its golden data has {} rows",
        table.rows.len()
    );
    let scorer = load(golden(&format!("{set}{kind}.frk")));
    let feats = features(&scorer);
    let threshold = num(&ok(scorer.metadata()), "threshold") as f32;

    // predictCsv over the whole file.
    let scored = ok(scorer.predict_csv(csv));
    assert!(
        array(&scored, "errors").is_empty(),
        "{set}{kind}: its golden data scores without row errors"
    );
    let by_csv = f32s(&scored, "probabilities");
    let decisions = u8s(&scored, "decisions");
    assert_eq!(by_csv.len(), table.rows.len());
    for (p, d) in by_csv.iter().zip(&decisions) {
        assert!((0.0..=1.0).contains(p), "{set}{kind}: probability {p}");
        assert_eq!(
            *d,
            u8::from(*p >= threshold),
            "{set}{kind}: decision agrees with the threshold"
        );
    }

    // The trainer's native run recorded these probabilities (scripts/gen-golden.sh).
    let name = format!("{set}expected-{kind}.csv");
    let native = cli_probabilities(&name, text(golden(&name)));
    assert_same_bits(
        &format!("{set}{kind}: predictCsv vs native {name}"),
        &by_csv,
        &native,
    );

    // predict, with values as text and with numbers as JS numbers.
    for numbers in [false, true] {
        let by_row: Vec<f32> = table
            .rows
            .iter()
            .map(|r| {
                let p = ok(scorer.predict(customer(&table, r, &feats, numbers)));
                assert_eq!(boolean(&p, "decision"), probability(&p) >= threshold);
                assert_eq!(num(&p, "threshold") as f32, threshold);
                assert!(num(&p, "margin").is_finite());
                probability(&p)
            })
            .collect();
        assert_same_bits(
            &format!("{set}{kind}: predict (numbers: {numbers}) vs predictCsv"),
            &by_row,
            &by_csv,
        );
    }

    // predictBatch: a different encoder (column-major numbers and codes).
    let b = batch(&table, &feats);
    assert!(
        b.rows.len() * 10 >= table.rows.len() * 9,
        "{set}{kind}: most rows fit a batch"
    );
    let by_batch = ok(scorer.predict_batch(&b.numeric, &b.codes, b.rows.len() as u32, None));
    let want: Vec<f32> = b.rows.iter().map(|&r| by_csv[r]).collect();
    assert_same_bits(
        &format!("{set}{kind}: predictBatch vs predictCsv"),
        &by_batch,
        &want,
    );

    // evaluate and metricsFor agree with each other and with a pair count.
    let y = labels(&table, &scorer);
    let eval = ok(scorer.evaluate(csv));
    check_metrics(&eval, threshold as f64);
    assert_eq!(num(&eval, "rows"), table.rows.len() as f64);
    assert!(get(&eval, "cvAuc").is_null() && get(&eval, "trainRows").is_null());
    let auc = pairwise_auc(&by_csv, &y);
    assert!(
        (num(&eval, "rocAuc") - auc).abs() < 1e-9,
        "{set}{kind}: AUC {} vs pair count {auc}",
        num(&eval, "rocAuc")
    );
    let labels_u8: Vec<u8> = y.iter().map(|&b| u8::from(b)).collect();
    let again = ok(scorer.metrics_for(&by_csv, &labels_u8));
    for key in [
        "rows",
        "positives",
        "accuracy",
        "rocAuc",
        "ks",
        "brier",
        "logLoss",
        "f1",
    ] {
        assert_eq!(
            num(&again, key),
            num(&eval, key),
            "{set}{kind}: metricsFor.{key} equals evaluate.{key}"
        );
    }
}

#[wasm_bindgen_test]
fn golden_contributions_add_up_or_throw_clearly() {
    for (set, _) in golden_sets() {
        for kind in golden_kinds(&set) {
            let table = Table::read(golden_data(&set, &kind));
            contributions(&set, &table, &kind);
        }
    }
}

fn contributions(set: &str, table: &Table, kind: &str) {
    let scorer = load(golden(&format!("{set}{kind}.frk")));
    let feats = features(&scorer);
    let method = string(&ok(scorer.metadata()), "explanationMethod");
    for row in table.rows.iter().take(20) {
        let c = customer(table, row, &feats, false);
        let result = scorer.contributions(c.clone());
        if method.starts_with("not available") {
            let msg = fails(result);
            assert_mentions(&msg, &["not available"]);
            continue;
        }
        let e = ok(result);
        let p = probability(&ok(scorer.predict(c)));
        assert_eq!(
            num(&e, "probability") as f32,
            p,
            "{set}{kind}: explanation probability is the prediction's"
        );
        assert_eq!(string(&e, "method"), method);
        let contribs = array(&e, "contributions");
        let (statics, steps) = statics_and_steps(&scorer, &feats);
        assert_eq!(
            contribs.len(),
            statics.len() + steps,
            "{set}{kind}: one contribution per feature (or per step of a history)"
        );
        for (i, c) in contribs.iter().enumerate() {
            match statics.get(i) {
                Some(f) => assert_eq!(string(c, "feature"), *f),
                None => assert!(get(c, "step").is_object(), "{set}{kind}: a step"),
            }
            string(c, "value");
            assert!(num(c, "contribution").is_finite());
        }
        let sum: f64 =
            contribs.iter().map(|c| num(c, "contribution")).sum::<f64>() + num(&e, "base");
        let output = num(&e, "output");
        assert!(
            (sum - output).abs() < 1e-4 * (1.0 + output.abs()),
            "{set}{kind}: base + sum = output"
        );
        let implied = match string(&e, "unit").as_str() {
            "log-odds" => 1.0 / (1.0 + (-output).exp()),
            "probability" => output,
            u => panic!("{set}{kind}: unit {u:?}"),
        };
        assert!(
            (implied - p as f64).abs() < 1e-4,
            "{set}{kind}: output {output} implies {implied}, predicted {p}"
        );
    }
}
