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

/// A CSV column an error points at: a 1-based index in a record, or a
/// column's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column<'a> {
    Index(usize),
    Name(&'a str),
}

/// What a program handling an error reads: the stable code and where the
/// error points. Built by one match per error type ([`Coded::place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    /// SCREAMING_SNAKE, one of [`CODES`]; never changes between releases
    /// (messages may).
    pub code: &'static str,
    /// The feature the error is about.
    pub feature: Option<&'a str>,
    /// The CSV line (from 1, header included).
    pub line: Option<usize>,
    /// The CSV column.
    pub column: Option<Column<'a>>,
    /// The row of a batch (from 0).
    pub row: Option<usize>,
}

impl Place<'_> {
    /// A code without a place.
    pub const fn code(code: &'static str) -> Place<'static> {
        Place {
            code,
            feature: None,
            line: None,
            column: None,
            row: None,
        }
    }
}

/// An error with a stable, machine-readable identity (the browser
/// package's `FerriskError.code` and fields; the CLI and the service may
/// use them too).
pub trait Coded: std::fmt::Display {
    /// The code and the fields that say where.
    fn place(&self) -> Place<'_>;

    /// The stable code, one of [`CODES`].
    fn code(&self) -> &'static str {
        self.place().code
    }
    fn feature(&self) -> Option<&str> {
        self.place().feature
    }
    fn line(&self) -> Option<usize> {
        self.place().line
    }
    fn column(&self) -> Option<Column<'_>> {
        self.place().column
    }
    fn row(&self) -> Option<usize> {
        self.place().row
    }
}

/// Every code a runtime error can carry, with what it means (the README's
/// table is checked against this list by scripts/test-npm.sh; the
/// TypeScript union `ErrorCode` is generated from it). `BAD_ARGUMENT` is
/// the wasm bindings' own (a JavaScript argument of the wrong shape);
/// `FETCH`, `INTEGRITY` and `WORKER` the npm package's JavaScript layer's.
pub const CODES: &[(&str, &str)] = &[
    (
        "FORMAT_TRUNCATED",
        "the model file is shorter than a header",
    ),
    ("FORMAT_BAD_MAGIC", "not a ferrisk model file"),
    (
        "FORMAT_BAD_VERSION",
        "the header's format version is invalid",
    ),
    ("FORMAT_FROM_FUTURE", "the file needs a newer ferrisk"),
    ("FORMAT_LENGTH", "the body length differs from the header's"),
    ("FORMAT_TOO_LARGE", "the body exceeds the size limit"),
    (
        "CHECKSUM",
        "the body's SHA-256 differs from the header's (damaged or tampered)",
    ),
    ("FORMAT_DECODE", "the body cannot be decoded"),
    ("FORMAT_INVALID", "the body decodes but is inconsistent"),
    ("UNKNOWN_KIND", "a model kind this ferrisk does not know"),
    (
        "UNKNOWN_SECTION",
        "a required section this ferrisk does not know",
    ),
    ("FORMAT_ENCODE", "a model cannot be written"),
    (
        "BAD_VALUE",
        "a feature's value is unusable (not a number, not finite, wrong type, bad code)",
    ),
    ("FEATURE_COUNT", "a row has the wrong number of values"),
    ("NO_VALUES", "every feature of a row is missing"),
    (
        "NOT_FINITE_OUTPUT",
        "the model's output overflows for this row",
    ),
    (
        "UNSUPPORTED",
        "this model kind cannot do what was asked (e.g. explain)",
    ),
    (
        "EXPLAIN_BUDGET",
        "explaining this model would cost more than the budget",
    ),
    ("CSV_EMPTY", "the CSV has no header line"),
    (
        "CSV_ROW",
        "a CSV record cannot be read (ragged, bad quoting, not UTF-8, too long, bad value)",
    ),
    (
        "CSV_HEADER",
        "the CSV header has an empty or duplicate column name",
    ),
    (
        "CSV_MISSING_COLUMN",
        "the CSV lacks a column the model needs",
    ),
    ("CSV_NO_ROWS", "the CSV has a header but no data rows"),
    ("CSV_LABEL", "a label is neither class"),
    ("ONE_CLASS", "labels hold only one class; metrics need both"),
    (
        "BATCH_SHAPE",
        "a batch's arrays do not match rows x features",
    ),
    ("SIGNATURE", "a signature block or key is malformed"),
    (
        "UNTRUSTED",
        "the trust policy refuses the file (unsigned, unknown key, bad signature, expired)",
    ),
    ("INTERNAL", "a bug: please report it"),
    (
        "BAD_ARGUMENT",
        "an argument has the wrong shape (not an object, bad option)",
    ),
    (
        "FETCH",
        "the npm package could not download the model (network, HTTP status)",
    ),
    (
        "INTEGRITY",
        "a downloaded model's SHA-256 differs from the expected one",
    ),
    (
        "WORKER",
        "the npm package's Web Worker failed to start or crashed",
    ),
];

impl Coded for FormatError {
    fn place(&self) -> Place<'_> {
        Place::code(match self {
            FormatError::TooShort { .. } => "FORMAT_TRUNCATED",
            FormatError::BadMagic => "FORMAT_BAD_MAGIC",
            FormatError::BadVersion { .. } => "FORMAT_BAD_VERSION",
            FormatError::FromFuture { .. } => "FORMAT_FROM_FUTURE",
            FormatError::LengthMismatch { .. } => "FORMAT_LENGTH",
            FormatError::TooLarge { .. } => "FORMAT_TOO_LARGE",
            FormatError::Checksum => "CHECKSUM",
            FormatError::Decode(_) => "FORMAT_DECODE",
            FormatError::Invalid(_) => "FORMAT_INVALID",
            FormatError::UnknownKind { .. } => "UNKNOWN_KIND",
            FormatError::UnknownSection { .. } => "UNKNOWN_SECTION",
            FormatError::Encode(_) => "FORMAT_ENCODE",
        })
    }
}

impl Coded for ScoreError {
    fn place(&self) -> Place<'_> {
        match self {
            ScoreError::NotANumber { feature, .. }
            | ScoreError::NotFinite { feature, .. }
            | ScoreError::WrongType { feature, .. } => Place {
                feature: Some(feature),
                ..Place::code("BAD_VALUE")
            },
            ScoreError::FeatureCount { .. } => Place::code("FEATURE_COUNT"),
            ScoreError::NoValues => Place::code("NO_VALUES"),
            ScoreError::NotFiniteOutput => Place::code("NOT_FINITE_OUTPUT"),
            ScoreError::Unsupported(_) => Place::code("UNSUPPORTED"),
            ScoreError::ExplainBudget { .. } => Place::code("EXPLAIN_BUDGET"),
        }
    }
}

impl Coded for CsvError {
    fn place(&self) -> Place<'_> {
        let row = |line: &usize| Place {
            line: Some(*line),
            ..Place::code("CSV_ROW")
        };
        match self {
            CsvError::Empty => Place::code("CSV_EMPTY"),
            CsvError::Ragged { line, .. }
            | CsvError::UnclosedQuote { line }
            | CsvError::InvalidUtf8 { line }
            | CsvError::RecordTooLong { line, .. }
            | CsvError::TooManyFields { line, .. } => row(line),
            CsvError::StrayQuote { line, column } => Place {
                column: Some(Column::Index(*column)),
                ..row(line)
            },
            CsvError::Value { line, column, .. } => Place {
                column: Some(Column::Name(column)),
                ..row(line)
            },
            CsvError::EmptyHeader { column } => Place {
                column: Some(Column::Index(*column)),
                ..Place::code("CSV_HEADER")
            },
            CsvError::DuplicateHeader { name } => Place {
                column: Some(Column::Name(name)),
                ..Place::code("CSV_HEADER")
            },
            CsvError::MissingColumn { name } => Place {
                feature: Some(name),
                column: Some(Column::Name(name)),
                ..Place::code("CSV_MISSING_COLUMN")
            },
            CsvError::NoRows => Place::code("CSV_NO_ROWS"),
        }
    }
}

impl Coded for EvalError {
    fn place(&self) -> Place<'_> {
        match self {
            EvalError::Csv(e) => e.place(),
            EvalError::Row { line, source } => Place {
                line: Some(*line),
                ..source.place()
            },
            EvalError::Label { line, column, .. } => Place {
                line: Some(*line),
                column: Some(Column::Name(column)),
                ..Place::code("CSV_LABEL")
            },
            EvalError::OneClass(_) => Place::code("ONE_CLASS"),
        }
    }
}

impl Coded for crate::session::RowError {
    fn place(&self) -> Place<'_> {
        match self {
            crate::session::RowError::Csv(e) => e.place(),
            crate::session::RowError::Score(e) => e.place(),
        }
    }
}

impl Coded for crate::batch::BatchError {
    fn place(&self) -> Place<'_> {
        use crate::batch::BatchError;
        match self {
            BatchError::NotFinite { row, feature, .. }
            | BatchError::BadCode { row, feature, .. } => Place {
                feature: Some(feature),
                row: Some(*row),
                ..Place::code("BAD_VALUE")
            },
            BatchError::Shape { .. } => Place::code("BATCH_SHAPE"),
            BatchError::OtherModel => Place::code("INTERNAL"),
        }
    }
}

impl Coded for crate::signature::SignatureError {
    fn place(&self) -> Place<'_> {
        use crate::signature::SignatureError;
        match self {
            SignatureError::NotAModel(e) => e.place(),
            SignatureError::NoTrustedKeys
            | SignatureError::Unsigned { .. }
            | SignatureError::UnknownKey { .. }
            | SignatureError::BadSignature { .. }
            | SignatureError::Expired { .. } => Place::code("UNTRUSTED"),
            _ => Place::code("SIGNATURE"),
        }
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;

    /// Every code returned is listed in CODES, once, in SCREAMING_SNAKE.
    #[test]
    fn codes_are_listed_once_and_screaming_snake() {
        let listed: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
        for (i, c) in listed.iter().enumerate() {
            assert!(
                c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{c}"
            );
            assert!(!listed[..i].contains(c), "{c} listed twice");
        }
        let samples: Vec<Box<dyn Coded>> = vec![
            Box::new(FormatError::Checksum),
            Box::new(FormatError::FromFuture {
                found: 9,
                needs: 9,
                supported: 1,
            }),
            Box::new(ScoreError::NoValues),
            Box::new(CsvError::Empty),
            Box::new(CsvError::NoRows),
            Box::new(EvalError::OneClass("bad".into())),
        ];
        for e in samples {
            assert!(listed.contains(&e.code()), "{} not in CODES", e.code());
        }
    }

    #[test]
    fn fields_say_where() {
        let e = CsvError::StrayQuote { line: 4, column: 7 };
        assert_eq!(
            (e.code(), e.line(), e.column()),
            ("CSV_ROW", Some(4), Some(Column::Index(7)))
        );
        let e = ScoreError::NotANumber {
            feature: "age".into(),
            value: "x".into(),
        };
        assert_eq!((e.code(), e.feature()), ("BAD_VALUE", Some("age")));
        let e = EvalError::Row { line: 3, source: e };
        assert_eq!(
            (e.code(), e.feature(), e.line()),
            ("BAD_VALUE", Some("age"), Some(3))
        );
    }
}
