//! Target `csv`: `ferrisk::csv::CsvReader` fed the input in chunks of
//! several sizes (one byte, a few bytes, sizes drawn from a PRNG seeded by
//! the input itself, all at once), `CsvText`, and `Scorer::score_csv` /
//! `evaluate_csv` of a golden model on the text.
//!
//! Oracles beyond "no panic": every chunking gives exactly the events of
//! the whole input (the reader promises chunk boundaries do not matter),
//! the reader never emits more events than it has bytes, and scored rows
//! have no NaN probability.

use ferrisk::csv::{CsvEvent, CsvLimits, CsvReader, CsvText};

use crate::rng::Rng;
use crate::{fnv, Context, Input, Outcome};

/// Events of reading `bytes` in chunks of `sizes()` bytes.
fn read(bytes: &[u8], limits: CsvLimits, mut sizes: impl FnMut() -> usize) -> Vec<CsvEvent> {
    let cap = 2 * bytes.len() + 16;
    let mut r = CsvReader::with_limits(limits);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let n = sizes().clamp(1, bytes.len() - i);
        r.push(&bytes[i..i + n]);
        i += n;
        while let Some(e) = r.next_event() {
            out.push(e);
            if out.len() > cap {
                return out;
            }
        }
    }
    r.finish();
    while let Some(e) = r.next_event() {
        out.push(e);
        if out.len() > cap {
            return out;
        }
    }
    out
}

/// The first differing events of each chunking against the whole input
/// (for `ferrisk-fuzz replay --verbose`).
pub fn differences(bytes: &[u8]) -> Vec<String> {
    let tight = CsvLimits {
        max_record_bytes: 24,
        max_fields: 4,
    };
    let mut out = Vec::new();
    for (name, limits, size) in [
        ("1-byte", CsvLimits::default(), 1),
        ("3-byte", CsvLimits::default(), 3),
        ("2-byte, tight limits", tight, 2),
    ] {
        let whole = read(bytes, limits, || usize::MAX);
        let parts = read(bytes, limits, || size);
        if let Some(k) = (0..whole.len().max(parts.len())).find(|&k| whole.get(k) != parts.get(k)) {
            out.push(format!(
                "{name}: event {k}: whole input {:?} / chunked {:?}",
                whole.get(k),
                parts.get(k)
            ));
        }
    }
    out
}

/// The events with every error reduced to "an error" (same kind of event,
/// same line): two readings with equal shapes differ only in which error a
/// bad record is reported with.
fn shape(events: &[CsvEvent]) -> Vec<(u8, usize, Vec<String>)> {
    events
        .iter()
        .map(|e| match e {
            CsvEvent::Header(h) => (0, 0, h.clone()),
            CsvEvent::Row { line, fields } => (1, *line, fields.clone()),
            CsvEvent::RowError { line, .. } => (2, *line, Vec::new()),
            CsvEvent::Fatal(_) => (3, 0, Vec::new()),
        })
        .collect()
}

/// Records a difference between two readings of the same bytes.
fn compare(out: &mut Outcome, name: &str, whole: &[CsvEvent], events: &[CsvEvent]) {
    if events == whole {
        return;
    }
    let k = whole
        .iter()
        .zip(events)
        .position(|(a, b)| a != b)
        .unwrap_or(whole.len().min(events.len()));
    let detail = format!(
        "{} events whole, {} chunked; event {k}: {:?} / {:?}",
        whole.len(),
        events.len(),
        whole.get(k),
        events.get(k)
    );
    if shape(whole) == shape(events) {
        out.find("csv-error-depends-on-chunking", name, &detail);
    } else {
        out.find("csv-chunking-mismatch", name, &detail);
    }
}

pub fn execute(bytes: &[u8], ctx: &Context) -> Outcome {
    let mut out = Outcome::accepted();
    let whole = read(bytes, CsvLimits::default(), || usize::MAX);
    if whole.len() > 2 * bytes.len() + 16 {
        out.find("csv-event-flood", "reader", "more events than bytes");
        return out;
    }
    let header_ok = matches!(whole.first(), Some(CsvEvent::Header(_)));
    out.class = if header_ok { "header" } else { "no header" }.into();
    out.loaded = header_ok;

    let mut rng = Rng::new(fnv(bytes));
    let one = read(bytes, CsvLimits::default(), || 1);
    compare(&mut out, "1-byte", &whole, &one);
    let three = read(bytes, CsvLimits::default(), || 3);
    compare(&mut out, "3-byte", &whole, &three);
    let random = read(bytes, CsvLimits::default(), || 1 + rng.below(48));
    compare(&mut out, "random", &whole, &random);
    // Tight limits: the over-limit paths, whole and in 2-byte chunks.
    let tight = CsvLimits {
        max_record_bytes: 24,
        max_fields: 4,
    };
    let a = read(bytes, tight, || usize::MAX);
    let b = read(bytes, tight, || 2);
    compare(&mut out, "tight limits, 2-byte", &a, &b);

    // The in-memory reader.
    if let Ok(mut text) = CsvText::from_bytes(bytes) {
        let _ = text.header().len();
        let mut n = 0;
        while let Some(row) = text.next_row() {
            let _ = row.map(|(line, f)| line + f.len());
            n += 1;
            if n > bytes.len() + 4 {
                out.find("csv-event-flood", "CsvText", "more rows than bytes");
                break;
            }
        }
    }

    // Scoring and evaluation with a golden model chosen by the input.
    if !ctx.scorers.is_empty() {
        let k = (fnv(bytes) % ctx.scorers.len() as u64) as usize;
        if let Some((name, scorer)) = ctx.scorers.get(k) {
            let text = String::from_utf8_lossy(bytes);
            if let Ok(rows) = scorer.score_csv(&text, |_| {}) {
                for r in &rows {
                    if let ferrisk::RowScore::Scored { probability, .. } = r {
                        if probability.is_nan() || !(0.0..=1.0).contains(probability) {
                            out.find("nan-probability", name, &format!("p = {probability}"));
                        }
                    }
                }
                if !rows.is_empty() {
                    out.class = "scored".into();
                }
            }
            if let Ok(m) = scorer.evaluate_csv(&text, |_| {}) {
                if m.roc_auc.is_nan() || m.log_loss.is_nan() {
                    out.find("nan-metrics", name, "evaluate gave NaN metrics");
                }
                out.class = "evaluated".into();
            }
        }
    }
    out
}

/// Pieces that make CSV interesting.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b";",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    b"NA",
    b"?",
    b"1e999",
    b"-1e999",
    b"-0",
    b"NaN",
    b"inf",
    b"1e-45",
    b"3.5e38",
    b"340282366920938463463374607431768211456",
    b"  ",
    b"\0",
    b"\xC3\xA9",
    b"\xC3",
    b"\xFF",
    b"\xF0\x9F\x98",
    b"\"a\"\"b\"",
    b"\"x\ny\"",
    b"yes",
    b"no",
    b"car",
    b"own",
    b"permanent",
];

/// Generates CSV inputs: mutated slices of the synthetic data, token soup,
/// and random bytes.
pub struct Generator {
    header: Vec<u8>,
    lines: Vec<Vec<u8>>,
}

impl Generator {
    pub fn new() -> Generator {
        let text = crate::corpus::synthetic_csv();
        let mut lines: Vec<Vec<u8>> = text
            .split(|&b| b == b'\n')
            .map(|l| {
                let mut l = l.to_vec();
                l.push(b'\n');
                l
            })
            .collect();
        let header = if lines.is_empty() {
            Vec::new()
        } else {
            lines.remove(0)
        };
        Generator { header, lines }
    }

    pub fn next(&mut self, rng: &mut Rng) -> Input {
        match rng.below(20) {
            0..=10 => {
                let mut text = self.header.clone();
                for _ in 0..rng.below(12) {
                    if let Some(l) = rng.pick(&self.lines) {
                        text.extend_from_slice(l);
                    }
                }
                let rounds = rng.small(6);
                let mut notes = Vec::new();
                for _ in 0..rounds {
                    notes.push(mutate(rng, &mut text));
                }
                Input {
                    bytes: text,
                    note: format!("synthetic.csv slice: {}", notes.join(" + ")),
                }
            }
            11..=15 => {
                let mut text = Vec::new();
                for _ in 0..rng.range(1, 80) {
                    if rng.one_in(3) {
                        text.extend(rng.bytes_between(1, 4).iter().map(|b| b'a' + b % 26));
                    } else if let Some(t) = rng.pick(TOKENS) {
                        text.extend_from_slice(t);
                    }
                }
                Input {
                    bytes: text,
                    note: "token soup".into(),
                }
            }
            _ => {
                let n = rng.below(300);
                Input {
                    bytes: rng.bytes(n),
                    note: "random bytes".into(),
                }
            }
        }
    }
}

impl Default for Generator {
    fn default() -> Self {
        Generator::new()
    }
}

fn mutate(rng: &mut Rng, text: &mut Vec<u8>) -> &'static str {
    let n = text.len();
    if n == 0 {
        text.extend_from_slice(rng.pick(TOKENS).copied().unwrap_or(b","));
        return "insert";
    }
    let at = rng.below(n);
    match rng.below(9) {
        0 | 1 => {
            let t = rng.pick(TOKENS).copied().unwrap_or(b",");
            text.splice(at..at, t.iter().copied());
            "token inserted"
        }
        2 | 3 => {
            // A cell replaced: from `at` to the next delimiter or line end.
            let end = text[at..]
                .iter()
                .position(|&b| b == b',' || b == b'\n')
                .map_or(n, |p| at + p);
            let t = rng.pick(TOKENS).copied().unwrap_or(b"");
            text.splice(at..end, t.iter().copied());
            "cell replaced"
        }
        4 => {
            let len = rng.range(1, 32.min(n - at));
            text.drain(at..at + len);
            "chunk deleted"
        }
        5 => {
            let len = rng.range(1, 64.min(n - at));
            let chunk = text[at..at + len].to_vec();
            let to = rng.below(text.len() + 1);
            text.splice(to..to, chunk);
            "chunk duplicated"
        }
        6 => {
            text[at] ^= 1 << rng.below(8);
            "bit flipped"
        }
        7 => {
            let long = vec![b'x'; rng.range(100, 5000)];
            text.splice(at..at, long);
            "long cell"
        }
        _ => {
            text.truncate(at);
            "truncated"
        }
    }
}
