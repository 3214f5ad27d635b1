//! Signed model files through the `ferrisk` binary: keygen → sign →
//! predict/evaluate/explain/inspect with `--trusted-key` (or
//! FERRISK_TRUSTED_KEYS); unsigned, expired, re-signed-by-another-key and
//! tampered files refused with messages that say which; `ferrisk verify`;
//! and `ferrisk serve --trusted-key` serving only the files that verify.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const ENV: &str = "FERRISK_TRUSTED_KEYS";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrisk"));
    c.env_remove(ENV);
    c
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-sign-{}-{name}", std::process::id()));
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

/// Runs a command that must succeed; returns (stdout, stderr).
fn ok(cmd: &mut Command) -> (String, String) {
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

/// Runs a command that must fail; returns (exit code, stderr).
fn fails(cmd: &mut Command) -> (i32, String) {
    let out = run(cmd);
    assert!(
        !out.status.success(),
        "unexpected success: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Keys and files of one test: the bank's key, another key, and the golden
/// logistic regression signed in several ways.
struct Setup {
    dir: PathBuf,
    bank_pub: PathBuf,
    bank_id: String,
    other_id: String,
    unsigned: PathBuf,
    signed: PathBuf,
    expired: PathBuf,
    foreign: PathBuf,
    tampered: PathBuf,
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let key = dir.join(format!("{name}.key"));
    let (out, err) = ok(bin().arg("keygen").arg("--out").arg(&key));
    let line = out.trim().to_string();
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words.len(), 3, "{line}");
    assert_eq!(words[0], "ferrisk-public-key");
    assert!(err.contains("keep it private"), "{err}");
    let public = dir.join(format!("{name}.pub"));
    assert!(std::fs::read_to_string(&public).unwrap().contains(&line));
    (key, public, words[1].to_string())
}

fn sign(key: &Path, model: &Path, out: &Path, extra: &[&str]) -> String {
    ok(bin()
        .arg("sign")
        .arg("--key")
        .arg(key)
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra))
    .0
}

fn setup(name: &str) -> Setup {
    let dir = tmp(name);
    let (bank, bank_pub, bank_id) = keygen(&dir, "bank");
    let (other, _, other_id) = keygen(&dir, "other");
    let unsigned = dir.join("lr.frk");
    std::fs::copy(golden("lr.frk"), &unsigned).unwrap();
    let signed = dir.join("lr-signed.frk");
    let said = sign(
        &bank,
        &unsigned,
        &signed,
        &[
            "--note",
            "approved by model risk, ticket 123",
            "--expires",
            "2099-12-31",
        ],
    );
    assert!(
        said.contains(&bank_id) && said.contains("2099-12-31"),
        "{said}"
    );
    let expired = dir.join("lr-expired.frk");
    sign(
        &bank,
        &unsigned,
        &expired,
        &["--note", "approved until 2020", "--expires", "2020-01-01"],
    );
    // Re-signed by another key: the bank's signature is replaced.
    let foreign = dir.join("lr-foreign.frk");
    sign(
        &other,
        &signed,
        &foreign,
        &["--note", "approved by model risk, ticket 123"],
    );
    // The note changed after signing (same length).
    let tampered = dir.join("lr-tampered.frk");
    let bytes = std::fs::read(&signed).unwrap();
    let text = b"ticket 123";
    let at = bytes.windows(text.len()).rposition(|w| w == text).unwrap();
    let mut t = bytes.clone();
    t[at + 7..at + 10].copy_from_slice(b"999");
    std::fs::write(&tampered, t).unwrap();
    Setup {
        dir,
        bank_pub,
        bank_id,
        other_id,
        unsigned,
        signed,
        expired,
        foreign,
        tampered,
    }
}

fn predict(model: &Path, trust: Option<&Path>) -> Command {
    let mut c = bin();
    c.args(["predict", "--model"])
        .arg(model)
        .arg("--data")
        .arg(golden("synthetic.csv"))
        .args(["--out", "-"]);
    if let Some(k) = trust {
        c.arg("--trusted-key").arg(k);
    }
    c
}

#[test]
fn keygen_sign_then_every_verb_loads_the_signed_file_with_the_key() {
    let s = setup("good");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir.join("bank.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "secret key mode {mode:o}");
    }
    // The signed file starts with the model, byte for byte.
    let model = std::fs::read(&s.unsigned).unwrap();
    assert!(std::fs::read(&s.signed).unwrap().starts_with(&model));

    // predict with the key gives the unsigned file's rows exactly.
    let (plain, _) = ok(&mut predict(&s.unsigned, None));
    let (with_key, _) = ok(&mut predict(&s.signed, Some(&s.bank_pub)));
    assert_eq!(plain, with_key);
    // ... and with the key from the environment.
    let (from_env, _) = ok(predict(&s.signed, None).env(ENV, &s.bank_pub));
    assert_eq!(plain, from_env);

    ok(bin()
        .args(["evaluate", "--model"])
        .arg(&s.signed)
        .arg("--data")
        .arg(golden("synthetic.csv"))
        .arg("--trusted-key")
        .arg(&s.bank_pub));
    ok(bin()
        .args(["explain", "--model"])
        .arg(&s.signed)
        .args(["--customer", r#"{"age": 40, "income": 30000}"#])
        .arg("--trusted-key")
        .arg(&s.bank_pub));

    // inspect shows the signature, verified or not.
    let (text, _) = ok(bin().arg("inspect").arg(&s.signed));
    assert!(
        text.contains(&format!(
            "signature: key {}, note \"approved by model risk, ticket 123\", valid through 2099-12-31 (UTC); not verified",
            s.bank_id
        )),
        "{text}"
    );
    let (text, _) = ok(bin()
        .arg("inspect")
        .arg(&s.signed)
        .arg("--trusted-key")
        .arg(&s.bank_pub));
    assert!(text.contains("verified against a trusted key"), "{text}");
    let (json, _) = ok(bin().arg("inspect").arg("--json").arg(&s.signed));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["signature"]["keyId"], s.bank_id.as_str());
    assert_eq!(v["signature"]["note"], "approved by model risk, ticket 123");
    assert_eq!(v["signature"]["expires"], "2099-12-31");
    let (text, _) = ok(bin().arg("inspect").arg(&s.unsigned));
    assert!(text.contains("signature: none (unsigned file)"), "{text}");

    let (out, _) = ok(bin()
        .arg("verify")
        .arg("--trusted-key")
        .arg(&s.bank_pub)
        .arg(&s.signed));
    assert!(
        out.contains("lr-signed.frk: OK: signed by trusted key") && out.contains("2099-12-31"),
        "{out}"
    );
}

#[test]
fn unsigned_expired_foreign_and_tampered_files_are_refused_by_name() {
    let s = setup("bad");
    let cases = [
        (&s.unsigned, "model file is not signed".to_string()),
        (
            &s.expired,
            "approval expired: the signature by key".to_string(),
        ),
        (
            &s.foreign,
            format!(
                "signed by key {}, which is not a trusted key (trusted: {})",
                s.other_id, s.bank_id
            ),
        ),
        (
            &s.tampered,
            format!("signature by key {} is invalid", s.bank_id),
        ),
    ];
    for (file, want) in &cases {
        let (code, err) = fails(&mut predict(file, Some(&s.bank_pub)));
        assert_eq!(code, 2, "{err}");
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            err.contains(name) && err.contains(want.as_str()),
            "{name}: {err}"
        );
        // The same through the environment, and for the other verbs.
        let (_, err) = fails(predict(file, None).env(ENV, &s.bank_pub));
        assert!(err.contains(want.as_str()), "{err}");
        let (_, err) = fails(
            bin()
                .args(["evaluate", "--model"])
                .arg(file)
                .arg("--data")
                .arg(golden("synthetic.csv"))
                .arg("--trusted-key")
                .arg(&s.bank_pub),
        );
        assert!(err.contains(want.as_str()), "{err}");
        let (_, err) = fails(
            bin()
                .args(["explain", "--model"])
                .arg(file)
                .args(["--customer", "{}"])
                .arg("--trusted-key")
                .arg(&s.bank_pub),
        );
        assert!(err.contains(want.as_str()), "{err}");
        let (_, err) = fails(
            bin()
                .arg("inspect")
                .arg(file)
                .arg("--trusted-key")
                .arg(&s.bank_pub),
        );
        assert!(err.contains(want.as_str()), "{err}");
        // Without keys, every one of them loads (today's behaviour).
        ok(&mut predict(file, None));
    }
    // verify: one line per file, exit 1 when any is refused.
    let out = run(bin()
        .arg("verify")
        .arg("--trusted-key")
        .arg(&s.bank_pub)
        .arg(&s.signed)
        .arg(&s.unsigned)
        .arg(&s.expired));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("lr-signed.frk: OK"), "{stdout}");
    assert!(
        stderr.contains("lr.frk: REFUSED: model file is not signed"),
        "{stderr}"
    );
    assert!(stderr.contains("lr-expired.frk: REFUSED"), "{stderr}");
    // A changed model byte: the signature no longer verifies.
    let mut bytes = std::fs::read(&s.signed).unwrap();
    bytes[100] ^= 1;
    let broken = s.dir.join("lr-broken.frk");
    std::fs::write(&broken, bytes).unwrap();
    let (_, err) = fails(&mut predict(&broken, Some(&s.bank_pub)));
    assert!(err.contains("is invalid"), "{err}");
}

#[test]
fn keys_and_options_are_checked() {
    let s = setup("opts");
    // No key: verify says how to give one.
    let (_, err) = fails(bin().arg("verify").arg(&s.signed));
    assert!(err.contains("--trusted-key") && err.contains(ENV), "{err}");
    // A secret key given as a trusted key.
    let (_, err) = fails(&mut predict(&s.signed, Some(&s.dir.join("bank.key"))));
    assert!(err.contains("secret key, not a public key"), "{err}");
    // A missing key file.
    let (_, err) = fails(&mut predict(&s.signed, Some(&s.dir.join("nope.pub"))));
    assert!(err.contains("nope.pub"), "{err}");
    // Keys are never overwritten.
    let (_, err) = fails(bin().arg("keygen").arg("--out").arg(s.dir.join("bank.key")));
    assert!(err.contains("refusing to overwrite"), "{err}");
    // sign: bad date, empty note, a public key as the signing key, not a model.
    let sign = |key: &str, model: &Path, extra: &[&str]| {
        fails(
            bin()
                .arg("sign")
                .arg("--key")
                .arg(s.dir.join(key))
                .arg("--model")
                .arg(model)
                .arg("--out")
                .arg(s.dir.join("x.frk"))
                .args(extra),
        )
        .1
    };
    let e = sign(
        "bank.key",
        &s.unsigned,
        &["--note", "x", "--expires", "2027-02-30"],
    );
    assert!(
        e.contains("--expires") && e.contains("is not a date"),
        "{e}"
    );
    let e = sign("bank.key", &s.unsigned, &["--note", ""]);
    assert!(e.contains("note is empty"), "{e}");
    let e = sign("bank.key", &s.unsigned, &["--note", "a\u{1b}[31mred"]);
    assert!(e.contains("control character"), "{e}");
    let e = sign("bank.pub", &s.unsigned, &["--note", "x"]);
    assert!(e.contains("this is a public key"), "{e}");
    let junk = s.dir.join("junk.frk");
    std::fs::write(&junk, "not a model").unwrap();
    let e = sign("bank.key", &junk, &["--note", "x"]);
    assert!(e.contains("not a ferrisk model file"), "{e}");
    // Signing in place replaces the file; re-signing replaces the signature.
    let copy = s.dir.join("copy.frk");
    std::fs::copy(&s.signed, &copy).unwrap();
    let (_, err) = ok(bin()
        .arg("sign")
        .arg("--key")
        .arg(s.dir.join("bank.key"))
        .arg("--model")
        .arg(&copy)
        .args(["--note", "renewed"]));
    assert!(err.contains("replaced the signature"), "{err}");
    ok(&mut predict(&copy, Some(&s.bank_pub)));
}

#[test]
fn the_service_serves_only_files_that_verify() {
    let s = setup("serve");
    let models = s.dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for f in [&s.signed, &s.unsigned, &s.expired, &s.foreign] {
        std::fs::copy(f, models.join(f.file_name().unwrap())).unwrap();
    }
    let www = s.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let mut child = bin()
        .arg("serve")
        .arg("--models")
        .arg(&models)
        .arg("--www")
        .arg(&www)
        .args(["--port", "0"])
        .arg("--trusted-key")
        .arg(&s.bank_pub)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("serving http://")
        .and_then(|u| u.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "GET /models HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""id":"lr-signed""#), "{response}");
    for skipped in ["lr", "lr-expired", "lr-foreign"] {
        assert!(
            !response.contains(&format!(r#""id":"{skipped}""#)),
            "{skipped} served: {response}"
        );
    }
    assert!(
        err.contains("skipping") && err.contains("lr.frk: model file is not signed"),
        "{err}"
    );
    assert!(
        err.contains("lr-expired.frk: model file approval expired"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "lr-foreign.frk: model file is signed by key {}",
            s.other_id
        )),
        "{err}"
    );
}
