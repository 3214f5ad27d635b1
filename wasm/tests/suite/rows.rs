//! The portal's forms of a batch (`predictRows`: customer objects and
//! row-major arrays of values, converted in wasm), the one rule for missing
//! values, and the `FerriskError` codes and fields a program reads.
//! Oracle: `predict` on the same customers (the runtime's row path), and
//! `predictBatch` on the typed arrays built independently by the tests'
//! own encoder (`util::batch`).

use ferrisk::format::{frame, FORMAT_VERSION, HEADER_LEN};
use ferrisk_wasm::WasmScorer;
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

/// The thrown value's `name`, `code` and a field.
fn field(e: &JsValue, key: &str) -> JsValue {
    Reflect::get(e, &JsValue::from_str(key)).unwrap()
}

fn thrown<T, E: Into<JsValue>>(r: Result<T, E>) -> JsValue {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            let e = e.into();
            assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
            assert_eq!(
                field(&e, "name").as_string().as_deref(),
                Some("FerriskError")
            );
            e
        }
    }
}

fn code(e: &JsValue) -> String {
    field(e, "code").as_string().unwrap_or_default()
}

/// A row as an array of its customer's values in schema order.
fn values(customer: &JsValue, feats: &[FeatureInfo]) -> JsValue {
    let a = Array::new();
    for f in feats {
        a.push(&Reflect::get(customer, &JsValue::from_str(&f.name)).unwrap());
    }
    a.into()
}

#[wasm_bindgen_test]
fn predict_rows_equals_predict_for_objects_and_arrays() {
    for kind in golden_kinds("") {
        let table = Table::read(golden_data("", &kind));
        let scorer = load(golden(&format!("{kind}.frk")));
        let feats = features(&scorer);
        let objects = Array::new();
        let arrays = Array::new();
        let mixed = Array::new();
        let mut want = Vec::new();
        let mut warned = Vec::new();
        for (i, row) in table.rows.iter().enumerate().take(60) {
            // Odd rows give numbers as JS numbers, even ones as text.
            let c = customer(&table, row, &feats, i % 2 == 1);
            let p = ok(scorer.predict(c.clone()));
            want.push(probability(&p));
            let w = strings(&p, "warnings");
            if !w.is_empty() {
                warned.push((i, w));
            }
            objects.push(&c);
            arrays.push(&values(&c, &feats));
            mixed.push(&if i % 3 == 0 { values(&c, &feats) } else { c });
        }
        for (form, rows) in [("objects", objects), ("arrays", arrays), ("mixed", mixed)] {
            let got = ok(scorer.predict_rows(rows.into()));
            assert_same_bits(
                &format!("{kind} predictRows({form})"),
                &f32s(&got, "probabilities"),
                &want,
            );
            let threshold = num(&ok(scorer.metadata()), "threshold") as f32;
            let decisions: Vec<u8> = want.iter().map(|&p| u8::from(p >= threshold)).collect();
            assert_eq!(u8s(&got, "decisions"), decisions, "{kind} {form}");
            let got_w: Vec<(usize, Vec<String>)> = array(&got, "warnings")
                .iter()
                .map(|w| (num(w, "row") as usize, strings(w, "warnings")))
                .collect();
            assert_eq!(
                got_w, warned,
                "{kind} {form}: warnings as predict gives them"
            );
        }
    }
}

#[wasm_bindgen_test]
fn one_rule_for_missing_values_and_unseen_categories_score() {
    let table = Table::read(text(golden("synthetic.csv")));
    let scorer = load(golden("lr.frk"));
    let feats = features(&scorer);
    let num_f = &feats.iter().find(|f| f.numeric).unwrap().name;
    let cat = feats.iter().find(|f| !f.numeric).unwrap();
    let with = |name: &str, v: JsValue| {
        let c = customer(&table, &table.rows[0], &feats, true);
        Reflect::set(&c, &JsValue::from_str(name), &v).unwrap();
        c
    };
    // null is missing (imputed); NaN, undefined and "" must score the same.
    let base = ok(scorer.predict(with(num_f, JsValue::NULL)));
    let rows = Array::new();
    for v in [
        JsValue::from_f64(f64::NAN),
        JsValue::UNDEFINED,
        JsValue::from_str(""),
    ] {
        let p = ok(scorer.predict(with(num_f, v.clone())));
        assert_eq!(probability(&p), probability(&base));
        assert_eq!(strings(&p, "warnings"), strings(&base, "warnings"));
        rows.push(&with(num_f, v.clone()));
        rows.push(&values(&with(num_f, v), &feats));
    }
    let got = ok(scorer.predict_rows(rows.into()));
    assert!(f32s(&got, "probabilities")
        .iter()
        .all(|&p| p == probability(&base)));
    // predictBatch's NaN is the same missing value (typed-array path).
    let b = batch(&table, &feats);
    if b.rows.first() == Some(&0) {
        let n = b.rows.len();
        let mut numeric = b.numeric.clone();
        let col = feats
            .iter()
            .take_while(|f| &f.name != num_f)
            .filter(|f| f.numeric)
            .count();
        numeric[col * n] = f64::NAN;
        let p = ok(scorer.predict_batch(&numeric, &b.codes, n as u32, None));
        assert_eq!(p[0], probability(&base));
    }
    // An unseen category scores with a warning, as in predict.
    let unseen = with(&cat.name, JsValue::from_str("never seen in training"));
    let want = ok(scorer.predict(unseen.clone()));
    let got = ok(scorer.predict_rows(Array::of1(&values(&unseen, &feats)).into()));
    assert_eq!(f32s(&got, "probabilities"), vec![probability(&want)]);
    let w = array(&got, "warnings");
    assert_eq!(strings(&w[0], "warnings"), strings(&want, "warnings"));
    assert!(strings(&want, "warnings")
        .iter()
        .any(|w| w.contains("not seen in training")));
}

#[wasm_bindgen_test]
fn errors_carry_stable_codes_and_fields() {
    let bytes = golden("lr.frk");
    let body = &bytes[HEADER_LEN..];
    // A tampered body: CHECKSUM.
    let mut tampered = bytes.to_vec();
    let mid = HEADER_LEN + body.len() / 2;
    tampered[mid] ^= 0x40;
    assert_eq!(code(&thrown(WasmScorer::load(&tampered))), "CHECKSUM");
    // A file that needs a newer reader: FORMAT_FROM_FUTURE.
    let next = FORMAT_VERSION + 1;
    assert_eq!(
        code(&thrown(WasmScorer::load(&frame(next, next, body)))),
        "FORMAT_FROM_FUTURE"
    );
    assert_eq!(
        code(&thrown(WasmScorer::load(&bytes[..30]))),
        "FORMAT_TRUNCATED"
    );

    let scorer = load(bytes);
    let feats = features(&scorer);
    let table = Table::read(text(golden("synthetic.csv")));
    let num_f = &feats.iter().find(|f| f.numeric).unwrap().name;
    let c = customer(&table, &table.rows[0], &feats, true);
    Reflect::set(&c, &JsValue::from_str(num_f), &JsValue::from_str("twelve")).unwrap();
    let e = thrown(scorer.predict(c.clone()));
    assert_eq!(code(&e), "BAD_VALUE");
    assert_eq!(field(&e, "feature").as_string().as_ref(), Some(num_f));
    // In a batch of rows, the row too.
    let rows = Array::of2(&customer(&table, &table.rows[1], &feats, true), &c);
    let e = thrown(scorer.predict_rows(rows.into()));
    assert_eq!(
        (code(&e), field(&e, "row").as_f64()),
        ("BAD_VALUE".into(), Some(1.0))
    );
    assert_eq!(field(&e, "feature").as_string().as_ref(), Some(num_f));
    let e = thrown(scorer.predict_rows(Array::of1(&Array::of1(&JsValue::from_f64(1.0))).into()));
    assert_eq!(
        (code(&e), field(&e, "row").as_f64()),
        ("FEATURE_COUNT".into(), Some(0.0))
    );
    let e = thrown(scorer.predict_rows(JsValue::from_f64(3.0)));
    assert_eq!(code(&e), "BAD_ARGUMENT");
    // A record the CSV reader cannot split: CSV_ROW with its line and column.
    let csv = text(golden("synthetic.csv"));
    let mut lines: Vec<String> = csv.lines().take(4).map(str::to_string).collect();
    lines[2] = format!("a\"b{}", &lines[2]);
    let e = thrown(scorer.predict_csv(&lines.join("\n")));
    assert_eq!(code(&e), "CSV_ROW");
    assert_eq!(field(&e, "line").as_f64(), Some(3.0));
    assert_eq!(field(&e, "column").as_f64(), Some(2.0), "{}", message(e));
    // Rows of a CSV that are not scored carry their codes: a bad value
    // (BAD_VALUE) and a ragged record (CSV_ROW), each with its line.
    let delim = ferrisk::csv::detect_delimiter(&lines[0]) as char;
    let col = table.column(num_f);
    let mut bad_value = csv.lines().take(3).map(str::to_string).collect::<Vec<_>>();
    let mut cells: Vec<String> = bad_value[1].split(delim).map(str::to_string).collect();
    cells[col] = "lots".into();
    bad_value[1] = cells.join(&delim.to_string());
    bad_value.push("1".into());
    let session = ok(scorer.csv_session(None));
    let mut session = session;
    let mut rows = ok(session.push(format!("{}\n", bad_value.join("\n")).as_bytes()));
    let last = ok(session.finish());
    let mut errs = array(&rows, "errors");
    errs.extend(array(&last, "errors"));
    let got: Vec<(f64, String)> = errs
        .iter()
        .map(|e| (num(e, "line"), string(e, "code")))
        .collect();
    assert_eq!(
        got,
        [(2.0, "BAD_VALUE".to_string()), (4.0, "CSV_ROW".to_string())],
        "{}",
        json(&last)
    );
    rows = ok(scorer.predict_csv(&bad_value[..3].join("\n")));
    assert_eq!(string(&array(&rows, "errors")[0], "code"), "BAD_VALUE");
    // Bad options: BAD_ARGUMENT, still a FerriskError.
    let e = thrown(scorer.predict(JsValue::NULL));
    assert_eq!(code(&e), "BAD_ARGUMENT");
}
