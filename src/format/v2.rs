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
use super::wire::Wire;
use crate::bundle::Bundle;
use crate::credit::{ReasonText, Scorecard};
use crate::drift::{Bins, DriftProfile};
use crate::error::FormatError;
use crate::kinds::attention::{Attention, Block, FeatureSlot, LayerNorm};
use crate::kinds::Model;

#[derive(Debug, Serialize, Deserialize)]
pub struct ExtV2 {
    pub scorecard: [f32; 3],
    /// (feature, language, text)
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub reasons: Vec<(String, String, String)>,
    pub drift: Option<DriftV2>,
    /// The attention model (when present it replaces the v1 model slot).
    pub attention: Option<AttentionV2>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LayerNormV2 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub gamma: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub beta: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BlockV2 {
    pub ln_attn: LayerNormV2,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub wq: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub bq: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub wk: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub bk: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub wv: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub bv: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub wo: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub bo: Vec<f32>,
    pub ln_ffn: LayerNormV2,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub w1: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub b1: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub w2: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub b2: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AttentionV2 {
    /// d_model, n_heads, n_blocks, d_ffn
    pub dims: [u32; 4],
    /// (start, width, numeric) per feature
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub features: Vec<(u32, u32, bool)>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub num_weight: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub num_bias: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub cat_embed: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub cls: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub blocks: Vec<BlockV2>,
    pub final_ln: LayerNormV2,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub head_w: Vec<f32>,
    pub head_b: f32,
}

fn ln_to(l: &LayerNorm) -> LayerNormV2 {
    LayerNormV2 {
        gamma: l.gamma.clone(),
        beta: l.beta.clone(),
    }
}

fn ln_from(l: LayerNormV2) -> LayerNorm {
    LayerNorm {
        gamma: l.gamma,
        beta: l.beta,
    }
}

pub(crate) fn attention_to(a: &Attention) -> AttentionV2 {
    AttentionV2 {
        dims: [
            a.d_model as u32,
            a.n_heads as u32,
            a.n_blocks as u32,
            a.d_ffn as u32,
        ],
        features: a
            .features
            .iter()
            .map(|f| (f.start, f.width, f.numeric))
            .collect(),
        num_weight: a.num_weight.clone(),
        num_bias: a.num_bias.clone(),
        cat_embed: a.cat_embed.clone(),
        cls: a.cls.clone(),
        blocks: a
            .blocks
            .iter()
            .map(|b| BlockV2 {
                ln_attn: ln_to(&b.ln_attn),
                wq: b.wq.clone(),
                bq: b.bq.clone(),
                wk: b.wk.clone(),
                bk: b.bk.clone(),
                wv: b.wv.clone(),
                bv: b.bv.clone(),
                wo: b.wo.clone(),
                bo: b.bo.clone(),
                ln_ffn: ln_to(&b.ln_ffn),
                w1: b.w1.clone(),
                b1: b.b1.clone(),
                w2: b.w2.clone(),
                b2: b.b2.clone(),
            })
            .collect(),
        final_ln: ln_to(&a.final_ln),
        head_w: a.head_w.clone(),
        head_b: a.head_b,
    }
}

pub(crate) fn attention_from(a: AttentionV2) -> Attention {
    let [d_model, n_heads, n_blocks, d_ffn] = a.dims;
    Attention {
        d_model: d_model as usize,
        n_heads: n_heads as usize,
        n_blocks: n_blocks as usize,
        d_ffn: d_ffn as usize,
        features: a
            .features
            .into_iter()
            .map(|(start, width, numeric)| FeatureSlot {
                start,
                width,
                numeric,
            })
            .collect(),
        num_weight: a.num_weight,
        num_bias: a.num_bias,
        cat_embed: a.cat_embed,
        cls: a.cls,
        blocks: a
            .blocks
            .into_iter()
            .map(|b| Block {
                ln_attn: ln_from(b.ln_attn),
                wq: b.wq,
                bq: b.bq,
                wk: b.wk,
                bk: b.bk,
                wv: b.wv,
                bv: b.bv,
                wo: b.wo,
                bo: b.bo,
                ln_ffn: ln_from(b.ln_ffn),
                w1: b.w1,
                b1: b.b1,
                w2: b.w2,
                b2: b.b2,
            })
            .collect(),
        final_ln: ln_from(a.final_ln),
        head_w: a.head_w,
        head_b: a.head_b,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BinsV2 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub edges: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub expected: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DriftV2 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
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
                attention: b.model.as_attention().map(attention_to),
            },
        }
    }
}

impl TryFrom<FileV2> for Bundle {
    type Error = FormatError;

    fn try_from(w: FileV2) -> Result<Self, FormatError> {
        let mut b = Bundle::try_from(w.v1)?;
        if let Some(a) = w.ext.attention {
            b.model = Model::from(attention_from(a));
        }
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

/// Decodes a whole v2 body; trailing bytes are an error.
pub fn decode(body: &[u8]) -> Result<Bundle, FormatError> {
    super::read_body(body, 2)
}

/// Reads the v2 extension ([`ExtV2`], after the v1 body) into `b` by
/// hand, as [`super::v1::read`] reads the v1 body.
pub(crate) fn read(w: &mut Wire<'_>, b: &mut Bundle) {
    b.scorecard = Scorecard {
        base_score: w.f32(),
        base_odds: w.f32(),
        pdo: w.f32(),
    };
    b.reasons = w.list(|w| ReasonText {
        feature: w.string(),
        lang: w.string(),
        text: w.string(),
    });
    b.drift = w.option(|w| DriftProfile {
        features: w.list(read_bins),
        score: read_bins(w),
    });
    if let Some(a) = w.option(read_attention) {
        b.model = Model::from(a);
    }
}

fn read_bins(w: &mut Wire<'_>) -> Bins {
    Bins {
        edges: w.f32s(),
        expected: w.f32s(),
    }
}

fn read_ln(w: &mut Wire<'_>) -> LayerNorm {
    LayerNorm {
        gamma: w.f32s(),
        beta: w.f32s(),
    }
}

/// [`AttentionV2`] read by hand.
fn read_attention(w: &mut Wire<'_>) -> Attention {
    Attention {
        d_model: w.u32() as usize,
        n_heads: w.u32() as usize,
        n_blocks: w.u32() as usize,
        d_ffn: w.u32() as usize,
        features: w.list(|w| FeatureSlot {
            start: w.u32(),
            width: w.u32(),
            numeric: w.bool(),
        }),
        num_weight: w.f32s(),
        num_bias: w.f32s(),
        cat_embed: w.f32s(),
        cls: w.f32s(),
        blocks: w.list(|w| Block {
            ln_attn: read_ln(w),
            wq: w.f32s(),
            bq: w.f32s(),
            wk: w.f32s(),
            bk: w.f32s(),
            wv: w.f32s(),
            bv: w.f32s(),
            wo: w.f32s(),
            bo: w.f32s(),
            ln_ffn: read_ln(w),
            w1: w.f32s(),
            b1: w.f32s(),
            w2: w.f32s(),
            b2: w.f32s(),
        }),
        final_ln: read_ln(w),
        head_w: w.f32s(),
        head_b: w.f32(),
    }
}

/// Encodes the v2 part of a newer body (format v3 appends to it).
pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(&FileV2::from(b)).map_err(|e| FormatError::Encode(e.to_string()))
}
