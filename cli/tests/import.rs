//! `ferrisk import` end to end: the CLI writes the committed fixture files
//! byte for byte (scripts/gen-import-fixtures.sh made them with it), refuses
//! unsupported models with exit code 2 and the reason, and `inspect` shows
//! the provenance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrisk"));
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/import")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-import-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn import_writes_the_committed_files_and_inspect_shows_the_provenance() {
    let dir = tmp("ok");
    for (model, data, label, positive, extra) in [
        (
            "xgb-german-onehot.json",
            "german.csv",
            "creditability",
            "bad",
            vec!["--one-hot", "purpose"],
        ),
        ("lgb-bank-categorical.txt", "bank.csv", "y", "yes", vec![]),
    ] {
        let stem = model.rsplit_once('.').unwrap().0;
        let out = dir.join(format!("{stem}.frk"));
        let o = run(bin()
            .arg("import")
            .arg("--model")
            .arg(fixtures().join(model))
            .arg("--data")
            .arg(fixtures().join(data))
            .args([
                "--label",
                label,
                "--positive",
                positive,
                "--calibration",
                "own",
            ])
            .args(&extra)
            .arg("--out")
            .arg(&out));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("imported") && err.contains("ROC AUC"), "{err}");
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(fixtures().join(format!("{stem}.frk"))).unwrap(),
            "{stem}: the CLI's file differs from the committed fixture"
        );
        let o = run(bin().arg("inspect").arg(&out));
        let text = String::from_utf8_lossy(&o.stdout);
        for want in [
            "(imported)",
            "library version=",
            "model sha256=",
            "objective=",
            "held-out",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}

#[test]
fn unsupported_models_are_refused_with_the_reason() {
    let dir = tmp("refused");
    let o = run(bin()
        .arg("import")
        .arg("--model")
        .arg(fixtures().join("refused/xgb-multiclass.json"))
        .arg("--data")
        .arg(fixtures().join("german.csv"))
        .args(["--label", "creditability", "--positive", "bad", "--out"])
        .arg(dir.join("m.frk")));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("xgb-multiclass.json") && err.contains("multi:softprob"),
        "{err}"
    );
    assert!(!dir.join("m.frk").exists());
}
