//! Helpers every verb shares: progress bars, the metrics and drift tables,
//! atomic writes, the CSV writer, error texts. (Loading a model, with its
//! signature check: `sign::load_model`.)

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ferrisk::{Bundle, Metrics};
use ferrisk_train::pipeline::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// indicatif bars on stderr (hidden when stderr is not a terminal, where a
/// one-line summary per stage is printed instead).
pub struct Bars {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            bar: std::sync::Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, label: &str, total: u64) {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        if bar.is_hidden() {
            eprintln!("  {label}: {total} step(s)...");
        }
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }
    fn set(&self, done: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.set_position(done);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
    fn line(&self, text: &str) {
        if let Ok(b) = self.bar.lock() {
            match b.as_ref() {
                Some(bar) if !bar.is_hidden() => bar.println(format!("    {text}")),
                _ => eprintln!("    {text}"),
            }
        }
    }
}

/// Reads and checks a model file; the error names the file.
pub fn print_metrics(title: &str, m: &Metrics, bundle: Option<&Bundle>) {
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  rows {:>7}   positives {:>6}   threshold {}",
        m.rows, m.positives, m.threshold
    );
    let _ = writeln!(
        out,
        "  ROC AUC {:.4}   KS {:.4}   accuracy {:.4}   precision {:.4}   recall {:.4}   F1 {:.4}",
        m.roc_auc, m.ks, m.accuracy, m.precision, m.recall, m.f1
    );
    let _ = writeln!(out, "  Brier {:.4}   log-loss {:.4}", m.brier, m.log_loss);
    let c = m.confusion;
    let _ = writeln!(out, "  confusion            predicted neg  predicted pos");
    let _ = writeln!(out, "    actual negative   {:>13}  {:>13}", c.tn, c.fp);
    let _ = writeln!(out, "    actual positive   {:>13}  {:>13}", c.fn_, c.tp);
    if let Some(r) = bundle.and_then(|b| b.report.as_ref()) {
        if let Some(cv) = &r.cv {
            let folds: Vec<String> = cv.folds.iter().map(|a| format!("{a:.3}")).collect();
            let _ = writeln!(
                out,
                "  {}-fold CV ROC AUC {:.4} ± {:.4}  [{}]",
                cv.folds.len(),
                cv.mean(),
                cv.std(),
                folds.join(" ")
            );
        }
        let _ = writeln!(
            out,
            "  fit time {:.2} s on {} training rows",
            r.fit_seconds, r.train_rows
        );
    }
    if let Some(e) = &m.extra {
        let _ = writeln!(
            out,
            "  calibration: ECE {:.4} (10 equal-frequency bins)   average precision {:.4}",
            e.ece, e.average_precision
        );
    }
    if let Some(d) = bundle.and_then(|b| b.decision.as_ref()) {
        let _ = writeln!(
            out,
            "  calibration {} — {}",
            d.calibration, d.calibration_chosen_by
        );
        let _ = writeln!(
            out,
            "  threshold {} by {} — chosen on {}",
            m.threshold,
            d.policy.describe(),
            d.chosen_on
        );
        let cut = |c: &ferrisk::policy::CutFigures| {
            let cost = c.expected_cost.map_or(String::new(), |v| {
                format!(", expected cost {v:.4} per customer")
            });
            format!(
                "approval {:.1} %, bad rate among approved {:.2} %{cost}",
                100.0 * c.approval_rate,
                100.0 * c.bad_rate_approved
            )
        };
        let _ = writeln!(out, "    there: {}", cut(&d.chosen));
        if let Some((at, half)) = &d.evaluated {
            let _ = writeln!(out, "    on the evaluation rows: {}", cut(at));
            let _ = writeln!(out, "    at threshold 0.5 instead: {}", cut(half));
        }
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves a
/// half-written file behind (see [`TempFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = TempFile::create(path)?;
    tmp.write_all(bytes)
        .with_context(|| format!("{}: cannot write", tmp.path.display()))?;
    tmp.commit()
}

/// A file written next to its destination (`<name>.<pid>.tmp`, same
/// directory, so the rename is atomic) and put in place by
/// [`TempFile::commit`]: data synced, renamed, the directory synced. Dropped
/// without a commit (an error, a panic unwinding), it is removed. Only a
/// kill between its creation and the rename can leave it behind. A
/// destination that is a device or a pipe (`/dev/null`, `/dev/stdout`, a
/// FIFO) is written in place: it has no content to protect, and a rename
/// would replace the device node with a file.
pub struct TempFile {
    /// The temporary file; empty when writing in place or once renamed.
    path: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

impl TempFile {
    pub fn create(dest: &Path) -> Result<TempFile> {
        if let Ok(m) = std::fs::metadata(dest) {
            if !m.is_file() && !m.is_dir() {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(dest)
                    .with_context(|| format!("{}: cannot write", dest.display()))?;
                return Ok(TempFile {
                    path: PathBuf::new(),
                    dest: dest.to_path_buf(),
                    file: Some(file),
                });
            }
        }
        // A link is replaced in its target's directory, not turned into a file.
        let dest = match std::fs::symlink_metadata(dest) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(dest)
                .with_context(|| format!("{}: cannot resolve link", dest.display()))?,
            _ => dest.to_path_buf(),
        };
        let name = dest
            .file_name()
            .with_context(|| format!("{}: not a file name", dest.display()))?;
        let mut tmp_name = name.to_os_string();
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let path = dest.with_file_name(tmp_name);
        let file =
            File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
        Ok(TempFile {
            path,
            dest,
            file: Some(file),
        })
    }

    /// Syncs the data, renames the file over its destination and syncs the
    /// directory, so the new file survives a crash right after.
    pub fn commit(mut self) -> Result<()> {
        if self.path.as_os_str().is_empty() {
            // Written in place (a device or a pipe): nothing to rename.
            self.file = None;
            return Ok(());
        }
        let dest = self.dest.display().to_string();
        if let Some(file) = self.file.take() {
            file.sync_all()
                .with_context(|| format!("{dest}: cannot write"))?;
        }
        std::fs::rename(&self.path, &self.dest).with_context(|| format!("{dest}: cannot write"))?;
        // Renamed: nothing to remove any more, whatever happens next.
        self.path = PathBuf::new();
        sync_dir(&self.dest).with_context(|| format!("{dest}: cannot sync its directory"))
    }

    fn file(&mut self) -> std::io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file already committed"))
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Syncs the directory holding `path` (its entries: a rename in it).
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// True when `a` and `b` name the same existing file: the same path once
/// resolved (`./x`, `d/../x`, symbolic links), or the same inode (hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(x), Ok(y)) = (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        if x == y {
            return true;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// One error text: the layers of an error chain joined with ": ", leaving
/// out a layer whose text the layer above already holds (a thiserror
/// message that prints its `source`, which anyhow would print again).
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut above = String::new();
    for layer in e.chain() {
        let s = layer.to_string();
        if !s.is_empty() && !above.contains(&s) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&s);
        }
        above = s;
    }
    text
}

/// The error as one flat message (see [`error_text`]): what a verb returns
/// to `main`, which prints the chain.
pub fn flatten(e: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!(error_text(&e))
}

/// True for a plain decimal number: optional sign, digits with an optional
/// point, an optional exponent (`-5`, `+3.25`, `-1e3`; not `-inf`, `-`).
fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A cell a spreadsheet would run as a formula (OWASP CSV injection):
/// starting with `=`, `@`, tab or CR, or with `+` or `-` unless it is a number.
fn is_formula(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !is_number(s),
        _ => false,
    }
}

/// Writes one CSV field: quoted when needed (RFC 4180); a formula cell is
/// neutralised by a leading `'` and quoted.
pub fn csv_field(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    if is_formula(s) {
        write!(out, "\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", s.replace('"', "\"\""))
    } else {
        out.write_all(s.as_bytes())
    }
}

/// Writes one CSV record (`,`-separated, `\n`-terminated): every CSV the
/// CLI writes goes through here.
pub fn csv_row<'a>(
    out: &mut impl Write,
    fields: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        csv_field(out, f)?;
    }
    out.write_all(b"\n")
}

pub fn print_drift(r: &ferrisk::drift::DriftReport) {
    use ferrisk::drift::level;
    eprintln!(
        "\npopulation stability (PSI against the training split, {} rows)",
        r.rows
    );
    eprintln!(
        "  {:<44} {:>7}  {}",
        "score",
        format!("{:.3}", r.score),
        level(r.score)
    );
    for (name, psi) in &r.features {
        eprintln!("  {:<44} {:>7}  {}", name, format!("{psi:.3}"), level(*psi));
    }
}

/// Format version in a model file's header (0 when unreadable).
pub fn file_version(path: &Path) -> u16 {
    std::fs::read(path)
        .ok()
        .and_then(|b| {
            ferrisk::format::read_header(&b)
                .ok()
                .map(|(h, _)| h.version)
        })
        .unwrap_or(0)
}

/// `--protected` specs, parsed and checked against the columns of `table`
/// (read from `data`): `train` and `import` share them.
pub fn protected_specs(
    specs: &[String],
    table: &ferrisk_train::data::Table,
    data: &Path,
) -> Result<Vec<ferrisk_train::fairness::ProtectedSpec>> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        let p = ferrisk_train::fairness::ProtectedSpec::parse(s)
            .map_err(|e| anyhow::anyhow!("--protected: {e}"))?;
        if table.column(&p.column).is_none() {
            anyhow::bail!(
                "--protected names column '{}', which {} does not have",
                p.column,
                data.display()
            );
        }
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = Vec::new();
        let _ = csv_field(&mut out, s);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn formula_cells_are_quoted_text_and_numbers_stay_numbers() {
        for (cell, want) in [
            ("=1+2", "\"'=1+2\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+car", "\"'+car\""),
            ("-", "\"'-\""),
            ("-inf", "\"'-inf\""),
            ("\tx", "\"'\tx\""),
            ("\ry", "\"'\ry\""),
            ("-5", "-5"),
            ("+3.25", "+3.25"),
            ("-1e3", "-1e3"),
            ("-.5", "-.5"),
            ("a,b", "\"a,b\""),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(field(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn an_error_chain_says_each_layer_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let inner = anyhow::anyhow!("x.csv: cannot read: {io}");
        let e = anyhow::Error::from(io).context(inner.to_string());
        assert_eq!(error_text(&e), inner.to_string());
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&e), "outer: inner");
    }
}
