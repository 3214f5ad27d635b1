//! The starting points: the golden model files of every format version,
//! their traced layouts, the golden scorers (for the CSV and JSON targets)
//! and rows of `tests/golden/synthetic.csv`.

use std::path::{Path, PathBuf};

use ferrisk::csv::{CsvEvent, CsvReader};
use ferrisk::Scorer;

use crate::trace::{trace_body, Layout};

/// The repository's `tests/golden` directory.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("golden")
}

/// The repository's `fuzz/regressions` directory.
pub fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// A model body to mutate: header versions, body and (when traced) layout.
#[derive(Debug, Clone)]
pub struct Seed {
    pub name: String,
    pub version: u16,
    pub min_reader: u16,
    pub body: Vec<u8>,
    pub layout: Option<Layout>,
}

impl Seed {
    pub fn new(name: String, version: u16, min_reader: u16, body: Vec<u8>) -> Seed {
        let layout = trace_body(version, &body);
        Seed {
            name,
            version,
            min_reader,
            body,
            layout,
        }
    }

    /// From a whole model file (header checked).
    pub fn from_file(name: String, bytes: &[u8]) -> Option<Seed> {
        let (h, body) = ferrisk::format::read_header(bytes).ok()?;
        Some(Seed::new(name, h.version, h.min_reader, body.to_vec()))
    }

    pub fn file(&self) -> Vec<u8> {
        ferrisk::format::frame(self.version, self.min_reader, &self.body)
    }
}

/// Every `.frk` under `tests/golden`, `tests/golden/v1` and `tests/golden/v2`.
pub fn golden_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["", "v1", "v2"] {
        let dir = golden_dir().join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "frk"))
            .collect();
        names.sort();
        for p in names {
            if let Ok(bytes) = std::fs::read(&p) {
                let file = p
                    .file_name()
                    .map_or(String::new(), |f| f.to_string_lossy().into_owned());
                let name = if sub.is_empty() {
                    file
                } else {
                    format!("{sub}/{file}")
                };
                out.push((name, bytes));
            }
        }
    }
    out
}

pub fn golden_seeds() -> Vec<Seed> {
    golden_files()
        .into_iter()
        .filter_map(|(name, bytes)| Seed::from_file(format!("golden/{name}"), &bytes))
        .collect()
}

/// The golden files of the current format, loaded (name without `.frk`).
pub fn golden_scorers() -> Vec<(String, Scorer)> {
    golden_files()
        .into_iter()
        .filter(|(name, _)| !name.contains('/'))
        .filter_map(|(name, bytes)| {
            let s = Scorer::from_bytes(&bytes).ok()?;
            Some((name.trim_end_matches(".frk").to_string(), s))
        })
        .collect()
}

/// `tests/golden/synthetic.csv` as bytes (empty if absent).
pub fn synthetic_csv() -> Vec<u8> {
    std::fs::read(golden_dir().join("synthetic.csv")).unwrap_or_default()
}

/// The header and the first `n` rows of the synthetic data.
pub fn synthetic_rows(n: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = CsvReader::new();
    r.push(&synthetic_csv());
    r.finish();
    let mut header = Vec::new();
    let mut rows = Vec::new();
    while let Some(e) = r.next_event() {
        match e {
            CsvEvent::Header(h) => header = h,
            CsvEvent::Row { fields, .. } if rows.len() < n => rows.push(fields),
            _ => {}
        }
    }
    (header, rows)
}
