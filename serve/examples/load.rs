//! Bounded load against `ferrisk serve` on 127.0.0.1 (run by
//! `scripts/load-serve.sh`): starts the service with its default limits,
//! then for `--seconds` (default 20) keeps 500 slow-header and idle
//! connections open (reopening those the service closes), sends repeated
//! maximum-size requests (over the customer cap, over the body limit, the
//! largest accepted batch with explanations, and 1,000 customers in a body
//! just under the limit), while one well-behaved
//! client makes sequential small requests. Prints the well-behaved
//! client's p50/p99 latency, the abusers' status counts and the service's
//! RSS before, during and after; stops the service and exits by itself.
//!
//! ```text
//! cargo run --release -p ferrisk-serve --example load -- \
//!     --bin target/release/ferrisk --models DIR --www DIR --model gbm --customers FILE.json
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Slow or idle connections held open by the abusers.
const SLOW: usize = 500;
/// Threads sending maximum-size requests.
const HEAVY: usize = 2;
/// The service's default --max-body.
const MAX_BODY: usize = 8 << 20;

struct Args {
    bin: String,
    models: String,
    www: String,
    model: String,
    customers: String,
    seconds: u64,
}

fn args() -> Res<Args> {
    let mut a = Args {
        bin: String::new(),
        models: String::new(),
        www: String::new(),
        model: "gbm".into(),
        customers: String::new(),
        seconds: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bin" => a.bin = value,
            "--models" => a.models = value,
            "--www" => a.www = value,
            "--model" => a.model = value,
            "--customers" => a.customers = value,
            "--seconds" => a.seconds = value.parse::<u64>()?.clamp(1, 50),
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    if a.bin.is_empty() || a.models.is_empty() || a.www.is_empty() || a.customers.is_empty() {
        return Err("usage: load --bin FERRISK --models DIR --www DIR --customers FILE.json [--model ID] [--seconds N]".into());
    }
    Ok(a)
}

/// The service; killed when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Service {
    fn rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|k| k.parse::<f64>().ok())
            })
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }
}

/// One HTTP/1.1 exchange on `s`: returns the status. Reads the body by its
/// Content-Length so the connection can be reused.
fn exchange(s: &mut TcpStream, head: &str, body: &[u8]) -> Res<u16> {
    s.write_all(head.as_bytes())?;
    if let Err(e) = s.write_all(body) {
        // The service may refuse (413) before reading a large body.
        if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) {
            return Err(e.into());
        }
    }
    let mut r = BufReader::new(s);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err("connection closed before a response".into());
    }
    let status: u16 = line.split(' ').nth(1).ok_or("no status")?.trim().parse()?;
    let mut length = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse()?;
            }
        }
    }
    let mut sink = vec![0u8; length];
    r.read_exact(&mut sink)?;
    Ok(status)
}

fn post_head(addr: &str, len: usize, close: bool) -> String {
    format!(
        "POST /predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{}Content-Length: {len}\r\n\r\n",
        if close { "Connection: close\r\n" } else { "" }
    )
}

fn connect(addr: &str) -> Res<TcpStream> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    s.set_write_timeout(Some(Duration::from_secs(15)))?;
    Ok(s)
}

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

fn count(c: &Counts, key: impl Into<String>) {
    if let Ok(mut m) = c.lock() {
        *m.entry(key.into()).or_default() += 1;
    }
}

/// 500 connections: even ones trickle a header line every second, odd ones
/// never send a byte. A connection the service closes is reopened.
fn slow_abuser(addr: String, stop: Arc<AtomicBool>, counts: Counts) -> Res<()> {
    let open = |i: usize| -> Res<TcpStream> {
        let mut s = TcpStream::connect(&addr)?;
        if i % 2 == 0 {
            s.write_all(b"GET /models HTTP/1.1\r\n")?;
        }
        s.set_nonblocking(true)?;
        Ok(s)
    };
    let mut socks: Vec<Option<TcpStream>> = (0..SLOW).map(|i| open(i).ok()).collect();
    let mut tick = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick += 1;
        for (i, slot) in socks.iter_mut().enumerate() {
            let mut gone = slot.is_none();
            if let Some(s) = slot.as_mut() {
                let mut b = [0u8; 256];
                match s.read(&mut b) {
                    Ok(0) => gone = true,
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => gone = true,
                }
                if !gone && i % 2 == 0 && tick % 10 == 0 {
                    gone = s.write_all(b"X-Slow: 1\r\n").is_err();
                }
            }
            if gone {
                count(
                    &counts,
                    if i % 2 == 0 {
                        "slow-header connection closed by the service"
                    } else {
                        "idle connection closed by the service"
                    },
                );
                *slot = open(i).ok();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// One kind of maximum-size request.
struct Heavy {
    label: &'static str,
    body: Vec<u8>,
    /// Content-Length sent (more than the body: a body that never ends).
    announce: usize,
}

/// Maximum-size requests in a loop, each on its own connection.
fn heavy_abuser(
    addr: String,
    which: usize,
    kinds: Arc<Vec<Heavy>>,
    stop: Arc<AtomicBool>,
    counts: Counts,
) -> Res<()> {
    let mut n = which;
    while !stop.load(Ordering::Relaxed) && !kinds.is_empty() {
        n += 1;
        let h = &kinds[n % kinds.len()];
        let head = post_head(&addr, h.announce, true);
        let status = connect(&addr).and_then(|mut s| exchange(&mut s, &head, &h.body));
        match status {
            Ok(code) => count(&counts, format!("{}: {code}", h.label)),
            Err(_) => count(&counts, format!("{}: no response", h.label)),
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> Res<()> {
    let a = args()?;
    let mut child = Command::new(&a.bin)
        .args([
            "serve", "--port", "0", "--models", &a.models, "--www", &a.www,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let service = Service(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("serving http://")
        .and_then(|s| s.strip_suffix('/'))
        .ok_or(format!("unexpected first line {line:?}"))?
        .to_string();

    let customers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&a.customers)?)?;
    let all = customers
        .as_array()
        .ok_or("--customers: not a JSON array")?;
    if all.is_empty() {
        return Err("--customers: no customers".into());
    }
    let batch: Vec<&serde_json::Value> = (0..1000).map(|i| &all[i % all.len()]).collect();
    let full = serde_json::json!({"model": a.model, "explain": true, "customers": batch})
        .to_string()
        .into_bytes();
    // 1,000 customers padded with an unknown field to just under 8 MiB.
    let base = serde_json::json!({"model": a.model, "customers": batch}).to_string();
    let pad = ((MAX_BODY - base.len()) / 1000).saturating_sub(16);
    let padded: Vec<serde_json::Value> = batch
        .iter()
        .map(|c| {
            let mut c = (*c).clone();
            c["note"] = serde_json::Value::String("x".repeat(pad));
            c
        })
        .collect();
    let biggest = serde_json::json!({"model": a.model, "customers": padded})
        .to_string()
        .into_bytes();
    let over_cap = format!(
        r#"{{"model": "{}", "explain": true, "customers": [{}]}}"#,
        a.model,
        ["{}"; 100_000].join(",")
    )
    .into_bytes();
    let kinds = Arc::new(vec![
        Heavy {
            label: "100,000 customers",
            announce: over_cap.len(),
            body: over_cap,
        },
        Heavy {
            label: "body over --max-body (announced)",
            announce: MAX_BODY + 1,
            body: b"{".to_vec(),
        },
        Heavy {
            label: "1,000 customers explained",
            announce: full.len(),
            body: full,
        },
        Heavy {
            label: "1,000 customers in 8 MiB",
            announce: biggest.len(),
            body: biggest,
        },
    ]);
    let small = serde_json::json!({"model": a.model, "customers": [all[0]]}).to_string();
    let small_explained =
        serde_json::json!({"model": a.model, "explain": true, "customers": [all[0]]}).to_string();

    let rss_before = service.rss_mib();
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Counts = Arc::default();
    let mut workers = Vec::new();
    {
        let (addr, stop, counts) = (addr.clone(), Arc::clone(&stop), Arc::clone(&counts));
        workers.push(std::thread::spawn(move || slow_abuser(addr, stop, counts)));
    }
    for which in 0..HEAVY {
        let (addr, stop, counts, kinds) = (
            addr.clone(),
            Arc::clone(&stop),
            Arc::clone(&counts),
            Arc::clone(&kinds),
        );
        workers.push(std::thread::spawn(move || {
            heavy_abuser(addr, which, kinds, stop, counts)
        }));
    }
    // Let the flood build up before measuring.
    std::thread::sleep(Duration::from_secs(2));

    let start = Instant::now();
    let run = Duration::from_secs(a.seconds);
    let mut latencies = Vec::new();
    let mut good: BTreeMap<String, u64> = BTreeMap::new();
    let mut rss_during: Vec<f64> = Vec::new();
    let mut next_sample = Instant::now();
    let mut conn: Option<TcpStream> = None;
    let mut i = 0usize;
    while start.elapsed() < run {
        if Instant::now() >= next_sample {
            rss_during.push(service.rss_mib());
            next_sample += Duration::from_secs(1);
        }
        i += 1;
        let (head, body): (String, &[u8]) = match i % 3 {
            0 => (format!("GET /models HTTP/1.1\r\nHost: {addr}\r\n\r\n"), b""),
            1 => (post_head(&addr, small.len(), false), small.as_bytes()),
            _ => (
                post_head(&addr, small_explained.len(), false),
                small_explained.as_bytes(),
            ),
        };
        let t = Instant::now();
        // A keep-alive connection; reopened when the service closed it.
        let mut result = Err::<u16, Box<dyn Error + Send + Sync>>("not sent".into());
        for _attempt in 0..2 {
            let s = match conn.take() {
                Some(s) => s,
                None => match connect(&addr) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        s
                    }
                    Err(e) => {
                        result = Err(e);
                        continue;
                    }
                },
            };
            let mut s = s;
            result = exchange(&mut s, &head, body);
            if result.is_ok() {
                conn = Some(s);
                break;
            }
            *good.entry("reconnects".into()).or_default() += 1;
        }
        let elapsed = t.elapsed();
        match result {
            Ok(code) => {
                *good.entry(code.to_string()).or_default() += 1;
                latencies.push(elapsed);
            }
            Err(e) => *good.entry(format!("failed: {e}")).or_default() += 1,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let measured = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("an abuser stopped early: {e}"),
            Err(_) => eprintln!("an abuser thread panicked"),
        }
    }
    drop(conn);
    // The service closes the abusers' leftovers within its timeouts.
    std::thread::sleep(Duration::from_secs(6));
    let rss_after = service.rss_mib();

    latencies.sort();
    println!(
        "well-behaved client: {} requests in {:.1} s",
        latencies.len(),
        measured.as_secs_f64()
    );
    println!(
        "  latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    for (k, v) in &good {
        println!("  {k}: {v}");
    }
    println!("abusers ({SLOW} slow/idle connections, {HEAVY} maximum-size senders):");
    if let Ok(m) = counts.lock() {
        for (k, v) in m.iter() {
            println!("  {k}: {v}");
        }
    }
    let max_during = rss_during.iter().copied().fold(f64::NAN, f64::max);
    println!(
        "service RSS: before {rss_before:.1} MiB, during max {max_during:.1} MiB (samples: {}), after {rss_after:.1} MiB",
        rss_during
            .iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    drop(service);
    Ok(())
}
