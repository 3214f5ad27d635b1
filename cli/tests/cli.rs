//! End-to-end tests of the `ferrisk` binary: real data from ../shared/data,
//! the real file format on disk, and every malformed-input class giving a
//! clear error and a non-zero exit code (never a panic).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared(rel: &str) -> PathBuf {
    let p = repo().join("../shared/data").join(rel);
    assert!(
        p.exists(),
        "{} is missing: these tests use the shared datasets (see ../shared/data/README.md)",
        p.display()
    );
    p
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-cli-{}-{name}", std::process::id()));
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

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail; returns its stderr.
fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        !out.status.success(),
        "unexpected success: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The trainer's kinds, as `ferrisk kinds` lists them.
/// The kinds `--model all` trains on a table without a history (`ferrisk
/// kinds` marks the others with a third field, `history`).
fn kinds() -> Vec<String> {
    ok(bin().arg("kinds"))
        .lines()
        .filter(|l| l.split('\t').nth(2) != Some("history"))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// German credit split into two files by row (every third-in-ten row to
/// the test file): a test set whose rows the test itself knows.
fn german_split(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(shared("statlog_german_credit/german_credit.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (i, l) in lines.enumerate() {
        let out = if i % 10 < 3 { &mut test } else { &mut train };
        out.push_str(l);
        out.push('\n');
    }
    (
        write(dir, "train.csv", &train),
        write(dir, "test.csv", &test),
    )
}

#[test]
fn german_credit_every_kind_with_5_fold_cv() {
    let dir = tmp("german");
    let (train, test) = german_split(&dir);
    let out = ok(bin()
        .args([
            "train",
            "--label",
            "creditability",
            "--positive",
            "bad",
            "--model",
            "all",
            "--cv",
            "5",
            "--threshold-by",
            "cost:FN=5,FP=1",
            "--json",
        ])
        .arg("--data")
        .arg(&train)
        .arg("--test-data")
        .arg(&test)
        .arg("--out")
        .arg(&dir));
    let summary = json(&out);
    let rows = summary.as_array().unwrap();
    assert_eq!(rows.len(), kinds().len());
    let benchmark = rows.iter().find(|r| r["kind"] == "stump").unwrap()["rocAuc"]
        .as_f64()
        .unwrap();
    assert!(benchmark > 0.55, "stump AUC {benchmark}");
    for r in rows {
        let kind = r["kind"].as_str().unwrap();
        let file = dir.join(format!("{kind}.frk"));
        // Reloading the written file and evaluating it on the test file
        // reproduces every stored figure exactly.
        let eval = json(&ok(bin()
            .args(["evaluate", "--json", "--model"])
            .arg(&file)
            .arg("--data")
            .arg(&test)));
        for key in [
            "rows",
            "positives",
            "threshold",
            "accuracy",
            "precision",
            "recall",
            "f1",
            "rocAuc",
            "ks",
            "brier",
            "logLoss",
            "confusion",
            "roc",
            "ece",
            "reliability",
            "averagePrecision",
        ] {
            assert_eq!(eval[key], r[key], "{kind}: stored {key} vs evaluate");
        }
        assert!(r["ece"].as_f64().unwrap() < 0.2, "{kind}: ECE {}", r["ece"]);
        let v = json(&ok(bin().arg("inspect").arg(&file).arg("--json")));
        assert_eq!(v["metadata"]["kind"], kind);
        assert_eq!(v["metadata"]["dataRows"], 700);
        assert_eq!(v["schema"]["features"].as_array().unwrap().len(), 20);
        assert_eq!(v["metrics"]["rocAuc"], r["rocAuc"]);
        // No kind stores a customer row (the RBF SVM ships landmarks).
        assert_eq!(v["metadata"]["embedsTrainingRows"], false);
        // The threshold was chosen by the cost policy on out-of-fold
        // predictions, and on the test file it costs less than 0.5 would.
        let d = &v["metadata"]["decision"];
        assert_eq!(d["policy"], "cost:FN=5,FP=1", "{kind}");
        assert!(
            d["chosenOn"].as_str().unwrap().contains("out-of-fold"),
            "{d}"
        );
        assert_eq!(d["threshold"], r["threshold"]);
        let at = d["evaluated"]["expectedCost"].as_f64().unwrap();
        let half = d["evaluatedAtHalf"]["expectedCost"].as_f64().unwrap();
        assert!(
            at < half,
            "{kind}: expected cost {at} at the policy's threshold, {half} at 0.5"
        );
        // Oracle for the stored cost: recount it from the stored confusion.
        let c = &r["confusion"];
        let recount = (5.0 * c["fn"].as_f64().unwrap() + c["fp"].as_f64().unwrap()) / 300.0;
        assert!((at - recount).abs() < 1e-12, "{kind}: {at} vs {recount}");
        assert!(
            r["evaluatedOn"].as_str().unwrap().contains("test.csv"),
            "{r}"
        );
        assert_eq!(r["trainRows"], 700);
        assert_eq!(r["testRows"], 300);
        if kind == "stump" {
            continue;
        }
        // Every real model beats the one-split benchmark on the test file.
        let auc = r["rocAuc"].as_f64().unwrap();
        assert!(auc > benchmark, "{kind}: AUC {auc} <= stump {benchmark}");
        let folds: Vec<f64> = r["cvAuc"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(folds.len(), 5);
        // CV runs over the 700 training rows only (folds of 140), so its
        // AUC sits a little below an all-rows CV's.
        let mean = folds.iter().sum::<f64>() / 5.0;
        assert!(
            mean >= 0.72,
            "{kind}: 5-fold CV mean ROC AUC {mean:.4} < 0.72"
        );
    }
    // The RBF SVM ships landmarks, not support vectors: no privacy warning,
    // and the file says why.
    let text = ok(bin().arg("inspect").arg(dir.join("svm-rbf.frk")));
    assert!(!text.contains("PRIVACY"), "{text}");
    assert!(text.contains("landmarks, not customer rows"), "{text}");
}

#[test]
fn evaluate_on_the_test_rows_reproduces_the_stored_metrics() {
    // Rebuild the held-out rows from the same seeded split by scoring the whole
    // file with `predict`, then check `evaluate` against metrics computed here.
    let dir = tmp("eval");
    let data = shared("statlog_german_credit/german_credit.csv");
    ok(bin()
        .args([
            "train",
            "--label",
            "creditability",
            "--positive",
            "bad",
            "--model",
            "lr",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.join("lr.frk")));
    let ev = json(&ok(bin()
        .args(["evaluate", "--json", "--model"])
        .arg(dir.join("lr.frk"))
        .arg("--data")
        .arg(&data)));
    assert_eq!(ev["rows"], 1000);
    assert_eq!(ev["positives"], 300);
    let scored = dir.join("scored.csv");
    ok(bin()
        .args(["predict", "--model"])
        .arg(dir.join("lr.frk"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&scored));
    // Independent AUC from the predict output by pair counting.
    let text = std::fs::read_to_string(&scored).unwrap();
    let mut csv = ferrisk::csv::CsvText::parse(&text).unwrap();
    let h = csv.header().to_vec();
    let pcol = h.iter().position(|c| c == "probability").unwrap();
    let ycol = h.iter().position(|c| c == "creditability").unwrap();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for row in &mut csv {
        let (_, f) = row.unwrap();
        let p: f32 = f[pcol].parse().unwrap();
        if f[ycol] == "bad" {
            pos.push(p)
        } else {
            neg.push(p)
        }
    }
    let mut wins = 0.0;
    for a in &pos {
        for b in &neg {
            wins += if a > b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            };
        }
    }
    let auc = wins / (pos.len() * neg.len()) as f64;
    assert!(
        (ev["rocAuc"].as_f64().unwrap() - auc).abs() < 1e-12,
        "{} vs {auc}",
        ev["rocAuc"]
    );
}

#[test]
fn bank_marketing_trains_without_code_changes() {
    let dir = tmp("bank");
    let data = shared("bank_marketing/bank-full.csv");
    let out = ok(bin()
        .args([
            "train",
            "--label",
            "y",
            "--positive",
            "yes",
            "--drop",
            "duration",
            "--model",
            "all",
            "--json",
        ])
        .args([
            "--svm-max-rows",
            "800",
            "--rf-trees",
            "50",
            "--attn-epochs",
            "3",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&dir));
    for r in json(&out).as_array().unwrap() {
        let auc = r["rocAuc"].as_f64().unwrap();
        let floor = if r["kind"] == "stump" { 0.55 } else { 0.7 };
        assert!(auc > floor, "{}: AUC {auc}", r["kind"]);
        assert_eq!(r["testRows"], 13564);
    }
    let v = json(&ok(bin()
        .arg("inspect")
        .arg(dir.join("rf.frk"))
        .arg("--json")));
    let names: Vec<&str> = v["schema"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"duration") && !names.contains(&"y"));
    assert_eq!(names.len(), 15);
}

#[test]
fn training_is_deterministic_apart_from_the_timestamp() {
    let dir = tmp("det");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(400, 3));
    for kind in ["lr", "svm-rbf", "rf", "gbm", "attention"] {
        let mut files = Vec::new();
        for n in 0..2 {
            let f = dir.join(format!("{kind}-{n}.frk"));
            ok(bin()
                .args([
                    "train",
                    "--label",
                    "default",
                    "--positive",
                    "yes",
                    "--model",
                    kind,
                    "--seed",
                    "9",
                ])
                .arg("--data")
                .arg(&data)
                .arg("--out")
                .arg(&f));
            let mut b = ferrisk::Scorer::from_bytes(&std::fs::read(&f).unwrap())
                .unwrap()
                .into_bundle();
            b.metadata.created_unix = 0;
            if let Some(r) = b.report.as_mut() {
                r.fit_seconds = 0.0;
            }
            files.push(ferrisk::format::encode(&b).unwrap());
        }
        assert_eq!(files[0], files[1], "{kind}: two runs with one seed differ");
    }
}

#[test]
fn predict_scores_good_rows_and_reports_bad_ones() {
    let dir = tmp("predict");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(300, 4));
    let model = dir.join("rf.frk");
    ok(bin()
        .args([
            "train",
            "--label",
            "default",
            "--positive",
            "yes",
            "--model",
            "rf",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&model));
    let input = write(
        &dir,
        "in.csv",
        "age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose\n\
         30,40000,5000,24,1,permanent,own,car\n\
         31,lots,5000,24,1,permanent,own,car\n\
         45,,9000,12,2,astronaut,rent,home\n",
    );
    let out = dir.join("out.csv");
    let o = run(bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&input)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3: feature 'income': 'lots' is not a number"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].ends_with("probability,decision,error,warnings"));
    assert!(
        lines[2].ends_with(",,,feature 'income': 'lots' is not a number,"),
        "{}",
        lines[2]
    );
    // The imputed income and the unknown employment are in its warnings.
    assert!(
        lines[3].contains(",income: missing; imputed the training median ")
            && lines[3].contains("; employment: category 'astronaut' was not seen"),
        "{}",
        lines[3]
    );
    // Missing income is imputed, the unknown employment category is scored anyway.
    let p: f32 = lines[3].split(',').nth(8).unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&p));
}

#[test]
fn malformed_training_input_names_file_line_and_column() {
    let dir = tmp("bad");
    let t = |name: &str, text: &str, extra: &[&str]| -> String {
        let f = write(&dir, name, text);
        fails(
            bin()
                .args([
                    "train",
                    "--label",
                    "y",
                    "--positive",
                    "bad",
                    "--model",
                    "lr",
                ])
                .args(extra)
                .arg("--data")
                .arg(&f)
                .arg("--out")
                .arg(dir.join("m.frk")),
        )
    };
    let e = t("ragged.csv", "a,b,y\n1,2,bad\n3,good\n", &[]);
    assert!(
        e.contains("ragged.csv: line 3: 2 fields, but the header has 3"),
        "{e}"
    );
    let e = t("three.csv", "a,y\n1,bad\n2,good\n3,ugly\n", &[]);
    assert!(
        e.contains("three.csv: label 'y' must have exactly two classes, found 3: bad, good, ugly"),
        "{e}"
    );
    let e = t("empty.csv", "", &[]);
    assert!(e.contains("empty.csv: the file is empty"), "{e}");
    let e = t("header-only.csv", "a,y\n", &[]);
    assert!(
        e.contains("header-only.csv: CSV has a header but no data rows"),
        "{e}"
    );
    let schema = write(&dir, "schema.json", r#"{"types": {"a": "numeric"}}"#);
    let e = t(
        "text.csv",
        "a,y\n1,bad\nx1,good\n",
        &["--schema", schema.to_str().unwrap()],
    );
    assert!(
        e.contains("text.csv: line 3, column 'a': 'x1' is not a number"),
        "{e}"
    );
    let e = t("quote.csv", "a,y\n\"1,bad\n", &[]);
    assert!(
        e.contains("quote.csv: line 2: quoted field is never closed"),
        "{e}"
    );
    let e = t("nolabel.csv", "a,b\n1,2\n", &[]);
    assert!(e.contains("no label column 'y'"), "{e}");
    let e = t("onelabel.csv", "a,y\n1,bad\n2,bad\n", &[]);
    assert!(e.contains("exactly two classes, found 1"), "{e}");
    let f = write(&dir, "ok.csv", "a,y\n1,bad\n2,good\n");
    let e = fails(
        bin()
            .args([
                "train",
                "--label",
                "y",
                "--positive",
                "bad",
                "--model",
                "xgb",
            ])
            .arg("--data")
            .arg(&f),
    );
    assert!(e.contains("unknown model kind 'xgb'"), "{e}");
    let e = fails(
        bin()
            .args(["train", "--label", "y", "--positive", "bad"])
            .arg("--data")
            .arg(dir.join("nope.csv")),
    );
    assert!(e.contains("nope.csv: cannot read"), "{e}");
}

#[test]
fn damaged_model_files_are_refused_by_every_verb() {
    let dir = tmp("damaged");
    let src = repo().join("tests/golden/lr.frk");
    let bytes = std::fs::read(&src).unwrap();
    let data = repo().join("tests/golden/synthetic.csv");
    let cut = write(&dir, "cut.frk", "");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let future = dir.join("future.frk");
    std::fs::write(
        &future,
        ferrisk::format::frame(9, 9, &bytes[ferrisk::format::HEADER_LEN..]),
    )
    .unwrap();
    for (file, msg) in [(&cut, "truncated or padded"), (&future, "from the future")] {
        let e = fails(bin().arg("inspect").arg(file));
        assert!(e.contains(msg), "{e}");
        let e = fails(
            bin()
                .args(["evaluate", "--model"])
                .arg(file)
                .arg("--data")
                .arg(&data),
        );
        assert!(e.contains(msg), "{e}");
        let e = fails(
            bin()
                .args(["predict", "--model"])
                .arg(file)
                .arg("--data")
                .arg(&data)
                .arg("--out")
                .arg(dir.join("o.csv")),
        );
        assert!(e.contains(msg), "{e}");
    }
    // Evaluate on data without the label, or with a foreign label value.
    let e = fails(
        bin()
            .args(["evaluate", "--model"])
            .arg(&src)
            .arg("--data")
            .arg(write(&dir, "x.csv", "age\n3\n")),
    );
    assert!(e.contains("CSV has no column"), "{e}");
}

#[test]
fn help_explains_the_verbs_and_flags() {
    let h = ok(bin().arg("--help"));
    for verb in ["train", "evaluate", "predict", "inspect", "serve", "synth"] {
        assert!(h.contains(verb), "{h}");
    }
    let h = ok(bin().args(["train", "--help"]));
    for flag in [
        "--label",
        "--positive",
        "--drop",
        "--schema",
        "--cv",
        "--rf-trees",
        "--svm-c",
        "--gbm-learning-rate",
    ] {
        assert!(h.contains(flag), "{flag}: {h}");
    }
}

#[test]
fn explain_reasons_points_and_drift() {
    let dir = tmp("explain");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(800, 21));
    let catalogue = write(
        &dir,
        "reasons.json",
        r#"{"employment": {"en": "Employment status '{value}' is associated with missed payments", "zh": "就业状况「{value}」与逾期相关"}}"#,
    );
    let model = dir.join("gbm.frk");
    ok(bin()
        .args([
            "train",
            "--label",
            "default",
            "--positive",
            "yes",
            "--model",
            "gbm",
            "--score-pdo",
            "40",
        ])
        .arg("--reasons")
        .arg(&catalogue)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&model));
    // An average customer except for unemployment (the synthetic risk
    // function's strongest categorical effect).
    let customer = r#"{"age": 40, "income": 40000, "loan_amount": 5000, "duration_months": 24, "existing_credits": 1, "employment": "unemployed", "housing": "own", "purpose": "car"}"#;
    // Reason codes are owed for refusals: without --all-reasons an approved
    // customer gets none.
    let plain = json(&ok(bin()
        .args(["explain", "--json", "--customer", customer])
        .arg("--model")
        .arg(&model)));
    let refused = plain["decision"].as_bool().unwrap();
    assert_eq!(
        plain["reasons"].as_array().unwrap().is_empty(),
        !refused,
        "{plain}"
    );
    let v = json(&ok(bin()
        .args(["explain", "--json", "--all-reasons", "--customer", customer])
        .arg("--model")
        .arg(&model)));
    let p = v["probability"].as_f64().unwrap();
    // Points from the PDO definition, computed here: 600 at 50:1, 40 points per doubling.
    let want = 600.0 + 40.0 / std::f64::consts::LN_2 * (((1.0 - p) / p) / 50.0).ln();
    assert!(
        (v["points"].as_f64().unwrap() - want).abs() < 0.01,
        "{} vs {want}",
        v["points"]
    );
    let reasons = v["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty() && reasons.len() <= 4);
    // Never a reason worth 0 points; every one costs the customer points.
    for r in reasons {
        assert!(r["points"].as_f64().unwrap() <= -0.05, "{r}");
    }
    // Every feature's points add up, with the base, to the score.
    let b = &v["pointsBreakdown"];
    let total = b["base"].as_f64().unwrap()
        + b["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["points"].as_f64().unwrap())
            .sum::<f64>();
    assert!(
        (total - want).abs() < 0.05,
        "breakdown {total} vs points {want}"
    );
    assert_eq!(b["features"].as_array().unwrap().len(), 8);
    let contribs: Vec<f64> = reasons
        .iter()
        .map(|r| r["contribution"].as_f64().unwrap())
        .collect();
    assert!(
        contribs.windows(2).all(|w| w[0] >= w[1]) && contribs.iter().all(|&c| c > 0.0),
        "{contribs:?}"
    );
    let emp = reasons
        .iter()
        .find(|r| r["feature"] == "employment")
        .expect("unemployment is a principal reason");
    assert_eq!(
        emp["text"],
        "Employment status 'unemployed' is associated with missed payments"
    );
    let e = &v["explanation"];
    let sum = e["base"].as_f64().unwrap()
        + e["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum::<f64>();
    assert!(
        (sum - (p / (1.0 - p)).ln()).abs() < 1e-4,
        "additivity: {sum}"
    );
    let zh = json(&ok(bin()
        .args([
            "explain",
            "--json",
            "--all-reasons",
            "--lang",
            "zh",
            "--customer",
            customer,
        ])
        .arg("--model")
        .arg(&model)));
    let zh_emp = zh["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["feature"] == "employment")
        .unwrap()
        .clone();
    assert_eq!(zh_emp["text"], "就业状况「unemployed」与逾期相关");
    // Batch: reasons per row, and PSI flags a population whose ages moved.
    let shifted: String = ferrisk_train::synth::generate(500, 22)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("75{}", &l[l.find(',').unwrap()..])
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let input = write(&dir, "shifted.csv", &shifted);
    let out = dir.join("scored.csv");
    let o = run(bin()
        .args(["predict", "--explain", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&input)
        .arg("--out")
        .arg(&out));
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let age_line = err
        .lines()
        .find(|l| l.trim_start().starts_with("age "))
        .unwrap();
    assert!(age_line.ends_with("shift"), "{err}");
    let income_line = err
        .lines()
        .find(|l| l.trim_start().starts_with("income "))
        .unwrap();
    assert!(income_line.ends_with("stable"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text
        .lines()
        .next()
        .unwrap()
        .ends_with("points,reason_1,reason_2,reason_3,reason_4"));
    // Reasons only on refused rows.
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let decision = header.iter().position(|h| *h == "decision").unwrap();
    let reason = header.iter().position(|h| *h == "reason_1").unwrap();
    let (mut refused, mut approved) = (0, 0);
    for row in ferrisk::csv::CsvText::parse(&text).unwrap() {
        let (line, cells) = row.unwrap();
        let has_reason = !cells[reason].is_empty();
        match cells[decision].as_str() {
            "yes" => refused += usize::from(has_reason),
            _ => {
                assert!(!has_reason, "line {line}: an approved row has a reason");
                approved += 1;
            }
        }
    }
    assert!(
        refused > 0 && approved > 0,
        "{refused} refused with reasons, {approved} approved"
    );
}

#[test]
fn every_kind_the_trainer_offers_has_a_golden_file() {
    let list = ok(bin().arg("kinds"));
    let ids: Vec<&str> = list.lines().filter_map(|l| l.split('\t').next()).collect();
    assert!(ids.len() >= 7, "{list}");
    for id in ids {
        let golden = repo().join(format!("tests/golden/{id}.frk"));
        assert!(
            golden.is_file(),
            "{id}: no {} (scripts/gen-golden.sh)",
            golden.display()
        );
        let expected = repo().join(format!("tests/golden/expected-{id}.csv"));
        assert!(expected.is_file(), "{id}: no {}", expected.display());
    }
}

#[test]
fn a_model_write_leaves_no_temporary_file() {
    let dir = tmp("atomic");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(200, 8));
    let train = |out: &Path| {
        run(bin()
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
            .arg(out))
    };
    let temporaries = || -> Vec<String> {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    };
    let o = train(&dir.join("ok.frk"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.join("ok.frk").is_file());
    assert!(temporaries().is_empty(), "{:?}", temporaries());
    // The rename fails (the path is a directory that is not empty): the
    // error names the path and the temporary file is removed.
    let blocked = dir.join("blocked.frk");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    let o = train(&blocked);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("blocked.frk: cannot write"), "{err}");
    assert!(temporaries().is_empty(), "{:?}", temporaries());
}

#[test]
fn svm_max_rows_below_the_minimum_is_refused_naming_the_minimum() {
    let dir = tmp("svm-rows");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(300, 4));
    let train = |rows: &str| {
        run(bin()
            .args([
                "train",
                "--label",
                "default",
                "--positive",
                "yes",
                "--model",
                "svm-rbf",
                "--svm-max-rows",
                rows,
            ])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(dir.join(format!("svm-{rows}.frk"))))
    };
    let o = train("10");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("support values"), "{err}");
    let at_least = "--svm-max-rows 10 is below the minimum of ";
    let pos = err.find(at_least).unwrap_or_else(|| panic!("{err}"));
    let min: usize = err[pos + at_least.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((17..=40).contains(&min), "{err}");
    // The minimum itself trains, on a sample of exactly that size.
    let o = train(&min.to_string());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!("stratified sample of {min} of 210 training rows")),
        "{err}"
    );
    let v = json(&ok(bin()
        .arg("inspect")
        .arg("--json")
        .arg(dir.join(format!("svm-{min}.frk")))));
    assert_eq!(v["metadata"]["kind"], "svm-rbf");
}

#[test]
fn every_error_says_each_thing_once() {
    let dir = tmp("once");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(200, 3));
    let model = dir.join("lr.frk");
    let train = || {
        let mut c = bin();
        c.args([
            "train",
            "--label",
            "default",
            "--positive",
            "yes",
            "--model",
            "lr",
        ])
        .arg("--out")
        .arg(&model);
        c
    };
    ok(train().arg("--data").arg(&data));
    let missing = dir.join("missing.csv");
    let bad_schema = write(&dir, "schema.json", r#"{"types": {"age": "numerc"}}"#);
    let bad_catalogue = write(&dir, "reasons.json", r#"{"age": "text"}"#);
    let foreign_catalogue = write(&dir, "foreign.json", r#"{"nope": {"en": "text"}}"#);
    let mut labelled = b"age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose,default\n".to_vec();
    labelled.extend_from_slice(b"30,lots,5000,24,1,permanent,own,car,yes\n");
    let bad_row = write(&dir, "badrow.csv", "");
    std::fs::write(&bad_row, &labelled).unwrap();
    labelled.extend_from_slice(b"30,4\xff0000,5000,24,1,permanent,own,car,no\n");
    let not_utf8 = dir.join("utf8.csv");
    std::fs::write(&not_utf8, &labelled).unwrap();
    let mut cases: Vec<(Command, &str)> = Vec::new();
    let mut c = train();
    c.arg("--data").arg(&missing);
    cases.push((c, "missing.csv: cannot read"));
    let mut c = bin();
    c.args(["inspect"]).arg(dir.join("missing.frk"));
    cases.push((c, "missing.frk: cannot read"));
    let mut c = bin();
    c.args(["predict", "--model"])
        .arg(dir.join("missing.frk"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.join("o.csv"));
    cases.push((c, "missing.frk: cannot read"));
    let mut c = bin();
    c.args(["evaluate", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&missing);
    cases.push((c, "missing.csv: cannot read"));
    let mut c = train();
    c.arg("--data")
        .arg(&data)
        .arg("--schema")
        .arg(dir.join("missing.json"));
    cases.push((c, "missing.json: cannot read"));
    let mut c = train();
    c.arg("--data").arg(&data).arg("--schema").arg(&bad_schema);
    cases.push((c, "schema.json: invalid schema file"));
    let mut c = train();
    c.arg("--data")
        .arg(&data)
        .arg("--reasons")
        .arg(&bad_catalogue);
    cases.push((c, "reasons.json: expected"));
    let mut c = train();
    c.arg("--data")
        .arg(&data)
        .arg("--reasons")
        .arg(&foreign_catalogue);
    cases.push((c, "foreign.json"));
    let mut c = bin();
    c.args(["train", "--label", "default", "--positive", "yes"])
        .args(["--model", "lr,xgb"])
        .arg("--data")
        .arg(&data);
    cases.push((c, "unknown model kind 'xgb'"));
    let mut c = bin();
    c.args(["evaluate", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&bad_row);
    cases.push((
        c,
        "badrow.csv: line 2: feature 'income': 'lots' is not a number",
    ));
    let mut c = train();
    c.arg("--data").arg(&not_utf8);
    cases.push((c, "utf8.csv: line 3: not valid UTF-8 text"));
    for (mut cmd, want) in cases {
        let e = fails(&mut cmd);
        let line = e
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {e}"));
        assert!(line.contains(want), "{want}: {e}");
        assert!(!line.contains("line 0"), "{e}");
        assert!(!line.contains("column ''"), "{e}");
        assert!(line.matches("(os error").count() <= 1, "{e}");
        // No part of the message is said twice.
        let parts: Vec<&str> = line["error: ".len()..].split(": ").collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(!parts[i + 1..].contains(p), "'{p}' repeats: {e}");
        }
    }
}

#[test]
fn evaluation_without_a_test_split_and_out_of_time() {
    let dir = tmp("evaluation");
    let text = std::fs::read_to_string(shared("statlog_german_credit/german_credit.csv")).unwrap();
    // A month column (row order), to split out of time on.
    let mut lines = text.lines();
    let mut csv = format!("{},month\n", lines.next().unwrap());
    let mut before = 0;
    for (i, l) in lines.enumerate() {
        let month = format!("2024-{:02}", i * 12 / 1000 + 1);
        before += usize::from(month.as_str() < "2024-10");
        csv.push_str(&format!("{l},{month}\n"));
    }
    let data = write(&dir, "months.csv", &csv);
    let train = |extra: &[&str], out: &str| {
        let mut cmd = bin();
        cmd.args([
            "train",
            "--label",
            "creditability",
            "--positive",
            "bad",
            "--model",
            "lr",
            "--json",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.join(out))
        .args(extra);
        json(&ok(&mut cmd))[0].clone()
    };

    // --test-size 0: every row fits; the stored metrics are out-of-fold.
    let r = train(&["--test-size", "0", "--drop", "month"], "all.frk");
    assert_eq!(r["trainRows"], 1000);
    assert_eq!(r["testRows"], 0);
    assert_eq!(r["rows"], 1000, "out-of-fold metrics cover every row");
    assert!(
        r["evaluatedOn"].as_str().unwrap().contains("out-of-fold"),
        "{r}"
    );

    // --split-by: older months train, newer ones test; the column is no feature.
    let r = train(&["--split-by", "month", "--split-at", "2024-10"], "oot.frk");
    assert_eq!(r["trainRows"], before);
    assert_eq!(r["testRows"], 1000 - before);
    assert!(
        r["evaluatedOn"]
            .as_str()
            .unwrap()
            .contains("month >= 2024-10"),
        "{r}"
    );
    let v = json(&ok(bin()
        .arg("inspect")
        .arg(dir.join("oot.frk"))
        .arg("--json")));
    let names: Vec<&str> = v["schema"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"month"), "{names:?}");

    // Bad policies and cut-offs are named.
    let mut cmd = bin();
    cmd.args([
        "train",
        "--label",
        "creditability",
        "--positive",
        "bad",
        "--model",
        "lr",
    ])
    .arg("--data")
    .arg(&data)
    .args(["--threshold-by", "cost:FN=5"]);
    let e = String::from_utf8_lossy(&run(&mut cmd).stderr).to_string();
    assert!(
        e.contains("--threshold-by") && e.contains("FN=5,FP=1"),
        "{e}"
    );
    let mut cmd = bin();
    cmd.args([
        "train",
        "--label",
        "creditability",
        "--positive",
        "bad",
        "--model",
        "lr",
    ])
    .arg("--data")
    .arg(&data)
    .args(["--split-by", "month", "--split-at", "2030-01"]);
    let e = String::from_utf8_lossy(&run(&mut cmd).stderr).to_string();
    assert!(e.contains("both sides need rows"), "{e}");
}

/// German credit when ../shared/data has it, else synthetic customers
/// written into `dir`: (file, label, positive class).
fn german_or_synthetic(dir: &Path) -> (PathBuf, &'static str, &'static str) {
    let german = repo().join("../shared/data/statlog_german_credit/german_credit.csv");
    if german.is_file() {
        (german, "creditability", "bad")
    } else {
        eprintln!(
            "{} is missing: synthetic customers instead",
            german.display()
        );
        let data = write(dir, "s.csv", &ferrisk_train::synth::generate(1000, 7));
        (data, "default", "yes")
    }
}

#[test]
fn training_writes_the_same_bytes_whatever_the_threads() {
    let dir = tmp("threads");
    let (data, label, positive) = german_or_synthetic(&dir);
    let started = std::time::Instant::now();
    for weights in ["none", "balanced"] {
        let mut runs = Vec::new();
        for threads in ["1", "2"] {
            let out = dir.join(format!("{weights}-{threads}"));
            ok(bin()
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["train", "--label", label, "--positive", positive])
                .args(["--model", "all", "--attn-epochs", "5"])
                .args(["--class-weight", weights, "--threads", threads])
                .arg("--data")
                .arg(&data)
                .arg("--out")
                .arg(&out));
            runs.push(out);
        }
        for kind in kinds() {
            let file = format!("{kind}.frk");
            let one = std::fs::read(runs[0].join(&file)).unwrap();
            let two = std::fs::read(runs[1].join(&file)).unwrap();
            assert!(
                one == two,
                "{kind}, --class-weight {weights}: --threads 1 and --threads 2 wrote different files"
            );
            let b = ferrisk::Scorer::from_bytes(&one).unwrap().into_bundle();
            assert_eq!(b.metadata.created_unix, 1_700_000_000, "{kind}");
            assert_eq!(b.report.map(|r| r.fit_seconds), Some(0.0), "{kind}");
            let recorded = b.metadata.params.iter().find(|(k, _)| k == "class_weight");
            assert_eq!(recorded.is_some(), weights == "balanced", "{kind}");
        }
    }
    eprintln!(
        "every kind trained 4 times in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn bad_class_weights_threads_and_source_date_epoch_are_named() {
    let dir = tmp("weights");
    let data = write(&dir, "s.csv", &ferrisk_train::synth::generate(300, 5));
    let train = |out: &str| {
        let mut c = bin();
        c.args(["train", "--label", "default", "--positive", "yes"])
            .args(["--model", "lr"])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(dir.join(out));
        c
    };
    // Explicit weights train and are recorded as given.
    ok(train("ok.frk").args(["--class-weight", "yes=2.5,no=1"]));
    let b = ferrisk::Scorer::from_bytes(&std::fs::read(dir.join("ok.frk")).unwrap())
        .unwrap()
        .into_bundle();
    assert!(
        b.metadata
            .params
            .contains(&("class_weight".into(), "yes=2.5, no=1".into())),
        "{:?}",
        b.metadata.params
    );
    let cases: [(&[&str], Option<&str>, &str); 9] = [
        (
            &["--class-weight", "yes=5"],
            None,
            "--class-weight 'yes=5': no weight for class 'no' (give both: yes=W,no=W)",
        ),
        (
            &["--class-weight", "yes=5,maybe=1"],
            None,
            "'maybe' is not a class of the label (its classes are 'yes' and 'no')",
        ),
        (
            &["--class-weight", "yes=-1,no=1"],
            None,
            "the weight of class 'yes' must be a finite number in [1e-6, 1e6], got -1",
        ),
        (
            &["--class-weight", "yes=1,no=inf"],
            None,
            "the weight of class 'no' must be a finite number",
        ),
        (
            &["--class-weight", "yes=abc,no=1"],
            None,
            "the weight 'abc' of class 'yes' is not a number",
        ),
        (
            &["--class-weight", "yes=1,yes=2"],
            None,
            "class 'yes' is given twice",
        ),
        (
            &["--class-weight", "heavy"],
            None,
            "--class-weight 'heavy': 'heavy' is not CLASS=WEIGHT",
        ),
        (&["--threads", "0"], None, "--threads must be at least 1"),
        (
            &[],
            Some("yesterday"),
            "SOURCE_DATE_EPOCH='yesterday' is not a time in whole seconds since 1970",
        ),
    ];
    for (i, (args, epoch, want)) in cases.into_iter().enumerate() {
        let out = format!("bad-{i}.frk");
        let mut c = train(&out);
        c.args(args);
        if let Some(e) = epoch {
            c.env("SOURCE_DATE_EPOCH", e);
        }
        let e = fails(&mut c);
        let line = e
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {e}"));
        assert!(line.contains(want), "{args:?}: {e}");
        assert!(!dir.join(&out).exists(), "{args:?} wrote a file");
    }
}
