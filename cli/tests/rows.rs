//! Every row's fate is visible: `ferrisk predict` on hostile files, end to
//! end. Each input row gives one output row (scored, with its warnings, or
//! an error naming its line), the run goes on after a bad row, a failed run
//! leaves no output behind, and what the CLI writes is safe to open in a
//! spreadsheet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const HEADER: &str =
    "age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-rows-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A logistic regression trained once on synthetic customers.
fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = tmp("model");
        let data = write(&dir, "s.csv", ferrisk_train::synth::generate(300, 4));
        let model = dir.join("lr.frk");
        let o = run(bin()
            .args([
                "train",
                "--label",
                "default",
                "--positive",
                "yes",
                "--model",
                "lr",
            ])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&model));
        assert!(o.status.success(), "{}", stderr(&o));
        model
    })
}

fn predict(data: &Path, out: &Path) -> Output {
    run(bin()
        .args(["predict", "--model"])
        .arg(model())
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out))
}

/// The output CSV read back: header and rows (through the runtime's reader).
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut csv = ferrisk::csv::CsvText::parse(&text).unwrap();
    let header = csv.header().to_vec();
    let rows = (&mut csv).map(|r| r.unwrap().1).collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header.iter().position(|h| h == name).unwrap();
    &row[i]
}

/// Entries of `dir` whose name ends in `.tmp`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn every_row_of_a_hostile_file_has_a_visible_fate() {
    let dir = tmp("fate");
    let input = write(
        &dir,
        "in.csv",
        format!(
            "{HEADER}\n\
             30,40000,5000,24,1,permanent,own,car\n\
             ,,,,,,,\n\
             45,,9000,12,2,astronaut,rent,home\n\
             150,40000,5000,24,1,permanent,own,car\n\
             30,40000,5000,24,1,perm\"anent,own,car\n\
             30,40000,5000,24,1,own,car\n\
             31,40000,5000,24,1,permanent,kar,car\n"
        ),
    );
    let out = dir.join("out.csv");
    let o = predict(&input, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    // One output line per input line.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 8, "{text}");
    let (h, rows) = table(&out);
    assert!(
        h.join(",").ends_with("probability,decision,error,warnings"),
        "{h:?}"
    );
    assert_eq!(rows.len(), 7);
    let (clean, empty, imputed, range, quote, ragged, unknown) = (
        &rows[0], &rows[1], &rows[2], &rows[3], &rows[4], &rows[5], &rows[6],
    );
    assert!(!cell(&h, clean, "probability").is_empty());
    assert_eq!(cell(&h, clean, "warnings"), "");
    assert_eq!(cell(&h, clean, "error"), "");
    // An all-empty row is an error, not a score of the imputed "typical" customer.
    assert_eq!(cell(&h, empty, "probability"), "");
    assert_eq!(cell(&h, empty, "decision"), "");
    assert!(cell(&h, empty, "error").contains("no values"), "{empty:?}");
    // Warnings of scored rows are kept, all of them, joined with "; ".
    let w = cell(&h, imputed, "warnings");
    assert!(!cell(&h, imputed, "probability").is_empty());
    assert!(
        w.contains("income: missing; imputed the training median"),
        "{w}"
    );
    assert!(
        w.contains("; employment: category 'astronaut' was not seen in training"),
        "{w}"
    );
    let w = cell(&h, range, "warnings");
    assert!(!cell(&h, range, "probability").is_empty());
    assert!(
        w.starts_with("age: 150 is outside the training range"),
        "{w}"
    );
    assert!(cell(&h, unknown, "warnings").contains("housing: category 'kar'"));
    // Bad CSV rows are errors naming their line (once), and scoring goes on.
    let e = cell(&h, quote, "error");
    assert!(e.starts_with("line 6, column "), "{e}");
    assert_eq!(e.matches("line 6").count(), 1, "{e}");
    let e = cell(&h, ragged, "error");
    assert_eq!(e, "line 7: 7 fields, but the header has 8");
    assert!(err.contains("in.csv: line 6, column "), "{err}");
    assert!(
        err.contains("in.csv: line 7: 7 fields, but the header has 8\n"),
        "{err}"
    );
    assert!(!err.contains("line 7: line 7"), "{err}");
    // The summary counts every row, and the rows with warnings by kind.
    assert!(err.contains("scored 4 rows, 3 failed"), "{err}");
    assert!(
        err.contains("rows with warnings: 1 imputed, 2 unknown category, 1 out of training range"),
        "{err}"
    );
}

#[test]
fn a_tsv_row_of_tabs_is_an_error_row() {
    let dir = tmp("tabs");
    let input = write(
        &dir,
        "in.tsv",
        format!(
            "{}\n\t\t\t\t\t\t\t\n30\t40000\t5000\t24\t1\tpermanent\town\tcar\n",
            HEADER.replace(',', "\t")
        ),
    );
    let out = dir.join("out.csv");
    let o = predict(&input, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("scored 1 rows, 1 failed"), "{err}");
    assert!(err.contains("in.tsv: line 2: no values"), "{err}");
    let (h, rows) = table(&out);
    assert_eq!(rows.len(), 2);
    assert!(cell(&h, &rows[0], "error").contains("no values"));
    assert!(!cell(&h, &rows[1], "probability").is_empty());
}

#[test]
fn explain_refuses_a_customer_without_values() {
    for customer in [
        "{}",
        r#"{"not_a_feature": 1}"#,
        r#"{"age": null, "income": ""}"#,
    ] {
        let o = run(bin()
            .args(["explain", "--customer", customer, "--model"])
            .arg(model()));
        assert!(!o.status.success(), "{customer}");
        assert!(stderr(&o).contains("no values"), "{}", stderr(&o));
    }
}

#[test]
fn formula_cells_are_written_as_text() {
    let dir = tmp("formula");
    let input = write(
        &dir,
        "in.csv",
        format!(
            "{HEADER},@note\n\
             30,40000,-5,24,1,=1+2,own,car,\"=HYPERLINK(\"\"http://x\"\")\"\n\
             30,40000,5000,24,1,@SUM(A1:A9),-own,+car,\"=cmd|' /C calc'!A0\"\n\
             30,40000,+5000,24,1,\"\tx\",\"\ry\",-,-1e3\n"
        ),
    );
    let out = dir.join("out.csv");
    let o = predict(&input, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = table(&out);
    // The header is neutralised too.
    assert!(h.contains(&"'@note".to_string()), "{h:?}");
    let cells: Vec<(&str, &str)> = vec![
        (cell(&h, &rows[0], "employment"), "'=1+2"),
        (cell(&h, &rows[0], "'@note"), "'=HYPERLINK(\"http://x\")"),
        (cell(&h, &rows[1], "employment"), "'@SUM(A1:A9)"),
        (cell(&h, &rows[1], "housing"), "'-own"),
        (cell(&h, &rows[1], "purpose"), "'+car"),
        (cell(&h, &rows[1], "'@note"), "'=cmd|' /C calc'!A0"),
        (cell(&h, &rows[2], "employment"), "'\tx"),
        (cell(&h, &rows[2], "housing"), "'\ry"),
        (cell(&h, &rows[2], "purpose"), "'-"),
        // Numbers stay numbers.
        (cell(&h, &rows[0], "loan_amount"), "-5"),
        (cell(&h, &rows[2], "loan_amount"), "+5000"),
        (cell(&h, &rows[2], "'@note"), "-1e3"),
    ];
    for (got, want) in cells {
        assert_eq!(got, want);
    }
    // Neutralised fields are quoted; plain numbers are not.
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(",\"'=1+2\","), "{text}");
    assert!(text.contains(",\"'-own\","), "{text}");
    assert!(text.contains("30,40000,-5,24,"), "{text}");
    // No field of the output starts with a formula character unescaped.
    for row in rows.iter().chain([&h]) {
        for c in row {
            let formula = c.starts_with(['=', '@', '\t', '\r'])
                || (c.starts_with(['+', '-']) && c.parse::<f64>().is_err());
            assert!(!formula, "{c:?} in {row:?}");
        }
    }
}

#[test]
fn predict_refuses_to_write_over_its_input() {
    let dir = tmp("same");
    let text = format!("{HEADER}\n30,40000,5000,24,1,permanent,own,car\n");
    let input = write(&dir, "in.csv", &text);
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let hard = dir.join("hard.csv");
    std::fs::hard_link(&input, &hard).unwrap();
    let outs = [
        input.clone(),
        sub.join("../in.csv"),
        link.clone(),
        hard.clone(),
    ];
    for out in &outs {
        let o = predict(&input, out);
        assert!(!o.status.success(), "{}", out.display());
        let err = stderr(&o);
        assert!(err.contains("is the input file"), "{err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
    }
    // And the other way round: the data through a link, the output by name.
    let o = predict(&link, &input);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
}

#[test]
fn invalid_utf8_names_the_file_and_line_and_a_failed_run_leaves_no_output() {
    let dir = tmp("utf8");
    // A bad row is an error row naming its line; the run completes.
    let mut bytes = format!("{HEADER}\n30,40000,5000,24,1,permanent,own,car\n").into_bytes();
    bytes.extend_from_slice(b"30,4\xff0000,5000,24,1,permanent,own,car\n");
    let input = write(&dir, "row.csv", &bytes);
    let out = dir.join("row-out.csv");
    let o = predict(&input, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("row.csv: line 3: not valid UTF-8 text\n"),
        "{err}"
    );
    let (h, rows) = table(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(cell(&h, &rows[1], "error"), "line 3: not valid UTF-8 text");
    // evaluate says where, too.
    let mut labelled =
        format!("{HEADER},default\n30,40000,5000,24,1,permanent,own,car,yes\n").into_bytes();
    labelled.extend_from_slice(b"30,4\xff0000,5000,24,1,permanent,own,car,no\n");
    let lab = write(&dir, "lab.csv", &labelled);
    let o = run(bin()
        .args(["evaluate", "--model"])
        .arg(model())
        .arg("--data")
        .arg(&lab));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("lab.csv: line 3: not valid UTF-8 text"),
        "{}",
        stderr(&o)
    );

    // A bad header fails the run: no output file, no temporary file, and
    // an earlier output stays as it was.
    let bad = write(&dir, "head.csv", b"age,inc\xffome\n1,2\n");
    let out = dir.join("head-out.csv");
    let o = predict(&bad, &out);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("head.csv: line 1: not valid UTF-8 text"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "a failed run left {}", out.display());
    let kept = write(&dir, "kept.csv", "earlier results\n");
    let o = predict(&bad, &kept);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "earlier results\n");
    // A missing column fails the run the same way.
    let nocol = write(&dir, "nocol.csv", "age\n30\n");
    let out = dir.join("nocol-out.csv");
    let o = predict(&nocol, &out);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("CSV has no column"), "{}", stderr(&o));
    assert!(!out.exists());
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
}

#[test]
fn predict_to_a_pipe_writes_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tmp("fifo");
    let input = write(
        &dir,
        "in.csv",
        format!("{HEADER}\n30,40000,5000,24,1,permanent,own,car\n"),
    );
    // A named pipe stands for /dev/null or /dev/stdout: renaming a file
    // over it would replace the node itself.
    let fifo = dir.join("out.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut reader = Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = predict(&input, &fifo);
    let still_a_pipe = std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo();
    if !still_a_pipe || !o.status.success() {
        let _ = reader.kill();
    }
    let read = reader.wait_with_output().unwrap();
    assert!(still_a_pipe, "the pipe was replaced by a file");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(read.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
}

#[test]
fn predict_to_stdout_streams_the_rows() {
    let dir = tmp("stdout");
    let input = write(
        &dir,
        "in.csv",
        format!("{HEADER}\n30,40000,5000,24,1,permanent,own,car\n,,,,,,,\n"),
    );
    let o = predict(&input, Path::new("-"));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(2).unwrap().contains("no values"), "{text}");
    assert!(temporaries(&dir).is_empty());
}
