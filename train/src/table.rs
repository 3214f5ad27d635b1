//! A labelled CSV held as typed columns, read in one streaming pass.
//!
//! The file is read in chunks through the runtime's [`CsvReader`] (its
//! record limits, its errors naming line and column) and hashed on the way;
//! it is never held whole, and no row is kept as text cells. Each column
//! becomes one of:
//!
//! - [`Column::Text`]: a code per row into a dictionary of the column's
//!   distinct (trimmed) texts, in order of first appearance. Every column
//!   starts so. Text (categorical) columns stay so, and so do columns of
//!   numbers with few distinct texts (codes, ages, counts), which keeps
//!   their original text ("1.0" stays "1.0").
//! - [`Column::Numbers`]: once a column has more than [`NUMBER_TEXTS`]
//!   distinct texts and every one is a finite number or missing, its values
//!   as `str::parse::<f64>` gives them (NaN for a missing cell), and no text.
//!
//! A `Numbers` column that meets a text that is no number (after the switch)
//! is read again as text after the pass, so its early cells keep their
//! text: the one case with a second pass. Text of a `Numbers` column asked
//! for later ([`Table::texts`]: a categorical schema over numbers, a
//! protected column's groups) is read from the file the same way, once, and
//! checked against the file's SHA-256.
//!
//! [`Cells`] turns cells into a schema's values exactly as
//! `Schema::parse_value(i, RawValue::Text(cell))` does, each distinct text
//! parsed once.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ferrisk::csv::{is_missing, CsvEvent, CsvReader};
use ferrisk::schema::{RawValue, Schema, Value};
use ferrisk::{CsvError, ScoreError};
use sha2::{Digest, Sha256};

use crate::data::DataError;

/// Distinct texts a column of numbers keeps as a dictionary; beyond that it
/// holds its values instead.
pub const NUMBER_TEXTS: usize = 1024;

/// Bytes read from a file at a time.
const CHUNK: usize = 256 * 1024;

/// Dictionary codes, one per row, in the narrowest width the dictionary
/// needs (one byte for up to 256 texts).
#[derive(Debug, Clone, PartialEq)]
pub enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Codes::U8(Vec::new())
    }
}

impl Codes {
    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of row `r`.
    pub fn get(&self, r: usize) -> Option<u32> {
        match self {
            Codes::U8(v) => v.get(r).map(|&c| u32::from(c)),
            Codes::U16(v) => v.get(r).map(|&c| u32::from(c)),
            Codes::U32(v) => v.get(r).copied(),
        }
    }

    /// Every row's code, in row order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(move |r| self.get(r).unwrap_or(0))
    }

    /// Appends `code`, widening the codes when it does not fit.
    fn push(&mut self, code: u32) {
        match self {
            Codes::U8(v) => match u8::try_from(code) {
                Ok(c) => v.push(c),
                Err(_) => {
                    let mut w: Vec<u16> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    w.extend(v.iter().map(|&c| u16::from(c)));
                    *self = Codes::U16(w);
                    self.push(code);
                }
            },
            Codes::U16(v) => match u16::try_from(code) {
                Ok(c) => v.push(c),
                Err(_) => {
                    let mut w: Vec<u32> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    w.extend(v.iter().map(|&c| u32::from(c)));
                    w.push(code);
                    *self = Codes::U32(w);
                }
            },
            Codes::U32(v) => v.push(code),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
        }
    }

    /// Bytes held.
    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
        }
    }
}

/// A column as dictionary codes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextColumn {
    /// One per row: an index into `dict`.
    pub codes: Codes,
    /// The distinct trimmed texts, in order of first appearance.
    pub dict: Vec<Box<str>>,
}

impl TextColumn {
    /// The trimmed text of row `r` (empty past the end).
    pub fn text(&self, r: usize) -> &str {
        self.codes
            .get(r)
            .and_then(|c| self.dict.get(c as usize))
            .map_or("", |s| s)
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Text(TextColumn),
    /// Every cell missing or a finite number: `str::parse::<f64>` of the
    /// trimmed cell, NaN for a missing one (`""`, `NA`, `?`).
    Numbers(Vec<f64>),
}

/// Where the table's bytes can be read again.
#[derive(Debug, Clone)]
enum Source {
    File,
    Memory(Arc<[u8]>),
}

/// A CSV file held as typed columns.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    columns: Vec<Column>,
    /// Line number (1-based) of each row in the file.
    lines: Vec<u32>,
    source: Source,
    /// The text of `Numbers` columns, read again when first asked for.
    texts: Vec<OnceLock<Result<TextColumn, String>>>,
}

/// One column while the file is read.
enum Builder {
    Text {
        col: TextColumn,
        index: HashMap<Box<str>, u32>,
        /// The value of each dictionary entry while every one is a number
        /// or missing (NaN); cleared at the first other text.
        values: Vec<f64>,
        numeric: bool,
        /// Never switch to numbers.
        keep: bool,
    },
    Numbers(Vec<f64>),
    /// Was `Numbers` when a text that is no number came: rows so far.
    Lost(usize),
}

/// A trimmed cell as a number: NaN when missing, `None` when it is text.
fn number(cell: &str) -> Option<f64> {
    if is_missing(cell) {
        return Some(f64::NAN);
    }
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Builder {
    fn new(keep: bool) -> Builder {
        Builder::Text {
            col: TextColumn::default(),
            index: HashMap::new(),
            values: Vec::new(),
            numeric: true,
            keep,
        }
    }

    fn push(&mut self, cell: &str) {
        match self {
            Builder::Text {
                col,
                index,
                values,
                numeric,
                keep,
            } => {
                let code = match index.get(cell) {
                    Some(&c) => c,
                    None => {
                        // Rows are at most u32::MAX (checked by the reader),
                        // so a new code always fits.
                        let c = u32::try_from(index.len()).unwrap_or(u32::MAX);
                        if *numeric {
                            match number(cell) {
                                Some(v) => values.push(v),
                                None => {
                                    *numeric = false;
                                    *values = Vec::new();
                                }
                            }
                        }
                        index.insert(cell.into(), c);
                        c
                    }
                };
                col.codes.push(code);
                if *numeric && !*keep && index.len() > NUMBER_TEXTS {
                    let v = col
                        .codes
                        .iter()
                        .map(|c| values.get(c as usize).copied().unwrap_or(f64::NAN))
                        .collect();
                    *self = Builder::Numbers(v);
                }
            }
            Builder::Numbers(v) => match number(cell) {
                Some(x) => v.push(x),
                None => *self = Builder::Lost(v.len() + 1),
            },
            Builder::Lost(n) => *n += 1,
        }
    }

    /// The column, or `None` when lost.
    fn finish(self) -> Option<Column> {
        match self {
            Builder::Text { mut col, index, .. } => {
                let mut dict: Vec<Box<str>> = vec![Box::from(""); index.len()];
                for (text, code) in index {
                    if let Some(slot) = dict.get_mut(code as usize) {
                        *slot = text;
                    }
                }
                col.dict = dict;
                col.codes.shrink_to_fit();
                Some(Column::Text(col))
            }
            Builder::Numbers(mut v) => {
                v.shrink_to_fit();
                Some(Column::Numbers(v))
            }
            Builder::Lost(_) => None,
        }
    }
}

/// What [`stream`] hands on.
enum Item<'x> {
    Header(&'x [String]),
    /// A row's line and trimmed cells.
    Row(u32, &'x [String]),
}

/// Streams CSV bytes from `input` through the runtime's reader, calling
/// `on` with the header and then every row. The first bad row stops the
/// reading with its error. Returns the hex SHA-256 of the bytes.
fn stream(
    path: &Path,
    input: &mut dyn Read,
    on: &mut dyn FnMut(Item<'_>),
) -> Result<String, DataError> {
    let csv_err = |source| DataError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = CsvReader::new();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut blank = true;
    let mut seen_header = false;
    let mut rows = 0usize;
    let mut done = false;
    while !done {
        let n = input.read(&mut buf).map_err(io_err)?;
        let chunk = buf.get(..n).unwrap_or_default();
        if n == 0 {
            reader.finish();
            done = true;
        } else {
            hasher.update(chunk);
            blank &= chunk.iter().all(u8::is_ascii_whitespace);
            reader.push(chunk);
        }
        while let Some(event) = reader.next_event() {
            match event {
                CsvEvent::Header(names) => {
                    seen_header = true;
                    on(Item::Header(&names));
                }
                CsvEvent::Row { line, mut fields } => {
                    let line = u32::try_from(line).map_err(|_| DataError::Schema {
                        path: path.to_path_buf(),
                        message: format!("line {line}: more lines than a table can hold"),
                    })?;
                    for f in &mut fields {
                        let t = f.trim();
                        if t.len() != f.len() {
                            *f = t.to_string();
                        }
                    }
                    on(Item::Row(line, &fields));
                    rows += 1;
                }
                CsvEvent::RowError { error, .. } => return Err(csv_err(error)),
                CsvEvent::Fatal(error) => {
                    if blank && !done {
                        // A file of blank space only is "empty", whatever
                        // the reader said about its start.
                        let mut rest = Vec::new();
                        input.read_to_end(&mut rest).map_err(io_err)?;
                        blank &= rest.iter().all(u8::is_ascii_whitespace);
                    }
                    if blank {
                        return Err(DataError::Empty {
                            path: path.to_path_buf(),
                        });
                    }
                    return Err(csv_err(error));
                }
            }
        }
    }
    if blank {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if !seen_header {
        return Err(csv_err(CsvError::Empty));
    }
    if rows == 0 {
        return Err(csv_err(CsvError::NoRows));
    }
    let digest: [u8; 32] = hasher.finalize().into();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

impl Table {
    /// Reads a CSV file in one streaming pass (two when a column of many
    /// numbers turns out to hold text: see the module docs).
    pub fn read(path: &Path) -> Result<Table, DataError> {
        Table::load(path, Source::File, None)
    }

    /// A table from CSV text in memory (`sha256` is recorded as given).
    pub fn parse(path: &Path, text: &str, sha256: String) -> Result<Table, DataError> {
        Table::parse_bytes(path, text.as_bytes(), sha256)
    }

    /// [`Table::parse`] for bytes not known to be UTF-8: a row that is not
    /// UTF-8 is an error naming its line. Any bad row (ragged, bad quoting,
    /// over a size limit) is an error naming the file and the line:
    /// training on silently filtered rows would mislead.
    pub fn parse_bytes(path: &Path, bytes: &[u8], sha256: String) -> Result<Table, DataError> {
        Table::load(path, Source::Memory(Arc::from(bytes)), Some(sha256))
    }

    fn open(&self) -> Result<Box<dyn Read + '_>, DataError> {
        open(&self.path, &self.source)
    }

    fn load(path: &Path, source: Source, sha256: Option<String>) -> Result<Table, DataError> {
        let mut input = open(path, &source)?;
        let mut header = Vec::new();
        let mut builders: Vec<Builder> = Vec::new();
        let mut lines: Vec<u32> = Vec::new();
        let hash = stream(path, &mut input, &mut |item| match item {
            Item::Header(names) => {
                header = names.to_vec();
                builders = names.iter().map(|_| Builder::new(false)).collect();
            }
            Item::Row(line, fields) => {
                for (b, f) in builders.iter_mut().zip(fields) {
                    b.push(f);
                }
                lines.push(line);
            }
        })?;
        drop(input);
        lines.shrink_to_fit();
        let width = builders.len();
        let mut table = Table {
            path: path.to_path_buf(),
            header,
            sha256: sha256.unwrap_or(hash),
            columns: Vec::with_capacity(width),
            lines,
            source,
            texts: (0..width).map(|_| OnceLock::new()).collect(),
        };
        let mut lost = Vec::new();
        for (c, b) in builders.into_iter().enumerate() {
            match b.finish() {
                Some(col) => table.columns.push(col),
                None => {
                    lost.push(c);
                    table.columns.push(Column::Numbers(Vec::new()));
                }
            }
        }
        if !lost.is_empty() {
            for (c, col) in lost.iter().zip(table.read_texts(&lost)?) {
                if let Some(slot) = table.columns.get_mut(*c) {
                    *slot = Column::Text(col);
                }
            }
        }
        Ok(table)
    }

    /// Reads the text of `cols` from the file again (one pass for all).
    fn read_texts(&self, cols: &[usize]) -> Result<Vec<TextColumn>, DataError> {
        let mut input = self.open()?;
        let mut builders: Vec<(usize, Builder)> =
            cols.iter().map(|&c| (c, Builder::new(true))).collect();
        let mut rows = 0usize;
        let hash = stream(&self.path, &mut input, &mut |item| {
            if let Item::Row(_, fields) = item {
                for (c, b) in &mut builders {
                    b.push(fields.get(*c).map_or("", String::as_str));
                }
                rows += 1;
            }
        })?;
        let changed = match &self.source {
            Source::File => hash != self.sha256,
            Source::Memory(_) => false,
        };
        if changed || rows != self.rows() {
            return Err(DataError::Schema {
                path: self.path.clone(),
                message: "the file changed while it was being read".into(),
            });
        }
        Ok(builders
            .into_iter()
            .map(|(_, b)| match b.finish() {
                Some(Column::Text(t)) => t,
                _ => TextColumn::default(),
            })
            .collect())
    }

    /// Rows (the header not counted).
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// Line (1-based) of row `r` in the file.
    pub fn line(&self, r: usize) -> usize {
        self.lines.get(r).map_or(0, |&l| l as usize)
    }

    /// The line of every row.
    pub fn lines(&self) -> Vec<usize> {
        self.lines.iter().map(|&l| l as usize).collect()
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cells of column `c`, as held.
    pub fn data(&self, c: usize) -> Option<&Column> {
        self.columns.get(c)
    }

    /// The text of column `c`: as held, or for a `Numbers` column read again
    /// from the file (once).
    pub fn texts(&self, c: usize) -> Result<&TextColumn, DataError> {
        let Some(slot) = self.texts.get(c) else {
            return Err(DataError::Schema {
                path: self.path.clone(),
                message: format!("no column {}", c + 1),
            });
        };
        match self.columns.get(c) {
            Some(Column::Text(t)) => Ok(t),
            _ => slot
                .get_or_init(|| {
                    self.read_texts(&[c])
                        .map_err(|e| e.to_string())
                        .map(|mut v| v.pop().unwrap_or_default())
                })
                .as_ref()
                .map_err(|message| DataError::Schema {
                    path: self.path.clone(),
                    message: message.clone(),
                }),
        }
    }

    /// The text of every cell of row `r` (for tools and tests: one row at a
    /// time, columns of numbers read again from the file once).
    pub fn row_texts(&self, r: usize) -> Result<Vec<String>, DataError> {
        (0..self.header.len())
            .map(|c| Ok(self.texts(c)?.text(r).to_string()))
            .collect()
    }

    /// Whether row `r` of column `c` is missing (`""`, `NA`, `?`).
    pub fn missing(&self, r: usize, c: usize) -> bool {
        match self.columns.get(c) {
            Some(Column::Numbers(v)) => v.get(r).is_none_or(|x| x.is_nan()),
            Some(Column::Text(t)) => is_missing(t.text(r)),
            None => true,
        }
    }

    /// Bytes the columns and line numbers hold (their heap), for the
    /// memory benchmark and tests.
    pub fn heap_bytes(&self) -> usize {
        let cols: usize = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Numbers(v) => v.capacity() * 8,
                Column::Text(t) => {
                    t.codes.heap_bytes() + t.dict.iter().map(|s| s.len() + 16).sum::<usize>()
                }
            })
            .sum();
        cols + self.lines.capacity() * 4
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn open<'a>(path: &Path, source: &'a Source) -> Result<Box<dyn Read + 'a>, DataError> {
    Ok(match source {
        Source::File => Box::new(std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?),
        Source::Memory(bytes) => Box::new(&bytes[..]),
    })
}

/// How one feature's cells become values.
enum Plan<'a> {
    /// A numeric feature over a column of numbers.
    Numbers(&'a [f64]),
    /// Any feature over a column's dictionary: each entry parsed once.
    Dict(&'a Codes, Vec<Result<Value, ScoreError>>),
}

/// Parses table cells into a schema's values exactly as
/// `Schema::parse_value(i, RawValue::Text(cell))` does (a number's text
/// parses to the f64 the column holds: `num::parse_f64` is
/// `str::parse::<f64>`), in table column order, which is the order
/// `Scorer::parse_row` meets them (so the same first error).
pub struct Cells<'a> {
    schema: &'a Schema,
    plans: Vec<(usize, Plan<'a>)>,
}

impl<'a> Cells<'a> {
    /// `pairs`: (feature index of `schema`, table column).
    pub fn new(
        schema: &'a Schema,
        table: &'a Table,
        pairs: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<Cells<'a>, DataError> {
        let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
        pairs.sort_by_key(|&(_, c)| c);
        let mut plans = Vec::with_capacity(pairs.len());
        for (i, c) in pairs {
            let numeric = matches!(
                schema.features.get(i).map(|f| &f.kind),
                Some(ferrisk::schema::FeatureKind::Numeric(_))
            );
            let plan = match table.data(c) {
                Some(Column::Numbers(v)) if numeric => Plan::Numbers(v),
                _ => {
                    let t = table.texts(c)?;
                    let values = t
                        .dict
                        .iter()
                        .map(|text| schema.parse_value(i, RawValue::Text(text)))
                        .collect();
                    Plan::Dict(&t.codes, values)
                }
            };
            plans.push((i, plan));
        }
        Ok(Cells { schema, plans })
    }

    /// For `map` of `Scorer::map_header(&table.header)`.
    pub fn mapped(
        schema: &'a Schema,
        table: &'a Table,
        map: &[Option<usize>],
    ) -> Result<Cells<'a>, DataError> {
        Cells::new(
            schema,
            table,
            map.iter()
                .enumerate()
                .filter_map(|(c, slot)| slot.map(|i| (i, c))),
        )
    }

    /// The values of row `r`, one per schema feature (missing where no
    /// column maps to it); the first cell that does not parse is the error.
    pub fn row(&self, r: usize, out: &mut Vec<Value>) -> Result<(), ScoreError> {
        out.clear();
        out.resize(self.schema.features.len(), Value::Missing);
        for (i, plan) in &self.plans {
            let v = self.cell(*i, plan, r)?;
            if let Some(slot) = out.get_mut(*i) {
                *slot = v;
            }
        }
        Ok(())
    }

    /// [`Cells::row`] with a cell that does not parse taken as missing.
    pub fn row_lenient(&self, r: usize, out: &mut Vec<Value>) {
        out.clear();
        out.resize(self.schema.features.len(), Value::Missing);
        for (i, plan) in &self.plans {
            if let (Ok(v), Some(slot)) = (self.cell(*i, plan, r), out.get_mut(*i)) {
                *slot = v;
            }
        }
    }

    fn cell(&self, i: usize, plan: &Plan<'_>, r: usize) -> Result<Value, ScoreError> {
        Ok(match plan {
            Plan::Numbers(v) => match v.get(r) {
                Some(x) if !x.is_nan() => self.schema.parse_value(i, RawValue::Number(*x))?,
                _ => Value::Missing,
            },
            Plan::Dict(codes, values) => match codes.get(r).and_then(|c| values.get(c as usize)) {
                Some(Ok(v)) => v.clone(),
                Some(Err(e)) => return Err(e.clone()),
                None => Value::Missing,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_widen_as_the_dictionary_grows_and_keep_every_code() {
        let mut codes = Codes::default();
        let want: Vec<u32> = (0..70_000u32)
            .map(|i| if i % 2 == 0 { i } else { i / 3 })
            .collect();
        let mut widths = Vec::new();
        for &c in &want {
            codes.push(c);
            let w = match &codes {
                Codes::U8(_) => 1,
                Codes::U16(_) => 2,
                Codes::U32(_) => 4,
            };
            if widths.last() != Some(&w) {
                widths.push(w);
            }
        }
        assert_eq!(widths, [1, 2, 4]);
        assert_eq!(codes.iter().collect::<Vec<_>>(), want);
        assert_eq!(codes.get(want.len()), None);
    }
}
