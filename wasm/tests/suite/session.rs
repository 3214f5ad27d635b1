//! `CsvSession` (`scorer.csvSession()`): a CSV fed as bytes. The same file
//! pushed whole, byte by byte and in odd chunk sizes gives the same rows;
//! broken records are row errors naming the file's own lines and scoring
//! goes on; the probabilities equal `predictCsv`'s bit for bit.

use ferrisk_wasm::{CsvSessionOptionsArg, WasmCsvSession, WasmScorer};
use js_sys::{Array, Float32Array, Uint32Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

/// Everything a session returned, concatenated over its pushes.
#[derive(Debug, Default, PartialEq)]
struct Run {
    lines: Vec<u32>,
    /// Probability bits (NaN for failed rows).
    probs: Vec<u32>,
    decisions: Vec<u8>,
    labels: Option<Vec<u8>>,
    fields: Vec<Vec<String>>,
    errors: Vec<(u32, String)>,
    warnings: Vec<(u32, Vec<String>)>,
    drift: Option<Vec<u32>>,
    header: Vec<String>,
}

impl Run {
    /// Appends one `CsvRows` result, checking that its arrays line up.
    fn add(&mut self, rows: &JsValue) {
        let lines = Uint32Array::new(&get(rows, "lines")).to_vec();
        let n = lines.len();
        let probs = get(rows, "probabilities");
        assert!(probs.is_instance_of::<Float32Array>());
        let probs = Float32Array::new(&probs).to_vec();
        let decisions = Uint8Array::new(&get(rows, "decisions")).to_vec();
        assert_eq!((probs.len(), decisions.len()), (n, n), "one entry per row");
        let labels = get(rows, "labels");
        if labels.is_null() {
            assert!(
                self.labels.is_none(),
                "labels come with every result or none"
            );
        } else {
            let l = Uint8Array::new(&labels).to_vec();
            assert_eq!(l.len(), n);
            self.labels.get_or_insert_with(Vec::new).extend(l);
        }
        let fields = array(rows, "fields");
        assert!(
            fields.is_empty() || fields.len() == n,
            "fields: one per row or none"
        );
        for f in fields {
            self.fields.push(
                Array::from(&f)
                    .iter()
                    .map(|c| c.as_string().expect("fields are strings"))
                    .collect(),
            );
        }
        for e in array(rows, "errors") {
            self.errors
                .push((num(&e, "line") as u32, string(&e, "message")));
        }
        for w in array(rows, "warnings") {
            self.warnings
                .push((num(&w, "line") as u32, strings(&w, "warnings")));
        }
        self.lines.extend(lines);
        self.probs.extend(probs.iter().map(|p| p.to_bits()));
        self.decisions.extend(decisions);
    }
}

fn options(fields: Option<bool>, drift: Option<bool>) -> Option<CsvSessionOptionsArg> {
    let mut pairs = Vec::new();
    if let Some(f) = fields {
        pairs.push(("fields", JsValue::from_bool(f)));
    }
    if let Some(d) = drift {
        pairs.push(("drift", JsValue::from_bool(d)));
    }
    Some(object(&pairs).unchecked_into())
}

/// Feeds `bytes` to a new session in chunks of the given sizes (cycled).
fn run_with(session: &mut WasmCsvSession, bytes: &[u8], sizes: &[usize]) -> Run {
    let mut run = Run::default();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size.max(1)).min(bytes.len());
        run.add(&ok(session.push(&bytes[at..end])));
        at = end;
    }
    run.add(&ok(session.finish()));
    let counts = ok(session.drift_counts());
    run.drift = (!counts.is_null()).then(|| Uint32Array::new(&counts).to_vec());
    let header = ok(session.header());
    run.header = Array::from(&header)
        .iter()
        .filter_map(|h| h.as_string())
        .collect();
    run
}

fn run(scorer: &WasmScorer, bytes: &[u8], sizes: &[usize]) -> Run {
    let mut session = ok(scorer.csv_session(None));
    run_with(&mut session, bytes, sizes)
}

#[wasm_bindgen_test]
fn csv_session_gives_the_same_rows_for_any_chunking_and_predict_csv_s_bits() {
    for kind in golden_kinds("") {
        let csv = golden_data("", &kind);
        let bytes = csv.as_bytes();
        let table = Table::read(csv);
        let scorer = load(golden(&format!("{kind}.frk")));
        let whole = run(&scorer, bytes, &[bytes.len()]);

        // predictCsv over the same text: the same probabilities, decisions
        // and drift counts.
        let by_csv = ok(scorer.predict_csv(csv));
        let want: Vec<u32> = f32s(&by_csv, "probabilities")
            .iter()
            .map(|p| p.to_bits())
            .collect();
        assert_eq!(
            whole.probs, want,
            "{kind}: session vs predictCsv, bit for bit"
        );
        assert_eq!(whole.decisions, u8s(&by_csv, "decisions"), "{kind}");
        let drift = get(&by_csv, "driftCounts");
        assert_eq!(
            whole.drift,
            (!drift.is_null()).then(|| Uint32Array::new(&drift).to_vec()),
            "{kind}: drift counts"
        );
        assert!(whole.errors.is_empty(), "{kind}: {:?}", whole.errors);

        // Lines, input fields and labels are the file's.
        let n = table.rows.len() as u32;
        assert_eq!(whole.lines, (2..n + 2).collect::<Vec<_>>(), "{kind}");
        assert_eq!(whole.fields, table.rows, "{kind}: the input fields");
        assert_eq!(whole.header, table.header, "{kind}");
        let want_labels: Vec<u8> = labels(&table, &scorer)
            .iter()
            .map(|&y| u8::from(y))
            .collect();
        assert_eq!(whole.labels, Some(want_labels), "{kind}: labels");

        // Other chunkings give the very same result.
        let chunkings: &[&[usize]] = if kind == "lr" {
            &[&[1], &[3, 7, 61], &[4096], &[2, 1000]]
        } else {
            &[&[3, 7, 61], &[1000]]
        };
        for sizes in chunkings {
            assert_eq!(
                run(&scorer, bytes, sizes),
                whole,
                "{kind}: chunks of {sizes:?} bytes"
            );
        }

        // driftReport over the rows scored so far, like the scorer's.
        if let Some(counts) = &whole.drift {
            let mut session = ok(scorer.csv_session(None));
            run_with(&mut session, bytes, &[5000]);
            assert_eq!(
                json(&ok(session.drift_report())),
                json(&ok(scorer.drift_report(counts)))
            );
        }
    }
}

#[wasm_bindgen_test]
fn csv_session_reports_broken_records_with_their_file_lines_and_goes_on() {
    let csv = text(golden("synthetic.csv"));
    let scorer = load(golden("gbm.frk"));
    let feats = features(&scorer);
    let table = Table::read(csv);
    let numeric = table.column(&feats.iter().find(|f| f.numeric).expect("numeric").name);
    let clean: Vec<String> = csv.lines().take(12).map(str::to_string).collect();
    // Physical lines of the broken file (CRLF line ends): 1 header, 2-3
    // good, 4 ragged, 5 stray quote, 6 good, 7 not UTF-8, 8 blank, 9 bad
    // value, 10-13 good, 14-15 one record with a quoted line break.
    let mut file: Vec<Vec<u8>> = Vec::new();
    for (i, line) in clean.iter().enumerate() {
        let mut l = line.clone().into_bytes();
        match i {
            3 => l.extend_from_slice(b",extra"),
            4 => l = [b"x\"".to_vec(), l].concat(),
            6 => l.extend_from_slice(b"\xff\xfe"),
            _ => {}
        }
        file.push(l);
        if i == 6 {
            file.push(Vec::new());
        }
    }
    let mut bad_value: Vec<String> = table.rows[6].clone();
    bad_value[numeric] = "lots".into();
    file[8] = bad_value.join(",").into_bytes();
    let mut quoted: Vec<String> = table.rows[11].clone();
    let label_at = table.header.len() - 1;
    quoted[label_at] = format!("\"{}\r\nstill the label\"", quoted[label_at]);
    file.push(quoted.join(",").into_bytes());
    let bytes = [file.join(&b"\r\n"[..]), b"\r\n".to_vec()].concat();

    let whole = run(&scorer, &bytes, &[bytes.len()]);
    assert_eq!(whole.lines, [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14]);
    let lines: Vec<u32> = whole.errors.iter().map(|e| e.0).collect();
    assert_eq!(lines, [4, 5, 7, 9], "{:?}", whole.errors);
    assert_mentions(&whole.errors[0].1, &["line 4", "fields", "header"]);
    assert_mentions(&whole.errors[1].1, &["line 5", "quote"]);
    assert_mentions(&whole.errors[2].1, &["line 7", "UTF-8"]);
    assert_mentions(&whole.errors[3].1, &["'lots' is not a number"]);
    // Failed rows: NaN, decision 0, no fields from the reader; others scored.
    for (i, line) in whole.lines.iter().enumerate() {
        let failed = lines.contains(line);
        assert_eq!(
            f32::from_bits(whole.probs[i]).is_nan(),
            failed,
            "line {line}"
        );
        if failed {
            assert_eq!(whole.decisions[i], 0);
        }
        assert_eq!(
            whole.fields[i].is_empty(),
            failed && *line != 9,
            "line {line}"
        );
    }
    // The rows after the broken ones score as predictCsv scores them in a
    // clean file.
    let clean_csv = format!("{}\n", clean.join("\n"));
    let want = f32s(&ok(scorer.predict_csv(&clean_csv)), "probabilities");
    for (i, &line) in whole.lines.iter().enumerate() {
        if !lines.contains(&line) && line < 14 {
            let w = want[line as usize - 2 - usize::from(line > 8)];
            assert_eq!(whole.probs[i], w.to_bits(), "line {line}");
        }
    }
    // The quoted line break stays in the field, and the label is no class.
    // (The reader keeps a quoted line break as "\n", CRLF or not.)
    assert_eq!(
        whole.fields[11][label_at],
        format!("{}\nstill the label", table.rows[11][label_at])
    );
    let labels = whole.labels.as_ref().expect("labelled file");
    assert_eq!(labels[11], 255);
    assert_eq!(labels[2], 255, "a broken row has no label");
    // Any chunking reports the same.
    for sizes in [&[1][..], &[2, 5], &[33]] {
        assert_eq!(run(&scorer, &bytes, sizes), whole, "chunks of {sizes:?}");
    }
    // predictCsv still throws for a broken record.
    assert_mentions(
        &fails(scorer.predict_csv(&String::from_utf8_lossy(&bytes))),
        &["line 4", "fields"],
    );
}

#[wasm_bindgen_test]
fn csv_session_options_header_errors_and_lifetime() {
    let csv = text(golden("synthetic.csv"));
    let scorer = load(golden("rf.frk"));
    let feats = features(&scorer);
    let bytes = csv.as_bytes();
    let full = run(&scorer, bytes, &[bytes.len()]);

    let mut lean = ok(scorer.csv_session(options(Some(false), Some(false))));
    let got = run_with(&mut lean, bytes, &[777]);
    assert!(got.fields.is_empty() && got.drift.is_none());
    assert_eq!(got.probs, full.probs);
    assert_mentions(&fails(lean.drift_report()), &["no drift counts"]);
    let bad: CsvSessionOptionsArg =
        object(&[("fields", JsValue::from_str("yes"))]).unchecked_into();
    assert_mentions(
        &fails(scorer.csv_session(Some(bad))),
        &["options.fields must be a boolean", "a string"],
    );

    // A header without a feature column stops the session, with the same
    // error on every later call.
    let feature = &feats[0].name;
    let without = csv.replacen(feature.as_str(), "something_else", 1);
    let mut s = ok(scorer.csv_session(None));
    let msg = fails(s.push(without.as_bytes()));
    assert_mentions(&msg, &[&format!("no column '{feature}'")]);
    assert_eq!(fails(s.push(b"1,2\n")), msg);
    assert_eq!(fails(s.finish()), msg);
    // No header at all is an error at the end; a header alone is no rows.
    let mut s = ok(scorer.csv_session(None));
    assert!(Uint32Array::new(&get(&ok(s.push(b"\n\n")), "lines")).length() == 0);
    assert_mentions(&fails(s.finish()), &["empty"]);
    let header_only = format!("{}\n", csv.lines().next().unwrap_or(""));
    let mut s = ok(scorer.csv_session(None));
    let r = run_with(&mut s, header_only.as_bytes(), &[4]);
    assert!(r.lines.is_empty() && r.errors.is_empty());
    assert!(ok(s.label_column()).is_some());

    // Fields come back exactly, whatever characters they hold.
    let table = Table::read(csv);
    let mut row = table.rows[0].clone();
    let last = row.len() - 1;
    row[last] = "\"a \"\"q\"\" \\ \u{1}\t\u{1f} ü 😀\"".into();
    let odd = format!("{}\n{}\n", table.header.join(","), row.join(","));
    let r = run(&scorer, odd.as_bytes(), &[odd.len()]);
    assert_eq!(r.fields[0][last], "a \"q\" \\ \u{1}\t\u{1f} ü 😀");
    assert_eq!(r.fields[0][..last], table.rows[0][..last]);

    // A session keeps its own reference to the model.
    let mut s = ok(scorer.csv_session(None));
    let first = ok(s.push(&bytes[..bytes.len() / 2]));
    drop(scorer);
    let mut again = Run::default();
    again.add(&first);
    again.add(&ok(s.push(&bytes[bytes.len() / 2..])));
    again.add(&ok(s.finish()));
    assert_eq!(again.probs, full.probs);
}
