//! Governance end to end on German credit: protected attributes (left out
//! or kept as inputs, never reasons), the stored fairness audit against an
//! independent recomputation from `ferrisk predict`, monotone GBM swept on
//! every test row of the exported file, and decision records that replay
//! (and are refused against another model file).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

fn german() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/statlog_german_credit/german_credit.csv");
    assert!(p.exists(), "{} is missing", p.display());
    p
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-gov-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "panic"
    );
    out
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

/// German credit split by row (3 in 10 to the test file), so the test
/// knows the evaluation rows.
fn split(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(german()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (i, l) in lines.enumerate() {
        let out = if i % 10 < 3 { &mut test } else { &mut train };
        out.push_str(l);
        out.push('\n');
    }
    let (a, b) = (dir.join("train.csv"), dir.join("test.csv"));
    std::fs::write(&a, train).unwrap();
    std::fs::write(&b, test).unwrap();
    (a, b)
}

fn train(dir: &Path, name: &str, kind: &str, extra: &[&str]) -> PathBuf {
    let (tr, te) = split(dir);
    let out = dir.join(format!("{name}.frk"));
    ok(bin()
        .args([
            "train",
            "--label",
            "creditability",
            "--positive",
            "bad",
            "--cv",
            "3",
        ])
        .arg("--data")
        .arg(&tr)
        .arg("--test-data")
        .arg(&te)
        .args(["--model", kind, "--out"])
        .arg(&out)
        .args(extra));
    out
}

fn inspect(model: &Path) -> serde_json::Value {
    json(&ok(bin().arg("inspect").arg("--json").arg(model)))
}

/// A CSV as header and rows of cells (through the runtime's reader).
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut csv = ferrisk::csv::CsvText::parse(text).unwrap();
    let header = csv.header().to_vec();
    let rows = (&mut csv).map(|r| r.unwrap().1).collect();
    (header, rows)
}

/// A row back as CSV text.
fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains(',') {
                format!("\"{c}\"")
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

const PROTECTED: &str = "age_in_years:<25,personal_status_and_sex";

#[test]
fn the_stored_fairness_audit_is_what_the_predictions_give() {
    let dir = tmp("audit");
    for (name, extra) in [
        ("excl", vec!["--protected", PROTECTED]),
        ("incl", vec!["--protected", PROTECTED, "--use-protected"]),
    ] {
        let model = train(&dir, name, "lr", &extra);
        let v = inspect(&model);
        let features: Vec<&str> = v["schema"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        let kept = name == "incl";
        assert_eq!(features.contains(&"age_in_years"), kept, "{name}");
        assert_eq!(features.contains(&"personal_status_and_sex"), kept);
        let g = &v["metadata"]["governance"];
        assert!(g["evaluatedOn"].as_str().unwrap().contains("test.csv"));
        let protected = g["protected"].as_array().unwrap();
        assert_eq!(protected.len(), 2);

        // The oracle: the exported file's predictions of the test rows,
        // grouped by the test itself.
        let pred = dir.join(format!("{name}.pred.csv"));
        ok(bin()
            .arg("predict")
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(dir.join("test.csv"))
            .arg("--out")
            .arg(&pred));
        let (header, rows) = table(&std::fs::read_to_string(&pred).unwrap());
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        let (age, status, label, decision) = (
            col("age_in_years"),
            col("personal_status_and_sex"),
            col("creditability"),
            col("decision"),
        );
        for p in protected {
            assert_eq!(p["input"].as_bool().unwrap(), kept);
            let pname = p["name"].as_str().unwrap();
            let group_of = |r: &Vec<String>| -> String {
                if pname == "age_in_years" {
                    if r[age].parse::<f64>().unwrap() < 25.0 {
                        "< 25".into()
                    } else {
                        ">= 25".into()
                    }
                } else {
                    r[status].clone()
                }
            };
            let groups = p["groups"].as_array().unwrap();
            let mut best = 0.0f64;
            for gr in groups {
                let gname = gr["name"].as_str().unwrap();
                let mine: Vec<&Vec<String>> =
                    rows.iter().filter(|r| group_of(r) == gname).collect();
                assert_eq!(gr["rows"].as_u64().unwrap() as usize, mine.len(), "{gname}");
                let approved = mine.iter().filter(|r| r[decision] == "good").count() as f64;
                let bad: Vec<_> = mine.iter().filter(|r| r[label] == "bad").collect();
                let refused_bad = bad.iter().filter(|r| r[decision] == "bad").count() as f64;
                let rate = approved / mine.len() as f64;
                best = best.max(rate);
                assert!((gr["approvalRate"].as_f64().unwrap() - rate).abs() < 1e-12);
                assert!(
                    (gr["tpr"].as_f64().unwrap() - refused_bad / bad.len().max(1) as f64).abs()
                        < 1e-12
                );
            }
            for gr in groups {
                let r = gr["approvalRate"].as_f64().unwrap() / best;
                assert!((gr["impactRatio"].as_f64().unwrap() - r).abs() < 1e-12);
            }
            // Each protected attribute flags exactly one proxy, its strongest.
            let px: Vec<&serde_json::Value> = g["proxies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["protected"] == pname)
                .collect();
            assert!(!px.is_empty());
            assert!(px
                .iter()
                .all(|x| !features.contains(&pname) || x["feature"] != pname));
            let flagged: Vec<_> = px.iter().filter(|x| x["flagged"] == true).collect();
            assert_eq!(flagged.len(), 1);
            let top = px
                .iter()
                .map(|x| x["auc"].as_f64().unwrap())
                .fold(0.0, f64::max);
            assert_eq!(flagged[0]["auc"].as_f64().unwrap(), top);
        }
        let text = ok(bin().arg("inspect").arg(&model));
        assert!(text.contains("fairness audit") && text.contains("adverse-impact ratio"));

        // Kept as inputs, protected attributes are still never reasons.
        if kept {
            for r in rows.iter().take(60) {
                let customer: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(r)
                    .map(|(h, c)| (h.clone(), serde_json::Value::String(c.clone())))
                    .collect();
                let s = json(&ok(bin()
                    .args([
                        "explain",
                        "--json",
                        "--all-reasons",
                        "--reasons",
                        "20",
                        "--model",
                    ])
                    .arg(&model)
                    .arg("--customer")
                    .arg(serde_json::Value::Object(customer).to_string())));
                for reason in s["reasons"].as_array().unwrap() {
                    let f = reason["feature"].as_str().unwrap();
                    assert!(f != "age_in_years" && f != "personal_status_and_sex", "{f}");
                }
            }
        }
    }
}

#[test]
fn a_monotone_gbm_is_monotone_on_every_test_row() {
    let dir = tmp("mono");
    let model = train(
        &dir,
        "mono",
        "gbm",
        &["--monotone", "duration_in_month=+1,age_in_years=-1"],
    );
    let free = train(&dir, "free", "gbm", &[]);
    let v = inspect(&model);
    let mono = v["metadata"]["governance"]["monotone"].as_array().unwrap();
    assert_eq!(mono.len(), 2);
    for m in mono {
        assert_eq!(m["enforced"], true);
        assert_eq!(m["violations"], 0, "{m}");
    }
    let auc = |v: &serde_json::Value| v["metrics"]["rocAuc"].as_f64().unwrap();
    eprintln!(
        "gbm test AUC: unconstrained {:.4}, monotone {:.4} (change {:+.4})",
        auc(&inspect(&free)),
        auc(&v),
        auc(&v) - auc(&inspect(&free))
    );
    // The sweep: every test row with each constrained feature set to every
    // whole value of its training range (and the halves between), scored
    // by the exported file through `ferrisk predict`.
    let (header, rows) = table(&std::fs::read_to_string(dir.join("test.csv")).unwrap());
    let feature = |n: &str| {
        v["schema"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    for (name, dir_sign) in [("duration_in_month", 1.0), ("age_in_years", -1.0)] {
        let f = feature(name);
        let (lo, hi) = (f["min"].as_f64().unwrap(), f["max"].as_f64().unwrap());
        let grid: Vec<f64> = (0..=((hi - lo) * 2.0) as usize)
            .map(|k| lo + k as f64 / 2.0)
            .collect();
        let c = header.iter().position(|h| h == name).unwrap();
        let mut csv = header.join(",") + "\n";
        for r in &rows {
            for x in &grid {
                let mut r = r.clone();
                r[c] = x.to_string();
                csv.push_str(&csv_line(&r));
                csv.push('\n');
            }
        }
        let input = dir.join(format!("sweep-{name}.csv"));
        std::fs::write(&input, csv).unwrap();
        let out = dir.join(format!("sweep-{name}.pred.csv"));
        ok(bin()
            .arg("predict")
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(&input)
            .arg("--out")
            .arg(&out));
        let (h, scored) = table(&std::fs::read_to_string(&out).unwrap());
        let pc = h.iter().position(|x| x == "probability").unwrap();
        let p: Vec<f32> = scored.iter().map(|r| r[pc].parse().unwrap()).collect();
        assert_eq!(p.len(), rows.len() * grid.len());
        let mut moved = 0;
        for (i, row) in p.chunks(grid.len()).enumerate() {
            for w in row.windows(2) {
                assert!(
                    dir_sign * (w[1] - w[0]) >= 0.0,
                    "{name}: test row {i}: {} then {}",
                    w[0],
                    w[1]
                );
            }
            moved += usize::from(row.first() != row.last());
        }
        assert!(moved > 0, "{name} moves some probability");
    }
}

#[test]
fn records_replay_bit_for_bit_and_refuse_another_model() {
    let dir = tmp("record");
    let model = train(&dir, "m", "gbm", &[]);
    let other = train(&dir, "o", "lr", &[]);
    let records = dir.join("rec.jsonl");
    let test = dir.join("test.csv");
    ok(bin()
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&test)
        .args(["--explain", "--out"])
        .arg(dir.join("p.csv"))
        .arg("--record")
        .arg(&records));
    let text = std::fs::read_to_string(&records).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert_eq!(lines.len(), 300);
    let sha = inspect(&model)["modelSha256"].as_str().unwrap().to_string();
    let bytes = std::fs::read(&model).unwrap();
    assert_eq!(
        sha,
        ferrisk::format::sha256_hex(&bytes[ferrisk::format::HEADER_LEN..])
    );
    assert!(lines.iter().all(|r| r["modelSha256"] == sha.as_str()));
    // A refused row (with reasons) and an approved one.
    for want in [true, false] {
        let r = lines.iter().find(|r| r["decision"] == want).unwrap();
        if want {
            assert!(!r["reasons"].as_array().unwrap().is_empty());
        }
        let line = r["line"].as_u64().unwrap().to_string();
        let out = ok(bin()
            .arg("replay")
            .arg("--model")
            .arg(&model)
            .arg("--record")
            .arg(&records)
            .args(["--line", &line, "--data"])
            .arg(&test));
        assert!(out.starts_with("confirmed"), "{out}");
        // The same inputs as JSON (numbers as numbers) replay too: the
        // digest is of the inputs as parsed.
        let (header, rows) = table(&std::fs::read_to_string(&test).unwrap());
        let row = &rows[r["line"].as_u64().unwrap() as usize - 2];
        let customer: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(row)
            .map(|(h, c)| {
                let v = c
                    .parse::<f64>()
                    .map_or_else(|_| serde_json::json!(c), |x| serde_json::json!(x));
                (h.clone(), v)
            })
            .collect();
        let single = dir.join("one.json");
        let mut bare = r.clone();
        bare.as_object_mut().unwrap().remove("line");
        std::fs::write(&single, bare.to_string()).unwrap();
        let out = ok(bin()
            .arg("replay")
            .arg("--model")
            .arg(&model)
            .arg("--record")
            .arg(&single)
            .arg("--customer")
            .arg(serde_json::Value::Object(customer.clone()).to_string()));
        assert!(out.starts_with("confirmed"), "{out}");
        // A record that does not match says exactly what differs.
        let mut forged = bare.clone();
        forged["probability"] = serde_json::json!(0.123);
        std::fs::write(&single, forged.to_string()).unwrap();
        let o = run(bin()
            .arg("replay")
            .arg("--model")
            .arg(&model)
            .arg("--record")
            .arg(&single)
            .arg("--customer")
            .arg(serde_json::Value::Object(customer.clone()).to_string()));
        assert_eq!(o.status.code(), Some(1));
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains("probability: recorded 0.123, replayed"), "{s}");
        assert_eq!(
            s.matches("recorded").count(),
            1,
            "only the probability: {s}"
        );
        // Other inputs: the digest differs.
        let mut changed = customer.clone();
        changed.insert("duration_in_month".into(), serde_json::json!(60));
        std::fs::write(&single, bare.to_string()).unwrap();
        let o = run(bin()
            .arg("replay")
            .arg("--model")
            .arg(&model)
            .arg("--record")
            .arg(&single)
            .arg("--customer")
            .arg(serde_json::Value::Object(changed).to_string()));
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stdout).contains("inputsSha256: recorded"));
        // Against another model file: refused, naming both files' SHA-256.
        let o = run(bin()
            .arg("replay")
            .arg("--model")
            .arg(&other)
            .arg("--record")
            .arg(&single)
            .arg("--customer")
            .arg(serde_json::Value::Object(customer).to_string()));
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains("this record was made with the model file of SHA-256") && e.contains(&sha),
            "{e}"
        );
    }
}

#[test]
fn bad_governance_flags_are_named_before_training() {
    let dir = tmp("flags");
    let (tr, _) = split(&dir);
    for (args, want) in [
        (vec!["--monotone", "purpose=+1"], "'purpose' is categorical"),
        (vec!["--monotone", "nope=+1"], "'nope' is not a feature"),
        (vec!["--monotone", "duration_in_month=2"], "is not +1 or -1"),
        (
            vec![
                "--protected",
                "age_in_years:<25",
                "--monotone",
                "age_in_years=-1",
            ],
            "a protected column left out of the inputs",
        ),
        (vec!["--protected", "nope"], "'nope', which"),
        (vec!["--protected", "age_in_years:<x"], "is not a number"),
    ] {
        let out = run(bin()
            .args(["train", "--label", "creditability", "--positive", "bad"])
            .arg("--data")
            .arg(&tr)
            .args(["--model", "lr", "--out"])
            .arg(dir.join("x.frk"))
            .args(&args));
        assert!(!out.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(want), "{args:?}: {e}");
    }
}
