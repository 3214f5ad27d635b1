//! HTTP tests of `ferrisk serve`: the real binary on `--port 0`, serving
//! models this test trains itself through the CLI (`ferrisk synth` +
//! `ferrisk train`), checked with a small raw-TCP HTTP client. /predict must
//! give the same probabilities as `ferrisk predict` for the same rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use ferrisk::csv::CsvText;
use serde_json::{json, Value};

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

/// Runs a command that must succeed; returns (stdout, stderr).
fn ok(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

/// Trained once per test run: synthetic data, an LR and a GBM model, a page
/// directory, and a model file that must fail to load.
struct Fixture {
    dir: PathBuf,
    data: PathBuf,
    label: String,
    positive: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("serve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("models")).unwrap();
        let data = dir.join("data.csv");
        let (out, err) = ok(bin()
            .args(["synth", "--rows", "800", "--seed", "5", "--out"])
            .arg(&data));
        let msg = out + &err;
        let quoted = |key: &str| -> String {
            let at = msg
                .find(key)
                .unwrap_or_else(|| panic!("synth output lacks {key}: {msg}"))
                + key.len();
            let rest = &msg[at..];
            let start = rest.find('\'').unwrap() + 1;
            let end = start + rest[start..].find('\'').unwrap();
            rest[start..end].to_string()
        };
        let (label, positive) = (quoted("label"), quoted("positive class"));
        for kind in ["lr", "gbm"] {
            ok(bin()
                .args(["train", "--data"])
                .arg(&data)
                .args([
                    "--label",
                    &label,
                    "--positive",
                    &positive,
                    "--model",
                    kind,
                    "--seed",
                    "3",
                    "--out",
                ])
                .arg(dir.join("models")));
        }
        std::fs::write(dir.join("models/broken.frk"), b"FERRISK\0 not really").unwrap();
        std::fs::create_dir_all(dir.join("www/pkg")).unwrap();
        std::fs::write(
            dir.join("www/index.html"),
            "<!doctype html><title>t</title>",
        )
        .unwrap();
        std::fs::write(dir.join("www/pkg/x_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(dir.join("www/pkg/x.js"), "export {};").unwrap();
        std::fs::write(dir.join("secret.txt"), "outside the page directory").unwrap();
        Fixture {
            dir,
            data,
            label,
            positive,
        }
    })
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    stderr: std::process::ChildStderr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(max_body: usize) -> Server {
        let f = fixture();
        let mut child = bin()
            .arg("serve")
            .arg("--models")
            .arg(f.dir.join("models"))
            .arg("--www")
            .arg(f.dir.join("www"))
            .args(["--port", "0", "--max-body", &max_body.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let url = line
            .trim()
            .strip_prefix("serving ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "{url}"
        );
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> Response {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before reading a large body and close.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        Response::parse(&raw)
    }

    fn get(&self, path: &str) -> Response {
        self.request("GET", path, b"")
    }

    fn post(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path, body.to_string().as_bytes())
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("no header end");
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[end + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Response {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// The fixture's data rows as (header, rows).
fn data_rows() -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(&fixture().data).unwrap();
    let mut csv = CsvText::parse(&text).unwrap();
    let header = csv.header().to_vec();
    let rows = (&mut csv).map(|r| r.unwrap().1).collect();
    (header, rows)
}

/// A customer as JSON: numeric-looking cells as numbers, others as text.
fn customer_json(header: &[String], row: &[String], label: &str) -> Value {
    let mut m = serde_json::Map::new();
    for (h, v) in header.iter().zip(row) {
        if h == label {
            continue;
        }
        let value = match v.trim().parse::<f64>() {
            Ok(x) => json!(x),
            Err(_) => json!(v),
        };
        m.insert(h.clone(), value);
    }
    Value::Object(m)
}

fn model_file(id: &str) -> PathBuf {
    fixture().dir.join("models").join(format!("{id}.frk"))
}

#[test]
fn page_files_with_csp_and_content_types() {
    let s = Server::start(1 << 20);
    let r = s.get("/");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.header("content-security-policy"), Some(CSP));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.body,
        std::fs::read(fixture().dir.join("www/index.html")).unwrap()
    );
    let r = s.get("/pkg/x_bg.wasm");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/wasm"))
    );
    let r = s.get("/pkg/x.js");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    for path in [
        "/nope.html",
        "/../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/.hidden",
        "/pkg",
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("outside the page"),
            "{path}"
        );
    }
    assert_eq!(s.request("DELETE", "/", b"").status, 405);
}

#[test]
fn lists_models_skipping_a_broken_file() {
    let mut s = Server::start(1 << 20);
    let r = s.get("/models");
    assert_eq!(r.status, 200);
    let list = r.json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["lr", "gbm"]);
    for m in list.as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        assert_eq!(m["kind"], id);
        assert_eq!(m["file"], format!("/model-files/{id}.frk"));
        assert!(!m["kindName"].as_str().unwrap().is_empty());
        let auc = m["rocAuc"].as_f64().unwrap();
        assert!(auc > 0.5 && auc <= 1.0, "{id}: rocAuc {auc}");
        // The listed file is the model on disk, byte for byte.
        let f = s.get(m["file"].as_str().unwrap());
        assert_eq!(f.status, 200);
        assert_eq!(f.body, std::fs::read(model_file(id)).unwrap());
    }
    assert_eq!(s.get("/model-files/broken.frk").status, 404);
    assert_eq!(s.get("/model-files/nope.frk").status, 404);
    assert_eq!(s.get("/model-files/lr").status, 404);
    // The broken file was reported on stderr.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let mut err = String::new();
    s.stderr.read_to_string(&mut err).unwrap();
    assert!(err.contains("broken.frk"), "stderr: {err}");
}

#[test]
fn model_detail_has_schema_metadata_and_metrics() {
    let s = Server::start(1 << 20);
    let f = fixture();
    let d = s.get("/models/lr").json();
    assert_eq!(d["id"], "lr");
    assert_eq!(d["schema"]["label"], f.label.as_str());
    assert_eq!(d["schema"]["positive"], f.positive.as_str());
    let (header, _) = data_rows();
    let names: Vec<&str> = d["schema"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| *h != f.label)
        .collect();
    assert_eq!(names, expected);
    for feat in d["schema"]["features"].as_array().unwrap() {
        match feat["type"].as_str().unwrap() {
            "numeric" => assert!(feat["min"].as_f64().unwrap() <= feat["max"].as_f64().unwrap()),
            "categorical" => assert!(!feat["categories"].as_array().unwrap().is_empty()),
            other => panic!("feature type {other}"),
        }
        assert!(feat["typical"].is_string());
    }
    assert_eq!(d["metadata"]["kind"], "lr");
    assert_eq!(
        d["metadata"]["formatVersion"],
        ferrisk::format::FORMAT_VERSION
    );
    assert_eq!(d["metadata"]["dataName"], "data.csv");
    // Stored test metrics equal `ferrisk inspect --json`'s.
    let inspect: Value =
        serde_json::from_str(&ok(bin().args(["inspect", "--json"]).arg(model_file("lr"))).0)
            .unwrap();
    let m = &d["metrics"];
    for key in [
        "rows",
        "positives",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "rocAuc",
        "ks",
        "brier",
        "logLoss",
        "confusion",
    ] {
        assert_eq!(m[key], inspect["metrics"][key], "{key}");
    }
    assert!(m["rows"].as_u64().unwrap() > 0);
    let c = &m["confusion"];
    let total: u64 = ["tn", "fp", "fn", "tp"]
        .iter()
        .map(|k| c[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, m["rows"].as_u64().unwrap());
    assert_eq!(m["roc"].as_array().unwrap().first().unwrap()["tpr"], 0.0);
    assert_eq!(s.get("/models/nope").status, 404);
}

#[test]
fn predict_equals_the_cli() {
    let s = Server::start(1 << 20);
    let f = fixture();
    let (header, rows) = data_rows();
    let rows = &rows[..40];
    let customers: Vec<Value> = rows
        .iter()
        .map(|r| customer_json(&header, r, &f.label))
        .collect();
    // The same rows through `ferrisk predict`.
    let input = f.dir.join("predict-in.csv");
    let mut text = header.join(",") + "\n";
    for r in rows {
        text += &(r.join(",") + "\n");
    }
    std::fs::write(&input, text).unwrap();
    for id in ["lr", "gbm"] {
        let out = f.dir.join(format!("predict-out-{id}.csv"));
        ok(bin()
            .args(["predict", "--model"])
            .arg(model_file(id))
            .arg("--data")
            .arg(&input)
            .arg("--out")
            .arg(&out));
        let cli_text = std::fs::read_to_string(&out).unwrap();
        let mut cli = CsvText::parse(&cli_text).unwrap();
        let ip = cli
            .header()
            .iter()
            .position(|h| h == "probability")
            .unwrap();
        let id_ = cli.header().iter().position(|h| h == "decision").unwrap();
        let cli_rows: Vec<Vec<String>> = (&mut cli).map(|r| r.unwrap().1).collect();

        let r = s.post(
            "/predict",
            &json!({"model": id, "customers": customers, "explain": true}),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let body = r.json();
        assert_eq!(body["model"], id);
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), rows.len());
        for (i, (res, cli_row)) in results.iter().zip(&cli_rows).enumerate() {
            let served = res["probability"].as_f64().unwrap() as f32;
            let native: f32 = cli_row[ip].parse().unwrap();
            assert_eq!(
                served.to_bits(),
                native.to_bits(),
                "{id} row {i}: {served} vs {native}"
            );
            assert_eq!(
                res["decision"].as_bool().unwrap(),
                cli_row[id_] == f.positive,
                "{id} row {i}"
            );
            assert!(res["warnings"].is_array());
            // Contributions add up to the model output.
            let c = &res["explanation"];
            if !c.is_null() {
                let sum: f64 = c["contributions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["contribution"].as_f64().unwrap())
                    .sum();
                let (base, output) = (c["base"].as_f64().unwrap(), c["output"].as_f64().unwrap());
                assert!(
                    (base + sum - output).abs() < 1e-3,
                    "{id} row {i}: {base} + {sum} != {output}"
                );
            }
        }
    }
    // Without "explain" (the default) a result has points but no
    // explanation; with it, logistic regression always explains.
    for (explain, present) in [(None, false), (Some(false), false), (Some(true), true)] {
        let mut body = json!({"model": "lr", "customers": [customers[0]]});
        if let Some(e) = explain {
            body["explain"] = json!(e);
        }
        let res = &s.post("/predict", &body).json()["results"][0];
        assert!(res["points"].as_f64().unwrap() > 0.0, "{explain:?}");
        assert_eq!(
            res["explanation"]["contributions"].is_array(),
            present,
            "{explain:?}"
        );
        assert_eq!(res["pointsBreakdown"].is_null(), !present, "{explain:?}");
        // Reason codes for refusals only, unless asked for.
        let refused = res["decision"].as_bool().unwrap();
        assert_eq!(
            res["reasons"].as_array().unwrap().is_empty(),
            !(present && refused),
            "{explain:?}"
        );
        body["allReasons"] = json!(true);
        let all = &s.post("/predict", &body).json()["results"][0];
        assert_eq!(
            all["reasons"].as_array().unwrap().is_empty(),
            !present,
            "{explain:?}, allReasons"
        );
    }
    // Missing fields are imputed with a warning; unknown names are ignored with one.
    let (name, value) = customers[0].as_object().unwrap().iter().next().unwrap();
    let r = s.post(
        "/predict",
        &json!({"model": "lr", "customers": [{name: value, "not_a_feature": 1}]}),
    );
    assert_eq!(r.status, 200);
    let w = r.json()["results"][0]["warnings"].as_array().unwrap().len();
    assert_eq!(
        w,
        header.len() - 2 + 1,
        "one warning per imputed feature plus the unknown name"
    );
}

#[test]
fn errors_have_the_right_status_and_name_the_problem() {
    let s = Server::start(4096);
    let (header, rows) = data_rows();
    let f = fixture();
    let good = customer_json(&header, &rows[0], &f.label);
    let numeric = header
        .iter()
        .zip(&rows[0])
        .find(|(h, v)| *h != &f.label && v.parse::<f64>().is_ok())
        .map(|(h, _)| h.clone())
        .unwrap();

    let r = s.request("POST", "/predict", b"{\"model\": \"lr\", ");
    assert_eq!(r.status, 400);
    assert!(r.error().contains("not valid JSON"), "{}", r.error());
    let r = s.post("/predict", &json!({"model": "lr"}));
    assert_eq!(r.status, 400);
    assert!(r.error().contains("customers"), "{}", r.error());
    let r = s.post("/predict", &json!({"customers": []}));
    assert_eq!(r.status, 400);

    let r = s.post("/predict", &json!({"model": "nope", "customers": [good]}));
    assert_eq!(r.status, 404);
    assert!(
        r.error().contains("'nope'") && r.error().contains("lr"),
        "{}",
        r.error()
    );

    let big = json!({"model": "lr", "customers": vec![good.clone(); 200]});
    assert!(big.to_string().len() > 4096);
    let r = s.post("/predict", &big);
    assert_eq!(r.status, 413);

    let bad_values = [
        (json!(true), "a boolean"),
        (json!([1, 2]), "an array"),
        (json!({"x": 1}), "an object"),
        (json!("abc"), "not a number"),
        (json!("inf"), "not a finite number"),
        (json!(1e300), "not a finite number"),
    ];
    // One bad customer is an error entry at its index; the others are scored.
    for (value, expect) in bad_values {
        let mut bad = good.clone();
        bad[&numeric] = value.clone();
        let r = s.post(
            "/predict",
            &json!({"model": "lr", "customers": [good.clone(), bad, good.clone()]}),
        );
        assert_eq!(
            r.status,
            200,
            "{value}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1]["index"], 1, "{value}");
        let e = results[1]["error"].as_str().unwrap();
        assert!(e.contains(&format!("'{numeric}'")), "{e}");
        assert!(e.contains(expect), "{value}: {e}");
        for i in [0, 2] {
            assert!(results[i]["error"].is_null(), "{value}");
            assert!(results[i]["probability"].as_f64().is_some(), "{value}");
        }
        assert_eq!(
            v["summary"],
            json!({"customers": 3, "scored": 2, "failed": 1, "warnings": 0}),
            "{value}"
        );
    }
    let r = s.post("/predict", &json!({"model": "lr", "customers": [good, 5]}));
    assert_eq!(r.status, 200);
    let e = &r.json()["results"][1];
    assert_eq!(e["index"], 1);
    assert!(
        e["error"].as_str().unwrap().contains("expected an object"),
        "{e}"
    );
    // A malformed request is refused as a whole.
    let r = s.post("/predict", &json!({"model": "lr", "customers": {"a": 1}}));
    assert_eq!(r.status, 400);
    assert!(r.error().contains("customers"), "{}", r.error());
    let r = s.post(
        "/predict",
        &json!({"model": "lr", "customers": [], "explain": "yes"}),
    );
    assert_eq!(r.status, 400);
    assert!(r.error().contains("explain"), "{}", r.error());
}

#[test]
fn refuses_a_missing_page_directory() {
    let f = fixture();
    let out = bin()
        .arg("serve")
        .arg("--models")
        .arg(f.dir.join("models"))
        .arg("--www")
        .arg(Path::new(&f.dir).join("no-such-dir"))
        .args(["--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-dir") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn predict_with_explain_returns_the_cli_explain_json() {
    let s = Server::start(1 << 20);
    let f = fixture();
    let (header, rows) = data_rows();
    let customers: Vec<Value> = rows[..30]
        .iter()
        .map(|r| customer_json(&header, r, &f.label))
        .collect();
    let r = s.post(
        "/predict",
        &serde_json::json!({"model": "gbm", "customers": customers, "lang": "zh", "reasons": 3, "explain": true}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    // 30 customers are too few for a meaningful PSI: no drift, and a note
    // saying why (cli/tests/abuse.rs checks it is reported from 1,000).
    assert!(v["drift"].is_null());
    assert!(
        v["driftNote"].as_str().unwrap().contains("1000"),
        "{}",
        v["driftNote"]
    );
    assert_eq!(v["summary"]["scored"], 30);
    for (i, res) in v["results"].as_array().unwrap().iter().enumerate() {
        // The CLI's `explain` on the same customer gives the same points and reasons.
        let cli: Value = serde_json::from_str(
            &ok(bin()
                .args([
                    "explain",
                    "--json",
                    "--lang",
                    "zh",
                    "--reasons",
                    "3",
                    "--model",
                ])
                .arg(model_file("gbm"))
                .arg("--customer")
                .arg(customers[i].to_string()))
            .0,
        )
        .unwrap();
        // One shape everywhere: the whole result is the CLI's, key for key
        // and value for value (the wasm suite compares score() with it too).
        assert_eq!(
            res, &cli,
            "customer {i}: /predict and explain --json differ"
        );
        for key in [
            "points",
            "explanation",
            "reasons",
            "pointsBreakdown",
            "warnings",
        ] {
            assert!(!res[key].is_null(), "customer {i}: no {key}");
        }
        assert!(res["reasons"].as_array().unwrap().len() <= 3);
        if i >= 5 {
            break;
        }
    }
}

#[test]
fn predict_records_replay_with_the_cli() {
    let s = Server::start(1 << 20);
    let f = fixture();
    let (header, rows) = data_rows();
    let customers: Vec<Value> = rows[..10]
        .iter()
        .map(|r| customer_json(&header, r, &f.label))
        .collect();
    let r = s.post(
        "/predict",
        &serde_json::json!({"model": "gbm", "customers": customers, "explain": true, "record": true}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, res) in v["results"].as_array().unwrap().iter().enumerate() {
        let record = &res["record"];
        assert_eq!(record["probability"], res["probability"]);
        // The CLI's `explain --record` makes the same record.
        let cli: Value = serde_json::from_str(
            &ok(bin()
                .args(["explain", "--json", "--record", "--model"])
                .arg(model_file("gbm"))
                .arg("--customer")
                .arg(customers[i].to_string()))
            .0,
        )
        .unwrap();
        assert_eq!(&cli["record"], record, "customer {i}");
        let file = dir.join(format!("r{i}.json"));
        std::fs::write(&file, record.to_string()).unwrap();
        let (out, _) = ok(bin()
            .args(["replay", "--model"])
            .arg(model_file("gbm"))
            .arg("--record")
            .arg(&file)
            .arg("--customer")
            .arg(customers[i].to_string()));
        assert!(out.starts_with("confirmed"), "{out}");
    }
    // Without "record", no record key at all (the shape is unchanged).
    let r = s.post(
        "/predict",
        &serde_json::json!({"model": "gbm", "customers": &customers[..1]}),
    );
    assert!(r.json()["results"][0].get("record").is_none());
}
