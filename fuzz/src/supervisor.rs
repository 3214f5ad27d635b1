//! The supervisor: runs one worker process per target (the `ferrisk-fuzz
//! worker` subcommand) under an address-space limit, restarts a worker that
//! died, and turns the input it died on into a regression file. Also runs
//! single inputs in a child process for replay (`ferrisk-fuzz replay`), so
//! that an abort or a hang of one input is reported instead of ending the
//! caller.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::rng::mix;
use crate::runner::{current_path, read_current, save_regression, Record, Summary, HANG_EXIT};
use crate::Target;

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The `ferrisk-fuzz` binary.
    pub exe: PathBuf,
    pub seconds: f64,
    pub seed: u64,
    pub targets: Vec<(Target, f64)>,
    pub work: PathBuf,
    pub regressions: PathBuf,
    pub slow_ms: u64,
    pub hang_ms: u64,
    /// Address-space limit of a worker (`ulimit -v`), MiB.
    pub mem_mb: u64,
    /// Forward the workers' progress lines.
    pub verbose: bool,
}

/// Slow-input threshold: 1 s optimised, 10 s in a debug build (the
/// attention model's explanation alone takes seconds unoptimised).
pub fn default_slow_ms() -> u64 {
    if cfg!(debug_assertions) {
        10_000
    } else {
        1_000
    }
}

pub fn default_hang_ms() -> u64 {
    if cfg!(debug_assertions) {
        60_000
    } else {
        10_000
    }
}

fn env_num(name: &str) -> Option<f64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

impl RunConfig {
    /// Defaults, overridden by `FERRISK_FUZZ_SECONDS`, `_SEED`, `_SLOW_MS`,
    /// `_HANG_MS`, `_MEM_MB` and `_TARGETS` (comma-separated names).
    pub fn from_env(exe: PathBuf, work: PathBuf, seconds: f64, seed: u64) -> RunConfig {
        let mut targets = Target::RUN.to_vec();
        if let Ok(list) = std::env::var("FERRISK_FUZZ_TARGETS") {
            let chosen: Vec<Target> = list
                .split(',')
                .filter_map(|t| Target::parse(t.trim()))
                .collect();
            if !chosen.is_empty() {
                let share = 1.0 / chosen.len() as f64;
                targets = chosen.into_iter().map(|t| (t, share)).collect();
            }
        }
        RunConfig {
            exe,
            seconds: env_num("FERRISK_FUZZ_SECONDS").unwrap_or(seconds),
            seed: env_num("FERRISK_FUZZ_SEED").map_or(seed, |s| s as u64),
            targets,
            work,
            regressions: crate::corpus::regressions_dir(),
            slow_ms: env_num("FERRISK_FUZZ_SLOW_MS").map_or(default_slow_ms(), |v| v as u64),
            hang_ms: env_num("FERRISK_FUZZ_HANG_MS").map_or(default_hang_ms(), |v| v as u64),
            mem_mb: env_num("FERRISK_FUZZ_MEM_MB").map_or(4096, |v| v as u64),
            verbose: true,
        }
    }
}

/// A child process with its output collected by two threads.
struct Watched {
    child: Child,
    last_summary: Arc<Mutex<Option<String>>>,
    stdout_lines: Arc<Mutex<Vec<String>>>,
    tail: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Starts `exe args…` under `ulimit -v`.
fn spawn(exe: &Path, args: &[String], mem_mb: u64, verbose: bool) -> std::io::Result<Watched> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v \"$1\" 2>/dev/null; shift; exec \"$@\"")
        .arg("sh")
        .arg((mem_mb * 1024).to_string())
        .arg(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let last_summary = Arc::new(Mutex::new(None));
    let stdout_lines = Arc::new(Mutex::new(Vec::new()));
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let last = Arc::clone(&last_summary);
        let lines = Arc::clone(&stdout_lines);
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(s) = line.strip_prefix("SUMMARY ") {
                    if let Ok(mut g) = last.lock() {
                        *g = Some(s.to_string());
                    }
                } else if let Ok(mut g) = lines.lock() {
                    g.push(line);
                }
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tail = Arc::clone(&tail);
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if verbose {
                    eprintln!("{line}");
                }
                if let Ok(mut g) = tail.lock() {
                    g.push_back(line);
                    if g.len() > 40 {
                        g.pop_front();
                    }
                }
            }
        }));
    }
    Ok(Watched {
        child,
        last_summary,
        stdout_lines,
        tail,
        readers,
    })
}

impl Watched {
    /// Waits up to `timeout`; kills the child after it. `None` = killed.
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let t0 = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if t0.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        status
    }

    fn summary(&self) -> Option<Summary> {
        let s = self.last_summary.lock().ok()?.clone()?;
        serde_json::from_str(&s).ok()
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout_lines
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The most telling line of the child's stderr.
    fn reason(&self) -> String {
        let tail: Vec<String> = self
            .tail
            .lock()
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default();
        for key in [
            "overflowed its stack",
            "memory allocation",
            "fatal runtime error",
            "panicked",
            "ran over",
        ] {
            if let Some(l) = tail.iter().rev().find(|l| l.contains(key)) {
                return l.trim().to_string();
            }
        }
        tail.last().cloned().unwrap_or_default()
    }
}

fn describe(status: Option<ExitStatus>) -> String {
    match status {
        None => "killed by the supervisor after its time".into(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit code {c}"),
            (_, Some(sig)) => format!("signal {sig}"),
            _ => "unknown exit".into(),
        },
    }
}

/// Fuzzes every target of `cfg` for its share of the time; returns one
/// summary per target.
pub fn run(cfg: &RunConfig) -> Vec<Summary> {
    let _ = std::fs::create_dir_all(&cfg.work);
    let mut out = Vec::new();
    for (target, share) in &cfg.targets {
        let budget = cfg.seconds * share;
        let t0 = Instant::now();
        let mut total = Summary {
            target: target.name().into(),
            ..Summary::default()
        };
        for restart in 0..50u64 {
            let remaining = budget - t0.elapsed().as_secs_f64();
            if restart > 0 && remaining < 0.5 {
                break;
            }
            let seconds = remaining.max(0.2);
            let seed = mix(cfg.seed, restart);
            let args: Vec<String> = vec![
                "worker".into(),
                "--target".into(),
                target.name().into(),
                "--seconds".into(),
                format!("{seconds:.3}"),
                "--seed".into(),
                seed.to_string(),
                "--work".into(),
                cfg.work.display().to_string(),
                "--regressions".into(),
                cfg.regressions.display().to_string(),
                "--slow-ms".into(),
                cfg.slow_ms.to_string(),
                "--hang-ms".into(),
                cfg.hang_ms.to_string(),
            ];
            let _ = std::fs::remove_file(current_path(&cfg.work, *target));
            let mut w = match spawn(&cfg.exe, &args, cfg.mem_mb, cfg.verbose) {
                Ok(w) => w,
                Err(e) => {
                    total.aborts.push(Record {
                        what: format!("cannot start the worker: {e}"),
                        file: String::new(),
                    });
                    break;
                }
            };
            let timeout = Duration::from_secs_f64(seconds + cfg.hang_ms as f64 / 1e3 + 60.0);
            let status = w.wait(timeout);
            if let Some(s) = w.summary() {
                total.merge(&s);
            }
            if status.is_some_and(|s| s.success()) {
                break;
            }
            let hang = status.is_some_and(|s| s.code() == Some(HANG_EXIT)) || status.is_none();
            let reason = w.reason();
            let (note, bytes) = read_current(&current_path(&cfg.work, *target)).unwrap_or_default();
            let what = if hang {
                format!("hang: one execution ran over {} ms", cfg.hang_ms)
            } else {
                format!("abort ({}): {reason}", describe(status))
            };
            let file = if bytes.is_empty() && note.is_empty() {
                String::new()
            } else {
                save_regression(
                    &cfg.regressions,
                    *target,
                    &bytes,
                    &format!("{what} — input: {note}"),
                )
            };
            let rec = Record { what, file };
            if hang {
                total.hangs.push(rec);
            } else {
                total.aborts.push(rec);
            }
            // Executions since the worker's last summary are not counted.
            total.execs += 1;
        }
        out.push(total);
    }
    out
}

/// How one replayed input behaved.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Clean {
        ms: f64,
        accepted: bool,
        findings: Vec<String>,
    },
    Panic(String),
    Slow(f64),
    Abort(String),
    Hang,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        matches!(self, Verdict::Clean { .. })
    }
}

/// Replays one input file in a child process (`ferrisk-fuzz replay`).
pub fn replay_isolated(
    exe: &Path,
    target: Target,
    file: &Path,
    slow_ms: u64,
    hang_ms: u64,
    mem_mb: u64,
) -> Verdict {
    let args = vec![
        "replay".to_string(),
        "--target".into(),
        target.name().into(),
        "--slow-ms".into(),
        slow_ms.to_string(),
        file.display().to_string(),
    ];
    let mut w = match spawn(exe, &args, mem_mb, false) {
        Ok(w) => w,
        Err(e) => return Verdict::Abort(format!("cannot start: {e}")),
    };
    let status = w.wait(Duration::from_millis(hang_ms + 5_000));
    let lines = w.stdout();
    let verdict_line = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("CLEAN") || l.starts_with("PANIC") || l.starts_with("SLOW"));
    match (status, verdict_line) {
        (None, _) => Verdict::Hang,
        (Some(_), Some(l)) if l.starts_with("CLEAN") => {
            let mut parts = l.split_whitespace().skip(1);
            let ms = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            Verdict::Clean {
                ms,
                accepted: parts.next() == Some("accepted"),
                findings: lines
                    .iter()
                    .filter_map(|l| l.trim_start().strip_prefix("finding "))
                    .map(str::to_string)
                    .collect(),
            }
        }
        (Some(_), Some(l)) if l.starts_with("SLOW") => Verdict::Slow(
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0),
        ),
        (Some(_), Some(l)) => Verdict::Panic(l.trim_start_matches("PANIC ").to_string()),
        (Some(s), None) => Verdict::Abort(format!("{}: {}", describe(Some(s)), w.reason())),
    }
}

/// The report of a run, for people.
pub fn report(sums: &[Summary]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<7} {:>10} {:>8} {:>9} {:>9} {:>7} {:>5} {:>5} {:>6} {:>9}\n",
        "target",
        "execs",
        "secs",
        "execs/s",
        "accepted",
        "panics",
        "slow",
        "hangs",
        "aborts",
        "max ms"
    ));
    for t in sums {
        s.push_str(&format!(
            "{:<7} {:>10} {:>8.1} {:>9.0} {:>8.1}% {:>7} {:>5} {:>5} {:>6} {:>9.1}\n",
            t.target,
            t.execs,
            t.secs,
            t.execs as f64 / t.secs.max(1e-9),
            100.0 * t.accepted as f64 / t.execs.max(1) as f64,
            t.panics.len(),
            t.slow.len(),
            t.hangs.len(),
            t.aborts.len(),
            t.max_ms,
        ));
    }
    for t in sums {
        let mut classes: Vec<(&String, &u64)> = t.classes.iter().collect();
        classes.sort_by(|a, b| b.1.cmp(a.1));
        s.push_str(&format!("\n[{}] outcome classes (top 12):\n", t.target));
        for (k, v) in classes.iter().take(12) {
            s.push_str(&format!("  {v:>9}  {k}\n"));
        }
        if !t.untraced.is_empty() {
            s.push_str(&format!(
                "  seeds without a traced layout: {}\n",
                t.untraced.join(", ")
            ));
        }
        if t.seeds > 0 {
            s.push_str(&format!(
                "  seeds at the end: {}, fresh crafted bundles: {}\n",
                t.seeds, t.crafted
            ));
        }
        for (label, list) in [
            ("PANIC", &t.panics),
            ("SLOW", &t.slow),
            ("HANG", &t.hangs),
            ("ABORT", &t.aborts),
        ] {
            for r in list {
                s.push_str(&format!(
                    "  {label}: {} -> regressions/{}\n",
                    r.what, r.file
                ));
            }
        }
        if !t.findings.is_empty() {
            s.push_str(&format!("[{}] findings (kind | on what):\n", t.target));
            for (k, f) in &t.findings {
                s.push_str(&format!(
                    "  {:>7}x {k}\n           e.g. {} ({})\n",
                    f.count, f.detail, f.file
                ));
                let mut causes: Vec<(&String, &u64)> = f.causes.iter().collect();
                causes.sort_by(|a, b| {
                    (!a.0.starts_with("golden"), std::cmp::Reverse(a.1))
                        .cmp(&(!b.0.starts_with("golden"), std::cmp::Reverse(b.1)))
                });
                let shown: Vec<String> = causes
                    .iter()
                    .take(6)
                    .map(|(c, n)| format!("{c} ({n})"))
                    .collect();
                s.push_str(&format!(
                    "           first mutations: {}\n",
                    shown.join("; ")
                ));
            }
        }
    }
    s
}
