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
//! A reader meets a tag it does not know: for a required section (every
//! `model/` section) it refuses the file naming the kind and the ferrisk
//! that wrote it; an optional section is skipped, so later versions can add
//! data that older readers may ignore.

use serde::{Deserialize, Serialize};

use super::v1;
use super::v2::FileV2;
use crate::bundle::{Algorithm, Bundle};
use crate::error::FormatError;
use crate::explain::BackgroundSet;
use crate::kinds::{Model, TAGS};

/// Prefix of a model section's tag.
pub const MODEL_SECTION: &str = "model/";
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

/// The minimum reader version a bundle needs.
pub fn min_reader(b: &Bundle) -> u16 {
    if v1::model_slot(&b.model).is_some() {
        1
    } else if b.model.as_attention().is_some() {
        2
    } else {
        3
    }
}

pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    let mut out = super::v2::encode(b)?;
    let model_section = if min_reader(b) == 3 {
        let (tag, body) = b.model.encode_section()?;
        Some((format!("{MODEL_SECTION}{tag}"), body))
    } else {
        None
    };
    let background_section = match &b.background_set {
        Some(set) => Some(
            postcard::to_allocvec(&BackgroundV3 {
                rows: set.rows.clone(),
                weights: set.weights.clone(),
            })
            .map_err(|e| FormatError::Encode(e.to_string()))?,
        ),
        None => None,
    };
    let mut sections: Vec<SectionV3<'_>> = model_section
        .iter()
        .map(|(tag, body)| SectionV3 {
            tag,
            required: true,
            body,
        })
        .collect();
    if let Some(body) = &background_section {
        sections.push(SectionV3 {
            tag: BACKGROUND_SECTION,
            required: false,
            body,
        });
    }
    let ext = ExtV3 {
        algorithm: (&b.algorithm.id, &b.algorithm.name),
        sections,
    };
    let ext = postcard::to_allocvec(&ext).map_err(|e| FormatError::Encode(e.to_string()))?;
    out.extend_from_slice(&ext);
    Ok(out)
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
        } else if s.tag == BACKGROUND_SECTION {
            if b.background_set.is_some() {
                return Err(FormatError::Invalid(format!(
                    "more than one '{BACKGROUND_SECTION}' section"
                )));
            }
            let w = match postcard::take_from_bytes::<BackgroundV3>(s.body) {
                Ok((w, [])) => w,
                Ok((_, rest)) => {
                    return Err(FormatError::Decode(format!(
                        "section '{BACKGROUND_SECTION}': {} unexpected bytes after it",
                        rest.len()
                    )))
                }
                Err(e) => {
                    return Err(FormatError::Decode(format!(
                        "section '{BACKGROUND_SECTION}': {e}"
                    )))
                }
            };
            b.background_set = Some(BackgroundSet {
                rows: w.rows,
                weights: w.weights,
            });
        } else if s.required {
            return Err(FormatError::UnknownSection {
                tag: s.tag.to_string(),
                producer: b.metadata.producer.clone(),
            });
        }
    }
    Ok(b)
}
