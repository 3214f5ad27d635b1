//! A customer's history for the sequence kinds (`gru`, `tcn`; issue 14):
//! which columns form it ([`HistorySpec`], from `ferrisk train --sequence
//! NAME=COL,COL,...` or a schema file's `"history"`), its checks against the
//! data, and the channel statistics fitted on the training rows
//! ([`fit_channels`]).
//!
//! The schema stays flat: every history column is an ordinary feature of
//! [`Schema`], so flat kinds see the same columns as plain features and
//! ignore the history. A sequence kind's design row (encoding
//! `scale = false`, `impute_numeric = false`) carries each numeric cell raw
//! or NaN and each categorical one-hot; the channel statistics are fitted
//! from those design rows of the rows the kind is fitted on (the training
//! split, or a CV fold's training rows), never from evaluation rows.

use std::collections::HashMap;

use ferrisk::kinds::{ConvLayer, Gru, GruLayer, Tcn};
use ferrisk::schema::{FeatureKind, Schema};
use ferrisk::{Calibration, Channel, ChannelInput, Head, History, Model, SeqInputs};

use crate::algo::sequence::{self, Encoder, SeqData, SeqParams, Stop, MAX_CHANNELS, MAX_STEPS};
use crate::bins::Matrix;
use crate::data::{ColType, Dataset};
use crate::models::{FitInput, Fitted};

/// The history's name when none is given (`--history-name`).
pub const DEFAULT_NAME: &str = "history";
/// The unit of its steps when none is given (`--history-unit`).
pub const DEFAULT_UNIT: &str = "month";
/// Longest history, channel or unit name accepted.
pub const MAX_NAME: usize = 64;

/// A wrong history: the message names the flag (or schema file), the
/// channel and the column.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HistoryError(pub String);

/// One channel: its name and one column per step, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    pub name: String,
    pub columns: Vec<String>,
}

/// A history: its name, the unit of a step, and its channels (all of the
/// same length). `source` says where it was given, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySpec {
    pub name: String,
    pub unit: String,
    pub channels: Vec<ChannelSpec>,
    /// `--sequence` or `schema file history` (what error messages name).
    pub source: String,
}

/// The schema file's form: `"history": {"name": "...", "unit": "...",
/// "channels": [{"name": "status", "columns": ["PAY_6", ..., "PAY_0"]}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub channels: Vec<ChannelSpec>,
}

impl ChannelSpec {
    /// Parses one `--sequence NAME=COL,COL,...` value.
    pub fn parse_flag(text: &str) -> Result<ChannelSpec, HistoryError> {
        let bad = |why: &str| {
            HistoryError(format!(
                "--sequence '{text}': {why} (expected NAME=COL,COL,..., the columns oldest first)"
            ))
        };
        let (name, cols) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the channel has no name"));
        }
        let columns: Vec<String> = cols.split(',').map(|c| c.trim().to_string()).collect();
        if columns.iter().any(String::is_empty) {
            return Err(bad("an empty column name"));
        }
        Ok(ChannelSpec {
            name: name.to_string(),
            columns,
        })
    }
}

impl HistorySpec {
    /// The history given by `--sequence` flags (with `--history-name`,
    /// `--history-unit`) or by the schema file; `None` without either.
    /// Both at once is an error, and so are the name flags without a
    /// history.
    pub fn from_args(
        sequences: &[String],
        name: Option<&str>,
        unit: Option<&str>,
        file: Option<&HistoryFile>,
    ) -> Result<Option<HistorySpec>, HistoryError> {
        let spec = match (sequences.is_empty(), file) {
            (false, Some(_)) => {
                return Err(HistoryError(
                    "the history is given twice: by --sequence and in the schema file's \
                     \"history\"; give it in one place"
                        .into(),
                ))
            }
            (false, None) => HistorySpec {
                name: name.unwrap_or(DEFAULT_NAME).to_string(),
                unit: unit.unwrap_or(DEFAULT_UNIT).to_string(),
                channels: sequences
                    .iter()
                    .map(|s| ChannelSpec::parse_flag(s))
                    .collect::<Result<_, _>>()?,
                source: "--sequence".into(),
            },
            (true, Some(f)) => {
                if f.channels.is_empty() {
                    return Err(HistoryError(
                        "schema file history: no channels (\"channels\": [{\"name\": ..., \
                         \"columns\": [...]}])"
                            .into(),
                    ));
                }
                HistorySpec {
                    name: name
                        .or(f.name.as_deref())
                        .unwrap_or(DEFAULT_NAME)
                        .to_string(),
                    unit: unit
                        .or(f.unit.as_deref())
                        .unwrap_or(DEFAULT_UNIT)
                        .to_string(),
                    channels: f.channels.clone(),
                    source: "schema file history".into(),
                }
            }
            (true, None) => {
                if let Some((flag, _)) = [("--history-name", name), ("--history-unit", unit)]
                    .into_iter()
                    .find(|(_, v)| v.is_some())
                {
                    return Err(HistoryError(format!(
                        "{flag} names a history, but none is given (--sequence NAME=COL,...)"
                    )));
                }
                return Ok(None);
            }
        };
        Ok(Some(spec))
    }

    /// Steps (columns per channel).
    pub fn steps(&self) -> usize {
        self.channels.first().map_or(0, |c| c.columns.len())
    }

    /// Checks the history against the prepared data: every column a feature
    /// (not the label, not left out), none used twice, every channel of one
    /// type and all of the same length, at least 2 steps, names and sizes
    /// within limits. `header` is the file's columns, `file` its name.
    pub fn check(&self, ds: &Dataset, header: &[String], file: &str) -> Result<(), HistoryError> {
        let src = &self.source;
        let err = |m: String| Err(HistoryError(format!("{src}{m}")));
        for (what, v) in [
            ("--history-name", &self.name),
            ("--history-unit", &self.unit),
        ] {
            if v.trim().is_empty()
                || v.chars().count() > MAX_NAME
                || v.chars().any(char::is_control)
            {
                return Err(HistoryError(format!(
                    "{what} '{v}': give 1 to {MAX_NAME} characters of text"
                )));
            }
        }
        if self.channels.is_empty() {
            return err(": no channels".into());
        }
        if self.channels.len() > MAX_CHANNELS {
            return err(format!(
                ": {} channels, at most {MAX_CHANNELS}",
                self.channels.len()
            ));
        }
        // column -> its channel; feature name -> its type.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let types: HashMap<&str, ColType> = ds
            .features
            .iter()
            .map(|(_, n, t)| (n.as_str(), *t))
            .collect();
        for (i, ch) in self.channels.iter().enumerate() {
            let name = &ch.name;
            if name.trim().is_empty()
                || name.chars().count() > MAX_NAME
                || name.chars().any(char::is_control)
            {
                return err(format!(
                    ": channel name '{name}': give 1 to {MAX_NAME} characters of text"
                ));
            }
            if self.channels[..i].iter().any(|c| c.name == *name) {
                return err(format!(" {name}: the channel is given twice"));
            }
            if ch.columns.len() < 2 {
                return err(format!(
                    " {name}: {} column(s); a history needs at least 2 steps",
                    ch.columns.len()
                ));
            }
            if ch.columns.len() > MAX_STEPS {
                return err(format!(
                    " {name}: {} columns; a history has at most {MAX_STEPS} steps",
                    ch.columns.len()
                ));
            }
            if let Some(first) = self.channels.first() {
                if ch.columns.len() != first.columns.len() {
                    return err(format!(
                        " {name}: {} columns, but channel {} has {}; every channel needs one \
                         column per step",
                        ch.columns.len(),
                        first.name,
                        first.columns.len()
                    ));
                }
            }
            let mut ty: Option<(&str, ColType)> = None;
            for col in &ch.columns {
                if *col == ds.label {
                    return err(format!(
                        " {name}: column '{col}' is the label; it cannot be in a history"
                    ));
                }
                if let Some(other) = seen.insert(col, name) {
                    return err(if other == name.as_str() {
                        format!(" {name}: column '{col}' is given twice")
                    } else {
                        format!(" {name}: column '{col}' is already in channel {other}")
                    });
                }
                let Some(t) = types.get(col.as_str()) else {
                    return err(if header.contains(col) {
                        format!(
                            " {name}: column '{col}' is left out of the features (--drop, \
                             --protected or --split-by)"
                        )
                    } else {
                        format!(" {name}: column '{col}' is not a column of {file}")
                    });
                };
                match ty {
                    None => ty = Some((col, *t)),
                    Some((c0, t0)) if t0 != *t => {
                        let word = |t: ColType| match t {
                            ColType::Numeric => "numeric",
                            ColType::Categorical => "categorical",
                        };
                        return err(format!(
                            " {name}: column '{col}' is {}, but '{c0}' is {}; a channel's \
                             columns share one type (a schema file's \"types\" can set it)",
                            word(*t),
                            word(t0)
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    /// The schema feature index of every channel's columns, oldest first.
    pub fn features(&self, schema: &Schema) -> Result<Vec<Vec<u32>>, HistoryError> {
        self.channels
            .iter()
            .map(|ch| {
                ch.columns
                    .iter()
                    .map(|c| {
                        schema
                            .position(c)
                            .and_then(|i| u32::try_from(i).ok())
                            .ok_or_else(|| {
                                HistoryError(format!(
                                    "{} {}: column '{c}' is not a feature of the model",
                                    self.source, ch.name
                                ))
                            })
                    })
                    .collect()
            })
            .collect()
    }

    /// `history (12 months): status = s12 .. s1; balance = b12 .. b1` (for
    /// notes and metadata; the file holds every column by its feature).
    pub fn describe(&self) -> String {
        let chans: Vec<String> = self
            .channels
            .iter()
            .map(|c| match (c.columns.first(), c.columns.last()) {
                (Some(a), Some(z)) => format!("{} = {a} .. {z}", c.name),
                _ => c.name.clone(),
            })
            .collect();
        format!(
            "{} ({} {}s): {}",
            self.name,
            self.steps(),
            self.unit,
            chans.join("; ")
        )
    }
}

/// A channel's input statistics, fitted on the training rows.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelStats {
    /// Mean and standard deviation pooled over every step's non-missing
    /// value (std 1 when constant or empty).
    Numeric { mean: f32, std: f32 },
    /// The categories of the steps' features pooled by text, most frequent
    /// first (ties by text).
    Categorical { categories: Vec<String> },
}

/// Each channel's statistics from the design rows `x` (encoded for
/// `schema`, numeric cells raw or NaN) of the rows the kind is fitted on.
/// `features` is [`HistorySpec::features`].
pub fn fit_channels(
    schema: &Schema,
    x: &Matrix,
    features: &[Vec<u32>],
) -> Result<Vec<ChannelStats>, HistoryError> {
    // The first design column of every feature.
    let mut start = Vec::with_capacity(schema.features.len());
    let mut at = 0usize;
    for f in &schema.features {
        start.push(at);
        at += f.width();
    }
    features
        .iter()
        .map(|steps| {
            let feats: Vec<(usize, &FeatureKind)> = steps
                .iter()
                .filter_map(|&i| {
                    let i = i as usize;
                    Some((*start.get(i)?, &schema.features.get(i)?.kind))
                })
                .collect();
            if feats.len() != steps.len() {
                return Err(HistoryError(
                    "a channel names a feature the schema does not have".into(),
                ));
            }
            if feats
                .iter()
                .all(|(_, k)| matches!(k, FeatureKind::Numeric(_)))
            {
                let (mut n, mut sum) = (0usize, 0.0f64);
                for r in 0..x.rows {
                    let row = x.row(r);
                    for &(c, _) in &feats {
                        let v = row.get(c).copied().unwrap_or(f32::NAN);
                        if v.is_finite() {
                            n += 1;
                            sum += f64::from(v);
                        }
                    }
                }
                let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                let mut ss = 0.0f64;
                for r in 0..x.rows {
                    let row = x.row(r);
                    for &(c, _) in &feats {
                        let v = row.get(c).copied().unwrap_or(f32::NAN);
                        if v.is_finite() {
                            ss += (f64::from(v) - mean).powi(2);
                        }
                    }
                }
                let std = (ss / n.max(1) as f64).sqrt() as f32;
                Ok(ChannelStats::Numeric {
                    mean: mean as f32,
                    std: if std.is_finite() && std > 0.0 {
                        std
                    } else {
                        1.0
                    },
                })
            } else {
                // Pooled counts of each category text over the steps' one-hot columns.
                let mut counts: std::collections::BTreeMap<&str, f64> = Default::default();
                for &(c, kind) in &feats {
                    let FeatureKind::Categorical(cat) = kind else {
                        return Err(HistoryError(
                            "a channel mixes numeric and categorical features".into(),
                        ));
                    };
                    for (k, text) in cat.categories.iter().enumerate() {
                        let col = c + k;
                        let total: f64 = (0..x.rows)
                            .map(|r| f64::from(x.row(r).get(col).copied().unwrap_or(0.0)))
                            .sum();
                        *counts.entry(text).or_default() += total;
                    }
                }
                let mut cats: Vec<(&str, f64)> = counts.into_iter().collect();
                cats.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
                Ok(ChannelStats::Categorical {
                    categories: cats.into_iter().map(|(t, _)| t.to_string()).collect(),
                })
            }
        })
        .collect()
}

/// The runtime's history of `spec` for `schema`, with the channel
/// statistics fitted on the design rows `x` (the rows the kind is fitted on).
pub fn runtime_history(
    spec: &HistorySpec,
    schema: &Schema,
    x: &Matrix,
) -> Result<History, HistoryError> {
    let features = spec.features(schema)?;
    let stats = fit_channels(schema, x, &features)?;
    Ok(History {
        name: spec.name.clone(),
        unit: spec.unit.clone(),
        steps: u32::try_from(spec.steps())
            .map_err(|_| HistoryError(format!("{}: too many steps", spec.source)))?,
        channels: spec
            .channels
            .iter()
            .zip(features)
            .zip(stats)
            .map(|((c, features), st)| Channel {
                name: c.name.clone(),
                features,
                input: match st {
                    ChannelStats::Numeric { mean, std } => ChannelInput::Numeric { mean, std },
                    ChannelStats::Categorical { categories } => {
                        ChannelInput::Categorical { categories }
                    }
                },
            })
            .collect(),
    })
}

/// The network inputs of every design row of `x`, each made by the
/// runtime's own [`SeqInputs::inputs`] (no second copy of the transform).
pub fn seq_data(inputs: &SeqInputs, x: &Matrix) -> SeqData {
    let (t, c, s) = (
        inputs.steps(),
        inputs.input_channels(),
        inputs.static_inputs(),
    );
    let mut d = SeqData {
        rows: x.rows,
        steps: t,
        channels: c,
        statics: s,
        seq: vec![0.0; x.rows * t * c],
        mask: vec![0.0; x.rows * t],
        stat: vec![0.0; x.rows * s],
    };
    for r in 0..x.rows {
        inputs.inputs(
            x.row(r),
            &mut d.seq[r * t * c..(r + 1) * t * c],
            &mut d.mask[r * t..(r + 1) * t],
            &mut d.stat[r * s..(r + 1) * s],
        );
    }
    d
}

/// Fits a sequence kind (`gru`, `tcn`) on `input`: the history's runtime
/// description (channel statistics from `input.x`), its [`SeqData`], the
/// network ([`sequence::fit`], on `input.threads` threads, one progress line
/// per epoch), then the runtime model through the kind's constructor.
pub fn fit_sequence(p: SeqParams, input: &FitInput<'_>) -> Result<Fitted, String> {
    let id = match p.encoder {
        Encoder::Gru => "gru",
        Encoder::Tcn => "tcn",
    };
    let spec = input.history.ok_or_else(|| {
        format!(
            "{id} reads a customer's history: give its columns with --sequence NAME=COL,COL,... \
             (oldest first; one flag per channel) or a schema file's \"history\""
        )
    })?;
    let history = runtime_history(spec, input.schema, input.x).map_err(|e| e.0)?;
    let inputs = SeqInputs::new(input.schema, history)?;
    let data = seq_data(&inputs, input.x);
    input
        .progress
        .start(&format!("{id} (epochs)"), p.epochs as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(input.threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {} training threads: {e}", input.threads))?;
    let mut last = 0.0f64;
    let (m, outcome) = pool.install(|| {
        sequence::fit(&data, input.y, input.weights, &p, &mut |e| {
            input.progress.set(e.epoch as u64);
            input.progress.line(&format!(
                "{id} {}  ({:.1} s/epoch)",
                e.line(),
                e.seconds - last
            ));
            last = e.seconds;
        })
        .map_err(|e| e.to_string())
    })?;
    let mut notes = vec![
        format!("{id}: {}", spec.describe()),
        format!(
            "{id}: {} inputs per step, {} static inputs; batch {}, lr {}, patience {}; {} \
             epoch(s) run, kept epoch {}",
            inputs.input_channels(),
            inputs.static_inputs(),
            p.batch_size,
            p.lr,
            p.patience,
            outcome.epochs,
            outcome.best_epoch
        ),
    ];
    match outcome.stop {
        Stop::Epochs | Stop::Patience => {}
        Stop::Timeout => notes.push(format!(
            "{id}: training stopped by --max-time {} s; the best epoch so far was kept",
            p.max_seconds.unwrap_or(0.0)
        )),
        Stop::Interrupted => notes.push(format!(
            "{id}: training interrupted (Ctrl-C); the best epoch so far was kept"
        )),
    }
    let head = Head {
        w1: m.head_w1,
        b1: m.head_b1,
        w2: m.head_w2,
        b2: m.head_b2,
    };
    let model = match m.encoder {
        Encoder::Gru => Model::from(Gru::new(
            inputs,
            m.hidden,
            m.gru
                .into_iter()
                .map(|l| GruLayer {
                    w: l.w,
                    u: l.u,
                    bi: l.bi,
                    bh: l.bh,
                })
                .collect(),
            head,
        )?),
        Encoder::Tcn => Model::from(Tcn::new(
            inputs,
            m.hidden,
            m.kernel,
            (m.tcn_in_w, m.tcn_in_b),
            m.conv
                .into_iter()
                .map(|c| ConvLayer { w: c.w, b: c.b })
                .collect(),
            head,
        )?),
    };
    Ok(Fitted {
        model,
        calibration: Calibration::Logistic,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{prepare, SchemaFile, Table};
    use std::path::Path;

    fn ds(text: &str) -> (Table, Dataset) {
        let t = Table::parse(Path::new("d.csv"), text, String::new()).unwrap();
        let drop: Vec<String> = t
            .header
            .iter()
            .filter(|h| *h == "dropped")
            .cloned()
            .collect();
        let d = prepare(&t, "y", "bad", &drop, &SchemaFile::default()).unwrap();
        (t, d)
    }

    fn flags(seqs: &[&str]) -> HistorySpec {
        let s: Vec<String> = seqs.iter().map(|s| s.to_string()).collect();
        HistorySpec::from_args(&s, None, None, None)
            .unwrap()
            .unwrap()
    }

    fn check(seqs: &[&str]) -> String {
        let (t, d) = ds(DATA);
        match flags(seqs).check(&d, &t.header, "d.csv") {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    const DATA: &str = "a1,a2,a3,b1,b2,b3,c1,c2,dropped,age,y\n\
        1,2,3,10,20,30,x,y,5,40,bad\n\
        2,,4,11,,31,y,x,6,50,good\n\
        3,4,,12,22,,x,x,7,60,good\n";

    #[test]
    fn flags_parse_into_channels_oldest_first() {
        let h = flags(&["a=a1,a2,a3", " b = b1, b2 ,b3"]);
        assert_eq!(h.name, DEFAULT_NAME);
        assert_eq!(h.unit, DEFAULT_UNIT);
        assert_eq!(h.steps(), 3);
        assert_eq!(h.channels[1].name, "b");
        assert_eq!(h.channels[1].columns, vec!["b1", "b2", "b3"]);
        assert_eq!(check(&["a=a1,a2,a3", "b=b1,b2,b3"]), "ok");
        assert_eq!(check(&["c=c1,c2"]), "ok");
    }

    #[test]
    fn every_wrong_history_is_named_by_flag_channel_and_column() {
        let cases: &[(&[&str], &str)] = &[
            (&["a=a1,a2,zz"], "--sequence a: column 'zz' is not a column of d.csv"),
            (&["a=a1,a2,a1"], "--sequence a: column 'a1' is given twice"),
            (
                &["a=a1,a2,a3", "b=b1,a2,b3"],
                "--sequence b: column 'a2' is already in channel a",
            ),
            (
                &["a=a1,a2,y"],
                "--sequence a: column 'y' is the label; it cannot be in a history",
            ),
            (
                &["a=a1,a2,a3", "b=b1,b2"],
                "--sequence b: 2 columns, but channel a has 3; every channel needs one column per step",
            ),
            (
                &["a=a1"],
                "--sequence a: 1 column(s); a history needs at least 2 steps",
            ),
            (&["a=a1,a2", "a=b1,b2"], "--sequence a: the channel is given twice"),
            (
                &["a=a1,dropped"],
                "--sequence a: column 'dropped' is left out of the features (--drop, --protected or --split-by)",
            ),
            (
                &["m=a1,c1"],
                "--sequence m: column 'c1' is categorical, but 'a1' is numeric; a channel's columns share one type (a schema file's \"types\" can set it)",
            ),
        ];
        for (seqs, want) in cases {
            assert_eq!(check(seqs), *want, "{seqs:?}");
        }
        for (bad, want) in [
            ("a", "no '='"),
            ("=a1,a2", "the channel has no name"),
            ("a=a1,,a2", "an empty column name"),
        ] {
            let e = HistorySpec::from_args(&[bad.to_string()], None, None, None)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("--sequence '{bad}': {want}")), "{e}");
        }
    }

    #[test]
    fn names_flags_and_the_schema_file_are_exclusive_and_checked() {
        let e = HistorySpec::from_args(&[], Some("h"), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--history-name names a history"), "{e}");
        let file: HistoryFile = serde_json::from_str(
            r#"{"name": "account", "unit": "quarter",
                "channels": [{"name": "a", "columns": ["a1", "a2", "a3"]}]}"#,
        )
        .unwrap();
        let e = HistorySpec::from_args(&["a=a1,a2".into()], None, None, Some(&file))
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
        let h = HistorySpec::from_args(&[], None, Some("week"), Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!((h.name.as_str(), h.unit.as_str()), ("account", "week"));
        let (t, d) = ds(DATA);
        assert_eq!(h.check(&d, &t.header, "d.csv").map_err(|e| e.0), Ok(()));
        let mut wrong = file.clone();
        wrong.channels[0].columns[2] = "nope".into();
        let h = HistorySpec::from_args(&[], None, None, Some(&wrong))
            .unwrap()
            .unwrap();
        assert_eq!(
            h.check(&d, &t.header, "d.csv").unwrap_err().0,
            "schema file history a: column 'nope' is not a column of d.csv"
        );
        let mut h = flags(&["a=a1,a2"]);
        h.unit = " ".into();
        assert!(h
            .check(&d, &t.header, "d.csv")
            .unwrap_err()
            .0
            .starts_with("--history-unit ' '"));
        let e = serde_json::from_str::<HistoryFile>(r#"{"chanels": []}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn channel_statistics_pool_the_steps_of_the_fitted_rows_only() {
        use ferrisk::schema::Encoding;
        let (t, d) = ds(DATA);
        let enc = Encoding {
            scale: false,
            impute_numeric: false,
        };
        // Fitted on rows 0 and 1 only: row 2 must not count.
        let rows = [0usize, 1];
        let schema = crate::prep::fit_schema(&t, &d, &rows, enc).unwrap();
        let x = crate::prep::encode_rows(&schema, &t, &d, &rows).unwrap();
        let h = flags(&["a=a1,a2,a3", "c=c1,c2"]);
        let feats = h.features(&schema).unwrap();
        assert_eq!(feats[0], vec![0, 1, 2]);
        let stats = fit_channels(&schema, &x, &feats).unwrap();
        // Oracle: the non-missing a-cells of rows 0 and 1 are 1, 2, 3, 2, 4.
        let vals = [1.0f64, 2.0, 3.0, 2.0, 4.0];
        let mean = vals.iter().sum::<f64>() / 5.0;
        let std = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
        assert_eq!(
            stats[0],
            ChannelStats::Numeric {
                mean: mean as f32,
                std: std as f32
            }
        );
        // c-cells of rows 0 and 1: x, y, y, x -> tie, by text.
        assert_eq!(
            stats[1],
            ChannelStats::Categorical {
                categories: vec!["x".into(), "y".into()]
            }
        );
        // All three rows: x 4 times, y twice.
        let all = [0usize, 1, 2];
        let schema = crate::prep::fit_schema(&t, &d, &all, enc).unwrap();
        let x = crate::prep::encode_rows(&schema, &t, &d, &all).unwrap();
        let stats = fit_channels(&schema, &x, &h.features(&schema).unwrap()).unwrap();
        assert_eq!(
            stats[1],
            ChannelStats::Categorical {
                categories: vec!["x".into(), "y".into()]
            }
        );
        // A constant channel has std 1.
        let (t, d) = ds("a1,a2,y\n5,5,bad\n5,,good\n");
        let schema = crate::prep::fit_schema(&t, &d, &[0, 1], enc).unwrap();
        let x = crate::prep::encode_rows(&schema, &t, &d, &[0, 1]).unwrap();
        let stats = fit_channels(&schema, &x, &[vec![0, 1]]).unwrap();
        assert_eq!(
            stats[0],
            ChannelStats::Numeric {
                mean: 5.0,
                std: 1.0
            }
        );
    }
}
