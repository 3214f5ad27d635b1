//! The worker: generates and executes inputs of one target until its time
//! is up, each execution under `catch_unwind` and timed, with a watchdog
//! thread for executions that never finish.
//!
//! Before each execution the input is written to `current-<target>.bin` in
//! the work directory, so that when the process dies (abort, stack
//! overflow, out of memory, or the watchdog's exit on a hang) the
//! supervisor still has the input.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::rng::{mix, Rng};
use crate::{execute, short_hash, Context, Input, Outcome, Target};

/// Exit code of a worker whose watchdog saw a hang.
pub const HANG_EXIT: i32 = 86;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub target: Target,
    pub seconds: f64,
    pub seed: u64,
    /// Scratch: the current input, findings.
    pub work: PathBuf,
    /// Where crash and slow inputs are written (`fuzz/regressions`).
    pub regressions: PathBuf,
    /// An execution longer than this is a slow input.
    pub slow_ms: u64,
    /// An execution longer than this is a hang: the worker exits.
    pub hang_ms: u64,
}

/// One finding kind on one kind of input, with an example.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FindingStat {
    pub count: u64,
    pub detail: String,
    pub note: String,
    pub file: String,
    /// First mutation step of the inputs (origin: step), counted; at most
    /// a few dozen distinct.
    pub causes: BTreeMap<String, u64>,
}

/// A crash or slow input that was recorded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    pub what: String,
    pub file: String,
}

/// What a worker did (printed as one JSON line, merged by the supervisor).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub target: String,
    pub execs: u64,
    pub accepted: u64,
    pub secs: f64,
    pub max_ms: f64,
    pub classes: BTreeMap<String, u64>,
    pub findings: BTreeMap<String, FindingStat>,
    pub panics: Vec<Record>,
    pub slow: Vec<Record>,
    pub hangs: Vec<Record>,
    pub aborts: Vec<Record>,
    pub seeds: usize,
    pub untraced: Vec<String>,
    pub crafted: u64,
}

impl Summary {
    pub fn merge(&mut self, o: &Summary) {
        self.execs += o.execs;
        self.accepted += o.accepted;
        self.secs += o.secs;
        self.max_ms = self.max_ms.max(o.max_ms);
        for (k, v) in &o.classes {
            *self.classes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.findings {
            match self.findings.get_mut(k) {
                Some(e) => {
                    e.count += v.count;
                    for (c, n) in &v.causes {
                        if e.causes.len() < 40 || e.causes.contains_key(c) {
                            *e.causes.entry(c.clone()).or_default() += n;
                        }
                    }
                }
                None => {
                    self.findings.insert(k.clone(), v.clone());
                }
            }
        }
        self.panics.extend(o.panics.iter().cloned());
        self.slow.extend(o.slow.iter().cloned());
        self.hangs.extend(o.hangs.iter().cloned());
        self.aborts.extend(o.aborts.iter().cloned());
        self.seeds = self.seeds.max(o.seeds);
        self.crafted += o.crafted;
        if self.untraced.is_empty() {
            self.untraced = o.untraced.clone();
        }
    }

    /// Panics, aborts, hangs and slow inputs: what fails a run.
    pub fn failures(&self) -> usize {
        self.panics.len() + self.aborts.len() + self.hangs.len() + self.slow.len()
    }
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// A silent panic hook that keeps the message and location of the last panic.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "panic".to_string()
        };
        let at = info.location().map_or("unknown location".into(), |l| {
            format!("{}:{}", l.file(), l.line())
        });
        if let Ok(mut g) = LAST_PANIC.lock() {
            *g = Some(format!("{at}: {msg}"));
        }
    }));
}

pub fn take_panic() -> String {
    LAST_PANIC
        .lock()
        .ok()
        .and_then(|mut g| g.take())
        .unwrap_or_else(|| "panic".into())
}

/// The one-line description format of a regression file's `.txt`.
pub fn save_regression(dir: &Path, target: Target, bytes: &[u8], line: &str) -> String {
    let name = format!("{}-{}", target.name(), short_hash(bytes));
    let bin = dir.join(format!("{name}.bin"));
    if !bin.exists() {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(&bin, bytes);
        let one_line: String = line.replace(['\n', '\r'], " ");
        let _ = std::fs::write(dir.join(format!("{name}.txt")), format!("{one_line}\n"));
    }
    format!("{name}.bin")
}

/// Writes the current input (and its note) where the supervisor finds it
/// if this process dies.
struct CurrentInput {
    file: Option<File>,
    buf: Vec<u8>,
}

impl CurrentInput {
    fn open(path: &Path) -> CurrentInput {
        CurrentInput {
            file: File::create(path).ok(),
            buf: Vec::new(),
        }
    }

    fn write(&mut self, input: &Input) {
        let Some(f) = &self.file else { return };
        self.buf.clear();
        let note = input.note.as_bytes();
        self.buf
            .extend_from_slice(&(note.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(note);
        self.buf.extend_from_slice(&input.bytes);
        if f.write_all_at(&self.buf, 0).is_ok() {
            let _ = f.set_len(self.buf.len() as u64);
        }
    }
}

/// Reads what [`CurrentInput`] wrote: (note, bytes).
pub fn read_current(path: &Path) -> Option<(String, Vec<u8>)> {
    let data = std::fs::read(path).ok()?;
    let n = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let note = String::from_utf8_lossy(data.get(4..4 + n)?).into_owned();
    Some((note, data.get(4 + n..)?.to_vec()))
}

pub fn current_path(work: &Path, target: Target) -> PathBuf {
    work.join(format!("current-{}.bin", target.name()))
}

enum Gen {
    Model(Box<crate::model::Generator>),
    Csv(crate::csv_target::Generator),
    Json(crate::json_target::Generator),
}

impl Gen {
    fn next(&mut self, rng: &mut Rng) -> Input {
        match self {
            Gen::Model(g) => g.next(rng),
            Gen::Csv(g) => g.next(rng),
            Gen::Json(g) => g.next(rng),
        }
    }
}

/// The mutation path of a note's first step, digits masked (for grouping
/// findings by cause).
fn cause(note: &str) -> String {
    let first = note.split(": ").nth(1).unwrap_or(note);
    let first = first.split(" + ").next().unwrap_or(first);
    let step = match first.split_once('@') {
        Some((what, path)) => {
            let what = what.split(['=', ' ']).next().unwrap_or(what);
            format!("{what}@{path}")
        }
        None => first.to_string(),
    };
    step.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .take(120)
        .collect()
}

/// Runs the worker loop and returns its summary. Prints a `SUMMARY` line
/// to stdout every few seconds and at the end.
pub fn work(cfg: &WorkerConfig) -> Summary {
    install_panic_hook();
    let _ = std::fs::create_dir_all(&cfg.work);
    let findings_dir = cfg.work.join("findings");
    let _ = std::fs::create_dir_all(&findings_dir);
    let ctx = Context::load();
    let mut rng = Rng::new(mix(cfg.seed, cfg.target as u64));
    let mut gen = match cfg.target {
        Target::Model | Target::Family => {
            Gen::Model(Box::new(crate::model::Generator::new(&mut rng)))
        }
        Target::Csv => Gen::Csv(crate::csv_target::Generator::new()),
        Target::Json => Gen::Json(crate::json_target::Generator::new(&ctx)),
    };
    let mut sum = Summary {
        target: cfg.target.name().into(),
        ..Summary::default()
    };
    if let Gen::Model(g) = &gen {
        sum.seeds = g.seeds();
        sum.untraced = g.untraced().iter().map(|s| s.to_string()).collect();
    }

    // Watchdog: a hang ends the process; the input is on disk.
    let start = Instant::now();
    let busy_since = Arc::new(AtomicU64::new(0));
    {
        let busy = Arc::clone(&busy_since);
        let hang = cfg.hang_ms;
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(50));
            let s = busy.load(Ordering::Relaxed);
            let now = start.elapsed().as_millis() as u64 + 1;
            if s != 0 && now.saturating_sub(s) > hang {
                eprintln!("ferrisk-fuzz: an execution ran over {hang} ms; stopping the worker");
                std::process::exit(HANG_EXIT);
            }
        });
    }

    let mut current = CurrentInput::open(&current_path(&cfg.work, cfg.target));
    let deadline = Duration::from_secs_f64(cfg.seconds.max(0.0));
    let mut last_report = Instant::now();
    let mut saved_findings = 0usize;
    let mut panic_sigs: BTreeMap<String, usize> = BTreeMap::new();
    while start.elapsed() < deadline {
        let input = match catch_unwind(AssertUnwindSafe(|| gen.next(&mut rng))) {
            Ok(i) => i,
            Err(_) => {
                *sum.classes.entry("generator panic".into()).or_default() += 1;
                let _ = take_panic();
                continue;
            }
        };
        current.write(&input);
        busy_since.store(start.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let t0 = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| execute(cfg.target, &input.bytes, &ctx)));
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        busy_since.store(0, Ordering::Relaxed);
        sum.execs += 1;
        sum.max_ms = sum.max_ms.max(ms);
        match result {
            Ok(outcome) => {
                record(
                    cfg,
                    &mut sum,
                    &input,
                    &outcome,
                    &findings_dir,
                    &mut saved_findings,
                );
                if let Gen::Model(g) = &mut gen {
                    g.feedback(&mut rng, &input, &outcome);
                }
            }
            Err(_) => {
                let msg = take_panic();
                let sig = msg.split(": ").next().unwrap_or("?").to_string();
                *sum.classes.entry("PANIC".into()).or_default() += 1;
                let seen = panic_sigs.entry(sig.clone()).or_default();
                *seen += 1;
                if *seen == 1 {
                    let file = save_regression(
                        &cfg.regressions,
                        cfg.target,
                        &input.bytes,
                        &format!("panic: {msg} — input: {}", input.note),
                    );
                    sum.panics.push(Record { what: msg, file });
                }
            }
        }
        if ms > cfg.slow_ms as f64 && sum.slow.len() < 10 {
            // The machine is shared: a slow input counts when it is slow twice.
            busy_since.store(start.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            let t1 = Instant::now();
            let again = catch_unwind(AssertUnwindSafe(|| execute(cfg.target, &input.bytes, &ctx)));
            let ms2 = t1.elapsed().as_secs_f64() * 1e3;
            busy_since.store(0, Ordering::Relaxed);
            let _ = take_panic();
            if again.is_ok() && ms2 <= cfg.slow_ms as f64 {
                *sum.classes
                    .entry("slow once, fast on the rerun".into())
                    .or_default() += 1;
            } else {
                let file = save_regression(
                    &cfg.regressions,
                    cfg.target,
                    &input.bytes,
                    &format!(
                        "slow: one execution took {ms:.0} ms, its rerun {ms2:.0} ms — input: {}",
                        input.note
                    ),
                );
                sum.slow.push(Record {
                    what: format!("{ms:.0} ms, rerun {ms2:.0} ms"),
                    file,
                });
            }
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            sum.secs = start.elapsed().as_secs_f64();
            if let Gen::Model(g) = &gen {
                sum.seeds = g.seeds();
                sum.crafted = g.crafted;
            }
            print_summary(&sum);
            eprintln!(
                "ferrisk-fuzz[{}]: {} execs in {:.0} s ({:.0}/s), {} accepted",
                cfg.target.name(),
                sum.execs,
                sum.secs,
                sum.execs as f64 / sum.secs.max(1e-9),
                sum.accepted
            );
        }
    }
    sum.secs = start.elapsed().as_secs_f64();
    if let Gen::Model(g) = &gen {
        sum.seeds = g.seeds();
        sum.crafted = g.crafted;
    }
    print_summary(&sum);
    sum
}

fn print_summary(sum: &Summary) {
    if let Ok(line) = serde_json::to_string(sum) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "SUMMARY {line}");
        let _ = out.flush();
    }
}

fn record(
    cfg: &WorkerConfig,
    sum: &mut Summary,
    input: &Input,
    outcome: &Outcome,
    dir: &Path,
    saved: &mut usize,
) {
    if outcome.loaded {
        sum.accepted += 1;
    }
    *sum.classes.entry(outcome.class.clone()).or_default() += 1;
    for f in &outcome.findings {
        let origin = input.note.split(['/', ':']).next().unwrap_or("");
        let key = format!("{} | {}", f.kind, f.sig);
        let e = sum.findings.entry(key).or_default();
        e.count += 1;
        let c = format!("{origin}: {}", cause(&input.note));
        if e.causes.len() < 40 || e.causes.contains_key(&c) {
            *e.causes.entry(c).or_default() += 1;
        }
        if e.count == 1 {
            e.detail = f.detail.clone();
            e.note = input.note.clone();
            if *saved < 400 {
                *saved += 1;
                let name = format!(
                    "{}-{}-{}",
                    cfg.target.name(),
                    f.kind,
                    short_hash(&input.bytes)
                );
                let _ = std::fs::write(dir.join(format!("{name}.bin")), &input.bytes);
                let _ = std::fs::write(
                    dir.join(format!("{name}.txt")),
                    format!("{}: {} — input: {}\n", f.kind, f.detail, input.note),
                );
                e.file = dir.join(format!("{name}.bin")).display().to_string();
            }
        }
    }
}

/// Replays one input in this process: (milliseconds, outcome) or the panic.
pub fn replay(target: Target, bytes: &[u8], ctx: &Context) -> Result<(f64, Outcome), String> {
    install_panic_hook();
    let t0 = Instant::now();
    match catch_unwind(AssertUnwindSafe(|| execute(target, bytes, ctx))) {
        Ok(o) => Ok((t0.elapsed().as_secs_f64() * 1e3, o)),
        Err(_) => Err(take_panic()),
    }
}
