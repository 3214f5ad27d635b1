//! The architecture invariants of ARCHITECTURE.md that can be checked by
//! reading the workspace: which crate depends on what, and that every
//! model kind is registered once and has its golden file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Names in the `[dependencies]` table of a Cargo.toml (not dev- or build-).
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let text = read(manifest);
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == "[dependencies]";
            continue;
        }
        if inside && !t.is_empty() && !t.starts_with('#') {
            if let Some((name, _)) = t.split_once('=') {
                out.insert(name.trim().to_string());
            }
        }
    }
    out
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_runtime_depends_on_no_training_code() {
    // What the wasm bundle links: no training library, no RNG, no CSV
    // writer, no autodiff, no wasm-bindgen.
    assert_eq!(
        dependencies("Cargo.toml"),
        set(&["serde", "postcard", "sha2", "thiserror", "libm", "ndarray"])
    );
}

#[test]
fn the_service_and_the_bindings_stand_on_the_runtime_only() {
    for manifest in ["serve/Cargo.toml", "wasm/Cargo.toml", "python/Cargo.toml"] {
        let deps = dependencies(manifest);
        assert!(deps.contains("ferrisk"), "{manifest}");
        for training in [
            "ferrisk-train",
            "smartcore",
            "candle-core",
            "candle-nn",
            "rand",
        ] {
            assert!(!deps.contains(training), "{manifest} depends on {training}");
        }
    }
    // Only the command line puts the trainer and the service together.
    let cli = dependencies("cli/Cargo.toml");
    assert!(cli.contains("ferrisk-train") && cli.contains("ferrisk-serve"));
}

/// Module files of a folder, without `mod.rs` and test-only modules.
fn modules(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_string();
            (p.extension()? == "rs" && stem != "mod" && !stem.ends_with("_tests")).then_some(stem)
        })
        .collect()
}

/// The body of `name! { ... }` in a file (the registry invocation).
fn registry_body(rel: &str, name: &str) -> String {
    let text = read(rel);
    let start = text
        .rfind(&format!("{name}! {{"))
        .unwrap_or_else(|| panic!("{rel}: no {name}! invocation"));
    let rest = &text[start..];
    let end = rest.find("\n}").unwrap();
    rest[..end].to_string()
}

#[test]
fn every_runtime_kind_module_is_in_the_registry_once() {
    let body = registry_body("src/kinds/mod.rs", "registry");
    for m in modules(&root().join("src/kinds")) {
        let uses = body.matches(&format!("=> {m}::")).count();
        assert_eq!(uses, 1, "src/kinds/{m}.rs is registered {uses} times");
    }
    assert_eq!(
        ferrisk::kinds::TAGS.len(),
        modules(&root().join("src/kinds")).len()
    );
}

#[test]
fn every_trainer_kind_module_is_in_the_registry_once() {
    let body = registry_body("train/src/models/mod.rs", "registry");
    for m in modules(&root().join("train/src/models")) {
        let uses = body.matches(&format!(": {m}::")).count();
        assert_eq!(
            uses, 1,
            "train/src/models/{m}.rs is registered {uses} times"
        );
    }
}

#[test]
fn every_runtime_kind_has_a_golden_file() {
    let mut tags = BTreeSet::new();
    for e in std::fs::read_dir(root().join("tests/golden")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "frk") {
            let s = ferrisk::Scorer::from_bytes(&std::fs::read(&p).unwrap()).unwrap();
            tags.insert(s.bundle().model.tag());
        }
    }
    for tag in ferrisk::kinds::TAGS {
        assert!(tags.contains(tag), "no golden file holds a '{tag}' model");
    }
}
