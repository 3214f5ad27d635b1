//! Hostile clients against `ferrisk serve`: the real binary on `--port 0`
//! (127.0.0.1 only), serving models this test trains through the CLI, as
//! `cli/tests/serve.rs` does. Amplifying and over-cap requests, foreign
//! hosts and origins, slow-header and idle floods, deadlines that must stop
//! the scoring, bad customers among good ones, drift below and above its
//! threshold. Every test is bounded: sockets have timeouts, loops deadlines,
//! flood sizes are fixed, and every server is killed when its test ends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ferrisk::csv::CsvText;
use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrisk"))
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned() + &err
}

/// Synthetic data, a GBM (fast) and an RBF SVM (slow to explain), a page.
struct Fixture {
    dir: PathBuf,
    /// Customers of the data file as JSON objects (label left out).
    customers: Vec<Value>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("abuse-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::create_dir_all(dir.join("www")).unwrap();
        std::fs::write(
            dir.join("www/index.html"),
            "<!doctype html><title>t</title>",
        )
        .unwrap();
        let data = dir.join("data.csv");
        let msg = ok(bin()
            .args(["synth", "--rows", "800", "--seed", "5", "--out"])
            .arg(&data));
        let quoted = |key: &str| -> String {
            let rest = &msg[msg.find(key).unwrap() + key.len()..];
            let start = rest.find('\'').unwrap() + 1;
            rest[start..start + rest[start..].find('\'').unwrap()].to_string()
        };
        let (label, positive) = (quoted("label"), quoted("positive class"));
        // gbm for fast requests; attention (whose explanations sample
        // permutations: tens of ms per customer) for slow ones.
        for (kind, extra) in [
            ("gbm", &[][..]),
            ("attention", &["--attn-epochs", "3", "--cv", "2"][..]),
        ] {
            ok(bin()
                .args(["train", "--data"])
                .arg(&data)
                .args(["--label", &label, "--positive", &positive, "--model", kind])
                .args(extra)
                .args(["--seed", "3", "--out"])
                .arg(dir.join("models")));
        }
        let text = std::fs::read_to_string(&data).unwrap();
        let mut csv = CsvText::parse(&text).unwrap();
        let header = csv.header().to_vec();
        let customers = (&mut csv)
            .map(|r| {
                let row = r.unwrap().1;
                let mut m = serde_json::Map::new();
                for (h, v) in header.iter().zip(&row) {
                    if *h != label {
                        let value = v.parse::<f64>().map_or_else(|_| json!(v), |x| json!(x));
                        m.insert(h.clone(), value);
                    }
                }
                Value::Object(m)
            })
            .collect();
        Fixture { dir, customers }
    })
}

/// `n` customers of the data file (cycled).
fn customers(n: usize) -> Vec<Value> {
    let all = &fixture().customers;
    (0..n).map(|i| all[i % all.len()].clone()).collect()
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
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

impl Server {
    fn start(args: &[&str]) -> Server {
        let f = fixture();
        let mut child = bin()
            .arg("serve")
            .arg("--models")
            .arg(f.dir.join("models"))
            .arg("--www")
            .arg(f.dir.join("www"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("serving http://")
            .and_then(|a| a.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, addr }
    }

    fn port(&self) -> &str {
        self.addr.rsplit(':').next().unwrap()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    /// One request on its own connection; `headers` are extra lines.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut s = self.connect();
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head += &format!("Host: {}\r\n", self.addr);
        }
        for (k, v) in headers {
            head += &format!("{k}: {v}\r\n");
        }
        head += &format!("Content-Length: {}\r\n\r\n", body.len());
        s.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before reading a large body and close.
        let _ = s.write_all(body);
        read_response(&mut s)
    }

    fn post(&self, body: &Value) -> Response {
        self.send(
            "POST",
            "/predict",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], b"")
    }

    /// Resident memory of the server in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// CPU time (user + system) of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // The kernel reports in clock ticks, 100 per second on Linux.
        Duration::from_millis(ticks * 10)
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }
}

/// Reads one response until the server closes (requests ask `Connection: close`).
fn read_response(s: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// True once the peer has closed `s` (EOF or reset); false while it is open.
fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut b = [0u8; 512];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn an_amplifying_request_is_refused_quickly_and_memory_stays_small() {
    let s = Server::start(&[]);
    assert_eq!(s.get("/models").status, 200);
    let before = s.rss_kib();
    // 100,000 empty customers: 0.3 MB that used to become 287 MB of answer.
    let body = format!(
        r#"{{"model": "gbm", "explain": true, "customers": [{}]}}"#,
        vec!["{}"; 100_000].join(",")
    );
    for _ in 0..5 {
        let t = Instant::now();
        let r = s.send(
            "POST",
            "/predict",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 413, "{}", r.error());
        assert!(r.error().contains("1000"), "{}", r.error());
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    let after = s.rss_kib();
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn caps_on_customers_and_response_size_are_413_naming_the_cap() {
    let s = Server::start(&["--max-customers", "10", "--max-response", "10000"]);
    let r = s.post(&json!({"model": "gbm", "customers": customers(11)}));
    assert_eq!(r.status, 413);
    assert!(
        r.error().contains("at most 10") && r.error().contains("--max-customers"),
        "{}",
        r.error()
    );
    let r = s.post(&json!({"model": "gbm", "customers": customers(10)}));
    assert_eq!(r.status, 200, "{}", r.error());
    assert_eq!(r.json()["summary"]["scored"], 10);
    // Explained, ten customers pass 10,000 bytes of answer (unexplained, not).
    let r = s.post(&json!({"model": "gbm", "customers": customers(10), "explain": true}));
    assert_eq!(r.status, 413);
    assert!(
        r.error().contains("10000") && r.error().contains("--max-response"),
        "{}",
        r.error()
    );
    // A body over --max-body is refused by its length, before it is read.
    let s = Server::start(&["--max-body", "1000"]);
    let r = s.post(&json!({"model": "gbm", "customers": customers(10)}));
    assert_eq!(r.status, 413);
    assert!(r.error().contains("1000"), "{}", r.error());
}

#[test]
fn cross_origin_and_non_json_posts_are_refused() {
    let s = Server::start(&[]);
    let body = json!({"model": "gbm", "customers": customers(1)}).to_string();
    let own = format!("http://{}", s.addr);
    let cases: [(&[(&str, &str)], u16); 6] = [
        (&[("Content-Type", "text/plain")], 415),
        (
            &[("Content-Type", "application/x-www-form-urlencoded")],
            415,
        ),
        (&[], 415),
        (
            &[
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            403,
        ),
        (
            &[
                ("Content-Type", "application/json"),
                ("Origin", "http://evil.example"),
            ],
            403,
        ),
        (
            &[("Content-Type", "application/json"), ("Origin", &own)],
            200,
        ),
    ];
    for (headers, status) in cases {
        let r = s.send("POST", "/predict", headers, body.as_bytes());
        assert_eq!(r.status, status, "{headers:?}: {}", r.error());
        assert!(
            r.header("access-control-allow-origin").is_none(),
            "{headers:?}"
        );
        if status == 403 {
            assert!(r.error().contains("evil.example"), "{}", r.error());
        }
    }
    // Reading model files from another origin is refused too.
    let r = s.send(
        "GET",
        "/model-files/attention.frk",
        &[("Origin", "null")],
        b"",
    );
    assert_eq!(r.status, 403);
    let r = s.send(
        "OPTIONS",
        "/predict",
        &[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[test]
fn a_foreign_host_is_refused_and_listed_names_are_served() {
    let s = Server::start(&["--allow-host", "risk.bank.example"]);
    let port = s.port().to_string();
    let evil = format!("attacker.example:{port}");
    let other_port = "127.0.0.1:1".to_string();
    for path in ["/", "/models", "/model-files/attention.frk", "/models/gbm"] {
        for host in [&evil, &other_port] {
            let r = s.send("GET", path, &[("Host", host)], b"");
            assert_eq!(r.status, 421, "{path} {host}");
            assert!(r.error().contains(host.as_str()), "{}", r.error());
        }
    }
    let r = s.send(
        "POST",
        "/predict",
        &[("Host", &evil), ("Content-Type", "application/json")],
        json!({"model": "gbm", "customers": customers(1)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 421);
    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "risk.bank.example".to_string(),
    ] {
        assert_eq!(
            s.send("GET", "/models", &[("Host", &host)], b"").status,
            200,
            "{host}"
        );
    }
}

#[test]
fn an_allowed_origin_gets_cors_headers_and_a_preflight_answer() {
    let origin = "https://advisor.example";
    let s = Server::start(&["--allow-origin", origin]);
    let r = s.send(
        "OPTIONS",
        "/predict",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    let r = s.send(
        "POST",
        "/predict",
        &[("Origin", origin), ("Content-Type", "application/json")],
        json!({"model": "gbm", "customers": customers(2)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    let r = s.send(
        "GET",
        "/models",
        &[("Origin", "https://other.example")],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[test]
fn slow_header_clients_are_closed_by_the_header_timeout() {
    let s = Server::start(&["--header-timeout", "1s", "--idle-timeout", "30s"]);
    let start = Instant::now();
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = s.connect();
            c.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            c
        })
        .collect();
    let mut open_for = vec![None; slow.len()];
    // Trickle a header line every 200 ms (never finishing the request)
    // while a well-behaved client is served; stop after 6 s at most.
    while open_for.iter().any(Option::is_none) && start.elapsed() < Duration::from_secs(6) {
        for (c, t) in slow.iter_mut().zip(open_for.iter_mut()) {
            if t.is_none() && (c.write_all(b"X-Slow: 1\r\n").is_err() || closed(c)) {
                *t = Some(start.elapsed());
            }
        }
        assert_eq!(s.get("/models").status, 200);
        std::thread::sleep(Duration::from_millis(200));
    }
    for t in &open_for {
        let t = t.expect("a slow-header connection was still open after 6 s");
        assert!(
            t >= Duration::from_millis(800) && t < Duration::from_secs(4),
            "closed after {t:?}"
        );
    }
}

#[test]
fn an_idle_flood_does_not_starve_a_well_behaved_client() {
    let s = Server::start(&[
        "--max-connections",
        "64",
        "--idle-timeout",
        "2s",
        "--header-timeout",
        "30s",
    ]);
    let baseline = s.open_fds();
    // 300 connections that never send a byte.
    let flood: Vec<TcpStream> = (0..300).map(|_| s.connect()).collect();
    let body = json!({"model": "gbm", "customers": customers(5)});
    for i in 0..20 {
        let t = Instant::now();
        let r = if i % 2 == 0 {
            s.get("/models")
        } else {
            s.post(&body)
        };
        assert_eq!(r.status, 200, "request {i}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "request {i}: {:?}",
            t.elapsed()
        );
    }
    // The server never holds more than its cap (plus its own files).
    let fds = s.open_fds();
    assert!(fds <= baseline + 64 + 2, "{fds} open descriptors");
    // Idle connections are closed after the idle timeout.
    let start = Instant::now();
    while s.open_fds() > baseline + 2 && start.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        s.open_fds() <= baseline + 2,
        "{} open descriptors",
        s.open_fds()
    );
    drop(flood);
}

#[test]
fn the_deadline_and_a_departed_client_stop_the_scoring() {
    let s = Server::start(&["--request-timeout", "300ms"]);
    // Tens of ms per explained customer on the attention model: seconds of work.
    let slow = json!({"model": "attention", "customers": customers(1000), "explain": true});
    let cpu0 = s.cpu();
    let t = Instant::now();
    let r = s.post(&slow);
    assert_eq!(r.status, 503);
    assert!(r.error().contains("--request-timeout"), "{}", r.error());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    let cpu1 = s.cpu();
    std::thread::sleep(Duration::from_secs(1));
    let quiet = s.cpu() - cpu1;
    assert!(
        quiet < Duration::from_millis(150),
        "{quiet:?} CPU after the deadline"
    );
    assert!(cpu1 - cpu0 < Duration::from_secs(2), "{:?}", cpu1 - cpu0);

    // A body that never arrives is a 408 at the deadline.
    let mut c = s.connect();
    c.write_all(
        format!(
            "POST /predict HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
            s.addr
        )
        .as_bytes(),
    )
    .unwrap();
    let r = read_response(&mut c);
    assert_eq!(r.status, 408, "{}", r.error());

    // With a long deadline, a client that leaves stops the work too.
    let s = Server::start(&["--request-timeout", "60s"]);
    let body = slow.to_string();
    let mut c = s.connect();
    c.write_all(
        format!(
            "POST /predict HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            s.addr,
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.cpu() > Duration::ZERO, "the server did not start scoring");
    drop(c);
    std::thread::sleep(Duration::from_millis(300));
    let cpu1 = s.cpu();
    std::thread::sleep(Duration::from_secs(1));
    let quiet = s.cpu() - cpu1;
    assert!(
        quiet < Duration::from_millis(150),
        "{quiet:?} CPU after the client left"
    );
}

#[test]
fn busy_scoring_slots_answer_503_with_retry_after_but_small_requests_pass() {
    let s = Server::start(&["--workers", "1", "--request-timeout", "3s"]);
    let addr = s.addr.clone();
    let slow =
        json!({"model": "attention", "customers": customers(1000), "explain": true}).to_string();
    let first = std::thread::spawn(move || {
        let mut c = TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c.write_all(
            format!(
                "POST /predict HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{slow}",
                slow.len()
            )
            .as_bytes(),
        )
        .unwrap();
        let t = Instant::now();
        let r = read_response(&mut c);
        eprintln!(
            "first: {} after {:?}: {}",
            r.status,
            t.elapsed(),
            String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
        );
        r.status
    });
    std::thread::sleep(Duration::from_millis(700));
    let r = s.post(&json!({"model": "gbm", "customers": customers(11)}));
    assert_eq!(r.status, 503, "{}", r.error());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.error().contains("--workers"), "{}", r.error());
    // A small request still gets through on the express slot.
    let r = s.post(&json!({"model": "gbm", "customers": customers(10)}));
    assert_eq!(r.status, 200, "{}", r.error());
    // A refused request (over the cap) never needed a slot.
    let r = s.post(&json!({"model": "gbm", "customers": customers(1001)}));
    assert_eq!(r.status, 413, "{}", r.error());
    // Static files and model lists are still served.
    assert_eq!(s.get("/models").status, 200);
    // About 4 s of work: usually stopped by the 3 s deadline.
    let first = first.join().unwrap();
    assert!(first == 503 || first == 200, "{first}");
    // The slot is free again once the first request's scoring stopped.
    let start = Instant::now();
    loop {
        let r = s.post(&json!({"model": "gbm", "customers": customers(11)}));
        if r.status == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "slot never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn one_bad_customer_is_an_error_entry_and_the_rest_are_scored() {
    let s = Server::start(&["--max-fields", "50"]);
    let mut batch = customers(6);
    let age = batch[0]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v.is_number())
        .map(|(k, _)| k.clone())
        .unwrap();
    batch[1] = json!("not an object");
    batch[2][&age] = json!("twelve");
    batch[3][&age] = json!([1]);
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("f{i}"), json!(1))).collect();
    batch[4] = Value::Object(many);
    let r = s.post(&json!({"model": "gbm", "customers": batch}));
    assert_eq!(r.status, 200, "{}", r.error());
    let v = r.json();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for (i, res) in results.iter().enumerate() {
        if [1, 2, 3, 4].contains(&i) {
            assert_eq!(res["index"], i, "{res}");
            assert!(res["error"].is_string(), "{res}");
            assert!(res.get("probability").is_none(), "{res}");
        } else {
            assert!(res.get("error").is_none(), "{res}");
            assert!(
                res["points"].is_number() && res["reasons"].is_array(),
                "{res}"
            );
        }
    }
    let err = |i: usize| results[i]["error"].as_str().unwrap().to_string();
    assert!(err(1).contains("expected an object"), "{}", err(1));
    assert!(err(2).contains(&age), "{}", err(2));
    assert!(err(3).contains("an array"), "{}", err(3));
    assert!(err(4).contains("--max-fields"), "{}", err(4));
    assert_eq!(v["summary"]["customers"], 6);
    assert_eq!(v["summary"]["scored"], 2);
    assert_eq!(v["summary"]["failed"], 4);
}

#[test]
fn drift_is_null_below_1000_scored_rows_and_reported_from_1000() {
    let s = Server::start(&[]);
    let r = s.post(&json!({"model": "gbm", "customers": customers(1)}));
    let v = r.json();
    assert!(v["drift"].is_null());
    assert!(
        v["driftNote"].as_str().unwrap().contains("1000"),
        "{}",
        v["driftNote"]
    );
    let r = s.post(&json!({"model": "gbm", "customers": customers(999)}));
    assert!(r.json()["drift"].is_null());
    let r = s.post(&json!({"model": "gbm", "customers": customers(1000)}));
    assert_eq!(r.status, 200, "{}", r.error());
    let v = r.json();
    assert!(v["driftNote"].is_null(), "{}", v["driftNote"]);
    let drift = &v["drift"];
    assert_eq!(drift["rows"], 1000);
    // The data the model was trained on does not drift from itself.
    let psi = drift["score"]["psi"].as_f64().unwrap();
    assert!((0.0..0.1).contains(&psi), "score PSI {psi}");
    assert_eq!(drift["score"]["level"], "stable");
}
