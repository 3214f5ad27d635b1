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
//! A reader meets a tag it does not know: for a required section (every
//! `model/` section) it refuses the file naming the kind and the ferrisk
//! that wrote it; an optional section is skipped, so later versions can add
//! data that older readers may ignore.

use serde::{Deserialize, Serialize};

use super::v1;
use super::v2::FileV2;
use crate::bundle::{Algorithm, Bundle};
use crate::error::FormatError;
use crate::kinds::{Model, TAGS};
use crate::metrics::{Extra, ReliabilityBin};
use crate::policy::{CutFigures, Decision, Policy};
use crate::Calibration;

/// Prefix of a model section's tag.
pub const MODEL_SECTION: &str = "model/";
/// Required: a calibration the v1 slot cannot hold (`Calibration::PlattLogit`).
pub const PLATT_LOGIT_SECTION: &str = "calibration/platt-logit";
/// Optional: the decision methodology and the test metrics' calibration
/// figures (`Bundle::decision`, `Metrics::extra`).
pub const DECISION_SECTION: &str = "report/decision";

/// Wire form of [`crate::policy::Policy`].
#[derive(Debug, Serialize, Deserialize)]
enum PolicyV3 {
    Fixed(f32),
    Cost(f64, f64),
    ApprovalRate(f64),
    MaxF1,
    Ks,
}

/// Wire form of [`CutFigures`].
#[derive(Debug, Serialize, Deserialize)]
struct CutV3 {
    threshold: f32,
    rows: u64,
    approval_rate: f64,
    bad_rate_approved: f64,
    expected_cost: Option<f64>,
}

/// Wire form of [`Extra`]; bins as (mean predicted, observed, rows).
#[derive(Debug, Serialize, Deserialize)]
struct ExtraV3 {
    ece: f64,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    reliability: Vec<(f64, f64, u64)>,
    average_precision: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct DecisionV3 {
    policy: PolicyV3,
    chosen_on: String,
    chosen: CutV3,
    evaluated: Option<(CutV3, CutV3)>,
    evaluated_on: String,
    calibration: String,
    calibration_chosen_by: String,
    /// Calibration figures of the stored test metrics.
    test_extra: Option<ExtraV3>,
}

impl From<&CutFigures> for CutV3 {
    fn from(c: &CutFigures) -> CutV3 {
        CutV3 {
            threshold: c.threshold,
            rows: c.rows,
            approval_rate: c.approval_rate,
            bad_rate_approved: c.bad_rate_approved,
            expected_cost: c.expected_cost,
        }
    }
}

impl From<CutV3> for CutFigures {
    fn from(c: CutV3) -> CutFigures {
        CutFigures {
            threshold: c.threshold,
            rows: c.rows,
            approval_rate: c.approval_rate,
            bad_rate_approved: c.bad_rate_approved,
            expected_cost: c.expected_cost,
        }
    }
}

fn decision_section(b: &Bundle) -> Option<DecisionV3> {
    let d = b.decision.as_ref()?;
    Some(DecisionV3 {
        policy: match d.policy {
            Policy::Fixed(t) => PolicyV3::Fixed(t),
            Policy::Cost { fn_cost, fp_cost } => PolicyV3::Cost(fn_cost, fp_cost),
            Policy::ApprovalRate(r) => PolicyV3::ApprovalRate(r),
            Policy::MaxF1 => PolicyV3::MaxF1,
            Policy::Ks => PolicyV3::Ks,
        },
        chosen_on: d.chosen_on.clone(),
        chosen: (&d.chosen).into(),
        evaluated: d.evaluated.as_ref().map(|(a, h)| (a.into(), h.into())),
        evaluated_on: d.evaluated_on.clone(),
        calibration: d.calibration.clone(),
        calibration_chosen_by: d.calibration_chosen_by.clone(),
        test_extra: b
            .report
            .as_ref()
            .and_then(|r| r.test.extra.as_ref())
            .map(|e| ExtraV3 {
                ece: e.ece,
                reliability: e
                    .reliability
                    .iter()
                    .map(|r| (r.mean_predicted, r.observed, r.rows))
                    .collect(),
                average_precision: e.average_precision,
            }),
    })
}

fn apply_decision(b: &mut Bundle, d: DecisionV3) {
    if let (Some(r), Some(e)) = (b.report.as_mut(), d.test_extra) {
        r.test.extra = Some(Extra {
            ece: e.ece,
            reliability: e
                .reliability
                .into_iter()
                .map(|(mean_predicted, observed, rows)| ReliabilityBin {
                    mean_predicted,
                    observed,
                    rows,
                })
                .collect(),
            average_precision: e.average_precision,
        });
    }
    b.decision = Some(Decision {
        policy: match d.policy {
            PolicyV3::Fixed(t) => Policy::Fixed(t),
            PolicyV3::Cost(fn_cost, fp_cost) => Policy::Cost { fn_cost, fp_cost },
            PolicyV3::ApprovalRate(r) => Policy::ApprovalRate(r),
            PolicyV3::MaxF1 => Policy::MaxF1,
            PolicyV3::Ks => Policy::Ks,
        },
        chosen_on: d.chosen_on,
        chosen: d.chosen.into(),
        evaluated: d.evaluated.map(|(a, h)| (a.into(), h.into())),
        evaluated_on: d.evaluated_on,
        calibration: d.calibration,
        calibration_chosen_by: d.calibration_chosen_by,
    });
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

/// The minimum reader version a bundle needs.
pub fn min_reader(b: &Bundle) -> u16 {
    if matches!(b.calibration, Calibration::PlattLogit { .. }) {
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
    if let Some(d) = decision_section(b) {
        sections.push((DECISION_SECTION.into(), false, to_bytes(&d)?));
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

fn split(body: &[u8]) -> Result<(FileV2, &[u8]), FormatError> {
    postcard::take_from_bytes::<FileV2>(body)
        .map_err(|e| FormatError::Decode(format!("{e} (body of {} bytes)", body.len())))
}

/// Decodes a whole v3 body; trailing bytes are an error.
pub fn decode(body: &[u8]) -> Result<Bundle, FormatError> {
    let (v2, rest) = split(body)?;
    let ext = super::decode_exact::<ExtV3>(rest)?;
    apply(Bundle::try_from(v2)?, ext)
}

/// Decodes the v3 part at the start of a newer body (see `format::decode`).
pub fn decode_prefix(body: &[u8]) -> Result<Bundle, FormatError> {
    let (v2, rest) = split(body)?;
    let (ext, _) = postcard::take_from_bytes::<ExtV3>(rest)
        .map_err(|e| FormatError::Decode(format!("{e} (body of {} bytes)", body.len())))?;
    apply(Bundle::try_from(v2)?, ext)
}

fn apply(mut b: Bundle, ext: ExtV3<'_>) -> Result<Bundle, FormatError> {
    let (id, name) = ext.algorithm;
    b.algorithm = Algorithm::new(id, name);
    let mut model_seen = false;
    for s in ext.sections {
        if let Some(kind) = s.tag.strip_prefix(MODEL_SECTION) {
            if model_seen {
                return Err(FormatError::Invalid("more than one model section".into()));
            }
            model_seen = true;
            b.model = match Model::decode_section(kind, s.body) {
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
            let (a, c) = super::decode_exact::<(f32, f32)>(s.body)?;
            b.calibration = Calibration::PlattLogit { a, b: c };
        } else if s.tag == DECISION_SECTION {
            apply_decision(&mut b, super::decode_exact::<DecisionV3>(s.body)?);
        } else if s.required {
            return Err(FormatError::UnknownSection {
                tag: s.tag.to_string(),
                producer: b.metadata.producer.clone(),
            });
        }
    }
    Ok(b)
}
