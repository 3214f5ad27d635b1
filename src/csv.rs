//! A small CSV *reader* (RFC 4180 quoting, `,` `;` or tab, LF or CRLF, BOM).
//!
//! The runtime needs to read labelled CSV in the browser (`evaluate`, batch
//! scoring); the trainer reads through the same code so both agree on every
//! file. Writing CSV is deliberately not here: that is the CLI's job.
//!
//! The parser is push-style: [`LineParser::feed`] takes one physical line and
//! returns a record once its quotes are balanced, so it works on a `&str`
//! held in memory and on a streamed file alike.

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
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for b in header.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let delims = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delims[best]
}

/// Assembles records from physical lines.
#[derive(Debug)]
pub struct LineParser {
    delim: u8,
    fields: Vec<String>,
    field: String,
    in_quotes: bool,
    after_quote: bool,
    /// Physical line number (1-based) where the pending record started.
    start_line: usize,
    line: usize,
}

impl LineParser {
    pub fn new(delim: u8) -> Self {
        LineParser {
            delim,
            fields: Vec::new(),
            field: String::new(),
            in_quotes: false,
            after_quote: false,
            start_line: 0,
            line: 0,
        }
    }

    /// The line (1-based) on which the last returned record started.
    pub fn record_line(&self) -> usize {
        self.start_line
    }

    /// True while a quoted field is open across lines.
    pub fn pending(&self) -> bool {
        self.in_quotes
    }

    /// Feeds one physical line (without its `\n`; a trailing `\r` is dropped).
    /// Returns the completed record, or `None` when a quoted field continues
    /// on the next line.
    pub fn feed(&mut self, raw: &str) -> Result<Option<Vec<String>>, CsvError> {
        self.line += 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if !self.in_quotes {
            self.start_line = self.line;
            self.fields.clear();
            self.field.clear();
            self.after_quote = false;
        } else {
            self.field.push('\n');
        }
        let delim = self.delim as char;
        for (col, c) in line.chars().enumerate() {
            if self.in_quotes {
                if c == '"' {
                    self.in_quotes = false;
                    self.after_quote = true;
                } else {
                    self.field.push(c);
                }
                continue;
            }
            if c == delim {
                self.fields.push(std::mem::take(&mut self.field));
                self.after_quote = false;
            } else if c == '"' {
                if self.after_quote {
                    // A doubled quote inside a quoted field: `""` -> `"`.
                    self.field.push('"');
                    self.in_quotes = true;
                    self.after_quote = false;
                } else if self.field.trim().is_empty() {
                    self.field.clear();
                    self.in_quotes = true;
                } else {
                    return Err(CsvError::StrayQuote {
                        line: self.line,
                        column: col + 1,
                    });
                }
            } else if self.after_quote {
                if c == ' ' {
                    continue;
                }
                return Err(CsvError::StrayQuote {
                    line: self.line,
                    column: col + 1,
                });
            } else {
                self.field.push(c);
            }
        }
        if self.in_quotes {
            return Ok(None);
        }
        self.fields.push(std::mem::take(&mut self.field));
        self.after_quote = false;
        Ok(Some(std::mem::take(&mut self.fields)))
    }

    /// Call at end of input: an open quote is an error.
    pub fn finish(&self) -> Result<(), CsvError> {
        if self.in_quotes {
            Err(CsvError::UnclosedQuote {
                line: self.start_line,
            })
        } else {
            Ok(())
        }
    }
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

/// A whole CSV text held in memory: header plus an iterator of rows, each
/// checked to have the header's field count. Blank lines are skipped.
#[derive(Debug)]
pub struct CsvText<'a> {
    lines: std::str::Split<'a, char>,
    parser: LineParser,
    header: Vec<String>,
}

impl<'a> CsvText<'a> {
    pub fn parse(text: &'a str) -> Result<Self, CsvError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let first = text
            .split('\n')
            .find(|l| !l.trim().is_empty())
            .ok_or(CsvError::Empty)?;
        let mut parser = LineParser::new(detect_delimiter(first));
        let mut lines = text.split('\n');
        let header = loop {
            let Some(line) = lines.next() else {
                parser.finish()?;
                return Err(CsvError::Empty);
            };
            if !parser.pending() && line.trim().is_empty() {
                parser.line += 1;
                continue;
            }
            if let Some(rec) = parser.feed(line)? {
                break check_header(rec)?;
            }
        };
        Ok(CsvText {
            lines,
            parser,
            header,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn delimiter(&self) -> u8 {
        self.parser.delim
    }

    /// Next row as `(line number, fields)`.
    pub fn next_row(&mut self) -> Option<Result<(usize, Vec<String>), CsvError>> {
        loop {
            let Some(line) = self.lines.next() else {
                return match self.parser.finish() {
                    Ok(()) => None,
                    Err(e) => Some(Err(e)),
                };
            };
            if !self.parser.pending() && line.trim().is_empty() {
                self.parser.line += 1;
                continue;
            }
            match self.parser.feed(line) {
                Err(e) => return Some(Err(e)),
                Ok(None) => continue,
                Ok(Some(rec)) => {
                    let line = self.parser.record_line();
                    if rec.len() != self.header.len() {
                        return Some(Err(CsvError::Ragged {
                            line,
                            expected: self.header.len(),
                            found: rec.len(),
                        }));
                    }
                    return Some(Ok((line, rec)));
                }
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
    fn ragged_row_names_line() {
        let err = rows("a,b\n1,2\n\n3\n").err();
        assert_eq!(
            err,
            Some(CsvError::Ragged {
                line: 4,
                expected: 2,
                found: 1
            })
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
    fn delimiter_detection_ignores_quoted() {
        assert_eq!(detect_delimiter("\"a,b\";\"c\""), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("single"), b',');
    }

    #[test]
    fn missing_tokens() {
        assert!(is_missing(" NA "));
        assert!(is_missing("?"));
        assert!(is_missing(""));
        assert!(!is_missing("0"));
    }
}
