//! Architecture invariant: the bindings convert values and forward to the
//! runtime; they hold no scoring logic. A native test (it reads the sources;
//! `cargo test -p ferrisk-wasm --test thin_bindings`, run by
//! scripts/test-wasm.sh): no file of `wasm/src/` may call the model, the
//! calibration, the design-row encoder or the value parser directly. Such
//! code belongs in the runtime (`src/`), where the native CLI and service
//! share it and the golden tests cover it.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// Text that only scoring code contains.
const SCORING: [&str; 6] = [
    "outputs(",
    "calibration",
    ".probability(",
    "Schema::encode",
    "design_row",
    "parse_value",
];

#[test]
fn the_bindings_hold_no_scoring_logic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            for word in SCORING {
                if line.contains(word) {
                    found.push(format!(
                        "{}:{}: {word}: {}",
                        path.display(),
                        i + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(files > 0, "no Rust files in {}", dir.display());
    assert!(
        found.is_empty(),
        "scoring logic in the bindings (move it into the runtime, src/):\n{}",
        found.join("\n")
    );
}
