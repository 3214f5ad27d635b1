//! `ferrisk train` with a customer's history (issue 14): the flags
//! `ferrisk synth --histories` prints train every kind from one command line
//! (flat kinds see the history's columns as plain features), the schema
//! file's "history" gives the same file as the flags, the channel
//! statistics come from the training rows only, and wrong histories are
//! refused naming the flag and the column; the epoch lines reach a log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferrisk::{ChannelInput, Scorer};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-hist-{}-{name}", std::process::id()));
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

/// stdout and stderr of a command that must succeed.
fn ok(cmd: &mut Command) -> (String, String) {
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

/// stderr of a command that must fail.
fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(!out.status.success(), "unexpected success");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `ferrisk synth --histories 6`: the CSV, the schema file, and the
/// `--sequence` flags exactly as it printed them.
fn synth(dir: &Path, rows: &str, seed: &str) -> (PathBuf, PathBuf, Vec<String>) {
    let csv = dir.join("h.csv");
    let schema = dir.join("h.json");
    let (_, err) = ok(bin()
        .args(["synth", "--histories", "6", "--rows", rows, "--seed", seed])
        .arg("--out")
        .arg(&csv)
        .arg("--schema-out")
        .arg(&schema));
    let flags: Vec<String> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--sequence "))
        .flat_map(|v| ["--sequence".to_string(), v.to_string()])
        .collect();
    assert_eq!(flags.len(), 6, "{err}");
    (csv, schema, flags)
}

fn train(data: &Path) -> Command {
    let mut c = bin();
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "train",
            "--label",
            "default",
            "--positive",
            "yes",
            "--cv",
            "2",
        ])
        .args([
            "--gru-epochs",
            "4",
            "--tcn-epochs",
            "4",
            "--attn-epochs",
            "2",
        ])
        .args([
            "--rf-trees",
            "10",
            "--gbm-trees",
            "20",
            "--svm-max-rows",
            "200",
        ])
        .arg("--data")
        .arg(data);
    c
}

fn load(path: &Path) -> Scorer {
    Scorer::from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

/// The history columns of 6 months, oldest first per channel.
fn history_columns() -> Vec<String> {
    ["status", "balance", "paid"]
        .iter()
        .flat_map(|c| (1..=6).rev().map(move |a| format!("{c}_m{a}")))
        .collect()
}

#[test]
fn one_command_line_trains_every_kind_on_a_history_table() {
    let dir = tmp("all");
    let (csv, _, flags) = synth(&dir, "500", "3");
    let (out, _) = ok(train(&csv)
        .args(["--model", "all", "--json", "--out"])
        .arg(&dir)
        .args(&flags));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let trained: Vec<&str> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    let (list, _) = ok(bin().arg("kinds"));
    let every: Vec<&str> = list.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(trained, every, "every kind, the sequence kinds included");
    let columns = history_columns();
    for kind in every {
        let s = load(&dir.join(format!("{kind}.frk")));
        let names: Vec<&str> = s
            .bundle()
            .schema
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        // Every history column is a plain feature of every kind's schema.
        for c in &columns {
            assert!(names.contains(&c.as_str()), "{kind}: {c} in {names:?}");
        }
        let inputs = s.bundle().model.sequence();
        assert_eq!(inputs.is_some(), kind == "gru" || kind == "tcn", "{kind}");
        assert!(!s.bundle().embeds_training_rows(), "{kind}");
        if let Some(inputs) = inputs {
            let h = &inputs.history;
            assert_eq!(
                (h.name.as_str(), h.unit.as_str(), h.steps),
                ("history", "month", 6)
            );
            // Each channel's features are its columns, oldest first.
            let got: Vec<String> = h
                .channels
                .iter()
                .flat_map(|c| c.features.iter().map(|&f| names[f as usize].to_string()))
                .collect();
            assert_eq!(got, columns, "{kind}");
            let chans: Vec<&str> = h.channels.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(chans, ["status", "balance", "paid"]);
            // The statics are the other features.
            assert_eq!(inputs.statics.len(), names.len() - columns.len());
        }
    }
    // Without a history, --model all trains the flat kinds and says so.
    let (out, err) = ok(train(&csv)
        .args(["--model", "all", "--json", "--out"])
        .arg(dir.join("flat")));
    assert!(err.contains("gru, tcn skipped"), "{err}");
    let n = serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(n, trained.len() - 2);
    // The flat kinds' files do not depend on the history flags.
    for kind in ["lr", "gbm"] {
        let with = std::fs::read(dir.join(format!("{kind}.frk"))).unwrap();
        let without = std::fs::read(dir.join("flat").join(format!("{kind}.frk"))).unwrap();
        assert!(
            with == without,
            "{kind}: the history flags changed the file"
        );
    }
}

#[test]
fn the_schema_file_history_gives_the_flags_file() {
    let dir = tmp("schema");
    let (csv, schema, flags) = synth(&dir, "300", "4");
    for model in ["gru", "tcn"] {
        let (_, log) = ok(train(&csv)
            .args(["--model", model, "--out"])
            .arg(dir.join(format!("{model}-flags.frk")))
            .args(&flags));
        // stderr is not a terminal here: every epoch of every fit is a
        // plain line (loss, validation loss and AUC, time per epoch).
        for fit in ["CV fold 1/2: ", "CV fold 2/2: ", ""] {
            for epoch in 1..=4 {
                let start = format!("{fit}{model} epoch {epoch}/4  loss ");
                let line = log
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with(&start))
                    .unwrap_or_else(|| panic!("no line '{start}': {log}"));
                assert!(
                    line.contains("valid loss")
                        && line.contains("AUC")
                        && line.ends_with("s/epoch)"),
                    "{line}"
                );
            }
        }
        ok(train(&csv)
            .args(["--model", model, "--out"])
            .arg(dir.join(format!("{model}-schema.frk")))
            .arg("--schema")
            .arg(&schema));
        let a = std::fs::read(dir.join(format!("{model}-flags.frk"))).unwrap();
        let b = std::fs::read(dir.join(format!("{model}-schema.frk"))).unwrap();
        assert!(a == b, "{model}: flags and schema file differ");
    }
}

#[test]
fn channel_statistics_come_from_the_training_rows_only() {
    let dir = tmp("stats");
    let (csv, _, flags) = synth(&dir, "300", "5");
    // Every row of --data trains; the --test-data rows must not count.
    let test = dir.join("test.csv");
    ok(bin()
        .args(["synth", "--histories", "6", "--rows", "200", "--seed", "6"])
        .arg("--out")
        .arg(&test));
    let file = dir.join("gru.frk");
    ok(train(&csv)
        .args(["--model", "gru", "--out"])
        .arg(&file)
        .arg("--test-data")
        .arg(&test)
        .args(&flags));
    let s = load(&file);
    let m = s.bundle().model.sequence().expect("a gru");
    // Oracle: pooled mean and deviation of each channel's cells in h.csv,
    // as f32 values (what the runtime parses), missing cells skipped.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for ch in &m.history.channels {
        let cols: Vec<usize> = (1..=6)
            .rev()
            .map(|a| {
                let name = format!("{}_m{a}", ch.name);
                header.iter().position(|h| *h == name).unwrap()
            })
            .collect();
        let vals: Vec<f64> = rows
            .iter()
            .flat_map(|r| cols.iter().map(move |&c| r[c]))
            .filter(|v| !v.is_empty())
            .map(|v| f64::from(v.parse::<f32>().unwrap()))
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64;
        let ChannelInput::Numeric { mean: m_, std } = ch.input else {
            panic!("{}: not numeric", ch.name)
        };
        assert!(
            (f64::from(m_) - mean).abs() <= 1e-5 * mean.abs().max(1.0),
            "{}: mean {m_} vs {mean}",
            ch.name
        );
        assert!(
            (f64::from(std) - var.sqrt()).abs() <= 1e-5 * var.sqrt().max(1.0),
            "{}: std {std} vs {}",
            ch.name,
            var.sqrt()
        );
    }
}

#[test]
fn max_time_keeps_the_best_so_far_and_writes_the_file() {
    let dir = tmp("max-time");
    let (csv, _, flags) = synth(&dir, "300", "8");
    for model in ["gru", "tcn"] {
        let file = dir.join(format!("{model}.frk"));
        // A limit that has passed before the first batch: training stops at
        // once, keeps what it has and the file is written and loads.
        let (_, err) = ok(train(&csv)
            .args(["--model", model, "--max-time", "0.000001", "--out"])
            .arg(&file)
            .args(&flags));
        assert!(
            err.contains(&format!(
                "{model}: training stopped by --max-time 0.000001 s; the best epoch so far was kept"
            )),
            "{err}"
        );
        let s = load(&file);
        let params = &s.bundle().metadata.params;
        assert!(
            params
                .iter()
                .any(|(k, v)| k == "max_time" && v == "0.000001"),
            "{params:?}"
        );
    }
}

#[test]
fn the_thread_count_does_not_change_a_sequence_model() {
    let dir = tmp("threads");
    let (csv, _, flags) = synth(&dir, "600", "11");
    for model in ["gru", "tcn"] {
        let files: Vec<Vec<u8>> = ["1", "2", "3"]
            .iter()
            .map(|t| {
                let file = dir.join(format!("{model}-{t}.frk"));
                ok(train(&csv)
                    .args(["--model", model, "--threads", t, "--out"])
                    .arg(&file)
                    .args(&flags));
                std::fs::read(&file).unwrap()
            })
            .collect();
        assert!(files[0] == files[1], "{model}: 1 vs 2 threads");
        assert!(files[0] == files[2], "{model}: 1 vs 3 threads");
    }
}

#[test]
fn reason_texts_may_name_a_channel_of_the_history() {
    let dir = tmp("reasons");
    let (csv, _, flags) = synth(&dir, "300", "9");
    let catalogue = dir.join("reasons.json");
    std::fs::write(
        &catalogue,
        r#"{"status": {"en": "{value} months in arrears {age}"},
            "age": {"en": "age {value}"}}"#,
    )
    .unwrap();
    ok(train(&csv)
        .args(["--model", "gru,lr", "--out"])
        .arg(&dir)
        .arg("--reasons")
        .arg(&catalogue)
        .args(&flags));
    let texts = |kind: &str| -> Vec<String> {
        let mut v: Vec<String> = load(&dir.join(format!("{kind}.frk")))
            .bundle()
            .reasons
            .iter()
            .map(|r| r.feature.clone())
            .collect();
        v.sort();
        v
    };
    // The sequence kind keeps the channel's text; the flat kind, whose
    // features do not include a channel, only the feature's.
    assert_eq!(texts("gru"), ["age", "status"]);
    assert_eq!(texts("lr"), ["age"]);
    // A name that is neither a feature nor a channel is refused.
    std::fs::write(&catalogue, r#"{"nope": {"en": "x"}}"#).unwrap();
    let err = fails(
        train(&csv)
            .args(["--model", "gru", "--out"])
            .arg(dir.join("x.frk"))
            .arg("--reasons")
            .arg(&catalogue)
            .args(&flags),
    );
    assert!(
        err.contains("reason texts for 'nope', which is not a feature of the data nor a channel of the history"),
        "{err}"
    );
}

#[test]
fn a_categorical_channel_trains_with_its_pooled_categories() {
    let dir = tmp("categorical");
    let (csv, _, _) = synth(&dir, "2000", "10");
    // The status columns as words: a categorical channel holding the same
    // information (an empty cell stays missing).
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let status: Vec<bool> = header.iter().map(|h| h.starts_with("status_m")).collect();
    let word = |v: &str| match v {
        "" => "",
        "0" => "current",
        "1" => "late",
        _ => "arrears",
    };
    let mut out = format!("{}\n", header.join(","));
    for l in lines {
        let cells: Vec<&str> = l
            .split(',')
            .zip(&status)
            .map(|(c, &s)| if s { word(c) } else { c })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let words = dir.join("words.csv");
    std::fs::write(&words, out).unwrap();
    let seq = |c: &str| {
        let cols: Vec<String> = (1..=6).rev().map(|a| format!("{c}_m{a}")).collect();
        format!("{c}={}", cols.join(","))
    };
    // The test AUC `ferrisk train` stores for one history.
    let auc = |data: &Path, model: &str, channels: &[&str]| -> (f64, Scorer) {
        let file = dir.join(format!("{model}.frk"));
        let mut cmd = bin();
        cmd.args([
            "train",
            "--label",
            "default",
            "--positive",
            "yes",
            "--cv",
            "2",
        ])
        .args(["--model", model, "--json", "--data"])
        .arg(data)
        .arg("--out")
        .arg(&file);
        for c in channels {
            cmd.args(["--sequence", &seq(c)]);
        }
        let (out, _) = ok(&mut cmd);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v[0]["rocAuc"].as_f64().unwrap(), load(&file))
    };
    for (model, channels) in [
        ("gru", &["status", "balance"][..]),
        ("tcn", &["status", "balance"][..]),
        // Only a categorical channel: every step present.
        ("gru", &["status"][..]),
    ] {
        let (numbers, _) = auc(&csv, model, channels);
        let (categories, s) = auc(&words, model, channels);
        println!("{model} {channels:?}: test AUC status as numbers {numbers:.4}, as words {categories:.4}");
        let inputs = s.bundle().model.sequence().unwrap();
        let ChannelInput::Categorical { categories: table } = &inputs.history.channels[0].input
        else {
            panic!("{model}: status is not categorical")
        };
        // The words of the training rows, most frequent first (most
        // accounts are current, fewer late, fewest in arrears).
        assert_eq!(table, &["current", "late", "arrears"], "{model}");
        // The same information as words trains as well as numbers.
        assert!(numbers > 0.75, "{model}: {numbers}");
        assert!(
            (categories - numbers).abs() < 0.03,
            "{model}: {categories} vs {numbers}"
        );
    }
}

#[test]
fn a_table_laid_out_like_a_real_one_trains_from_its_own_column_names() {
    // The layout of a public credit-card table: an id, most recent month
    // first, a name skipped (PAY_0, PAY_2, ..., PAY_6), amounts numbered the
    // other way round, a dotted 0/1 label. Built from the generator's
    // customers, so the same model quality is expected as on synth's layout.
    let dir = tmp("real-layout");
    let (csv, _, flags) = synth(&dir, "2000", "12");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let pay = |age: usize| {
        if age == 1 {
            "PAY_0".to_string()
        } else {
            format!("PAY_{age}")
        }
    };
    let mut cols: Vec<(String, usize)> = vec![
        ("LIMIT_BAL".into(), at("credit_limit")),
        ("EDUCATION".into(), at("employment")),
        ("AGE".into(), at("age")),
    ];
    for age in 1..=6 {
        cols.push((pay(age), at(&format!("status_m{age}"))));
    }
    for age in 1..=6 {
        cols.push((format!("BILL_AMT{age}"), at(&format!("balance_m{age}"))));
    }
    for age in 1..=6 {
        cols.push((format!("PAY_AMT{age}"), at(&format!("paid_m{age}"))));
    }
    let label = at("default");
    let mut out = String::from("ID,");
    out.push_str(
        &cols
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str(",default.payment.next.month\n");
    for (i, l) in lines.enumerate() {
        let cells: Vec<&str> = l.split(',').collect();
        let row: Vec<&str> = cols.iter().map(|c| cells[c.1]).collect();
        let y = if cells[label] == "yes" { "1" } else { "0" };
        out.push_str(&format!("{},{},{y}\n", i + 1, row.join(",")));
    }
    let real = dir.join("cards.csv");
    std::fs::write(&real, out).unwrap();
    let oldest_first = |f: &dyn Fn(usize) -> String| -> String {
        (1..=6).rev().map(f).collect::<Vec<_>>().join(",")
    };
    let real_flags = vec![
        format!("status={}", oldest_first(&pay)),
        format!("bill={}", oldest_first(&|a| format!("BILL_AMT{a}"))),
        format!("paid={}", oldest_first(&|a| format!("PAY_AMT{a}"))),
    ];
    assert_eq!(real_flags[0], "status=PAY_6,PAY_5,PAY_4,PAY_3,PAY_2,PAY_0");
    let auc =
        |data: &Path, label: &str, positive: &str, drop: &[&str], seq: &[String], out: &str| {
            let file = dir.join(out);
            let mut cmd = bin();
            cmd.args([
                "train",
                "--label",
                label,
                "--positive",
                positive,
                "--cv",
                "2",
            ])
            .args(["--model", "gru", "--json", "--data"])
            .arg(data)
            .arg("--out")
            .arg(&file);
            for d in drop {
                cmd.args(["--drop", d]);
            }
            for s in seq {
                cmd.args(["--sequence", s]);
            }
            let (json, _) = ok(&mut cmd);
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            (v[0]["rocAuc"].as_f64().unwrap(), load(&file))
        };
    let seq_flags: Vec<String> = flags.iter().skip(1).step_by(2).cloned().collect();
    // synth's layout, with the statics the real layout has.
    let (want, _) = auc(
        &csv,
        "default",
        "yes",
        &["income", "housing", "existing_credits"],
        &seq_flags,
        "synth.frk",
    );
    let (got, s) = auc(
        &real,
        "default.payment.next.month",
        "1",
        &["ID"],
        &real_flags,
        "cards.frk",
    );
    println!("test AUC: synth layout {want:.4}, real layout {got:.4}");
    assert!(want > 0.75 && (got - want).abs() < 0.03, "{got} vs {want}");
    let b = s.bundle();
    let h = &b.model.sequence().unwrap().history;
    let names: Vec<&str> = h.channels[0]
        .features
        .iter()
        .map(|&f| b.schema.features[f as usize].name.as_str())
        .collect();
    assert_eq!(
        names,
        ["PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0"]
    );
}

#[test]
fn wrong_histories_are_refused_naming_flag_and_column() {
    let dir = tmp("errors");
    let (csv, _, flags) = synth(&dir, "100", "7");
    let out = dir.join("m.frk");
    let err = fails(train(&csv).args(["--model", "gru", "--out"]).arg(&out));
    assert!(err.contains("gru read(s) a customer's history"), "{err}");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--sequence", "status=status_m2,nope"],
            "--sequence status: column 'nope' is not a column of h.csv",
        ),
        (
            &["--sequence", "status=status_m2,default"],
            "--sequence status: column 'default' is the label",
        ),
        (
            &[
                "--sequence",
                "a=status_m2,status_m1",
                "--sequence",
                "b=status_m1,paid_m1",
            ],
            "--sequence b: column 'status_m1' is already in channel a",
        ),
        (
            &[
                "--sequence",
                "a=status_m2,status_m1",
                "--sequence",
                "b=paid_m1",
            ],
            "--sequence b: 1 column(s); a history needs at least 2 steps",
        ),
        (
            &["--sequence", "a=status_m2,status_m1", "--drop", "status_m1"],
            "--sequence a: column 'status_m1' is left out of the features",
        ),
        (
            &["--history-unit", "week"],
            "--history-unit names a history",
        ),
        (&["--sequence", "status"], "--sequence 'status': no '='"),
    ];
    for (args, want) in cases {
        // Flat kinds check the history too: one command line, one history.
        for model in ["gru", "lr"] {
            let err = fails(
                train(&csv)
                    .args(["--model", model, "--out"])
                    .arg(&out)
                    .args(*args),
            );
            assert!(err.contains(want), "{model} {args:?}: {err}");
        }
    }
    assert!(!out.exists());
    ok(train(&csv)
        .args(["--model", "tcn", "--out"])
        .arg(&out)
        .args(&flags));
    assert!(out.exists());
}
