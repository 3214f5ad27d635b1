//! Decision records: what a scored row can carry so that the decision can
//! be reproduced when a customer disputes it. A record names the model file
//! (the SHA-256 of its body that its header carries, which `ferrisk
//! inspect` prints; a signature does not change it), the ferrisk that
//! scored it, the threshold policy, a SHA-256 digest of the inputs *as
//! parsed* (so `"1169"` and `1169` are the same input), the probability,
//! decision, points and reasons, and the options that shaped the reasons.
//! Every surface (CLI `predict --record`, the service's `"record": true`,
//! wasm `score(c, {record: true})`) builds it here, and `ferrisk replay`
//! compares with [`compare`] here, so they cannot disagree.

use crate::schema::Value;
use crate::scorer::{ScoreOptions, Scored, Scorer};
use crate::views::RecordView;

/// Layout version of the record (its `record` field).
pub const RECORD_VERSION: u32 = 1;

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 of the parsed values, in schema order: per value a tag byte
/// (0 missing, 1 number + f32 bits LE, 2 category index u32 LE, 3 unknown
/// category + u32 length + UTF-8 bytes).
pub fn inputs_digest(values: &[Value]) -> String {
    let mut buf = Vec::with_capacity(values.len() * 5);
    for v in values {
        let (tag, bits) = match v {
            Value::Missing => (0u8, None),
            Value::Number(x) => (1, Some(x.to_bits())),
            Value::Category(c) => (2, Some(*c)),
            Value::Unknown(t) => (3, Some(t.len() as u32)),
        };
        buf.push(tag);
        if let Some(b) = bits {
            buf.extend(b.to_le_bytes());
        }
        if let Value::Unknown(t) = v {
            buf.extend(t.as_bytes());
        }
    }
    hex(&crate::format::sha256(&buf))
}

/// The record of one scored row.
pub fn build(scorer: &Scorer, values: &[Value], s: &Scored, opts: &ScoreOptions) -> RecordView {
    let b = scorer.bundle();
    RecordView {
        record: RECORD_VERSION,
        model_sha256: scorer.model_sha256(),
        ferrisk: env!("CARGO_PKG_VERSION").to_string(),
        policy: b
            .decision
            .as_ref()
            .map_or(crate::policy::Policy::Fixed(b.threshold), |d| d.policy)
            .text(),
        threshold: b.threshold,
        inputs_sha256: inputs_digest(values),
        probability: s.prediction.probability,
        decision: s.prediction.decision,
        points: s.points,
        reasons: s.reasons.iter().map(|r| r.feature.clone()).collect(),
        reason_count: if opts.explain { opts.reasons as u32 } else { 0 },
        all_reasons: opts.reasons_always,
    }
}

/// The scoring options a record was made with (its reasons depend on them).
pub fn options(r: &RecordView) -> ScoreOptions {
    ScoreOptions {
        explain: r.reason_count > 0,
        reasons: r.reason_count as usize,
        reasons_always: r.all_reasons,
        record: true,
        ..ScoreOptions::default()
    }
}

/// Refuses a record made with another model file.
pub fn check_model(r: &RecordView, scorer: &Scorer) -> Result<(), String> {
    let have = scorer.model_sha256();
    if r.model_sha256 != have {
        return Err(format!(
            "this record was made with the model file of SHA-256 {}, not with this one ({have}); \
             replay it against the file it names",
            r.model_sha256
        ));
    }
    Ok(())
}

/// Every field of `want` that `got` does not reproduce exactly (floats
/// compared bit for bit), as `field: recorded X, replayed Y`; empty when
/// the replay confirms the record. The ferrisk version is not compared
/// (a later ferrisk that reproduces the numbers confirms the record).
pub fn compare(want: &RecordView, got: &RecordView) -> Vec<String> {
    let mut out = Vec::new();
    let mut text = |field: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{field}: recorded {a}, replayed {b}"));
        }
    };
    text("modelSha256", &want.model_sha256, &got.model_sha256);
    text("policy", &want.policy, &got.policy);
    text("inputsSha256", &want.inputs_sha256, &got.inputs_sha256);
    text("reasons", &want.reasons.join(", "), &got.reasons.join(", "));
    let f = |v: f32| crate::num::F32(v).to_string();
    for (field, a, b) in [
        ("threshold", want.threshold, got.threshold),
        ("probability", want.probability, got.probability),
        ("points", want.points, got.points),
    ] {
        if a.to_bits() != b.to_bits() {
            out.push(format!("{field}: recorded {}, replayed {}", f(a), f(b)));
        }
    }
    if want.decision != got.decision {
        out.push(format!(
            "decision: recorded {}, replayed {}",
            want.decision, got.decision
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_the_parsed_values() {
        let a = inputs_digest(&[Value::Number(1169.0), Value::Category(2), Value::Missing]);
        assert_eq!(
            a,
            inputs_digest(&[Value::Number(1169.0), Value::Category(2), Value::Missing])
        );
        assert_ne!(
            a,
            inputs_digest(&[Value::Number(1170.0), Value::Category(2), Value::Missing])
        );
        assert_ne!(
            a,
            inputs_digest(&[Value::Number(1169.0), Value::Category(3), Value::Missing])
        );
        assert_ne!(
            a,
            inputs_digest(&[Value::Number(1169.0), Value::Missing, Value::Category(2)])
        );
        assert_eq!(a.len(), 64);
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn every_differing_field_is_named() {
        let r = RecordView {
            record: 1,
            model_sha256: "ab".into(),
            ferrisk: "0.1.0".into(),
            policy: "max-f1".into(),
            threshold: 0.3,
            inputs_sha256: "cd".into(),
            probability: 0.25,
            decision: false,
            points: 612.5,
            reasons: vec![],
            reason_count: 4,
            all_reasons: false,
        };
        assert!(compare(&r, &r).is_empty());
        let mut g = r.clone();
        g.probability = f32::from_bits(0.25f32.to_bits() + 1);
        g.decision = true;
        g.reasons = vec!["duration_in_month".into()];
        g.ferrisk = "0.2.0".into();
        let d = compare(&r, &g);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d
            .iter()
            .any(|x| x.starts_with("probability: recorded 0.25, replayed 0.25000003")));
        assert!(d.iter().any(|x| x.starts_with("decision:")));
        assert!(d
            .iter()
            .any(|x| x.starts_with("reasons: recorded , replayed duration_in_month")));
    }
}
