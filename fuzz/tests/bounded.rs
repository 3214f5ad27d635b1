//! The bounded fuzz run of the test command: every target for ~60 s in
//! total (`FERRISK_FUZZ_SECONDS`), from a fixed seed (`FERRISK_FUZZ_SEED`),
//! through the same supervisor as `scripts/fuzz.sh`. Prints executions per
//! target and the findings; fails only on panics, aborts, hangs and
//! (confirmed) slow inputs, each of which is written to `fuzz/regressions/`.

use std::path::PathBuf;

use ferrisk_fuzz::supervisor::{self, RunConfig};

#[test]
fn bounded_fuzz_run_finds_no_crash_hang_or_slow_input() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-bounded");
    let mut cfg = RunConfig::from_env(
        PathBuf::from(env!("CARGO_BIN_EXE_ferrisk-fuzz")),
        work,
        60.0,
        0x5EED_F0CC,
    );
    cfg.verbose = false;
    let sums = supervisor::run(&cfg);
    let report = supervisor::report(&sums);
    println!(
        "bounded fuzz run: {:.0} s, seed {}, slow > {} ms\n{report}",
        cfg.seconds, cfg.seed, cfg.slow_ms
    );
    for s in &sums {
        assert!(s.execs > 0, "target {} ran no execution", s.target);
    }
    let failures: Vec<String> = sums
        .iter()
        .flat_map(|s| {
            s.panics
                .iter()
                .chain(&s.aborts)
                .chain(&s.hangs)
                .chain(&s.slow)
                .map(move |r| format!("{}: {} (fuzz/regressions/{})", s.target, r.what, r.file))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "the bounded fuzz run found {} crash, hang or slow input(s):\n{}\n\n{report}",
        failures.len(),
        failures.join("\n")
    );
}
