//! The typed-column table against the text cells it replaced: the oracle
//! is the former reader (every row as trimmed text cells through the
//! runtime's `CsvText`) and the former type inference, on generated tables
//! that cross every storage case and on the shared real datasets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ferrisk::csv::{is_missing, CsvText};
use ferrisk::schema::{Encoding, RawValue};
use ferrisk_train::data::{prepare, ColType, Column, SchemaFile, Table};
use ferrisk_train::table::{Cells, NUMBER_TEXTS};
use ferrisk_train::{pipeline::TrainError, prep};

/// The former reader: header, trimmed text cells and line of every row.
struct Old {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    lines: Vec<usize>,
}

fn old_read(bytes: &[u8]) -> Old {
    let mut csv = CsvText::from_bytes(bytes).unwrap();
    let header = csv.header().to_vec();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for row in &mut csv {
        let (line, fields) = row.unwrap();
        rows.push(fields.into_iter().map(|f| f.trim().to_string()).collect());
        lines.push(line);
    }
    Old {
        header,
        rows,
        lines,
    }
}

/// The former inference: numeric when some cell is not missing and every
/// such cell parses as a finite number.
fn old_type(old: &Old, c: usize) -> ColType {
    let mut any = false;
    for row in &old.rows {
        let cell = &row[c];
        if is_missing(cell) {
            continue;
        }
        any = true;
        if !cell.parse::<f64>().is_ok_and(f64::is_finite) {
            return ColType::Categorical;
        }
    }
    if any {
        ColType::Numeric
    } else {
        ColType::Categorical
    }
}

/// Every cell, type and parsed value of `table` against the former reader
/// of the same bytes.
fn check_against_old(table: &Table, bytes: &[u8], label: &str, positive: &str) {
    let old = old_read(bytes);
    assert_eq!(table.header, old.header);
    assert_eq!(table.rows(), old.rows.len());
    assert_eq!(table.lines(), old.lines);
    for c in 0..old.header.len() {
        let texts = table.texts(c).unwrap();
        for (r, row) in old.rows.iter().enumerate() {
            assert_eq!(texts.text(r), row[c], "row {r} column {c}");
        }
        if let Some(Column::Numbers(v)) = table.data(c) {
            for (r, row) in old.rows.iter().enumerate() {
                let want = row[c].parse::<f64>().ok().filter(|x| x.is_finite());
                match want {
                    Some(x) => assert_eq!(v[r].to_bits(), x.to_bits(), "row {r} column {c}"),
                    None => assert!(v[r].is_nan() && is_missing(&row[c]), "row {r} col {c}"),
                }
            }
        }
    }
    let ds = prepare(table, label, positive, &[], &SchemaFile::default()).unwrap();
    let label_col = table.column(label).unwrap();
    let want: Vec<bool> = old.rows.iter().map(|r| r[label_col] == positive).collect();
    assert_eq!(ds.labels, want);
    for (c, name, ty) in &ds.features {
        assert_eq!(*ty, old_type(&old, *c), "type of {name}");
    }
    // Every cell parses, for a schema fitted on every row, as the runtime
    // parses its text: the same value or the same error.
    let all: Vec<usize> = (0..table.rows()).collect();
    let enc = Encoding {
        scale: true,
        impute_numeric: true,
    };
    let schema = prep::fit_schema(table, &ds, &all, enc).unwrap();
    for (i, (c, _, _)) in ds.features.iter().enumerate() {
        let cells = Cells::new(&schema, table, [(i, *c)]).unwrap();
        let mut out = Vec::new();
        for (r, row) in old.rows.iter().enumerate() {
            let want = schema.parse_value(i, RawValue::Text(&row[*c]));
            let got = cells.row(r, &mut out).map(|()| out[i].clone());
            assert_eq!(got, want, "row {r} column {c}");
        }
    }
}

/// A table crossing every case: codes whose text matters ("1" and "1.0"),
/// many numbers in every spelling with every missing token, many numbers
/// that turn to text late, a number too large for f32, and a label.
fn crossing_csv(rows: usize) -> String {
    let mut s = String::from("code,amount,late,big,flag,y\n");
    let spell = |i: usize| match i % 9 {
        0 => format!("{}.50", i),
        1 => format!("{}e-3", i),
        2 => format!("+{i}"),
        3 => format!("-{}.25", i),
        4 => format!(".{i}"),
        5 => "NA".to_string(),
        6 => String::new(),
        7 => "?".to_string(),
        _ => format!(" {i} "),
    };
    for i in 0..rows {
        let code = ["1", "1.0", "01", "2", "-0", "0"][i % 6];
        let late = if i == rows - 3 {
            "n/a".to_string()
        } else {
            format!("{}", i * 7 % 5003)
        };
        let big = if i == rows / 2 {
            "1e39".to_string()
        } else {
            format!("{}", i % 1500)
        };
        let flag = if i % 11 == 0 { "" } else { "on" };
        let y = if (i * 31 + i / 7) % 3 == 0 {
            "bad"
        } else {
            "good"
        };
        s.push_str(&format!(
            "{code},{},\"{late}\",{big},{flag},{y}\n",
            spell(i)
        ));
    }
    s
}

#[test]
fn every_storage_case_reads_as_the_text_cells_did() {
    let text = crossing_csv(4 * NUMBER_TEXTS);
    let t = Table::parse(Path::new("crossing.csv"), &text, String::new()).unwrap();
    // Storage: few texts stay text; many numbers become numbers; numbers
    // that turn to text late are text again, every early cell included.
    assert!(matches!(t.data(0), Some(Column::Text(_))));
    assert!(matches!(t.data(1), Some(Column::Numbers(_))));
    assert!(matches!(t.data(2), Some(Column::Text(_))));
    assert!(matches!(t.data(3), Some(Column::Numbers(_))));
    check_against_old(&t, text.as_bytes(), "y", "bad");
    let ds = prepare(&t, "y", "bad", &[], &SchemaFile::default()).unwrap();
    let types: Vec<ColType> = ds.features.iter().map(|f| f.2).collect();
    use ColType::*;
    assert_eq!(
        types,
        [Numeric, Numeric, Categorical, Numeric, Categorical],
        "code holds numbers only, so it is numeric; late has text"
    );
}

#[test]
fn a_categorical_schema_over_numbers_keeps_their_text() {
    let text = crossing_csv(3 * NUMBER_TEXTS);
    let t = Table::parse(Path::new("c.csv"), &text, String::new()).unwrap();
    let mut s = SchemaFile::default();
    s.types.insert("amount".into(), ColType::Categorical);
    s.types.insert("code".into(), ColType::Categorical);
    let ds = prepare(&t, "y", "bad", &[], &s).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    let enc = Encoding {
        scale: false,
        impute_numeric: false,
    };
    let schema = prep::fit_schema(&t, &ds, &rows, enc).unwrap();
    let ferrisk::schema::FeatureKind::Categorical(code) = &schema.features[0].kind else {
        panic!("code is categorical")
    };
    // "1", "1.0" and "01" are three categories, as their texts are.
    for k in ["1", "1.0", "01", "-0", "0", "2"] {
        assert!(code.categories.iter().any(|c| c == k), "{k}");
    }
    let ferrisk::schema::FeatureKind::Categorical(amount) = &schema.features[1].kind else {
        panic!("amount is categorical")
    };
    assert!(amount.categories.iter().any(|c| c == "9.50"));
    assert!(amount.categories.iter().any(|c| c == "+2"));
}

#[test]
fn a_bad_row_names_its_line_and_column_after_the_switch() {
    let mut text = crossing_csv(2 * NUMBER_TEXTS);
    let lines = text.lines().count();
    text.push_str("1,2,3,4,on,\"good\"x\n");
    let e = Table::parse(Path::new("bad.csv"), &text, String::new())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "bad.csv: line {}, column 18: stray quote, or text after a closing quote",
            lines + 1
        )
    );
    let mut text = crossing_csv(2 * NUMBER_TEXTS);
    text.push_str("1,2,3\n");
    let e = Table::parse(Path::new("bad.csv"), &text, String::new())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "bad.csv: line {}: 3 fields, but the header has 6",
            lines + 1
        )
    );
}

#[test]
fn a_number_too_large_for_f32_fails_training_as_its_text_did() {
    let text = crossing_csv(2 * NUMBER_TEXTS);
    let t = Table::parse(Path::new("c.csv"), &text, String::new()).unwrap();
    let ds = prepare(&t, "y", "bad", &[], &SchemaFile::default()).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    let enc = Encoding {
        scale: false,
        impute_numeric: false,
    };
    let schema = prep::fit_schema(&t, &ds, &rows, enc).unwrap();
    let Err(TrainError::Row { line, source, .. }) = prep::encode_rows(&schema, &t, &ds, &rows)
    else {
        panic!("1e39 is no f32")
    };
    assert_eq!(line, t.rows() / 2 + 2);
    assert_eq!(
        source,
        schema.parse_value(3, RawValue::Text("1e39")).unwrap_err()
    );
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrisk-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_file_reads_in_chunks_with_its_hash_and_is_checked_when_read_again() {
    let text = crossing_csv(3 * NUMBER_TEXTS);
    let p = temp("c.csv");
    std::fs::write(&p, &text).unwrap();
    let t = Table::read(&p).unwrap();
    assert_eq!(t.sha256, ferrisk::format::sha256_hex(text.as_bytes()));
    check_against_old(&t, text.as_bytes(), "y", "bad");
    // The text of a column of numbers is read again on demand; a file
    // changed since is refused.
    let t = Table::read(&p).unwrap();
    std::fs::write(&p, text.replace("good", "fine")).unwrap();
    let e = t.texts(1).unwrap_err().to_string();
    assert!(e.contains("changed while it was being read"), "{e}");
    std::fs::write(&p, " \n\t\r\n").unwrap();
    let e = Table::read(&p).unwrap_err().to_string();
    assert!(e.ends_with("the file is empty"), "{e}");
    std::fs::write(&p, "a,b\n").unwrap();
    let e = Table::read(&p).unwrap_err().to_string();
    assert!(e.ends_with("CSV has a header but no data rows"), "{e}");
    let _ = std::fs::remove_file(&p);
}

#[test]
fn the_table_holds_a_few_bytes_per_cell() {
    // The former text cells held about 26 times the file (a String of 24
    // bytes plus its allocation per cell); typed columns hold 4 or 8 bytes
    // per cell, under twice even this file of 4-byte cells.
    let text = crossing_csv(20_000);
    let t = Table::parse(Path::new("c.csv"), &text, String::new()).unwrap();
    assert!(
        t.heap_bytes() < 2 * text.len(),
        "{} bytes held for a {}-byte CSV",
        t.heap_bytes(),
        text.len()
    );
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel);
    p.exists().then_some(p)
}

#[test]
fn the_real_datasets_read_as_the_text_cells_did() {
    let sets = [
        (
            "statlog_german_credit/german_credit.csv",
            "creditability",
            "bad",
        ),
        ("bank_marketing/bank-full.csv", "y", "yes"),
    ];
    let mut seen = 0;
    for (rel, label, positive) in sets {
        let Some(p) = shared(rel) else { continue };
        seen += 1;
        let bytes = std::fs::read(&p).unwrap();
        let t = Table::read(&p).unwrap();
        assert_eq!(t.sha256, ferrisk::format::sha256_hex(&bytes));
        check_against_old(&t, &bytes, label, positive);
    }
    // The datasets are part of the development setup (../shared/data).
    assert_eq!(seen, 2, "../shared/data is missing");
}
