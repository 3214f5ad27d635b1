//! `ferrisk-fuzz`: the fuzz harness's command line.
//!
//! ```text
//! ferrisk-fuzz run [--seconds N] [--seed S] [--work DIR] [--quiet]
//! ferrisk-fuzz replay [--target T] [--slow-ms N] FILE…
//! ferrisk-fuzz families [--write] [--work DIR]
//! ferrisk-fuzz worker …            (started by `run`)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferrisk_fuzz::runner::{self, WorkerConfig};
use ferrisk_fuzz::supervisor::{self, RunConfig, Verdict};
use ferrisk_fuzz::{craft, Context, Target};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    flag(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn default_work() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("fuzz")
}

/// The target of a regression file, from its name (`model-1a2b3c4d.bin`).
fn target_of(file: &Path) -> Option<Target> {
    let name = file.file_name()?.to_str()?;
    Target::parse(name.split('-').next()?)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("ferrisk-fuzz"));
    let work = flag(&args, "--work").map_or_else(default_work, PathBuf::from);
    match cmd {
        "run" => {
            let mut cfg = RunConfig::from_env(
                exe,
                work,
                num(&args, "--seconds", 60.0),
                num(&args, "--seed", 1),
            );
            if flag(&args, "--seconds").is_some() {
                cfg.seconds = num(&args, "--seconds", 60.0);
            }
            if flag(&args, "--seed").is_some() {
                cfg.seed = num(&args, "--seed", 1);
            }
            cfg.verbose = !args.iter().any(|a| a == "--quiet");
            println!(
                "ferrisk-fuzz: {:.0} s, seed {}, slow > {} ms, hang > {} ms, worker memory {} MiB",
                cfg.seconds, cfg.seed, cfg.slow_ms, cfg.hang_ms, cfg.mem_mb
            );
            let sums = supervisor::run(&cfg);
            println!("{}", supervisor::report(&sums));
            let failures: usize = sums.iter().map(|s| s.failures()).sum();
            if failures > 0 {
                println!("{failures} crash, hang or slow input(s); see fuzz/regressions/");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        "worker" => {
            let Some(target) = flag(&args, "--target").and_then(|t| Target::parse(&t)) else {
                eprintln!("worker: --target model|csv|json");
                return ExitCode::FAILURE;
            };
            let cfg = WorkerConfig {
                target,
                seconds: num(&args, "--seconds", 10.0),
                seed: num(&args, "--seed", 1),
                work,
                regressions: flag(&args, "--regressions")
                    .map_or_else(ferrisk_fuzz::corpus::regressions_dir, PathBuf::from),
                slow_ms: num(&args, "--slow-ms", supervisor::default_slow_ms()),
                hang_ms: num(&args, "--hang-ms", supervisor::default_hang_ms()),
            };
            runner::work(&cfg);
            ExitCode::SUCCESS
        }
        "replay" => {
            let forced = flag(&args, "--target").and_then(|t| Target::parse(&t));
            let slow_ms: f64 = num(&args, "--slow-ms", supervisor::default_slow_ms() as f64);
            let mut files: Vec<&String> = Vec::new();
            let mut i = 1;
            while let Some(a) = args.get(i) {
                if ["--target", "--slow-ms", "--work"].contains(&a.as_str()) {
                    i += 2;
                    continue;
                }
                if a != "--verbose" {
                    files.push(a);
                }
                i += 1;
            }
            let verbose = args.iter().any(|a| a == "--verbose");
            let ctx = Context::load();
            let mut clean = true;
            for f in files {
                let path = Path::new(f);
                let Some(target) = forced.or_else(|| target_of(path)) else {
                    println!("SKIP {f}: no target in the name");
                    continue;
                };
                let Ok(bytes) = std::fs::read(path) else {
                    println!("SKIP {f}: unreadable");
                    continue;
                };
                match runner::replay(target, &bytes, &ctx) {
                    Ok((ms, o)) => {
                        let state = if o.loaded { "accepted" } else { "rejected" };
                        if ms > slow_ms {
                            clean = false;
                            println!("SLOW {ms:.1} {state} {f} ({})", o.class);
                        } else {
                            println!("CLEAN {ms:.1} {state} {f} ({})", o.class);
                        }
                        for x in &o.findings {
                            println!("  finding {}: {} ({})", x.kind, x.detail, x.sig);
                        }
                        if verbose {
                            details(target, &bytes);
                        }
                    }
                    Err(msg) => {
                        clean = false;
                        println!("PANIC {msg} in {f}");
                    }
                }
            }
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        "families" => families(&exe, &work, args.iter().any(|a| a == "--write")),
        _ => {
            eprintln!(
                "usage: ferrisk-fuzz run [--seconds N] [--seed S] [--quiet]\n       \
                 ferrisk-fuzz replay [--target T] FILE…\n       \
                 ferrisk-fuzz families [--write]"
            );
            ExitCode::FAILURE
        }
    }
}

/// What a model or family input does, customer by customer, or where the
/// chunked CSV readings differ (`replay --verbose`).
fn details(target: Target, bytes: &[u8]) {
    let lines = match target {
        Target::Model => ferrisk_fuzz::model::describe(bytes),
        Target::Family => match craft::family_file(String::from_utf8_lossy(bytes).trim()) {
            Some(file) => {
                let mut l = vec![format!("model file of {} bytes", file.len())];
                l.extend(ferrisk_fuzz::model::describe(&file));
                l
            }
            None => vec!["unknown family".into()],
        },
        Target::Csv => ferrisk_fuzz::csv_target::differences(bytes),
        Target::Json => Vec::new(),
    };
    for l in lines {
        println!("  {l}");
    }
}

/// Builds every crafted family, says whether it loads, and replays it in a
/// child process. With `--write`, misbehaving families become regression
/// inputs (the model file when small, else the recipe).
fn families(exe: &Path, work: &Path, write: bool) -> ExitCode {
    let dir = work.join("families");
    let _ = std::fs::create_dir_all(&dir);
    let slow = supervisor::default_slow_ms();
    let hang = supervisor::default_hang_ms();
    for (name, recipe) in craft::FAMILIES {
        let Some(file) = craft::family_file(recipe) else {
            println!("{name:<26} cannot be written");
            continue;
        };
        let loads = match ferrisk::Scorer::from_bytes(&file) {
            Ok(_) => "loads".to_string(),
            Err(e) => format!("refused: {e}"),
        };
        let recipe_path = dir.join(format!("family-{name}.bin"));
        let _ = std::fs::write(&recipe_path, recipe);
        let verdict =
            supervisor::replay_isolated(exe, Target::Family, &recipe_path, slow, hang, 4096);
        let shown = match &verdict {
            Verdict::Clean {
                ms,
                accepted,
                findings,
            } => format!(
                "clean, {ms:.1} ms, {}{}",
                if *accepted { "accepted" } else { "rejected" },
                if findings.is_empty() {
                    String::new()
                } else {
                    format!("; findings: {}", findings.join("; "))
                }
            ),
            other => format!("{other:?}"),
        };
        println!(
            "{name:<26} {:>9} bytes  {loads}\n{:<26} replay: {shown}",
            file.len(),
            ""
        );
        let what = match &verdict {
            Verdict::Panic(m) => format!("open: panic: {m}"),
            Verdict::Slow(ms) => format!("open: slow: one execution took {ms:.0} ms"),
            Verdict::Abort(m) => format!("open: abort: {m}"),
            Verdict::Hang => format!("open: hang: one execution ran over {hang} ms"),
            Verdict::Clean { findings, .. } if !findings.is_empty() => {
                format!("finding: {}", findings.join("; "))
            }
            Verdict::Clean { .. } => String::new(),
        };
        if write && !what.is_empty() {
            let line = format!("{what} — crafted family {name} ({recipe})");
            let saved = if file.len() <= 16 * 1024 {
                runner::save_regression(
                    &ferrisk_fuzz::corpus::regressions_dir(),
                    Target::Model,
                    &file,
                    &line,
                )
            } else {
                runner::save_regression(
                    &ferrisk_fuzz::corpus::regressions_dir(),
                    Target::Family,
                    recipe.as_bytes(),
                    &line,
                )
            };
            println!("{:<26} -> fuzz/regressions/{saved}", "");
        }
    }
    ExitCode::SUCCESS
}
