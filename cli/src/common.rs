//! Helpers every verb shares: loading a model, progress bars, the metrics
//! and drift tables, atomic writes.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use ferrisk::{Bundle, Metrics, Scorer};
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
}

pub fn load_model(path: &Path) -> Result<Scorer> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{}: cannot read model file", path.display()))?;
    Scorer::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

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
}

/// Writes through a temporary file and a rename, so a crash never leaves a
/// half-written model file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("frk.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
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
