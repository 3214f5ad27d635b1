//! Format version 3: the v2 body, unchanged, followed by an extension that
//! names the training algorithm and carries kind-tagged sections.
//!
//! ```text
//! body = FileV2 | ExtV3 { algorithm: (id, name), sections: [Section] }
//! Section = { tag, required, body: bytes }
//! ```
//!
//! A model whose kind the v1/v2 slots can hold (linear, kernel SVM, trees,
//! attention) stays there, so such a file keeps the minimum reader it had
//! (1, or 2 for attention) and older readers load it. A model of any other
//! kind goes into a section tagged `model/<kind tag>` (the kind's own wire
//! struct, see [`crate::kinds::Kind`]), the v1 slot holds an empty
//! placeholder, and the file needs reader 3. Adding a kind therefore needs
//! no new format version: it is a new tag.
//!
//! Optional sections this reader knows:
//!
//! - `explain/background` ([`BackgroundV3`]): the rows and weights that
//!   model-agnostic explanations average over
//!   ([`crate::explain::shapley`]). A reader without it explains such a file
//!   against the mean row, as before.
//!
//! - `report/governance` (hand-coded like `report/decision`): the names of
//!   the protected attributes and the governance report as JSON (fairness
//!   audit, proxies, monotone constraints: [`crate::governance`]). A reader
//!   without it loads the file without them.
//!
//! A reader meets a tag it does not know: for a required section (every
//! `model/` section) it refuses the file naming the kind and the ferrisk
//! that wrote it; an optional section is skipped, so later versions can add
//! data that older readers may ignore.

use serde::{Deserialize, Serialize};

use super::v1;
use super::wire::Wire;
use crate::bundle::{Algorithm, Bundle};
use crate::error::FormatError;
use crate::explain::BackgroundSet;
use crate::governance::Section;
use crate::kinds::{Model, TAGS};
use crate::metrics::{Extra, ReliabilityBin};
use crate::policy::{CutFigures, Decision, Policy};
use crate::Calibration;

/// Prefix of a model section's tag.
pub const MODEL_SECTION: &str = "model/";
/// Required: a calibration the v1 slot cannot hold (`Calibration::PlattLogit`).
pub const PLATT_LOGIT_SECTION: &str = "calibration/platt-logit";
/// Required: an isotonic calibration (`Calibration::Isotonic`).
pub const ISOTONIC_SECTION: &str = "calibration/isotonic";
/// Optional: the decision methodology and the test metrics' calibration
/// figures (`Bundle::decision`, `Metrics::extra`).
pub const DECISION_SECTION: &str = "report/decision";

/// Optional: protected attributes, fairness audit, proxies, monotone
/// constraints (`Bundle::governance`).
pub const GOVERNANCE_SECTION: &str = "report/governance";
/// The governance section's layout version (its first byte).
const GOVERNANCE_LAYOUT: u8 = 1;

/// The decision section's layout version (its first byte).
const DECISION_LAYOUT: u8 = 1;

/// The `report/decision` section, written by hand rather than with serde:
/// its derive-generated decoder cost ~5 KB of wasm. Little-endian numbers,
/// strings as u32 length + UTF-8 bytes, options as a 0/1 byte:
///
/// ```text
/// layout u8 = 1
/// policy u8 (0 fixed, 1 cost, 2 approval rate, 3 max-f1, 4 ks), f64, f64
/// chosen cut; u8 + 2 cuts (evaluated at the threshold, at 0.5)
/// chosen_on, evaluated_on, calibration, calibration_chosen_by: strings
/// u8 + test metrics' extra: ece f64, average precision f64,
///      u32 bins, bins × (mean predicted f64, observed f64, rows u64)
/// cut = threshold f32, rows u64, approval rate f64, bad rate f64, u8 + cost f64
/// ```
fn decision_section(b: &Bundle) -> Option<Vec<u8>> {
    let d = b.decision.as_ref()?;
    let mut w = Vec::new();
    w.push(DECISION_LAYOUT);
    let (tag, p1, p2) = match d.policy {
        Policy::Fixed(t) => (0u8, f64::from(t), 0.0),
        Policy::Cost { fn_cost, fp_cost } => (1, fn_cost, fp_cost),
        Policy::ApprovalRate(r) => (2, r, 0.0),
        Policy::MaxF1 => (3, 0.0, 0.0),
        Policy::Ks => (4, 0.0, 0.0),
    };
    w.push(tag);
    w.extend(p1.to_le_bytes());
    w.extend(p2.to_le_bytes());
    put_cut(&mut w, &d.chosen);
    w.push(u8::from(d.evaluated.is_some()));
    if let Some((a, h)) = &d.evaluated {
        put_cut(&mut w, a);
        put_cut(&mut w, h);
    }
    for t in [
        &d.chosen_on,
        &d.evaluated_on,
        &d.calibration,
        &d.calibration_chosen_by,
    ] {
        w.extend((t.len() as u32).to_le_bytes());
        w.extend(t.as_bytes());
    }
    let extra = b.report.as_ref().and_then(|r| r.test.extra.as_ref());
    w.push(u8::from(extra.is_some()));
    if let Some(e) = extra {
        w.extend(e.ece.to_le_bytes());
        w.extend(e.average_precision.to_le_bytes());
        w.extend((e.reliability.len() as u32).to_le_bytes());
        for r in &e.reliability {
            w.extend(r.mean_predicted.to_le_bytes());
            w.extend(r.observed.to_le_bytes());
            w.extend(r.rows.to_le_bytes());
        }
    }
    Some(w)
}

fn put_cut(w: &mut Vec<u8>, c: &CutFigures) {
    w.extend(c.threshold.to_le_bytes());
    w.extend(c.rows.to_le_bytes());
    w.extend(c.approval_rate.to_le_bytes());
    w.extend(c.bad_rate_approved.to_le_bytes());
    w.push(u8::from(c.expected_cost.is_some()));
    w.extend(c.expected_cost.unwrap_or(0.0).to_le_bytes());
}

fn apply_decision(b: &mut Bundle, body: &[u8]) -> Result<(), FormatError> {
    if body.first() != Some(&DECISION_LAYOUT) {
        // A later layout: an optional section, so it is skipped.
        return Ok(());
    }
    let (decision, extra) = section(
        DECISION_SECTION,
        body.get(1..).unwrap_or_default(),
        read_decision,
    )?;
    if let (Some(r), Some(e)) = (b.report.as_mut(), extra) {
        r.test.extra = Some(e);
    }
    b.decision = Some(decision);
    Ok(())
}

/// A cut's figures (see [`decision_section`]).
fn read_cut(w: &mut Wire<'_>) -> CutFigures {
    CutFigures {
        threshold: w.f32(),
        rows: w.u64_le(),
        approval_rate: w.f64(),
        bad_rate_approved: w.f64(),
        expected_cost: {
            let has = w.u8() == 1;
            let v = w.f64();
            has.then_some(v)
        },
    }
}

/// The decision section after its layout byte (a flag byte other than 1
/// reads as "absent", as it always has).
fn read_decision(w: &mut Wire<'_>) -> (Decision, Option<Extra>) {
    let (tag, p1, p2) = (w.u8(), w.f64(), w.f64());
    let policy = match tag {
        0 => Policy::Fixed(p1 as f32),
        1 => Policy::Cost {
            fn_cost: p1,
            fp_cost: p2,
        },
        2 => Policy::ApprovalRate(p1),
        3 => Policy::MaxF1,
        4 => Policy::Ks,
        _ => {
            w.fail("an unknown policy");
            Policy::MaxF1
        }
    };
    let chosen = read_cut(w);
    let evaluated = (w.u8() == 1).then(|| (read_cut(w), read_cut(w)));
    let decision = Decision {
        policy,
        chosen_on: w.text(),
        chosen,
        evaluated,
        evaluated_on: w.text(),
        calibration: w.text(),
        calibration_chosen_by: w.text(),
    };
    let extra = (w.u8() == 1).then(|| {
        let (ece, average_precision) = (w.f64(), w.f64());
        // 24 bytes a bin: a count the body cannot hold allocates nothing.
        let n = w.fixed_count(24);
        let mut reliability = Vec::with_capacity(n);
        for _ in 0..n {
            reliability.push(ReliabilityBin {
                mean_predicted: w.f64(),
                observed: w.f64(),
                rows: w.u64_le(),
            });
        }
        Extra {
            ece,
            reliability,
            average_precision,
        }
    });
    (decision, extra)
}

fn put_text(w: &mut Vec<u8>, t: &str) {
    w.extend((t.len() as u32).to_le_bytes());
    w.extend(t.as_bytes());
}

/// The `report/governance` section, hand-coded as `report/decision` is:
/// `layout u8 = 1, u32 count × protected name (text), report text` (texts
/// as u32 length + UTF-8; the report is JSON the runtime does not read).
fn governance_section(b: &Bundle) -> Option<Vec<u8>> {
    let g = b.governance.as_ref()?;
    let mut w = vec![GOVERNANCE_LAYOUT];
    w.extend((g.protected.len() as u32).to_le_bytes());
    for p in &g.protected {
        put_text(&mut w, p);
    }
    put_text(&mut w, &g.report);
    Some(w)
}

fn read_governance(w: &mut Wire<'_>) -> Section {
    let n = w.fixed_count(4);
    let mut protected = Vec::with_capacity(n);
    for _ in 0..n {
        protected.push(w.text());
    }
    Section {
        protected,
        report: w.text(),
    }
}

fn apply_governance(b: &mut Bundle, body: &[u8]) -> Result<(), FormatError> {
    if body.first() != Some(&GOVERNANCE_LAYOUT) {
        return Ok(()); // a later layout of an optional section
    }
    b.governance = Some(section(
        GOVERNANCE_SECTION,
        body.get(1..).unwrap_or_default(),
        read_governance,
    )?);
    Ok(())
}

/// Tag of the optional explanation background section.
pub const BACKGROUND_SECTION: &str = "explain/background";

/// Section `explain/background`: `weights.len()` rows of the design width,
/// row-major, and one positive weight per row.
#[derive(Debug, Serialize, Deserialize)]
pub struct BackgroundV3 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub rows: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub weights: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SectionV3<'a> {
    pub tag: &'a str,
    /// A reader that does not know `tag` must refuse the file.
    pub required: bool,
    pub body: &'a [u8],
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExtV3<'a> {
    /// Training algorithm: (id, display name).
    pub algorithm: (&'a str, &'a str),
    #[serde(borrow)]
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub sections: Vec<SectionV3<'a>>,
}

/// Section `calibration/isotonic`: the knots of `Calibration::Isotonic`.
#[derive(Debug, Serialize, Deserialize)]
pub struct IsotonicV3 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub x: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub y: Vec<f32>,
}

/// The minimum reader version a bundle needs.
pub fn min_reader(b: &Bundle) -> u16 {
    if matches!(
        b.calibration,
        Calibration::PlattLogit { .. } | Calibration::Isotonic(_)
    ) {
        3
    } else if v1::model_slot(&b.model).is_some() {
        1
    } else if b.model.as_attention().is_some() {
        2
    } else {
        3
    }
}

pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    let mut out = super::v2::encode(b)?;
    let model_section = if v1::model_slot(&b.model).is_none() && b.model.as_attention().is_none() {
        let (tag, body) = b.model.encode_section()?;
        Some((format!("{MODEL_SECTION}{tag}"), body))
    } else {
        None
    };
    let mut sections: Vec<(String, bool, Vec<u8>)> = Vec::new();
    if let Some((tag, body)) = model_section {
        sections.push((tag, true, body));
    }
    if let Calibration::PlattLogit { a, b } = b.calibration {
        sections.push((PLATT_LOGIT_SECTION.into(), true, to_bytes(&(a, b))?));
    }
    if let Calibration::Isotonic(iso) = &b.calibration {
        let body = to_bytes(&IsotonicV3 {
            x: iso.x.clone(),
            y: iso.y.clone(),
        })?;
        sections.push((ISOTONIC_SECTION.into(), true, body));
    }
    if let Some(d) = decision_section(b) {
        sections.push((DECISION_SECTION.into(), false, d));
    }
    if let Some(g) = governance_section(b) {
        sections.push((GOVERNANCE_SECTION.into(), false, g));
    }
    if let Some(set) = &b.background_set {
        let body = to_bytes(&BackgroundV3 {
            rows: set.rows.clone(),
            weights: set.weights.clone(),
        })?;
        sections.push((BACKGROUND_SECTION.into(), false, body));
    }
    let ext = ExtV3 {
        algorithm: (&b.algorithm.id, &b.algorithm.name),
        sections: sections
            .iter()
            .map(|(tag, required, body)| SectionV3 {
                tag,
                required: *required,
                body,
            })
            .collect(),
    };
    let ext = postcard::to_allocvec(&ext).map_err(|e| FormatError::Encode(e.to_string()))?;
    out.extend_from_slice(&ext);
    Ok(out)
}

fn to_bytes<T: Serialize>(v: &T) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(v).map_err(|e| FormatError::Encode(e.to_string()))
}

/// Decodes a whole v3 body; trailing bytes are an error.
pub fn decode(body: &[u8]) -> Result<Bundle, FormatError> {
    super::read_body(body, 3)
}

/// Decodes the v3 part at the start of a newer body (see `format::decode`).
pub fn decode_prefix(body: &[u8]) -> Result<Bundle, FormatError> {
    super::read_body(body, u16::MAX)
}

/// The extension ([`ExtV3`], after the v2 body), read by hand.
pub(crate) fn read_ext<'a>(w: &mut Wire<'a>) -> ExtV3<'a> {
    ExtV3 {
        algorithm: (w.str(), w.str()),
        sections: w.list(|w| SectionV3 {
            tag: w.str(),
            required: w.bool(),
            body: w.bytes(),
        }),
    }
}

/// Reads a section's body with `f`, which must read all of it.
fn section<T>(
    tag: &str,
    body: &[u8],
    f: impl FnOnce(&mut Wire<'_>) -> T,
) -> Result<T, FormatError> {
    let mut w = Wire::new(body);
    let v = f(&mut w);
    w.end();
    w.check(&format!("section '{tag}'"))?;
    Ok(v)
}

/// The model-section decoder `apply` uses (the tests give serde's).
pub(super) type SectionDecoder = fn(&str, &[u8]) -> Option<Result<Model, FormatError>>;

pub(super) fn apply(
    mut b: Bundle,
    ext: ExtV3<'_>,
    decode: SectionDecoder,
) -> Result<Bundle, FormatError> {
    let (id, name) = ext.algorithm;
    b.algorithm = Algorithm::new(id, name);
    let mut model_seen = false;
    for s in ext.sections {
        if let Some(kind) = s.tag.strip_prefix(MODEL_SECTION) {
            if model_seen {
                return Err(FormatError::Invalid("more than one model section".into()));
            }
            model_seen = true;
            b.model = match decode(kind, s.body) {
                Some(m) => m?,
                None => {
                    return Err(FormatError::UnknownKind {
                        kind: kind.to_string(),
                        producer: b.metadata.producer.clone(),
                        known: TAGS.join(", "),
                    })
                }
            };
        } else if s.tag == PLATT_LOGIT_SECTION {
            let (a, c) = section(s.tag, s.body, |w| (w.f32(), w.f32()))?;
            b.calibration = Calibration::PlattLogit { a, b: c };
        } else if s.tag == ISOTONIC_SECTION {
            let (x, y) = section(s.tag, s.body, |w| (w.f32s(), w.f32s()))?;
            b.calibration = Calibration::Isotonic(crate::calibration::Isotonic { x, y });
        } else if s.tag == DECISION_SECTION {
            apply_decision(&mut b, s.body)?;
        } else if s.tag == GOVERNANCE_SECTION {
            apply_governance(&mut b, s.body)?;
        } else if s.tag == BACKGROUND_SECTION {
            if b.background_set.is_some() {
                return Err(FormatError::Invalid(format!(
                    "more than one '{BACKGROUND_SECTION}' section"
                )));
            }
            let (rows, weights) = section(s.tag, s.body, |w| (w.f32s(), w.f32s()))?;
            b.background_set = Some(BackgroundSet { rows, weights });
        } else if s.required {
            return Err(FormatError::UnknownSection {
                tag: s.tag.to_string(),
                producer: b.metadata.producer.clone(),
            });
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::compute;

    fn bundle_with_decision() -> Bundle {
        let bytes =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/rf.frk")).unwrap();
        let mut b = crate::format::decode(&bytes).unwrap();
        let p = [0.9f32, 0.2, 0.4, 0.7, 0.1, 0.35];
        let y = [true, false, true, true, false, false];
        let cut = |t| {
            crate::policy::figures(
                &p,
                &y,
                t,
                &Policy::Cost {
                    fn_cost: 5.0,
                    fp_cost: 1.0,
                },
            )
        };
        if let Some(r) = b.report.as_mut() {
            r.test = compute(&p, &y, b.threshold).unwrap();
        }
        b.calibration = Calibration::PlattLogit { a: -0.8, b: 0.3 };
        b.decision = Some(Decision {
            policy: Policy::Cost {
                fn_cost: 5.0,
                fp_cost: 1.0,
            },
            chosen_on: "out-of-fold predictions (été)".into(),
            chosen: cut(b.threshold),
            evaluated: Some((cut(b.threshold), cut(0.5))),
            evaluated_on: "test file t.csv".into(),
            calibration: "Platt (log-odds)".into(),
            calibration_chosen_by: "log-loss".into(),
        });
        b
    }

    #[test]
    fn decision_and_calibration_sections_round_trip() {
        let b = bundle_with_decision();
        let bytes = crate::format::encode(&b).unwrap();
        let back = crate::format::decode(&bytes).unwrap();
        assert_eq!(back, b);
        let h = crate::format::read_header(&bytes).unwrap().0;
        assert_eq!(h.min_reader, 3, "Platt on log-odds needs a format-3 reader");
        // Every policy kind survives.
        for policy in [
            Policy::Fixed(0.25),
            Policy::ApprovalRate(0.7),
            Policy::MaxF1,
            Policy::Ks,
        ] {
            let mut c = b.clone();
            if let Some(d) = c.decision.as_mut() {
                d.policy = policy;
            }
            let back = crate::format::decode(&crate::format::encode(&c).unwrap()).unwrap();
            assert_eq!(back.decision, c.decision);
        }
    }

    #[test]
    fn an_isotonic_calibration_round_trips_and_bad_knots_are_refused() {
        let mut b = bundle_with_decision();
        let iso = crate::calibration::Isotonic {
            x: vec![0.0, 0.2, 0.35, 1.0],
            y: vec![0.01, 0.1, 0.1, 0.8],
        };
        b.calibration = Calibration::Isotonic(iso.clone());
        let bytes = crate::format::encode(&b).unwrap();
        let back = crate::format::decode(&bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(crate::format::read_header(&bytes).unwrap().0.min_reader, 3);
        crate::Scorer::from_bytes(&bytes).unwrap();
        // Knots out of order, outside (0, 1) or not finite: a clear refusal.
        for (x, y) in [
            (vec![0.0, 0.2, 0.1], vec![0.1, 0.2, 0.3]),
            (vec![0.0, 0.5], vec![0.3, 0.2]),
            (vec![0.0, 0.5], vec![0.0, 0.2]),
            (vec![0.0, f32::NAN], vec![0.1, 0.2]),
            (vec![0.5], vec![0.5]),
        ] {
            b.calibration = Calibration::Isotonic(crate::calibration::Isotonic { x, y });
            assert!(
                crate::format::encode(&b).is_err(),
                "the writer refuses it too"
            );
            let bytes =
                crate::format::frame(crate::format::FORMAT_VERSION, 3, &encode(&b).unwrap());
            let err = crate::Scorer::from_bytes(&bytes).unwrap_err();
            assert!(err.to_string().contains("isotonic"), "{err}");
        }
    }

    #[test]
    fn a_damaged_decision_section_is_an_error_never_a_panic() {
        let b = bundle_with_decision();
        let Some(body) = decision_section(&b) else {
            panic!("no section")
        };
        for n in 0..body.len() {
            let mut c = b.clone();
            c.decision = None;
            // Truncated: every prefix fails with a message, none panics.
            assert!(
                apply_decision(&mut c, &body[..n]).is_err() || n == 0,
                "prefix {n}"
            );
        }
        let mut c = b.clone();
        let mut long = body.clone();
        long.push(0);
        assert!(apply_decision(&mut c, &long).is_err(), "trailing byte");
        // A bin count the body cannot hold is refused before allocating.
        let mut huge = body.clone();
        let at = huge.len() - 4 - 24 * crate::metrics::RELIABILITY_BINS.min(6);
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(apply_decision(&mut c, &huge).is_err());
        // Another layout is skipped (an optional section).
        let mut other = body;
        other[0] = DECISION_LAYOUT + 1;
        let mut c = b.clone();
        c.decision = None;
        assert!(apply_decision(&mut c, &other).is_ok());
        assert_eq!(c.decision, None);
    }

    fn governance() -> Section {
        Section {
            protected: vec!["age_in_years".into(), "été".into()],
            report: r#"{"protected":[],"evaluatedOn":"x","proxies":[],"monotone":[]}"#.into(),
        }
    }

    #[test]
    fn the_governance_section_round_trips_and_files_without_it_load() {
        let mut b = bundle_with_decision();
        b.governance = Some(governance());
        let back = crate::format::decode(&crate::format::encode(&b).unwrap()).unwrap();
        assert_eq!(back.governance, b.governance);
        // Optional: the minimum reader does not change.
        let mut plain = b.clone();
        plain.governance = None;
        let (hb, hp) = (
            crate::format::read_header(&crate::format::encode(&b).unwrap())
                .unwrap()
                .0,
            crate::format::read_header(&crate::format::encode(&plain).unwrap())
                .unwrap()
                .0,
        );
        assert_eq!(hb.min_reader, hp.min_reader);
        let back = crate::format::decode(&crate::format::encode(&plain).unwrap()).unwrap();
        assert_eq!(back.governance, None);
    }

    #[test]
    fn a_damaged_governance_section_is_an_error_never_a_panic() {
        let mut b = bundle_with_decision();
        b.governance = Some(governance());
        let Some(body) = governance_section(&b) else {
            panic!("no section")
        };
        for n in 1..body.len() {
            let mut c = b.clone();
            assert!(apply_governance(&mut c, &body[..n]).is_err(), "prefix {n}");
        }
        let mut long = body.clone();
        long.push(0);
        assert!(apply_governance(&mut b.clone(), &long).is_err());
        // A huge name count is refused before allocating.
        let mut huge = body.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(apply_governance(&mut b.clone(), &huge).is_err());
        let mut other = body;
        other[0] = GOVERNANCE_LAYOUT + 1;
        let mut c = b.clone();
        c.governance = None;
        assert!(apply_governance(&mut c, &other).is_ok());
        assert_eq!(c.governance, None);
    }
}
