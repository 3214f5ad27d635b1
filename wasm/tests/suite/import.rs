//! Models imported from XGBoost and LightGBM (tests/import/, made by
//! scripts/gen-import-fixtures.sh): in wasm, every fixture row scores
//! within 1e-5 of the library's own probability and bit for bit as the
//! native CLI recorded, and explanations reproduce the library's TreeSHAP
//! contributions (one-hot dummies summed into their column).

use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

fn imported(name: &str) -> &'static [u8] {
    match data::IMPORTS.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => bytes,
        None => panic!("tests/import/{name} is missing: run scripts/gen-import-fixtures.sh"),
    }
}

/// Every imported model (`<stem>.frk`).
fn stems() -> Vec<String> {
    let stems: Vec<String> = data::IMPORTS
        .iter()
        .filter_map(|(n, _)| n.strip_suffix(".frk"))
        .map(str::to_string)
        .collect();
    for want in [
        "xgb-german-numeric",
        "lgb-bank-numeric",
        "lgb-bank-rf-onehot",
    ] {
        assert!(
            stems.iter().any(|s| s == want),
            "tests/import/{want}.frk is missing"
        );
    }
    stems
}

/// The library's outputs: header, rows of numbers.
fn oracle(stem: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let t = Table::read(text(imported(&format!("{stem}.oracle.csv"))));
    let rows = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| c.parse::<f64>().expect("oracle number"))
                .collect()
        })
        .collect();
    (t.header, rows)
}

/// The data file a model was imported from (its metadata's dataName).
fn data_of(scorer: &ferrisk_wasm::WasmScorer) -> &'static str {
    let name = string(&ok(scorer.metadata()), "dataName");
    text(imported(&name))
}

#[wasm_bindgen_test]
fn imported_models_score_as_the_library_and_as_native() {
    for stem in stems() {
        let scorer = load(imported(&format!("{stem}.frk")));
        let csv = data_of(&scorer);
        let scored = ok(scorer.predict_csv(csv));
        assert!(array(&scored, "errors").is_empty(), "{stem}: row errors");
        let probs = f32s(&scored, "probabilities");
        let name = format!("expected-{stem}.csv");
        let native = cli_probabilities(&name, text(imported(&name)));
        assert_same_bits(&format!("{stem}: wasm vs native"), &probs, &native);
        let (_, lib) = oracle(&stem);
        assert_eq!(lib.len(), probs.len());
        for (i, (p, want)) in probs.iter().zip(&lib).enumerate() {
            assert!(
                (f64::from(*p) - want[0]).abs() <= 1e-5,
                "{stem} row {i}: wasm {p} vs library {}",
                want[0]
            );
        }
    }
}

#[wasm_bindgen_test]
fn imported_models_explain_as_the_library() {
    for stem in stems() {
        let scorer = load(imported(&format!("{stem}.frk")));
        let meta = ok(scorer.metadata());
        let params: Vec<(String, String)> = array(&meta, "params")
            .iter()
            .map(|p| {
                let a = js_sys::Array::from(p);
                (a.get(0).as_string().unwrap(), a.get(1).as_string().unwrap())
            })
            .collect();
        let one_hot: Vec<String> = params
            .iter()
            .find(|(k, _)| k == "one-hot")
            .map(|(_, v)| v.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        let trees: f64 = params
            .iter()
            .find(|(k, _)| k == "trees")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap();
        // LightGBM's rf contributions are per tree, summed; the model averages.
        let per = if stem.contains("-rf-") {
            1.0 / trees
        } else {
            1.0
        };
        let table = Table::read(data_of(&scorer));
        let feats = features(&scorer);
        let (header, lib) = oracle(&stem);
        let names = &header[2..header.len() - 1];
        let fold = |name: &str| -> String {
            for s in &one_hot {
                if let Some(rest) = name.strip_prefix(s.as_str()) {
                    if rest.starts_with('_') || rest.starts_with('=') {
                        return s.clone();
                    }
                }
            }
            name.to_string()
        };
        for (r, row) in table.rows.iter().enumerate().take(25) {
            let e = ok(scorer.contributions(customer(&table, row, &feats, false)));
            assert_eq!(string(&e, "unit"), "log-odds");
            let mut want = vec![0.0f64; feats.len()];
            for (name, v) in names.iter().zip(&lib[r][2..]) {
                let f = fold(name);
                if let Some(i) = feats.iter().position(|x| x.name == f) {
                    want[i] += v * per;
                }
            }
            let total: f64 = want.iter().map(|v| v.abs()).sum::<f64>().max(1e-12);
            for (c, w) in array(&e, "contributions").iter().zip(&want) {
                let got = num(c, "contribution");
                assert!(
                    (got - w).abs() <= 1e-5 * total,
                    "{stem} row {r} {}: wasm {got} vs library {w}",
                    string(c, "feature")
                );
            }
            let bias = lib[r][lib[r].len() - 1] * per;
            assert!((num(&e, "base") - bias).abs() <= 1e-5 * (1.0 + bias.abs()));
        }
    }
}
