//! Typed errors of the runtime. Every message names what is wrong and where
//! (feature, line, column, byte offset), because it reaches a person: a data
//! scientist at a terminal or an advisor in a browser.

use thiserror::Error;

/// Reading a model file failed. Nothing is loaded when this is returned.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    #[error("model file is too short: {len} bytes, a ferrisk model file has at least {min} (truncated?)")]
    TooShort { len: usize, min: usize },
    #[error("not a ferrisk model file: bad magic bytes at offset 0 (expected \"FERRISK\\0\")")]
    BadMagic,
    #[error("model file format version {found} is not a valid version")]
    BadVersion { found: u16 },
    #[error(
        "model file is from the future: format v{found} needs a reader of v{needs} or newer, \
         this ferrisk reads up to v{supported}; upgrade ferrisk to load it"
    )]
    FromFuture {
        found: u16,
        needs: u16,
        supported: u16,
    },
    #[error("model file body declares {declared} bytes but {actual} follow the header (truncated or padded file)")]
    LengthMismatch { declared: u64, actual: u64 },
    #[error("model file body of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("model file checksum mismatch: the body's SHA-256 differs from the header's (file damaged or tampered with)")]
    Checksum,
    #[error("model file body cannot be decoded: {0}")]
    Decode(String),
    #[error("model file is inconsistent: {0}")]
    Invalid(String),
    #[error(
        "model file holds a model of kind '{kind}' (written by {producer}); this ferrisk \
         ({version}) knows the kinds {known}: upgrade ferrisk to load it",
        version = env!("CARGO_PKG_VERSION")
    )]
    UnknownKind {
        kind: String,
        producer: String,
        known: String,
    },
    #[error(
        "model file has a required section '{tag}' (written by {producer}) that this ferrisk \
         ({version}) does not know: upgrade ferrisk to load it",
        version = env!("CARGO_PKG_VERSION")
    )]
    UnknownSection { tag: String, producer: String },
    #[error("cannot encode model file: {0}")]
    Encode(String),
}

/// Scoring one customer failed. The scorer is unchanged and stays usable.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScoreError {
    #[error("feature '{feature}': '{value}' is not a number")]
    NotANumber { feature: String, value: String },
    #[error("feature '{feature}': {} is not a finite number", crate::num::js(*value))]
    NotFinite { feature: String, value: f64 },
    #[error("feature '{feature}': expected {expected}, got {got}")]
    WrongType {
        feature: String,
        expected: &'static str,
        got: String,
    },
    #[error("expected {expected} values (one per feature), got {got}")]
    FeatureCount { expected: usize, got: usize },
    #[error("no values: every feature is empty or missing")]
    NoValues,
    #[error("the model's output for this row is not a number (its parameters overflow for these values)")]
    NotFiniteOutput,
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "explaining this model would cost {cost} units, over the budget of {budget}: \
         the model is too large to explain safely (it still scores)"
    )]
    ExplainBudget { cost: u64, budget: u64 },
}

/// Reading CSV text failed. Line numbers count from 1 and include the header.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvError {
    #[error("CSV is empty: no header line")]
    Empty,
    #[error("line {line}: {found} fields, but the header has {expected}")]
    Ragged {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: quoted field is never closed")]
    UnclosedQuote { line: usize },
    #[error("line {line}, column {column}: stray quote, or text after a closing quote")]
    StrayQuote { line: usize, column: usize },
    #[error("line {line}: not valid UTF-8 text")]
    InvalidUtf8 { line: usize },
    #[error("line {line}: record longer than the limit of {limit} bytes")]
    RecordTooLong { line: usize, limit: usize },
    #[error("line {line}: record has more than the limit of {limit} fields")]
    TooManyFields { line: usize, limit: usize },
    #[error("header: column name {column} is empty")]
    EmptyHeader { column: usize },
    #[error("header: column '{name}' appears twice")]
    DuplicateHeader { name: String },
    #[error("CSV has no column '{name}'")]
    MissingColumn { name: String },
    #[error("line {line}, column '{column}': {message}")]
    Value {
        line: usize,
        column: String,
        message: String,
    },
    #[error("CSV has a header but no data rows")]
    NoRows,
}

/// Evaluating a labelled CSV failed.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error("line {line}: {source}")]
    Row { line: usize, source: ScoreError },
    #[error("line {line}: label '{value}' in column '{column}' is neither '{positive}' nor '{negative}'")]
    Label {
        line: usize,
        column: String,
        value: String,
        positive: String,
        negative: String,
    },
    #[error("labels contain only one class ({0}); metrics need both classes")]
    OneClass(String),
}
