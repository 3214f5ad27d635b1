//! Embeds test fixtures into the wasm test binaries (a wasm test has no file
//! system in the browser). Writes `$OUT_DIR/fixtures.rs`, which the tests
//! `include!`:
//!
//! - `FIXTURE_DIR` / `FIXTURES`: every `*.frk`, `*.csv` and `*.json` file of
//!   the directory named by `$FERRISK_FIXTURES` (made by
//!   `scripts/test-wasm.sh`: models trained, files scored and a customer
//!   explained by the native CLI), or `None` / empty when the variable is
//!   unset;
//! - `GOLDEN`: the `*.frk`, `*.csv` and `*.json` files of `tests/golden/` in the
//!   repository (the current set) and of its subdirectories (frozen sets of
//!   older format versions, e.g. `v1/lr.frk`), named relative to it;
//! - `IMPORTS`: the `*.frk` and `*.csv` files of `tests/import/` (models
//!   imported from XGBoost and LightGBM, their rows, the libraries' outputs
//!   and the native probabilities; scripts/gen-import-fixtures.sh).
//!
//! Files are copied into `OUT_DIR` and embedded with `include_bytes!`, so
//! cargo rebuilds the tests when a fixture changes. The library itself never
//! includes them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("frk" | "csv" | "json")
            )
        })
        .collect();
    files.sort();
    files
}

/// `(name relative to dir, path)` of the fixture files in `dir` and, when
/// `nested`, in its direct subdirectories (named `sub/file`).
fn collect(dir: &Path, nested: bool) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = list(dir)
        .into_iter()
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .collect();
    if nested {
        let mut subs: Vec<PathBuf> = fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        subs.sort();
        for sub in subs {
            println!("cargo:rerun-if-changed={}", sub.display());
            let Some(prefix) = sub.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            for p in list(&sub) {
                if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                    out.push((format!("{prefix}/{name}"), p.clone()));
                }
            }
        }
    }
    out
}

/// Copies `files` into `out/sub` and returns Rust source for a
/// `&[(&str, &[u8])]` table of them.
fn embed(files: &[(String, PathBuf)], out: &Path, sub: &str) -> Result<String, String> {
    let mut table = String::from("&[\n");
    for (name, src) in files {
        println!("cargo:rerun-if-changed={}", src.display());
        let to = out.join(sub).join(name);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
        }
        fs::copy(src, &to)
            .map_err(|e| format!("copy {} -> {}: {e}", src.display(), to.display()))?;
        let _ = writeln!(
            table,
            "    ({name:?}, include_bytes!({:?})),",
            to.display().to_string()
        );
    }
    table.push(']');
    Ok(table)
}

fn main() -> Result<(), String> {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FERRISK_FIXTURES");
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let manifest = PathBuf::from(
        env::var("CARGO_MANIFEST_DIR").map_err(|e| format!("CARGO_MANIFEST_DIR: {e}"))?,
    );

    let mut src = String::new();
    match env::var("FERRISK_FIXTURES") {
        Ok(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                manifest.join("..").join(dir)
            };
            println!("cargo:rerun-if-changed={}", dir.display());
            let files = collect(&dir, false);
            if files.is_empty() {
                return Err(format!(
                    "FERRISK_FIXTURES={} holds no *.frk, *.csv or *.json files; run scripts/test-wasm.sh",
                    dir.display()
                ));
            }
            let _ = writeln!(
                src,
                "pub const FIXTURE_DIR: Option<&str> = Some({:?});",
                dir.display().to_string()
            );
            let _ = writeln!(
                src,
                "pub const FIXTURES: &[(&str, &[u8])] = {};",
                embed(&files, &out, "fixtures")?
            );
        }
        _ => {
            src.push_str("pub const FIXTURE_DIR: Option<&str> = None;\n");
            src.push_str("pub const FIXTURES: &[(&str, &[u8])] = &[];\n");
        }
    }

    let golden = manifest.join("..").join("tests").join("golden");
    println!("cargo:rerun-if-changed={}", golden.display());
    let _ = writeln!(
        src,
        "pub const GOLDEN: &[(&str, &[u8])] = {};",
        embed(&collect(&golden, true), &out, "golden")?
    );

    // Imported XGBoost / LightGBM models (scripts/gen-import-fixtures.sh):
    // the ferrisk files, their data, the libraries' outputs and the native
    // probabilities (not the libraries' own model files).
    let imports = manifest.join("..").join("tests").join("import");
    println!("cargo:rerun-if-changed={}", imports.display());
    let files: Vec<(String, PathBuf)> = collect(&imports, false)
        .into_iter()
        .filter(|(n, _)| !n.ends_with(".json"))
        .collect();
    let _ = writeln!(
        src,
        "pub const IMPORTS: &[(&str, &[u8])] = {};",
        embed(&files, &out, "import")?
    );

    fs::write(out.join("fixtures.rs"), src).map_err(|e| format!("write fixtures.rs: {e}"))
}
