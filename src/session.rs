//! Scoring a CSV as it streams in: the chunk-fed [`CsvReader`], the header
//! mapped with [`Scorer::map_header`], and every row scored through the one
//! row-scoring path ([`crate::RowScorer`]).
//!
//! A [`CsvSession`] is fed bytes in chunks of any size (a chunk may end
//! inside a field, a quoted line break or a UTF-8 character) and hands back
//! the rows each chunk completed, in file order, each with its file line
//! number, its input fields, its label (when the file has the model's label
//! column) and its outcome. A ragged row, a stray quote or a row that is not
//! UTF-8 is a failed row naming its line, and scoring goes on; only a bad
//! header (missing, duplicate or absent feature columns) stops the session.
//! Drift counts of the scored rows accumulate inside.
//!
//! The browser's `CsvSession` class wraps this struct (fed from a `File`
//! slice by slice in a Web Worker); natively it streams a file the same way:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
//! use ferrisk::{session::CsvSession, ScoreOptions, Scorer};
//! let scorer = Scorer::from_bytes(&std::fs::read(format!("{dir}/lr.frk"))?)?;
//! let bytes = std::fs::read(format!("{dir}/synthetic.csv"))?;
//! let mut session = CsvSession::new(&scorer, ScoreOptions::default());
//! let mut rows = Vec::new();
//! for chunk in bytes.chunks(1000) {
//!     rows.extend(session.push(chunk)?);
//! }
//! rows.extend(session.finish()?);
//! assert!(rows.iter().all(|r| r.outcome.is_ok()));
//! assert_eq!(rows[0].line, 2);
//! # Ok(()) }
//! ```

use std::borrow::Borrow;

use thiserror::Error;

use crate::csv::{CsvEvent, CsvReader};
use crate::drift::{DriftCounts, DriftReport};
use crate::error::{CsvError, ScoreError};
use crate::scorer::{RowScorer, ScoreOptions, Scored, Scorer};

/// Why a row of the file was not scored.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum RowError {
    /// The reader could not split the record (ragged, bad quoting, not
    /// UTF-8, over a limit); the message names the line.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A value could not be used (not a number, ...); the message names the
    /// feature.
    #[error(transparent)]
    Score(#[from] ScoreError),
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// The physical line (from 1, header and blank lines included) the
    /// record starts on.
    pub line: usize,
    /// The record's cells in header order, untrimmed; empty when the reader
    /// could not split the record.
    pub fields: Vec<String>,
    /// The label cell as a class (`true` = positive), when the file has the
    /// label column and the cell holds one of the two classes.
    pub label: Option<bool>,
    pub outcome: Result<Scored, RowError>,
}

/// A CSV file being scored chunk by chunk; see the module docs.
///
/// `S` is how the session holds its scorer: `&Scorer` natively, a shared
/// pointer (`Rc<Scorer>`) where the session must own it (the wasm class).
#[derive(Debug)]
pub struct CsvSession<S: Borrow<Scorer>> {
    scorer: S,
    reader: CsvReader,
    /// Options of every row (drift counting is done through `drift`).
    opts: ScoreOptions,
    drift: Option<DriftCounts>,
    /// Feature index of each column, once the header is read.
    map: Option<Vec<Option<usize>>>,
    /// Column of the label, when the header has it.
    label: Option<usize>,
    /// The error that stopped the session, repeated by later calls.
    fatal: Option<CsvError>,
    scored: u64,
    failed: u64,
}

impl<S: Borrow<Scorer>> CsvSession<S> {
    /// A session scoring with `opts`; with `opts.drift`, scored rows are
    /// counted into the model's drift bins (files with a drift profile).
    pub fn new(scorer: S, opts: ScoreOptions) -> Self {
        let drift = if opts.drift {
            scorer.borrow().drift_counter()
        } else {
            None
        };
        CsvSession {
            scorer,
            reader: CsvReader::new(),
            opts: ScoreOptions {
                drift: false,
                ..opts
            },
            drift,
            map: None,
            label: None,
            fatal: None,
            scored: 0,
            failed: 0,
        }
    }

    pub fn scorer(&self) -> &Scorer {
        self.scorer.borrow()
    }

    /// Reads the next chunk and returns the rows it completed (possibly
    /// none). An error means the header is unusable; the session then stays
    /// stopped and returns that error again.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<CsvRow>, CsvError> {
        let mut out = Vec::new();
        self.push_into(chunk, &mut out)?;
        Ok(out)
    }

    /// [`CsvSession::push`] appending to `out`.
    pub fn push_into(&mut self, chunk: &[u8], out: &mut Vec<CsvRow>) -> Result<(), CsvError> {
        if let Some(e) = &self.fatal {
            return Err(e.clone());
        }
        self.reader.push(chunk);
        self.drain(out)
    }

    /// Marks the end of the file and returns the last rows (the final
    /// record may lack a line break; an open quote is that row's error). A
    /// file without a header line is an error.
    pub fn finish(&mut self) -> Result<Vec<CsvRow>, CsvError> {
        let mut out = Vec::new();
        self.finish_into(&mut out)?;
        Ok(out)
    }

    /// [`CsvSession::finish`] appending to `out`.
    pub fn finish_into(&mut self, out: &mut Vec<CsvRow>) -> Result<(), CsvError> {
        if let Some(e) = &self.fatal {
            return Err(e.clone());
        }
        self.reader.finish();
        self.drain(out)?;
        if self.map.is_none() {
            return Err(self.stop(CsvError::Empty));
        }
        Ok(())
    }

    /// The column names, once the header has been read.
    pub fn header(&self) -> Option<&[String]> {
        self.reader.header()
    }

    /// The delimiter, once the header line has been seen.
    pub fn delimiter(&self) -> Option<u8> {
        self.reader.delimiter()
    }

    /// The label column's index in the header, when the file has it.
    pub fn label_column(&self) -> Option<usize> {
        self.label
    }

    /// Bytes of input read so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.reader.bytes_consumed()
    }

    /// Rows scored and rows failed so far.
    pub fn tally(&self) -> (u64, u64) {
        (self.scored, self.failed)
    }

    /// Drift counts of the rows scored so far (when asked for and the file
    /// has a drift profile).
    pub fn drift(&self) -> Option<&DriftCounts> {
        self.drift.as_ref()
    }

    /// PSI per feature and for the score over the rows scored so far.
    pub fn drift_report(&self) -> Result<DriftReport, ScoreError> {
        let Some(counts) = &self.drift else {
            return Err(ScoreError::Unsupported(
                "no drift counts: the model file has no drift profile, or drift counting was not asked for"
                    .into(),
            ));
        };
        self.scorer.borrow().drift_report(counts)
    }

    fn stop(&mut self, e: CsvError) -> CsvError {
        self.fatal = Some(e.clone());
        e
    }

    /// Turns the reader's pending events into rows.
    fn drain(&mut self, out: &mut Vec<CsvRow>) -> Result<(), CsvError> {
        let scorer: &Scorer = self.scorer.borrow();
        let mut rows: Option<RowScorer<'_>> = None;
        let mut result = Ok(());
        while let Some(event) = self.reader.next_event() {
            match event {
                CsvEvent::Header(names) => match scorer.map_header(&names) {
                    Ok(map) => {
                        let label = &scorer.bundle().schema.label;
                        self.label = names.iter().position(|h| h == label);
                        self.map = Some(map);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                },
                CsvEvent::Row { line, fields } => {
                    let Some(map) = &self.map else { continue };
                    let rs = rows.get_or_insert_with(|| {
                        scorer.rows(self.opts.clone()).with_drift(self.drift.take())
                    });
                    let outcome = rs.score_cells(map, &fields).map_err(RowError::Score);
                    let label = self
                        .label
                        .and_then(|c| fields.get(c))
                        .and_then(|cell| scorer.parse_label(cell));
                    if outcome.is_ok() {
                        self.scored += 1;
                    } else {
                        self.failed += 1;
                    }
                    out.push(CsvRow {
                        line,
                        fields,
                        label,
                        outcome,
                    });
                }
                CsvEvent::RowError { line, error } => {
                    self.failed += 1;
                    out.push(CsvRow {
                        line,
                        fields: Vec::new(),
                        label: None,
                        outcome: Err(RowError::Csv(error)),
                    });
                }
                CsvEvent::Fatal(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if let Some(rs) = rows {
            self.drift = rs.into_drift();
        }
        result.map_err(|e| self.stop(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::DriftCounts;

    fn golden(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/golden/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn drift_opts() -> ScoreOptions {
        ScoreOptions {
            drift: true,
            ..ScoreOptions::default()
        }
    }

    /// Everything a run produced, comparable across chunkings.
    fn run(scorer: &Scorer, bytes: &[u8], chunk: usize) -> (Vec<CsvRow>, Option<DriftCounts>) {
        let mut s = CsvSession::new(scorer, drift_opts());
        let mut rows = Vec::new();
        for c in bytes.chunks(chunk.max(1)) {
            s.push_into(c, &mut rows).unwrap();
        }
        s.finish_into(&mut rows).unwrap();
        (rows, s.drift().cloned())
    }

    #[test]
    fn any_chunking_gives_the_same_rows_and_score_csv_s_probabilities() {
        let bytes = golden("synthetic.csv");
        let text = String::from_utf8(bytes.clone()).unwrap();
        for kind in ["lr", "rf", "gbm"] {
            let scorer = Scorer::from_bytes(&golden(&format!("{kind}.frk"))).unwrap();
            let (whole, drift) = run(&scorer, &bytes, bytes.len());
            let (want, want_drift) = scorer.score_csv_counted(&text, |_| {}).unwrap();
            assert_eq!(whole.len(), want.len());
            for (row, w) in whole.iter().zip(&want) {
                let crate::RowScore::Scored { line, probability } = w else {
                    panic!("{kind}: golden rows score");
                };
                assert_eq!(row.line, *line);
                let p = row.outcome.as_ref().unwrap().prediction.probability;
                assert_eq!(p.to_bits(), probability.to_bits());
                assert!(row.label.is_some(), "synthetic.csv is labelled");
            }
            assert_eq!(drift, want_drift);
            for chunk in [1, 2, 3, 7, 64, 1000] {
                let (rows, d) = run(&scorer, &bytes, chunk);
                assert_eq!(rows, whole, "{kind}: chunks of {chunk} bytes");
                assert_eq!(d, drift);
            }
        }
    }

    #[test]
    fn broken_records_are_row_errors_with_their_lines_and_scoring_goes_on() {
        let scorer = Scorer::from_bytes(&golden("lr.frk")).unwrap();
        let text = String::from_utf8(golden("synthetic.csv")).unwrap();
        let mut lines: Vec<Vec<u8>> = text
            .lines()
            .take(12)
            .map(|l| l.as_bytes().to_vec())
            .collect();
        lines[2].extend_from_slice(b",extra"); // line 3: ragged
        lines[4].insert(0, b'x');
        lines[4].insert(1, b'"'); // line 5: stray quote
        lines[6].extend_from_slice(b"\xff"); // line 7: not UTF-8
        lines.insert(8, Vec::new()); // a blank line 9
        let bytes = lines.join(&b"\r\n"[..]);
        for chunk in [1, 5, bytes.len()] {
            let (rows, _) = run(&scorer, &bytes, chunk);
            let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13]);
            let failed: Vec<(usize, String)> = rows
                .iter()
                .filter_map(|r| Some((r.line, r.outcome.as_ref().err()?.to_string())))
                .collect();
            assert_eq!(failed.len(), 3, "{failed:?}");
            assert!(failed[0].1.starts_with("line 3:"), "{failed:?}");
            assert!(failed[1].1.starts_with("line 5, column"), "{failed:?}");
            assert_eq!(failed[2].1, "line 7: not valid UTF-8 text");
            for r in &rows {
                assert_eq!(r.fields.is_empty(), r.outcome.is_err());
            }
        }
    }

    #[test]
    fn a_bad_header_stops_the_session_and_a_bad_value_does_not() {
        let scorer = Scorer::from_bytes(&golden("lr.frk")).unwrap();
        let mut s = CsvSession::new(&scorer, ScoreOptions::default());
        let e = s.push(b"age,income\n1,2\n").unwrap_err();
        assert!(e.to_string().contains("no column"), "{e}");
        assert_eq!(s.push(b"3,4\n").unwrap_err(), e);
        assert_eq!(s.finish().unwrap_err(), e);

        let mut s = CsvSession::new(&scorer, ScoreOptions::default());
        assert_eq!(s.finish().unwrap_err(), CsvError::Empty);

        let text = String::from_utf8(golden("synthetic.csv")).unwrap();
        let mut lines: Vec<String> = text.lines().take(4).map(String::from).collect();
        lines[2] = lines[2].replacen(|c: char| c.is_ascii_digit(), "x", 1);
        let mut s = CsvSession::new(&scorer, drift_opts());
        let mut rows = s.push(lines.join("\n").as_bytes()).unwrap();
        rows.extend(s.finish().unwrap());
        assert_eq!(rows.len(), 3);
        let e = rows[1].outcome.as_ref().unwrap_err();
        assert!(e.to_string().contains("is not a number"), "{e}");
        assert_eq!(rows[1].line, 3);
        assert_eq!(s.tally(), (2, 1));
        assert_eq!(s.drift_report().unwrap().rows, 2);
        assert_eq!(s.label_column(), Some(8));
    }
}
