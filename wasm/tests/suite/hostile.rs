//! Hostile and malformed input through the JS API: each call throws an
//! `Error` whose message says what is wrong and where, and the scorer gives
//! the same answers afterwards.

use ferrisk::format::{frame, FORMAT_VERSION, HEADER_LEN};
use ferrisk_wasm::WasmScorer;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

/// The golden logistic regression and the synthetic customers.
struct Setup {
    bytes: &'static [u8],
    scorer: WasmScorer,
    table: Table,
    feats: Vec<FeatureInfo>,
    delim: char,
}

fn setup() -> Setup {
    let bytes = golden("lr.frk");
    let csv = text(golden("synthetic.csv"));
    let first = csv.lines().next().unwrap_or("");
    let scorer = load(bytes);
    let feats = features(&scorer);
    Setup {
        bytes,
        scorer,
        table: Table::read(csv),
        feats,
        delim: ferrisk::csv::detect_delimiter(first) as char,
    }
}

impl Setup {
    fn customer(&self, row: usize) -> JsValue {
        customer(&self.table, &self.table.rows[row], &self.feats, false)
    }

    /// Probability of row `row` as scored now.
    fn p(&self, row: usize) -> f32 {
        probability(&ok(self.scorer.predict(self.customer(row))))
    }

    fn numeric(&self) -> &FeatureInfo {
        self.feats
            .iter()
            .find(|f| f.numeric)
            .expect("model has a numeric feature")
    }

    fn categorical(&self) -> &FeatureInfo {
        self.feats
            .iter()
            .find(|f| !f.numeric)
            .expect("model has a categorical feature")
    }

    /// The customer of `row` with one field replaced (or removed by `None`).
    fn with(&self, row: usize, name: &str, value: Option<JsValue>) -> JsValue {
        let c = self.customer(row);
        match value {
            Some(v) => {
                js_sys::Reflect::set(&c, &JsValue::from_str(name), &v).expect("set");
            }
            None => {
                js_sys::Reflect::delete_property(
                    c.unchecked_ref::<js_sys::Object>(),
                    &JsValue::from_str(name),
                )
                .expect("delete");
            }
        }
        c
    }

    /// CSV text of the header and the first `n` rows, after `edit` on the
    /// cells (header is row index `None`).
    fn csv(&self, n: usize, edit: impl Fn(Option<usize>, &mut Vec<String>)) -> String {
        let quote = |c: &str| {
            if c.contains(self.delim) || c.contains('"') || c.contains('\n') {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.to_string()
            }
        };
        let mut header = self.table.header.clone();
        edit(None, &mut header);
        let mut out = header
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(&self.delim.to_string());
        out.push('\n');
        for (i, r) in self.table.rows.iter().take(n).enumerate() {
            let mut r = r.clone();
            edit(Some(i), &mut r);
            out.push_str(
                &r.iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(&self.delim.to_string()),
            );
            out.push('\n');
        }
        out
    }

    /// Asserts the scorer still scores rows 0..5 as it did at first.
    fn still_works(&self, before: &[f32]) {
        let now: Vec<f32> = (0..before.len()).map(|r| self.p(r)).collect();
        assert_same_bits("after an error", &now, before);
    }
}

#[wasm_bindgen_test]
fn damaged_files_are_rejected_with_the_reason() {
    let s = setup();
    let before: Vec<f32> = (0..5).map(|r| s.p(r)).collect();
    let bytes = s.bytes;
    let try_load = |b: &[u8]| match WasmScorer::load(b) {
        Ok(_) => panic!(
            "a damaged file of {} bytes loaded: {:?}",
            b.len(),
            &b[..b.len().min(16)]
        ),
        Err(e) => message(e),
    };

    assert_mentions(&try_load(&[]), &["too short", "0 bytes"]);
    assert_mentions(&try_load(&bytes[..30]), &["too short", "30 bytes"]);
    assert_mentions(&try_load(&bytes[..bytes.len() - 10]), &["truncated"]);
    let mut padded = bytes.to_vec();
    padded.extend_from_slice(&[0; 3]);
    assert_mentions(&try_load(&padded), &["padded"]);

    let mut flipped = bytes.to_vec();
    let mid = HEADER_LEN + (bytes.len() - HEADER_LEN) / 2;
    flipped[mid] ^= 0x40;
    assert_mentions(&try_load(&flipped), &["checksum"]);
    let mut flipped = bytes.to_vec();
    flipped[30] ^= 0x01; // inside the stored SHA-256
    assert_mentions(&try_load(&flipped), &["checksum"]);

    let mut magic = bytes.to_vec();
    magic[0] = b'X';
    assert_mentions(&try_load(&magic), &["not a ferrisk model file", "magic"]);
    assert_mentions(
        &try_load(b"age,purpose,creditability\n35,car,good\n"),
        &["not a ferrisk model file"],
    );

    let body = &bytes[HEADER_LEN..];
    let current = FORMAT_VERSION;
    let next = current + 1;
    assert_mentions(
        &try_load(&frame(next, next, body)),
        &["from the future", &format!("v{next}"), "upgrade"],
    );
    assert_mentions(
        &try_load(&frame(next + 7, next + 5, body)),
        &["from the future"],
    );
    assert_mentions(&try_load(&frame(0, 0, body)), &["not a valid version"]);
    // A newer file that promises readers of the current version can read it
    // (its body starts with a current body) loads and scores the same.
    let newer = load(&frame(next, current, body));
    assert_eq!(num(&ok(newer.metadata()), "formatVersion"), f64::from(next));
    assert_eq!(
        probability(&ok(newer.predict(s.customer(0)))).to_bits(),
        before[0].to_bits()
    );
    // A body that is not a model, framed correctly (valid checksum).
    assert_mentions(
        &try_load(&frame(current, current, &[0xff; 40])),
        &["cannot be decoded"],
    );

    s.still_works(&before);
    assert_eq!(
        num(&ok(load(bytes).metadata()), "formatVersion"),
        f64::from(current)
    );
}

#[wasm_bindgen_test]
fn wrong_value_types_name_the_feature() {
    let s = setup();
    let before: Vec<f32> = (0..5).map(|r| s.p(r)).collect();
    let (num_f, cat_f) = (s.numeric().name.clone(), s.categorical().name.clone());
    let (num_f, cat_f) = (num_f.as_str(), cat_f.as_str());

    let cases: Vec<(JsValue, &str, Vec<&str>)> = vec![
        (
            s.with(0, num_f, Some(JsValue::TRUE)),
            "boolean",
            vec![num_f, "a boolean"],
        ),
        (
            s.with(0, cat_f, Some(JsValue::FALSE)),
            "boolean",
            vec![cat_f, "a boolean"],
        ),
        (
            s.with(0, num_f, Some(js_sys::Object::new().into())),
            "object",
            vec![num_f, "an object"],
        ),
        (
            s.with(0, num_f, Some(js_sys::Array::new().into())),
            "array",
            vec![num_f, "an array"],
        ),
        (
            s.with(0, num_f, Some(JsValue::from_f64(f64::INFINITY))),
            "Infinity",
            vec![num_f, "not a finite number"],
        ),
        (
            s.with(0, num_f, Some(JsValue::from_f64(1e300))),
            "1e300",
            vec![num_f, "not a finite number"],
        ),
        (
            s.with(0, num_f, Some(JsValue::from_str("twelve"))),
            "text",
            vec![num_f, "'twelve' is not a number"],
        ),
        (
            JsValue::NULL,
            "null customer",
            vec!["customer must be an object", "null"],
        ),
        (
            JsValue::UNDEFINED,
            "undefined customer",
            vec!["customer must be an object", "undefined"],
        ),
        (
            JsValue::from_str("age=3"),
            "string customer",
            vec!["customer must be an object", "a string"],
        ),
        (
            JsValue::from_f64(3.0),
            "number customer",
            vec!["customer must be an object", "a number"],
        ),
        (
            js_sys::Array::new().into(),
            "array customer",
            vec!["customer must be an object", "an array"],
        ),
    ];
    for (customer, what, parts) in cases {
        let msg = fails(s.scorer.predict(customer.clone()));
        assert_mentions(&msg, &parts);
        let msg2 = fails(s.scorer.contributions(customer));
        assert_eq!(
            msg2, msg,
            "{what}: contributions reports the same input error"
        );
        s.still_works(&before);
    }
    // Numeric text with spaces is a number; a non-feature key of any type is ignored with a warning.
    let spaced = s.with(
        0,
        num_f,
        Some(JsValue::from_str(&format!(
            " {} ",
            s.table.rows[0][s.table.column(num_f)]
        ))),
    );
    assert_eq!(
        probability(&ok(s.scorer.predict(spaced))).to_bits(),
        before[0].to_bits()
    );
    let extra = s.with(0, "not_a_feature", Some(JsValue::TRUE));
    let p = ok(s.scorer.predict(extra));
    assert_eq!(probability(&p).to_bits(), before[0].to_bits());
    let warnings = strings(&p, "warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("not_a_feature") && w.contains("not a feature")),
        "{warnings:?}"
    );
}

#[wasm_bindgen_test]
fn missing_and_unknown_values_score_with_warnings() {
    let s = setup();
    let schema = ok(s.scorer.schema());
    let feats = array(&schema, "features");
    let num_i = s
        .feats
        .iter()
        .position(|f| f.numeric)
        .expect("numeric feature");
    let cat_i = s
        .feats
        .iter()
        .position(|f| !f.numeric)
        .expect("categorical feature");
    let (num_f, cat_f) = (s.feats[num_i].name.clone(), s.feats[cat_i].name.clone());
    let median = string(&feats[num_i], "typical");
    let mode = string(&feats[cat_i], "typical");

    // A missing value (absent, null, undefined, "") is imputed: it scores as the typical value.
    let typical = probability(&ok(s.scorer.predict(s.with(
        1,
        &num_f,
        Some(JsValue::from_str(&median)),
    ))));
    for missing in [
        None,
        Some(JsValue::NULL),
        Some(JsValue::UNDEFINED),
        Some(JsValue::from_str("")),
    ] {
        let p = ok(s.scorer.predict(s.with(1, &num_f, missing)));
        assert_eq!(
            probability(&p).to_bits(),
            typical.to_bits(),
            "missing {num_f} scores as its median"
        );
        let w = strings(&p, "warnings");
        assert!(
            w.iter()
                .any(|w| w.starts_with(&num_f) && w.contains("imputed")),
            "{w:?}"
        );
    }
    let typical = probability(&ok(s.scorer.predict(s.with(
        1,
        &cat_f,
        Some(JsValue::from_str(&mode)),
    ))));
    let p = ok(s.scorer.predict(s.with(1, &cat_f, None)));
    assert_eq!(
        probability(&p).to_bits(),
        typical.to_bits(),
        "missing {cat_f} scores as its mode"
    );
    assert!(strings(&p, "warnings")
        .iter()
        .any(|w| w.starts_with(&cat_f) && w.contains(&mode)));

    // An unknown category scores (as none of the known ones) with a warning.
    let p =
        ok(s.scorer
            .predict(s.with(1, &cat_f, Some(JsValue::from_str("a category never seen")))));
    assert!((0.0..=1.0).contains(&probability(&p)));
    let w = strings(&p, "warnings");
    assert!(
        w.iter().any(|w| w.starts_with(&cat_f)
            && w.contains("'a category never seen' was not seen in training")),
        "{w:?}"
    );

    // A clean row has no warnings.
    assert!(strings(&ok(s.scorer.predict(s.customer(0))), "warnings").is_empty());

    // predictBatch's encoder treats NaN / -1 as predict treats missing values.
    let b = batch(&s.table, &s.feats);
    let n = b.rows.len();
    let mut numeric = b.numeric.clone();
    let mut codes = b.codes.clone();
    let num_col = s.feats[..num_i].iter().filter(|f| f.numeric).count();
    let cat_col = s.feats[..cat_i].iter().filter(|f| !f.numeric).count();
    numeric[num_col * n] = f64::NAN;
    codes[cat_col * n + 1] = -1;
    // Row 2's numeric value far outside the training range.
    numeric[num_col * n + 2] = 1e12;
    let notes = js_sys::Uint8Array::new_with_length((n * s.feats.len()) as u32);
    let got = ok(s
        .scorer
        .predict_batch(&numeric, &codes, n as u32, Some(notes.clone())));
    assert_eq!(
        ok(s.scorer.predict_batch(&numeric, &codes, n as u32, None)),
        got,
        "notes change no probability"
    );
    // The notes say what each row's predict warnings say (oracle: the
    // warning texts of predict on the same customers).
    let notes = notes.to_vec();
    let nf = s.feats.len();
    for (r, (&row, cells)) in b.rows.iter().zip(notes.chunks(nf)).take(3).enumerate() {
        let c = s.customer(row);
        let set = |name: &str, v: JsValue| {
            js_sys::Reflect::set(&c, &JsValue::from_str(name), &v).unwrap();
        };
        match r {
            0 => set(&num_f, JsValue::NULL),
            1 => set(&cat_f, JsValue::NULL),
            _ => set(&num_f, JsValue::from_f64(1e12)),
        }
        let mut want = vec![0u8; nf];
        for w in strings(&ok(s.scorer.predict(c)), "warnings") {
            let f = s
                .feats
                .iter()
                .position(|f| w.starts_with(&format!("{}: ", f.name)))
                .expect("a warning names its feature");
            want[f] = if w.contains("outside the training range") {
                3
            } else {
                1
            };
        }
        assert_eq!(
            cells,
            &want[..],
            "row {r}: notes vs predict warnings {want:?}"
        );
        assert!(want.iter().any(|&k| k != 0), "row {r} has a warning");
    }
    let got = ok(s.scorer.predict_batch(&numeric, &codes, n as u32, None));
    let r0 = b.rows[0];
    let r1 = b.rows[1];
    let want0 = probability(&ok(s.scorer.predict(s.with(
        r0,
        &num_f,
        Some(JsValue::NULL),
    ))));
    let want1 = probability(&ok(s.scorer.predict(s.with(
        r1,
        &cat_f,
        Some(JsValue::NULL),
    ))));
    assert_eq!(
        got[0].to_bits(),
        want0.to_bits(),
        "batch NaN = predict null"
    );
    assert_eq!(got[1].to_bits(), want1.to_bits(), "batch -1 = predict null");
}

#[wasm_bindgen_test]
fn bad_batches_name_row_and_feature() {
    let s = setup();
    let b = batch(&s.table, &s.feats);
    let n = b.rows.len() as u32;
    let good = ok(s.scorer.predict_batch(&b.numeric, &b.codes, n, None));
    let n_num = s.feats.iter().filter(|f| f.numeric).count();
    let n_cat = s.feats.len() - n_num;

    let msg = fails(s.scorer.predict_batch(&b.numeric[1..], &b.codes, n, None));
    assert_mentions(
        &msg,
        &[
            "numeric",
            &format!("{} values", b.numeric.len() - 1),
            &format!("{n} × {n_num}"),
        ],
    );
    let msg = fails(s.scorer.predict_batch(&b.numeric, &b.codes[1..], n, None));
    assert_mentions(&msg, &["codes", &format!("{n} × {n_cat}")]);
    let msg = fails(s.scorer.predict_batch(&b.numeric, &b.codes, n + 1, None));
    assert_mentions(&msg, &["expected"]);
    let msg = fails(s.scorer.predict_batch(&[], &[], u32::MAX, None));
    assert_mentions(&msg, &["numeric"]);

    let cat = s.categorical();
    let cat_col = s
        .feats
        .iter()
        .filter(|f| !f.numeric)
        .position(|f| f.name == cat.name)
        .unwrap_or(0);
    for bad in [cat.categories.len() as i32, -2, i32::MAX] {
        let mut codes = b.codes.clone();
        codes[cat_col * n as usize + 3] = bad;
        let msg = fails(s.scorer.predict_batch(&b.numeric, &codes, n, None));
        assert_mentions(
            &msg,
            &["row 3", &format!("'{}'", cat.name), &format!("code {bad}")],
        );
    }
    let numf = s.numeric();
    let num_col = s
        .feats
        .iter()
        .filter(|f| f.numeric)
        .position(|f| f.name == numf.name)
        .unwrap_or(0);
    for bad in [f64::INFINITY, f64::NEG_INFINITY, 1e300] {
        let mut numeric = b.numeric.clone();
        numeric[num_col * n as usize + 7] = bad;
        let msg = fails(s.scorer.predict_batch(&numeric, &b.codes, n, None));
        assert_mentions(
            &msg,
            &["row 7", &format!("'{}'", numf.name), "not a finite number"],
        );
    }

    assert!(ok(s.scorer.predict_batch(&[], &[], 0, None)).is_empty());
    assert_same_bits(
        "batch after errors",
        &ok(s.scorer.predict_batch(&b.numeric, &b.codes, n, None)),
        &good,
    );
}

#[wasm_bindgen_test]
fn bad_csv_throws_or_reports_the_line() {
    let s = setup();
    let before: Vec<f32> = (0..5).map(|r| s.p(r)).collect();
    let label = string(&ok(s.scorer.schema()), "label");
    let numf = s.numeric().name.clone();
    let num_c = s.table.column(&numf);
    let label_c = s.table.column(&label);

    assert_mentions(&fails(s.scorer.predict_csv("")), &["empty"]);
    assert_mentions(&fails(s.scorer.evaluate("\n\n")), &["empty"]);
    let unclosed = format!("{}\"unclosed\n", s.csv(3, |_, _| {}));
    assert_mentions(
        &fails(s.scorer.predict_csv(&unclosed)),
        &["line 5", "never closed"],
    );
    let ragged = format!("{}a{}b\n", s.csv(2, |_, _| {}), s.delim);
    assert_mentions(&fails(s.scorer.predict_csv(&ragged)), &["line 4", "fields"]);
    let no_column = s.csv(4, |_, r| {
        r.remove(num_c);
    });
    assert_mentions(
        &fails(s.scorer.predict_csv(&no_column)),
        &[&format!("no column '{numf}'")],
    );
    assert_mentions(
        &fails(s.scorer.evaluate(&no_column)),
        &[&format!("no column '{numf}'")],
    );

    // One bad value: predictCsv reports its line and scores the others.
    let bad_row = s.csv(6, |i, r| {
        if i == Some(2) {
            r[num_c] = "lots".into();
        }
    });
    let scored = ok(s.scorer.predict_csv(&bad_row));
    let probs = f32s(&scored, "probabilities");
    assert_eq!(probs.len(), 6);
    assert!(probs[2].is_nan());
    assert_eq!(u8s(&scored, "decisions")[2], 0);
    assert_same_bits("rows around the bad one", &probs[..2], &before[..2]);
    let errors = array(&scored, "errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        num(&errors[0], "line"),
        4.0,
        "header is line 1, the third row line 4"
    );
    assert_mentions(
        &string(&errors[0], "message"),
        &[&numf, "'lots' is not a number"],
    );
    // evaluate refuses it: metrics over silently dropped rows would mislead.
    assert_mentions(&fails(s.scorer.evaluate(&bad_row)), &["line 4", "'lots'"]);

    let no_label = s.csv(4, |_, r| {
        r.remove(label_c);
    });
    assert_mentions(
        &fails(s.scorer.evaluate(&no_label)),
        &[&format!("no column '{label}'")],
    );
    let bad_label = s.csv(4, |i, r| {
        if i == Some(1) {
            r[label_c] = "maybe".into();
        }
    });
    assert_mentions(
        &fails(s.scorer.evaluate(&bad_label)),
        &["line 3", "'maybe'"],
    );
    assert_mentions(
        &fails(s.scorer.evaluate(&s.csv(0, |_, _| {}))),
        &["no data rows"],
    );
    let first = s.table.rows[0][label_c].clone();
    let one_class = s.csv(5, |i, r| {
        if i.is_some() {
            r[label_c] = first.clone();
        }
    });
    assert_mentions(&fails(s.scorer.evaluate(&one_class)), &["only one class"]);
    // A header-only file scores to empty results.
    let empty = ok(s.scorer.predict_csv(&s.csv(0, |_, _| {})));
    assert!(f32s(&empty, "probabilities").is_empty() && array(&empty, "errors").is_empty());

    s.still_works(&before);
}

#[wasm_bindgen_test]
fn bad_metrics_inputs_throw() {
    let s = setup();
    let p = [0.1f32, 0.7, 0.4, 0.9];
    assert_mentions(
        &fails(s.scorer.metrics_for(&p, &[0, 1, 0])),
        &["4 probabilities", "3 labels"],
    );
    assert_mentions(
        &fails(s.scorer.metrics_for(&p, &[0, 1, 2, 1])),
        &["row 2", "label 2"],
    );
    assert_mentions(
        &fails(
            s.scorer
                .metrics_for(&[0.1, f32::NAN, 0.3, 0.2], &[0, 1, 0, 1]),
        ),
        &["row 1", "NaN"],
    );
    assert_mentions(
        &fails(s.scorer.metrics_for(&[0.1, 1.5, 0.3, 0.2], &[0, 1, 0, 1])),
        &["row 1", "not in [0, 1]"],
    );
    assert_mentions(
        &fails(s.scorer.metrics_for(&p, &[1, 1, 1, 1])),
        &["only one class"],
    );
    let m = ok(s.scorer.metrics_for(&p, &[0, 1, 0, 1]));
    assert_eq!(num(&m, "rocAuc"), 1.0);
    assert_eq!(num(&m, "rows"), 4.0);
}

#[wasm_bindgen_test]
fn bad_score_options_throw_and_the_scorer_stays_usable() {
    let s = setup();
    let before: Vec<f32> = (0..5).map(|r| s.p(r)).collect();
    let bad = |pairs: &[(&str, JsValue)]| -> String {
        let o: ferrisk_wasm::ScoreOptionsArg = object(pairs).unchecked_into();
        fails(s.scorer.score(s.customer(0), Some(o)))
    };
    assert_mentions(
        &bad(&[("explain", JsValue::from_str("yes"))]),
        &["options.explain must be a boolean", "a string"],
    );
    assert_mentions(
        &bad(&[("reasons", JsValue::from_f64(-1.0))]),
        &["options.reasons", "-1"],
    );
    assert_mentions(
        &bad(&[("reasons", JsValue::from_f64(2.5))]),
        &["options.reasons", "whole number"],
    );
    assert_mentions(&bad(&[("lang", JsValue::from_f64(3.0))]), &["options.lang"]);
    // Not an object at all: an error, not a crash.
    let n: ferrisk_wasm::ScoreOptionsArg = JsValue::from_f64(5.0).unchecked_into();
    assert_mentions(&fails(s.scorer.score(s.customer(0), Some(n))), &["options"]);
    // null and undefined options are the defaults; extra keys are ignored.
    let o: ferrisk_wasm::ScoreOptionsArg = object(&[
        ("reasons", JsValue::from_f64(1000.0)),
        ("other", JsValue::TRUE),
    ])
    .unchecked_into();
    let scored = ok(s.scorer.score(s.customer(0), Some(o)));
    assert!(get(&scored, "explanation").is_null());
    let many = ok(s
        .scorer
        .score(s.customer(0), Some(score_options(true, Some(1000), None))));
    assert!(array(&many, "reasons").len() <= 64);
    assert_eq!(probability(&scored), before[0]);
    // A customer that is not an object.
    assert_mentions(
        &fails(s.scorer.score(JsValue::from_str("x"), None)),
        &["customer must be an object", "a string"],
    );
    s.still_works(&before);
}
