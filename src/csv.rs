//! A small CSV *reader* (RFC 4180 quoting, `,` `;` or tab, LF or CRLF, BOM).
//!
//! The runtime reads labelled CSV in the browser (`evaluate`, batch scoring)
//! and natively; the trainer reads through the same code so both agree on
//! every file. Writing CSV is deliberately not here: that is the CLI's job.
//!
//! There is one parser, [`CsvReader`]. It is fed bytes in chunks of any size
//! (a chunk may end inside a quoted field, inside a multi-byte UTF-8
//! character or between `\r` and `\n`) and hands out [`CsvEvent`]s: the
//! header, then one row or one row error per record. A bad row does not stop
//! the reading; a bad header does. [`CsvText`] is the same reader over a
//! text held in memory.
//!
//! Architecture invariant: the reader holds at most one pending record
//! (bounded by [`CsvLimits::max_record_bytes`]) plus the unread part of the
//! chunks pushed so far; it never needs the whole input.

use crate::error::CsvError;

/// Values that mean "missing" in a cell, compared after trimming.
pub const MISSING_TOKENS: [&str; 3] = ["", "NA", "?"];

/// True when a trimmed cell stands for a missing value.
pub fn is_missing(cell: &str) -> bool {
    let t = cell.trim();
    MISSING_TOKENS.contains(&t)
}

/// Picks the delimiter from the header line: the most frequent of `,` `;` tab
/// outside quotes; `,` when none occurs.
pub fn detect_delimiter(header: &str) -> u8 {
    delimiter_of(header.as_bytes())
}

fn delimiter_of(line: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut in_quotes = false;
    for &b in line {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    let mut best = (b',', 0);
    for (d, n) in counts {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Validates a header row: no empty and no duplicate names. Returns trimmed names.
pub fn check_header(fields: Vec<String>) -> Result<Vec<String>, CsvError> {
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let name = f.trim().to_string();
        if name.is_empty() {
            return Err(CsvError::EmptyHeader { column: i + 1 });
        }
        if names.contains(&name) {
            return Err(CsvError::DuplicateHeader { name });
        }
        names.push(name);
    }
    Ok(names)
}

/// Size limits on one record (the header included). A record over a limit
/// is reported once and skipped; the header over a limit is fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvLimits {
    /// Bytes of one record, quotes and delimiters included, its final line
    /// break excluded. Default 1 MiB.
    pub max_record_bytes: usize,
    /// Fields in one record. Default 10 000.
    pub max_fields: usize,
}

impl Default for CsvLimits {
    fn default() -> Self {
        CsvLimits {
            max_record_bytes: 1 << 20,
            max_fields: 10_000,
        }
    }
}

/// What the reader found. Line numbers count physical lines from 1, the
/// header and blank lines included, and name the line a record starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvEvent {
    /// The checked, trimmed column names. Always the first event.
    Header(Vec<String>),
    /// A record with as many fields as the header, cells untrimmed.
    Row { line: usize, fields: Vec<String> },
    /// A record that cannot be used (ragged, bad quoting, not UTF-8, over a
    /// limit). Reading goes on with the next record.
    RowError { line: usize, error: CsvError },
    /// The header is missing or bad. Nothing follows.
    Fatal(CsvError),
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Where the reader is in its input.
#[derive(Debug)]
enum Phase {
    /// Nothing read yet: does the input start with a BOM?
    Start,
    /// Skipping blank lines up to the header line, which starts on `line`.
    Preamble { line: usize },
    /// Reading records (the header first) with a known delimiter.
    Records(Tokenizer),
    /// End of input reached or a fatal error: nothing more comes.
    Done,
}

/// The chunk-fed CSV reader.
///
/// ```
/// use ferrisk::csv::{CsvEvent, CsvReader};
/// let mut r = CsvReader::new();
/// let mut rows = Vec::new();
/// for chunk in [&b"name;ci"[..], b"ty\nAnna;Z\xC3", b"\xBCrich\r", b"\n"] {
///     r.push(chunk);
///     while let Some(event) = r.next_event() {
///         rows.push(event);
///     }
/// }
/// r.finish();
/// rows.extend(std::iter::from_fn(|| r.next_event()));
/// assert_eq!(r.delimiter(), Some(b';'));
/// assert_eq!(rows[1], CsvEvent::Row { line: 2, fields: vec!["Anna".into(), "Zürich".into()] });
/// ```
///
/// Drain [`CsvReader::next_event`] until it returns `None` after each
/// [`CsvReader::push`]: bytes stay buffered until they are read.
#[derive(Debug)]
pub struct CsvReader {
    limits: CsvLimits,
    /// Bytes pushed and not yet read, from `pos` on.
    input: Vec<u8>,
    pos: usize,
    /// Before the header: how far `input` was searched for a line break.
    scan: usize,
    /// Bytes read and dropped from the front of `input`.
    dropped: u64,
    phase: Phase,
    delim: Option<u8>,
    header: Option<Vec<String>>,
    finished: bool,
}

impl Default for CsvReader {
    fn default() -> Self {
        CsvReader::new()
    }
}

/// What one step of reading before the header led to.
enum Next {
    Wait,
    Go,
    Event(CsvEvent),
}

impl CsvReader {
    /// A reader with the default [`CsvLimits`]; the delimiter is detected
    /// from the header line.
    pub fn new() -> Self {
        CsvReader::with_limits(CsvLimits::default())
    }

    /// A reader with the given size limits per record.
    pub fn with_limits(limits: CsvLimits) -> Self {
        CsvReader {
            limits,
            input: Vec::new(),
            pos: 0,
            scan: 0,
            dropped: 0,
            phase: Phase::Start,
            delim: None,
            header: None,
            finished: false,
        }
    }

    /// Buffers the next chunk of input. Ignored after [`CsvReader::finish`]
    /// or a fatal error.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.finished || matches!(self.phase, Phase::Done) {
            return;
        }
        if self.pos > 0 {
            let used = self.pos.min(self.input.len());
            self.input.drain(..used);
            self.dropped += used as u64;
            self.pos = 0;
            self.scan = self.scan.saturating_sub(used);
        }
        self.input.extend_from_slice(chunk);
    }

    /// Marks the end of input: the last record no longer needs a line break,
    /// and an open quote becomes an error.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// The next event, or `None` when more input is needed (or, after
    /// [`CsvReader::finish`], when everything has been read).
    pub fn next_event(&mut self) -> Option<CsvEvent> {
        loop {
            match &self.phase {
                Phase::Done => return None,
                Phase::Start => {
                    let rest = self.input.get(self.pos..).unwrap_or_default();
                    if rest.starts_with(&BOM) {
                        self.pos += BOM.len();
                    } else if BOM.starts_with(rest) && !self.finished {
                        return None;
                    }
                    self.scan = self.pos;
                    self.phase = Phase::Preamble { line: 1 };
                }
                Phase::Preamble { line } => match self.preamble(*line) {
                    Next::Wait => return None,
                    Next::Go => {}
                    Next::Event(e) => return Some(e),
                },
                Phase::Records(_) => {
                    let record = self.next_record()?;
                    if let Some(event) = self.event(record) {
                        return Some(event);
                    }
                }
            }
        }
    }

    /// The column names, once the header has been read.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The delimiter, once the header line has been seen.
    pub fn delimiter(&self) -> Option<u8> {
        self.delim
    }

    /// Bytes of input read so far (BOM and blank lines included), for
    /// progress reports.
    pub fn bytes_consumed(&self) -> u64 {
        self.dropped + self.pos as u64
    }

    /// Skips blank lines; at the first other line, picks the delimiter.
    fn preamble(&mut self, line: usize) -> Next {
        let newline = self
            .input
            .get(self.scan..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map(|i| self.scan + i);
        let end = match newline {
            Some(end) => end,
            None => {
                self.scan = self.input.len();
                // A `\r` at the end of the input may be the first half of a
                // CRLF split across chunks: it is not part of the record.
                let cr = usize::from(self.input.last() == Some(&b'\r'));
                let pending = self.input.len().saturating_sub(self.pos + cr);
                if pending > self.limits.max_record_bytes {
                    let limit = self.limits.max_record_bytes;
                    return Next::Event(self.stop(CsvError::RecordTooLong { line, limit }));
                }
                if !self.finished {
                    return Next::Wait;
                }
                self.input.len()
            }
        };
        let text = self.input.get(self.pos..end).unwrap_or_default();
        if is_blank(text) {
            if newline.is_none() {
                return Next::Event(self.stop(CsvError::Empty));
            }
            self.pos = end + 1;
            self.scan = self.pos;
            self.phase = Phase::Preamble { line: line + 1 };
            return Next::Go;
        }
        let delim = delimiter_of(text);
        self.delim = Some(delim);
        self.phase = Phase::Records(Tokenizer::new(delim, self.limits, line));
        Next::Go
    }

    /// Reads bytes up to the end of the next record.
    fn next_record(&mut self) -> Option<Record> {
        let Phase::Records(tok) = &mut self.phase else {
            return None;
        };
        while let Some(rest) = self.input.get(self.pos..).filter(|r| !r.is_empty()) {
            let (used, record) = tok.read(rest);
            self.pos += used;
            if record.is_some() {
                return record;
            }
        }
        self.dropped += self.pos as u64;
        self.pos = 0;
        self.input.clear();
        if !self.finished {
            return None;
        }
        let record = tok.finish();
        self.phase = Phase::Done;
        record
    }

    /// Turns a record into an event; `None` for a blank line.
    fn event(&mut self, record: Record) -> Option<CsvEvent> {
        let Record {
            line,
            fields,
            blank,
            error,
        } = record;
        let Some(header) = &self.header else {
            let header = match error {
                Some(e) => Err(e),
                None => strings(fields, line),
            }
            .and_then(check_header);
            return Some(match header {
                Ok(names) => {
                    self.header = Some(names.clone());
                    CsvEvent::Header(names)
                }
                Err(e) => self.stop(e),
            });
        };
        if let Some(error) = error {
            return Some(CsvEvent::RowError { line, error });
        }
        if blank {
            return None;
        }
        let fields = match strings(fields, line) {
            Ok(fields) => fields,
            Err(error) => return Some(CsvEvent::RowError { line, error }),
        };
        if fields.len() != header.len() {
            let error = CsvError::Ragged {
                line,
                expected: header.len(),
                found: fields.len(),
            };
            return Some(CsvEvent::RowError { line, error });
        }
        Some(CsvEvent::Row { line, fields })
    }

    /// Stops reading for good and drops the buffered input.
    fn stop(&mut self, error: CsvError) -> CsvEvent {
        self.dropped += self.pos as u64;
        self.pos = 0;
        self.input = Vec::new();
        self.phase = Phase::Done;
        CsvEvent::Fatal(error)
    }
}

/// Blank: empty or (Unicode) whitespace only.
fn is_blank(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.trim().is_empty())
}

fn strings(fields: Vec<Vec<u8>>, line: usize) -> Result<Vec<String>, CsvError> {
    fields
        .into_iter()
        .map(|f| String::from_utf8(f).map_err(|_| CsvError::InvalidUtf8 { line }))
        .collect()
}

/// A record as the tokenizer ends it, before UTF-8 and field-count checks.
#[derive(Debug)]
struct Record {
    line: usize,
    fields: Vec<Vec<u8>>,
    /// No quote, no delimiter, only whitespace.
    blank: bool,
    /// The first problem found; the fields are then empty.
    error: Option<CsvError>,
}

/// Where the tokenizer is inside the current field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Nothing but whitespace yet: a quote here opens a quoted field.
    Start,
    /// Inside an unquoted field.
    Plain,
    /// Inside a quoted field.
    Quoted,
    /// After the closing quote (or the first of a doubled quote).
    Closed,
}

/// Splits bytes into records with a known delimiter, one byte at a time.
/// Delimiters, quotes and line breaks are ASCII, so a UTF-8 sequence never
/// holds one and a chunk may end anywhere.
#[derive(Debug)]
struct Tokenizer {
    delim: u8,
    limits: CsvLimits,
    /// Current physical line and column (in characters) on it.
    line: usize,
    column: usize,
    /// Line the pending record started on, and its size in bytes so far.
    start_line: usize,
    size: usize,
    fields: Vec<Vec<u8>>,
    field: Vec<u8>,
    state: Field,
    /// The pending record has used a quote (so it is not blank).
    quoted: bool,
    /// A `\r` was held back to see whether `\n` follows.
    cr: bool,
    /// Once set, the rest of the record is skipped (quotes still tracked,
    /// so the record ends at the next unquoted line break).
    error: Option<CsvError>,
}

impl Tokenizer {
    fn new(delim: u8, limits: CsvLimits, line: usize) -> Self {
        Tokenizer {
            delim,
            limits,
            line,
            column: 0,
            start_line: line,
            size: 0,
            fields: Vec::new(),
            field: Vec::new(),
            state: Field::Start,
            quoted: false,
            cr: false,
            error: None,
        }
    }

    /// Reads one byte; returns the record this byte ends, if any.
    fn push_byte(&mut self, b: u8) -> Option<Record> {
        if std::mem::take(&mut self.cr) && b != b'\n' {
            self.step(b'\r');
        }
        match b {
            b'\r' => {
                self.cr = true;
                None
            }
            b'\n' if self.state != Field::Quoted => Some(self.end_record()),
            _ => {
                self.step(b);
                None
            }
        }
    }

    /// Reads bytes up to the end of the first record they end. Returns how
    /// many bytes were read and that record.
    fn read(&mut self, bytes: &[u8]) -> (usize, Option<Record>) {
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            i += 1;
            if let Some(record) = self.push_byte(b) {
                return (i, Some(record));
            }
            // Fast path: inside a field, copy the run up to the next byte
            // that may change the state, within the size limit.
            if matches!(self.state, Field::Plain | Field::Quoted)
                && !self.cr
                && self.error.is_none()
            {
                let rest = bytes.get(i..).unwrap_or_default();
                let room = self.limits.max_record_bytes.saturating_sub(self.size);
                let n = rest
                    .iter()
                    .take(room)
                    .position(|&c| c == self.delim || matches!(c, b'"' | b'\r' | b'\n'))
                    .unwrap_or(rest.len().min(room));
                let run = rest.get(..n).unwrap_or_default();
                self.field.extend_from_slice(run);
                self.size += n;
                self.column += run.iter().filter(|&&c| c & 0xC0 != 0x80).count();
                i += n;
            }
        }
        (i, None)
    }

    /// End of input: ends the pending record, if there is one.
    fn finish(&mut self) -> Option<Record> {
        self.cr = false;
        if self.size == 0 {
            return None;
        }
        if self.state == Field::Quoted {
            self.fail(CsvError::UnclosedQuote {
                line: self.start_line,
            });
        }
        Some(self.end_record())
    }

    /// Any byte but a line break that ends the record.
    fn step(&mut self, b: u8) {
        self.size += 1;
        if b & 0xC0 != 0x80 {
            self.column += 1;
        }
        if self.size > self.limits.max_record_bytes {
            self.fail(CsvError::RecordTooLong {
                line: self.start_line,
                limit: self.limits.max_record_bytes,
            });
        }
        match self.state {
            Field::Quoted => {
                if b == b'"' {
                    self.state = Field::Closed;
                } else {
                    if b == b'\n' {
                        self.line += 1;
                        self.column = 0;
                    }
                    self.keep(b);
                }
            }
            Field::Closed => {
                if b == b'"' {
                    // A doubled quote inside a quoted field: `""` -> `"`.
                    self.keep(b'"');
                    self.state = Field::Quoted;
                } else if b == self.delim {
                    self.end_field();
                } else if b != b' ' {
                    self.stray();
                    self.state = Field::Plain;
                }
            }
            Field::Start | Field::Plain => {
                if b == self.delim {
                    self.end_field();
                } else if b == b'"' {
                    if self.state == Field::Start {
                        self.field.clear();
                        self.quoted = true;
                        self.state = Field::Quoted;
                    } else {
                        self.stray();
                    }
                } else {
                    self.keep(b);
                    if !b.is_ascii_whitespace() {
                        self.state = Field::Plain;
                    }
                }
            }
        }
    }

    fn keep(&mut self, b: u8) {
        if self.error.is_none() {
            self.field.push(b);
        }
    }

    fn stray(&mut self) {
        self.fail(CsvError::StrayQuote {
            line: self.line,
            column: self.column,
        });
    }

    /// Records the record's first error and drops what it held.
    fn fail(&mut self, error: CsvError) {
        if self.error.is_none() {
            self.error = Some(error);
            self.field = Vec::new();
            self.fields = Vec::new();
        }
    }

    fn end_field(&mut self) {
        self.state = Field::Start;
        if self.error.is_some() {
            return;
        }
        // This field and at least one more.
        if self.fields.len().saturating_add(2) > self.limits.max_fields {
            self.fail(CsvError::TooManyFields {
                line: self.start_line,
                limit: self.limits.max_fields,
            });
        } else {
            self.fields.push(std::mem::take(&mut self.field));
        }
    }

    fn end_record(&mut self) -> Record {
        let line = self.start_line;
        let mut error = self.error.take();
        let mut fields = std::mem::take(&mut self.fields);
        let field = std::mem::take(&mut self.field);
        let blank = error.is_none() && !self.quoted && fields.is_empty() && is_blank(&field);
        if error.is_none() {
            if fields.len() >= self.limits.max_fields {
                error = Some(CsvError::TooManyFields {
                    line,
                    limit: self.limits.max_fields,
                });
                fields = Vec::new();
            } else {
                fields.push(field);
            }
        }
        // The next record most likely has as many fields.
        self.fields = Vec::with_capacity(fields.len());
        self.line += 1;
        self.column = 0;
        self.start_line = self.line;
        self.size = 0;
        self.state = Field::Start;
        self.quoted = false;
        Record {
            line,
            fields,
            blank,
            error,
        }
    }
}

/// A whole CSV held in memory, read through [`CsvReader`]: the header, then
/// an iterator of `(line, fields)` rows.
///
/// A bad row (ragged, bad quoting, not UTF-8, over a limit) comes out as an
/// `Err` naming its line, and iteration goes on with the next record; a
/// caller that must not skip rows stops at the first `Err`. Blank lines are
/// skipped. Header problems are the `Err` of [`CsvText::parse`].
#[derive(Debug)]
pub struct CsvText<'a> {
    reader: CsvReader,
    /// Input not yet pushed into the reader.
    rest: &'a [u8],
    header: Vec<String>,
}

/// Bytes handed to the reader at a time, so it never copies a whole text.
const FEED: usize = 64 * 1024;

impl<'a> CsvText<'a> {
    pub fn parse(text: &'a str) -> Result<Self, CsvError> {
        CsvText::from_bytes(text.as_bytes())
    }

    /// Like [`CsvText::parse`] for bytes not known to be UTF-8: a row that
    /// is not UTF-8 is an error for that row only.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, CsvError> {
        let mut csv = CsvText {
            reader: CsvReader::new(),
            rest: bytes,
            header: Vec::new(),
        };
        loop {
            match csv.next_event() {
                Some(CsvEvent::Header(names)) => {
                    csv.header = names;
                    return Ok(csv);
                }
                Some(CsvEvent::Fatal(e)) => return Err(e),
                Some(CsvEvent::Row { .. } | CsvEvent::RowError { .. }) => {}
                None => return Err(CsvError::Empty),
            }
        }
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn delimiter(&self) -> u8 {
        self.reader.delimiter().unwrap_or(b',')
    }

    /// Next row as `(line number, fields)`, or the error of a bad row.
    pub fn next_row(&mut self) -> Option<Result<(usize, Vec<String>), CsvError>> {
        loop {
            match self.next_event()? {
                CsvEvent::Row { line, fields } => return Some(Ok((line, fields))),
                CsvEvent::RowError { error, .. } | CsvEvent::Fatal(error) => {
                    return Some(Err(error))
                }
                CsvEvent::Header(_) => {}
            }
        }
    }

    fn next_event(&mut self) -> Option<CsvEvent> {
        loop {
            if let Some(event) = self.reader.next_event() {
                return Some(event);
            }
            if self.reader.finished {
                return None;
            }
            if self.rest.is_empty() {
                self.reader.finish();
            } else {
                let (chunk, rest) = self.rest.split_at(FEED.min(self.rest.len()));
                self.reader.push(chunk);
                self.rest = rest;
            }
        }
    }
}

impl Iterator for CsvText<'_> {
    type Item = Result<(usize, Vec<String>), CsvError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

/// Deprecated: the former line-at-a-time parser, now a thin layer over the
/// tokenizer of [`CsvReader`]. Use [`CsvReader`]; this remains only until
/// the CLI's `predict` loop moves to it.
///
/// It has no header logic: every record is returned as it is (blank lines
/// included), with the default [`CsvLimits`].
#[derive(Debug)]
pub struct LineParser {
    tok: Tokenizer,
    record_line: usize,
}

impl LineParser {
    pub fn new(delim: u8) -> Self {
        LineParser {
            tok: Tokenizer::new(delim, CsvLimits::default(), 1),
            record_line: 0,
        }
    }

    /// The line (1-based) on which the last returned record started.
    pub fn record_line(&self) -> usize {
        self.record_line
    }

    /// True while a quoted field is open across lines.
    pub fn pending(&self) -> bool {
        self.tok.state == Field::Quoted
    }

    /// Feeds one physical line (without its `\n`; a trailing `\r` is dropped).
    /// Returns the completed record, or `None` when a quoted field continues
    /// on the next line. A record with an error is `Err` once it ends.
    pub fn feed(&mut self, raw: &str) -> Result<Option<Vec<String>>, CsvError> {
        for &b in raw.as_bytes() {
            // A line holds no `\n`, so no record ends inside it.
            if let Some(record) = self.tok.push_byte(b) {
                self.record_line = record.line;
            }
        }
        let Some(record) = self.tok.push_byte(b'\n') else {
            return Ok(None);
        };
        self.record_line = record.line;
        match record.error {
            Some(e) => Err(e),
            None => strings(record.fields, record.line).map(Some),
        }
    }

    /// Call at end of input: an open quote is an error.
    pub fn finish(&self) -> Result<(), CsvError> {
        if self.pending() {
            Err(CsvError::UnclosedQuote {
                line: self.tok.start_line,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), CsvError> {
        let mut csv = CsvText::parse(text)?;
        let header = csv.header().to_vec();
        let mut out = Vec::new();
        for r in &mut csv {
            out.push(r?.1);
        }
        Ok((header, out))
    }

    /// A small linear congruential generator for chunk sizes.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize % n
        }
    }

    /// Feeds `input` in chunks of the sizes `size` gives, draining after
    /// each push; returns every event.
    fn read_with(
        reader: &mut CsvReader,
        input: &[u8],
        mut size: impl FnMut() -> usize,
    ) -> Vec<CsvEvent> {
        let mut out = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(size().clamp(1, rest.len()));
            reader.push(chunk);
            out.extend(std::iter::from_fn(|| reader.next_event()));
            rest = tail;
        }
        reader.finish();
        out.extend(std::iter::from_fn(|| reader.next_event()));
        out
    }

    #[test]
    fn a_header_exactly_at_the_limit_is_accepted_however_the_crlf_is_split() {
        // Found by the fuzzer (fuzz/regressions/csv-4a993640): the `\r` of a
        // CRLF that ended a chunk was counted as part of the header.
        let limits = CsvLimits {
            max_record_bytes: 11,
            max_fields: 10,
        };
        let input = b"alpha,gamma\r\n1,2\r\n";
        let whole = read_with(&mut CsvReader::with_limits(limits), input, || input.len());
        for size in 1..input.len() {
            let got = read_with(&mut CsvReader::with_limits(limits), input, || size);
            assert_eq!(got, whole, "chunks of {size}");
        }
        assert!(matches!(whole.first(), Some(CsvEvent::Header(h)) if h.len() == 2));
    }

    fn events(input: &[u8]) -> Vec<CsvEvent> {
        read_with(&mut CsvReader::new(), input, || usize::MAX)
    }

    fn limited(input: &[u8], limits: CsvLimits, chunk: usize) -> Vec<CsvEvent> {
        read_with(&mut CsvReader::with_limits(limits), input, || chunk)
    }

    fn header(names: &[&str]) -> CsvEvent {
        CsvEvent::Header(names.iter().map(|s| s.to_string()).collect())
    }

    fn row(line: usize, fields: &[&str]) -> CsvEvent {
        CsvEvent::Row {
            line,
            fields: fields.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn row_error(error: CsvError) -> CsvEvent {
        let line = match &error {
            CsvError::Ragged { line, .. }
            | CsvError::UnclosedQuote { line }
            | CsvError::StrayQuote { line, .. }
            | CsvError::InvalidUtf8 { line }
            | CsvError::RecordTooLong { line, .. }
            | CsvError::TooManyFields { line, .. } => *line,
            _ => 0,
        };
        CsvEvent::RowError { line, error }
    }

    /// Every way of cutting `input` into chunks gives `expected`.
    fn same_in_any_chunks(input: &[u8], limits: CsvLimits, expected: &[CsvEvent]) {
        let whole = read_with(&mut CsvReader::with_limits(limits), input, || usize::MAX);
        assert_eq!(whole, expected, "whole input");
        let bytewise = read_with(&mut CsvReader::with_limits(limits), input, || 1);
        assert_eq!(bytewise, expected, "byte by byte");
        for seed in 1..=40u64 {
            let mut lcg = Lcg(seed);
            let max = [3, 8, 17, 64][(seed % 4) as usize];
            let mut reader = CsvReader::with_limits(limits);
            let got = read_with(&mut reader, input, || 1 + lcg.below(max));
            assert_eq!(got, expected, "seed {seed}, chunks up to {max} bytes");
            assert_eq!(reader.bytes_consumed(), input.len() as u64);
        }
    }

    #[test]
    fn chunks_do_not_change_events_comma_crlf_bom() {
        let input = "\u{feff}id,name,note\r\n\
                     1,Zürich,\"two\r\nlines\"\r\n\
                     \r\n\
                     2,北京市,\"say \"\"hi\"\"\"\r\n\
                     3, \"q\" ,\r\n";
        same_in_any_chunks(
            input.as_bytes(),
            CsvLimits::default(),
            &[
                header(&["id", "name", "note"]),
                row(2, &["1", "Zürich", "two\nlines"]),
                row(5, &["2", "北京市", "say \"hi\""]),
                row(6, &["3", "q", ""]),
            ],
        );
    }

    #[test]
    fn chunks_do_not_change_events_semicolon_no_final_newline() {
        let input = "name;city\n\"Müller; Hans\";Zürich\n  \n\"日本\";\"a\"\"b\"";
        same_in_any_chunks(
            input.as_bytes(),
            CsvLimits::default(),
            &[
                header(&["name", "city"]),
                row(2, &["Müller; Hans", "Zürich"]),
                row(4, &["日本", "a\"b"]),
            ],
        );
    }

    #[test]
    fn chunks_do_not_change_events_tab() {
        let input = "a\tb\tc\n1\t\"x\ty\"\t3\n\t\t\n\n 4\t五\t6\r\n";
        same_in_any_chunks(
            input.as_bytes(),
            CsvLimits::default(),
            &[
                header(&["a", "b", "c"]),
                row(2, &["1", "x\ty", "3"]),
                row(3, &["", "", ""]),
                row(5, &[" 4", "五", "6"]),
            ],
        );
    }

    #[test]
    fn bad_rows_are_reported_and_reading_goes_on() {
        let mut input = b"a,b\n1,2\n3\n4,x\"y\n".to_vec();
        input.extend_from_slice(
            b"5,\xff\xfeZ\xc3\n6,7\n\"8\",\"9\"x\n10,11\n\"12\",\"open\n13,14\n",
        );
        same_in_any_chunks(
            &input,
            CsvLimits::default(),
            &[
                header(&["a", "b"]),
                row(2, &["1", "2"]),
                row_error(CsvError::Ragged {
                    line: 3,
                    expected: 2,
                    found: 1,
                }),
                row_error(CsvError::StrayQuote { line: 4, column: 4 }),
                row_error(CsvError::InvalidUtf8 { line: 5 }),
                row(6, &["6", "7"]),
                row_error(CsvError::StrayQuote { line: 7, column: 8 }),
                row(8, &["10", "11"]),
                row_error(CsvError::UnclosedQuote { line: 9 }),
            ],
        );
    }

    #[test]
    fn stray_quote_record_ends_at_next_unquoted_newline() {
        // After the stray quote, `"x\ny"` is still a quoted field, so the
        // bad record spans lines 2-3 and the next row starts on line 4.
        let input = "a,b\n1,ab\"c,\"x\ny\"\n3,z\nZürich\"x,1\n4,w";
        same_in_any_chunks(
            input.as_bytes(),
            CsvLimits::default(),
            &[
                header(&["a", "b"]),
                row_error(CsvError::StrayQuote { line: 2, column: 5 }),
                row(4, &["3", "z"]),
                // The column counts characters, not bytes.
                row_error(CsvError::StrayQuote { line: 5, column: 7 }),
                row(6, &["4", "w"]),
            ],
        );
    }

    #[test]
    fn records_over_limits_are_skipped_once() {
        let limits = CsvLimits {
            max_record_bytes: 16,
            max_fields: 3,
        };
        let long = "x".repeat(40);
        let input = format!(
            "a,b,c\n1,2,3\n{long},1,2\n4,5,6\n1,2,3,4,5,6\n7,8,9\n\"{long}\n{long}\",1,2\n1,,\n"
        );
        same_in_any_chunks(
            input.as_bytes(),
            limits,
            &[
                header(&["a", "b", "c"]),
                row(2, &["1", "2", "3"]),
                row_error(CsvError::RecordTooLong { line: 3, limit: 16 }),
                row(4, &["4", "5", "6"]),
                row_error(CsvError::TooManyFields { line: 5, limit: 3 }),
                row(6, &["7", "8", "9"]),
                row_error(CsvError::RecordTooLong { line: 7, limit: 16 }),
                row(9, &["1", "", ""]),
            ],
        );
    }

    #[test]
    fn tsv_row_of_tabs_is_a_row_and_blank_lines_keep_line_numbers() {
        let input = "\n  \na\tb\tc\n\n   \n\t\t\n\r\n1\t2\t3\n";
        assert_eq!(
            events(input.as_bytes()),
            vec![
                header(&["a", "b", "c"]),
                row(6, &["", "", ""]),
                row(8, &["1", "2", "3"]),
            ]
        );
        // With `,` as delimiter a line of tabs is blank.
        assert_eq!(
            events(b"a,b\n\t\t\n1,2\n"),
            vec![header(&["a", "b"]), row(3, &["1", "2"])]
        );
        // A quoted empty field is not a blank line.
        assert_eq!(events(b"a\n\"\"\n"), vec![header(&["a"]), row(2, &[""])]);
    }

    #[test]
    fn unclosed_quote_at_end_names_start_line() {
        assert_eq!(
            events(b"a,b\n1,2\n3,\"open\nmore\nlines"),
            vec![
                header(&["a", "b"]),
                row(2, &["1", "2"]),
                row_error(CsvError::UnclosedQuote { line: 3 }),
            ]
        );
    }

    #[test]
    fn header_problems_are_fatal_and_end_reading() {
        let fatal = |input: &[u8], error: CsvError| {
            for chunk in [1, 5, usize::MAX] {
                let mut r = CsvReader::new();
                let got = read_with(&mut r, input, || chunk);
                assert_eq!(got, vec![CsvEvent::Fatal(error.clone())], "{input:?}");
                r.push(b"x,y\n1,2\n");
                assert_eq!(r.next_event(), None);
                assert_eq!(r.header(), None);
            }
        };
        fatal(b"", CsvError::Empty);
        fatal(b"\r\n \n\t\n", CsvError::Empty);
        fatal(b"\xEF\xBB\xBF", CsvError::Empty);
        fatal(b"a,,c\n1,2,3\n", CsvError::EmptyHeader { column: 2 });
        fatal(
            b"a;b;a\n1;2;3\n",
            CsvError::DuplicateHeader { name: "a".into() },
        );
        fatal(b"\na,\xffb\n1,2\n", CsvError::InvalidUtf8 { line: 2 });
        fatal(
            b"a,b\"c\n1,2\n",
            CsvError::StrayQuote { line: 1, column: 4 },
        );
        fatal(b"\"a,b\n1,2\n", CsvError::UnclosedQuote { line: 1 });
        let small = CsvLimits {
            max_record_bytes: 8,
            max_fields: 2,
        };
        for chunk in [1, 3, usize::MAX] {
            assert_eq!(
                limited(b"\nabc,defgh,ij\n1,2\n", small, chunk),
                vec![CsvEvent::Fatal(CsvError::RecordTooLong {
                    line: 2,
                    limit: 8
                })]
            );
            assert_eq!(
                limited(b"a,b,c\n1,2\n", small, chunk),
                vec![CsvEvent::Fatal(CsvError::TooManyFields {
                    line: 1,
                    limit: 2
                })]
            );
            // A header line that never ends is stopped at the limit.
            assert_eq!(
                limited(&[b'h'; 100], small, chunk),
                vec![CsvEvent::Fatal(CsvError::RecordTooLong {
                    line: 1,
                    limit: 8
                })]
            );
        }
    }

    #[test]
    fn accessors_and_progress() {
        let mut r = CsvReader::new();
        assert_eq!((r.header(), r.delimiter()), (None, None));
        r.push(b"\xEF\xBB\xBFx;y\n1;2\n3;");
        assert_eq!(r.next_event(), Some(header(&["x", "y"])));
        assert_eq!(r.delimiter(), Some(b';'));
        assert_eq!(r.header(), Some(&["x".to_string(), "y".to_string()][..]));
        assert_eq!(r.bytes_consumed(), 7);
        assert_eq!(r.next_event(), Some(row(2, &["1", "2"])));
        assert_eq!(r.bytes_consumed(), 11);
        assert_eq!(r.next_event(), None);
        assert_eq!(r.bytes_consumed(), 13);
        r.push(b"4");
        r.finish();
        assert_eq!(r.next_event(), Some(row(3, &["3", "4"])));
        assert_eq!(r.next_event(), None);
        assert_eq!(r.bytes_consumed(), 14);
    }

    #[test]
    fn memory_stays_bounded_by_one_record_and_one_chunk() {
        let limits = CsvLimits {
            max_record_bytes: 10_000,
            max_fields: 100,
        };
        let mut r = CsvReader::with_limits(limits);
        let held = |r: &CsvReader| {
            let record = match &r.phase {
                Phase::Records(t) => {
                    t.field.capacity() + t.fields.iter().map(Vec::capacity).sum::<usize>()
                }
                _ => 0,
            };
            r.input.len() + record
        };
        let mut out = Vec::new();
        let mut push = |r: &mut CsvReader, bytes: &[u8]| {
            r.push(bytes);
            out.extend(std::iter::from_fn(|| r.next_event()));
            assert!(held(r) <= 2 * 10_000 + 4096, "holds {} bytes", held(r));
        };
        push(&mut r, b"a,b\n");
        push(&mut r, b"1,\"");
        for _ in 0..1000 {
            push(&mut r, &[b'z'; 4096]);
        }
        push(&mut r, b"\"\n2,3\n");
        r.finish();
        out.extend(std::iter::from_fn(|| r.next_event()));
        assert_eq!(
            out,
            vec![
                header(&["a", "b"]),
                row_error(CsvError::RecordTooLong {
                    line: 2,
                    limit: 10_000
                }),
                row(3, &["2", "3"]),
            ]
        );
    }

    #[test]
    fn quotes_semicolons_crlf_and_bom() {
        let (h, r) = rows("\u{feff}\"a\";\"b\"\r\n1;\"x;y\"\r\n2;\"say \"\"hi\"\"\"\r\n")
            .unwrap_or_default();
        assert_eq!(h, vec!["a", "b"]);
        assert_eq!(r, vec![vec!["1", "x;y"], vec!["2", "say \"hi\""]]);
    }

    #[test]
    fn quoted_newline_spans_lines() {
        let (_, r) = rows("a,b\n1,\"two\nlines\"\n3,x\n").unwrap_or_default();
        assert_eq!(r[0][1], "two\nlines");
        assert_eq!(r[1], vec!["3", "x"]);
    }

    #[test]
    fn ragged_row_names_line_and_the_next_row_follows() {
        let csv = CsvText::parse("a,b\n1,2\n\n3\n4,5\n").unwrap();
        let items: Vec<_> = csv.collect();
        assert_eq!(
            items,
            vec![
                Ok((2, vec!["1".to_string(), "2".to_string()])),
                Err(CsvError::Ragged {
                    line: 4,
                    expected: 2,
                    found: 1
                }),
                Ok((5, vec!["4".to_string(), "5".to_string()])),
            ]
        );
    }

    #[test]
    fn unclosed_quote_and_stray_quote() {
        assert_eq!(
            rows("a,b\n1,\"open\n").err(),
            Some(CsvError::UnclosedQuote { line: 2 })
        );
        assert_eq!(
            rows("a,b\n1,ab\"c\n").err(),
            Some(CsvError::StrayQuote { line: 2, column: 5 })
        );
    }

    #[test]
    fn csv_text_from_bytes_reports_a_bad_row_and_goes_on() {
        let mut csv = CsvText::from_bytes(b"a\tb\n1\t\xe4\n2\tx\n").unwrap();
        assert_eq!(csv.delimiter(), b'\t');
        assert_eq!(csv.next_row(), Some(Err(CsvError::InvalidUtf8 { line: 2 })));
        assert_eq!(
            csv.next_row(),
            Some(Ok((3, vec!["2".to_string(), "x".to_string()])))
        );
        assert_eq!(csv.next_row(), None);
        // Longer than one feed: the chunking inside CsvText is invisible.
        let text = format!("n,s\n{}", "7,\"a\nb\"\n".repeat(20_000));
        let csv = CsvText::parse(&text).unwrap();
        let lines: Vec<usize> = csv.map(|r| r.map(|(l, _)| l).unwrap_or(0)).collect();
        assert_eq!(lines.len(), 20_000);
        assert_eq!(lines.last(), Some(&(2 + 2 * 19_999)));
    }

    #[test]
    fn empty_and_bad_headers() {
        assert_eq!(rows("").err(), Some(CsvError::Empty));
        assert_eq!(rows("\n\n").err(), Some(CsvError::Empty));
        assert_eq!(
            rows("a,,c\n").err(),
            Some(CsvError::EmptyHeader { column: 2 })
        );
        assert_eq!(
            rows("a,a\n").err(),
            Some(CsvError::DuplicateHeader { name: "a".into() })
        );
    }

    #[test]
    fn line_parser_shim_feeds_lines() {
        let mut p = LineParser::new(b',');
        assert_eq!(p.feed("a,b\r"), Ok(Some(vec!["a".into(), "b".into()])));
        assert_eq!(p.feed(""), Ok(Some(vec![String::new()])));
        assert_eq!(p.feed("1,\"two"), Ok(None));
        assert!(p.pending());
        assert_eq!(p.finish(), Err(CsvError::UnclosedQuote { line: 3 }));
        assert_eq!(
            p.feed("lines\""),
            Ok(Some(vec!["1".into(), "two\nlines".into()]))
        );
        assert_eq!(p.record_line(), 3);
        assert_eq!(
            p.feed("x,ab\"c"),
            Err(CsvError::StrayQuote { line: 5, column: 5 })
        );
        assert_eq!(p.feed("y,z"), Ok(Some(vec!["y".into(), "z".into()])));
        assert_eq!(p.record_line(), 6);
        assert_eq!(p.finish(), Ok(()));
    }

    #[test]
    fn delimiter_detection_ignores_quoted() {
        assert_eq!(detect_delimiter("\"a,b\";\"c\""), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("single"), b',');
        assert_eq!(detect_delimiter("a,b;c;d"), b';');
    }

    #[test]
    fn missing_tokens() {
        assert!(is_missing(" NA "));
        assert!(is_missing("?"));
        assert!(is_missing(""));
        assert!(!is_missing("0"));
    }
}
