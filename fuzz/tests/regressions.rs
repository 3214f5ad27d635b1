//! Replays every input in `fuzz/regressions/`, each in a child process
//! (`ferrisk-fuzz replay`), so that an abort or a hang is reported for its
//! file instead of ending the test. Each must run without a panic, an abort
//! or a hang, and within the slow-input time.
//!
//! A `.txt` whose line starts with `open:` marks an input of a known,
//! reported runtime problem that is not fixed yet: it is replayed with a
//! short deadline and reported, but does not fail the test unless
//! `FERRISK_FUZZ_STRICT=1`. When an open input replays cleanly, the test
//! says so: drop the `open:` marker and it guards the fix from then on.

use std::path::{Path, PathBuf};

use ferrisk_fuzz::supervisor::{self, Verdict};
use ferrisk_fuzz::Target;

fn inputs() -> Vec<PathBuf> {
    let dir = ferrisk_fuzz::corpus::regressions_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "bin"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn description(bin: &Path) -> String {
    std::fs::read_to_string(bin.with_extension("txt"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn every_regression_input_replays_cleanly() {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_ferrisk-fuzz"));
    let strict = std::env::var("FERRISK_FUZZ_STRICT").is_ok_and(|v| v == "1");
    let slow = supervisor::default_slow_ms();
    let hang = supervisor::default_hang_ms();
    let mut failed = Vec::new();
    let mut replayed = 0;
    for bin in inputs() {
        let name = bin
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(target) = name.split('-').next().and_then(Target::parse) else {
            failed.push(format!("{name}: the name does not start with a target"));
            continue;
        };
        let what = description(&bin);
        assert!(!what.is_empty(), "{name} has no one-line .txt description");
        let open = what.starts_with("open:");
        // An open input is known to be slow or worse: a short deadline.
        let deadline = if open && !strict { 2 * slow } else { hang };
        let verdict = supervisor::replay_isolated(&exe, target, &bin, slow, deadline, 4096);
        replayed += 1;
        match (&verdict, open) {
            (Verdict::Clean { ms, .. }, false) => println!("clean  {name} ({ms:.1} ms)"),
            (Verdict::Clean { ms, .. }, true) => println!(
                "FIXED  {name} ({ms:.1} ms): replays cleanly now; remove `open:` from its .txt"
            ),
            (v, true) if !strict => println!("open   {name}: {v:?} — {what}"),
            (v, _) => failed.push(format!("{name}: {v:?} — {what}")),
        }
    }
    println!("{replayed} regression inputs replayed");
    assert!(
        failed.is_empty(),
        "regression inputs that do not replay cleanly:\n{}",
        failed.join("\n")
    );
}
