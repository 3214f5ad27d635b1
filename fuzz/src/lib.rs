//! # ferrisk-fuzz
//!
//! A fuzz harness for the stable toolchain (see `README.md` for why not
//! cargo-fuzz): seeded mutation with its own PRNG, body-aware mutations of
//! model files, structure-aware generation of bundles, in-process execution
//! under `catch_unwind` with a watchdog, and a supervisor process that
//! survives aborts and hangs of its workers and keeps the input.
//!
//! Targets: [`Target::Model`] (the model reader and what a loaded file
//! reaches), [`Target::Csv`] (the chunk-fed CSV reader and CSV scoring),
//! [`Target::Json`] (the `/predict` body: JSON customers scored as the
//! service does), and [`Target::Family`] (a crafted family recipe, turned
//! into a model file and run as `Model`; used for regressions whose file
//! would be too big to commit).

pub mod corpus;
pub mod craft;
pub mod csv_target;
pub mod json_target;
pub mod model;
pub mod mutate;
pub mod rng;
pub mod runner;
pub mod supervisor;
pub mod trace;

use ferrisk::Scorer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Model,
    Csv,
    Json,
    Family,
}

impl Target {
    /// The targets of a fuzz run, with their share of the time.
    pub const RUN: [(Target, f64); 3] = [
        (Target::Model, 0.6),
        (Target::Csv, 0.2),
        (Target::Json, 0.2),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Model => "model",
            Target::Csv => "csv",
            Target::Json => "json",
            Target::Family => "family",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "model" => Some(Target::Model),
            "csv" => Some(Target::Csv),
            "json" => Some(Target::Json),
            "family" => Some(Target::Family),
            _ => None,
        }
    }
}

/// One generated input and how it was made.
#[derive(Debug, Clone)]
pub struct Input {
    pub bytes: Vec<u8>,
    pub note: String,
}

/// Something suspicious that is not a crash (NaN probability, constant
/// model, block/row mismatch …): recorded and reported, never fatal.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: &'static str,
    /// What it happened on (e.g. `linear/logistic`), for grouping.
    pub sig: String,
    pub detail: String,
}

/// What one execution did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The input was accepted (a model loaded, a request parsed, …).
    pub loaded: bool,
    /// Coarse class for statistics (`ok`, `Decode`, `Invalid: …`).
    pub class: String,
    pub findings: Vec<Finding>,
}

impl Outcome {
    pub fn accepted() -> Outcome {
        Outcome {
            loaded: true,
            class: "ok".into(),
            findings: Vec::new(),
        }
    }

    pub fn rejected(class: String) -> Outcome {
        Outcome {
            loaded: false,
            class,
            findings: Vec::new(),
        }
    }

    pub fn find(&mut self, kind: &'static str, sig: &str, detail: &str) {
        if self.findings.iter().any(|f| f.kind == kind) {
            return;
        }
        self.findings.push(Finding {
            kind,
            sig: sig.to_string(),
            detail: detail.to_string(),
        });
    }
}

/// A short class of an error: its variant, and for `Invalid` the start of
/// the message with digits masked (which validator check was reached).
pub fn error_class(debug: &str, display: &str) -> String {
    let variant = debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string();
    if variant == "Invalid" {
        let masked: String = display
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .take(56)
            .collect();
        format!("Invalid: {masked}")
    } else {
        variant
    }
}

/// What the CSV and JSON targets score with: the golden files of the
/// current format, loaded once.
pub struct Context {
    pub scorers: Vec<(String, Scorer)>,
}

impl Context {
    pub fn load() -> Context {
        Context {
            scorers: corpus::golden_scorers(),
        }
    }
}

/// Runs one input of a target (the same function for fuzzing and replay).
pub fn execute(target: Target, bytes: &[u8], ctx: &Context) -> Outcome {
    match target {
        Target::Model => model::execute(bytes),
        Target::Csv => csv_target::execute(bytes, ctx),
        Target::Json => json_target::execute(bytes, ctx),
        Target::Family => {
            let recipe = String::from_utf8_lossy(bytes);
            match craft::family_file(recipe.trim()) {
                Some(file) => model::execute(&file),
                None => Outcome::rejected("unknown family".into()),
            }
        }
    }
}

/// First 8 hex digits of the SHA-256 of some bytes.
pub fn short_hash(bytes: &[u8]) -> String {
    ferrisk::format::sha256_hex(bytes)[..8].to_string()
}

/// FNV-1a, for seeding per-input choices (chunk sizes) reproducibly.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
