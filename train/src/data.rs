//! Reading a labelled CSV for training: header, column types (inferred or
//! from a schema file), the label with its two classes. Every error names
//! the file, and where it applies the line and the column. The table itself
//! (typed columns, one streaming pass) is `crate::table`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ferrisk::csv::is_missing;
use ferrisk::CsvError;
use serde::Deserialize;

pub use crate::table::{Cells, Codes, Column, Table, TextColumn};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: CsvError },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: line {line}, column '{column}': {message}")]
    Value {
        path: PathBuf,
        line: usize,
        column: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Label { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Schema { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColType {
    Numeric,
    Categorical,
}

/// An explicit schema file: `{"types": {"column": "numeric" | "categorical"},
/// "monotone": {"column": 1 | -1}, "history": {"name": "...", "unit": "...",
/// "channels": [{"name": "status", "columns": ["c_oldest", ..., "c_last"]}]}}`
/// (each optional; the history is that of `--sequence`, see
/// [`crate::history`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    #[serde(default)]
    pub types: BTreeMap<String, ColType>,
    /// Monotone constraints: +1, the risk never falls as the column rises;
    /// -1, never rises (`--monotone` adds to and overrides these).
    #[serde(default)]
    pub monotone: BTreeMap<String, i8>,
    /// The history of the sequence kinds (flat kinds ignore it).
    #[serde(default)]
    pub history: Option<crate::history::HistoryFile>,
}

impl SchemaFile {
    pub fn read(path: &Path) -> Result<SchemaFile, DataError> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| DataError::Schema {
            path: path.to_path_buf(),
            message: format!("invalid schema file: {e} (expected {{\"types\": {{\"column\": \"numeric\"|\"categorical\"}}, \"monotone\": {{\"name\": 1|-1}}, \"history\": {{\"channels\": [{{\"name\": ..., \"columns\": [oldest, ..., last]}}], \"name\": ..., \"unit\": ...}}}})"),
        })
    }
}

/// The training view of a table: which columns are features (and their
/// type), and the binary label.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub label: String,
    pub positive: String,
    pub negative: String,
    /// (table column index, name, type), in file order.
    pub features: Vec<(usize, String, ColType)>,
    pub labels: Vec<bool>,
}

impl Dataset {
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&y| y).count()
    }
}

fn parses_as_number(cell: &str) -> bool {
    cell.parse::<f64>().map(|v| v.is_finite()).unwrap_or(false)
}

/// Builds the dataset: checks the label (exactly two classes, `positive`
/// among them, no missing label), drops `drop`, types every other column.
pub fn prepare(
    table: &Table,
    label: &str,
    positive: &str,
    drop: &[String],
    schema: &SchemaFile,
) -> Result<Dataset, DataError> {
    let path = table.path.clone();
    let label_col = table.column(label).ok_or_else(|| DataError::Label {
        path: path.clone(),
        message: format!(
            "no label column '{label}' (columns: {})",
            table.header.join(", ")
        ),
    })?;
    for d in drop {
        if table.column(d).is_none() {
            return Err(DataError::Schema {
                path: path.clone(),
                message: format!("--drop names column '{d}', which the file does not have"),
            });
        }
    }
    for name in schema.types.keys() {
        if table.column(name).is_none() {
            return Err(DataError::Schema {
                path: path.clone(),
                message: format!("schema file names column '{name}', which the data does not have"),
            });
        }
    }
    let label_text = table.texts(label_col)?;
    // Every dictionary entry occurs in some row, so the classes are the
    // dictionary's texts; a missing label is reported at its first row.
    let missing_label: Vec<bool> = label_text.dict.iter().map(|t| is_missing(t)).collect();
    if let Some(r) = label_text
        .codes
        .iter()
        .position(|c| missing_label.get(c as usize).copied().unwrap_or(true))
    {
        return Err(DataError::Value {
            path,
            line: table.line(r),
            column: label.to_string(),
            message: "the label is missing".into(),
        });
    }
    let classes: BTreeSet<&str> = label_text.dict.iter().map(|t| &**t).collect();
    if classes.len() != 2 {
        let shown: Vec<&str> = classes.iter().take(10).copied().collect();
        return Err(DataError::Label {
            path,
            message: format!(
                "label '{label}' must have exactly two classes, found {}: {}{}",
                classes.len(),
                shown.join(", "),
                if classes.len() > 10 { ", ..." } else { "" }
            ),
        });
    }
    if !classes.contains(positive) {
        return Err(DataError::Label {
            path,
            message: format!(
                "positive class '{positive}' does not occur in label '{label}' (classes: {})",
                classes.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let negative = classes
        .iter()
        .find(|c| **c != positive)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let is_positive: Vec<bool> = label_text.dict.iter().map(|t| &**t == positive).collect();
    let labels = label_text
        .codes
        .iter()
        .map(|c| is_positive.get(c as usize).copied().unwrap_or(false))
        .collect();

    let mut features = Vec::new();
    for (c, name) in table.header.iter().enumerate() {
        if c == label_col || drop.contains(name) {
            continue;
        }
        // A column of numbers holds only finite numbers and missing cells;
        // a text column is judged by its dictionary (every entry occurs).
        let text = match table.data(c) {
            Some(Column::Text(t)) => Some(t),
            _ => None,
        };
        let not_number = |t: &str| !is_missing(t) && !parses_as_number(t);
        let ty = match schema.types.get(name) {
            Some(ColType::Numeric) => {
                if let Some(t) = text {
                    let bad: Vec<bool> = t.dict.iter().map(|d| not_number(d)).collect();
                    if let Some(r) = t
                        .codes
                        .iter()
                        .position(|k| bad.get(k as usize).copied().unwrap_or(false))
                    {
                        return Err(DataError::Value {
                            path,
                            line: table.line(r),
                            column: name.clone(),
                            message: format!(
                                "'{}' is not a number, but the schema says this column is numeric",
                                t.text(r)
                            ),
                        });
                    }
                }
                ColType::Numeric
            }
            Some(ColType::Categorical) => {
                // Categories are texts: read them now if the column holds numbers.
                table.texts(c)?;
                ColType::Categorical
            }
            None => match text {
                None => ColType::Numeric,
                Some(t) => {
                    let any = t.dict.iter().any(|d| !is_missing(d));
                    if any && !t.dict.iter().any(|d| not_number(d)) {
                        ColType::Numeric
                    } else {
                        ColType::Categorical
                    }
                }
            },
        };
        features.push((c, name.clone(), ty));
    }
    if features.is_empty() {
        return Err(DataError::Schema {
            path,
            message: "no feature columns left besides the label".into(),
        });
    }
    // A row without a single feature value is an error here as it is when
    // scoring ("no values"), so training and evaluation agree on every row.
    if let Some(r) =
        (0..table.rows()).find(|&r| features.iter().all(|(c, _, _)| table.missing(r, *c)))
    {
        return Err(DataError::Value {
            path,
            line: table.line(r),
            column: "(every feature)".into(),
            message: "no values: every feature is empty or missing".into(),
        });
    }
    Ok(Dataset {
        label: label.to_string(),
        positive: positive.to_string(),
        negative,
        features,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_training_row_without_values_names_its_line() {
        let t = table("a,b,y\n1,x,yes\n,,no\n2,z,no\n").unwrap();
        let err = prepare(&t, "y", "yes", &[], &SchemaFile::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line 3") && text.contains("no values"),
            "{text}"
        );
    }

    fn table(text: &str) -> Result<Table, DataError> {
        Table::parse(Path::new("t.csv"), text, String::new())
    }

    #[test]
    fn infers_types_and_label() {
        let t = table("age,job,y\n30,a,bad\nNA,b,good\n41,?,good\n").unwrap();
        let d = prepare(&t, "y", "bad", &[], &SchemaFile::default()).unwrap();
        assert_eq!(d.features[0].2, ColType::Numeric);
        assert_eq!(d.features[1].2, ColType::Categorical);
        assert_eq!(d.labels, vec![true, false, false]);
        assert_eq!(d.negative, "good");
    }

    #[test]
    fn label_errors() {
        let t = table("x,y\n1,a\n2,b\n3,c\n").unwrap();
        let e = prepare(&t, "y", "a", &[], &SchemaFile::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly two classes, found 3"), "{e}");
        let t = table("x,y\n1,a\n2,\n").unwrap();
        let e = prepare(&t, "y", "a", &[], &SchemaFile::default())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv: line 3, column 'y': the label is missing");
        let t = table("x,y\n1,a\n2,b\n").unwrap();
        let e = prepare(&t, "y", "z", &[], &SchemaFile::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("positive class 'z' does not occur"), "{e}");
        let e = prepare(&t, "nope", "a", &[], &SchemaFile::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no label column 'nope'"), "{e}");
    }

    #[test]
    fn schema_numeric_rejects_text_with_line_and_column() {
        let t = table("x,y\n1,a\n2x,b\n").unwrap();
        let mut s = SchemaFile::default();
        s.types.insert("x".into(), ColType::Numeric);
        let e = prepare(&t, "y", "a", &[], &s).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv: line 3, column 'x': '2x' is not a number, but the schema says this column is numeric"
        );
        // Without the schema it is inferred categorical.
        let d = prepare(&t, "y", "a", &[], &SchemaFile::default()).unwrap();
        assert_eq!(d.features[0].2, ColType::Categorical);
    }

    #[test]
    fn ragged_and_empty() {
        let e = table("a,b\n1\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2: 1 fields, but the header has 2");
        let e = table("a,b\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: CSV has a header but no data rows");
    }

    #[test]
    fn a_bad_row_stops_loading_with_file_and_line() {
        let bytes = b"x,y\n1,a\n\xff,b\n3,a\n";
        let e = Table::parse_bytes(Path::new("t.csv"), bytes, String::new())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv: line 3: not valid UTF-8 text");
        let e = table("x,y\n1,a\n2,b\"\n3,a\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv: line 3, column 4: stray quote, or text after a closing quote"
        );
        let t = table("x\ty\n1\ta\n\t\n2\tb\n").unwrap();
        assert_eq!(t.lines(), vec![2, 3, 4]);
        assert_eq!(
            (t.texts(0).unwrap().text(1), t.texts(1).unwrap().text(1)),
            ("", "")
        );
    }
}
