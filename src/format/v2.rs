//! Format version 2: the v1 body, unchanged, followed by an extension.
//!
//! Because a v2 body *starts* with a complete v1 body, a v2 file whose model
//! a v1 reader understands is written with `min_reader = 1`: old readers load
//! the model and ignore the extension (scorecard, reason texts, drift bins).
//! A file whose model only v2 knows (the attention model, carried in the
//! extension) is written with `min_reader = 2`, so a v1 reader refuses it
//! with a clear "from the future" error instead of misreading it; its v1
//! model slot then holds an empty linear placeholder.

use serde::{Deserialize, Serialize};

use super::v1::FileV1;
use crate::bundle::Bundle;
use crate::credit::{ReasonText, Scorecard};
use crate::drift::{Bins, DriftProfile};
use crate::error::FormatError;

#[derive(Debug, Serialize, Deserialize)]
pub struct ExtV2 {
    pub scorecard: [f32; 3],
    /// (feature, language, text)
    pub reasons: Vec<(String, String, String)>,
    pub drift: Option<DriftV2>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BinsV2 {
    pub edges: Vec<f32>,
    pub expected: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DriftV2 {
    pub features: Vec<BinsV2>,
    pub score: BinsV2,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileV2 {
    pub v1: FileV1,
    pub ext: ExtV2,
}

fn bins_to(b: &Bins) -> BinsV2 {
    BinsV2 {
        edges: b.edges.clone(),
        expected: b.expected.clone(),
    }
}

fn bins_from(b: BinsV2) -> Bins {
    Bins {
        edges: b.edges,
        expected: b.expected,
    }
}

impl From<&Bundle> for FileV2 {
    fn from(b: &Bundle) -> Self {
        FileV2 {
            v1: FileV1::from(b),
            ext: ExtV2 {
                scorecard: [
                    b.scorecard.base_score,
                    b.scorecard.base_odds,
                    b.scorecard.pdo,
                ],
                reasons: b
                    .reasons
                    .iter()
                    .map(|r| (r.feature.clone(), r.lang.clone(), r.text.clone()))
                    .collect(),
                drift: b.drift.as_ref().map(|d| DriftV2 {
                    features: d.features.iter().map(bins_to).collect(),
                    score: bins_to(&d.score),
                }),
            },
        }
    }
}

impl TryFrom<FileV2> for Bundle {
    type Error = FormatError;

    fn try_from(w: FileV2) -> Result<Self, FormatError> {
        let mut b = Bundle::try_from(w.v1)?;
        let [base_score, base_odds, pdo] = w.ext.scorecard;
        b.scorecard = Scorecard {
            base_score,
            base_odds,
            pdo,
        };
        b.reasons = w
            .ext
            .reasons
            .into_iter()
            .map(|(feature, lang, text)| ReasonText {
                feature,
                lang,
                text,
            })
            .collect();
        b.drift = w.ext.drift.map(|d| DriftProfile {
            features: d.features.into_iter().map(bins_from).collect(),
            score: bins_from(d.score),
        });
        Ok(b)
    }
}

/// The minimum reader version a bundle needs.
pub fn min_reader(_b: &Bundle) -> u16 {
    1
}

pub fn decode(body: &[u8]) -> Result<Bundle, FormatError> {
    let (wire, rest) = postcard::take_from_bytes::<FileV2>(body)
        .map_err(|e| FormatError::Decode(format!("{e} (body of {} bytes)", body.len())))?;
    if !rest.is_empty() {
        return Err(FormatError::Decode(format!(
            "{} unexpected bytes after the body at offset {}",
            rest.len(),
            super::HEADER_LEN + body.len() - rest.len()
        )));
    }
    Bundle::try_from(wire)
}

pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(&FileV2::from(b)).map_err(|e| FormatError::Encode(e.to_string()))
}

/// Decodes the v2 part at the start of a newer body (see `format::decode`).
pub fn decode_prefix(body: &[u8]) -> Result<Bundle, FormatError> {
    let (wire, _) = postcard::take_from_bytes::<FileV2>(body)
        .map_err(|e| FormatError::Decode(format!("{e} (body of {} bytes)", body.len())))?;
    Bundle::try_from(wire)
}
