//! Mutations of a model body: byte-level ones that need nothing, and
//! body-aware ones that use the traced [`Layout`] (f32 slots, varints,
//! lengths, sequence elements, strings, whole fields spliced from another
//! body). Every mutation is a list of [`Edit`]s against the *original*
//! body, so several can be stacked without re-tracing; overlapping edits are
//! dropped when they are applied.

use crate::rng::Rng;
use crate::trace::{read_varint, varint, zigzag, Layout, SlotKind};

/// Replace `del` bytes at `at` by `ins`.
#[derive(Debug, Clone)]
pub struct Edit {
    pub at: usize,
    pub del: usize,
    pub ins: Vec<u8>,
}

/// A body with its layout, as mutations see it.
pub struct Source<'a> {
    pub body: &'a [u8],
    pub layout: Option<&'a Layout>,
}

/// Applies edits in offset order; an edit overlapping an earlier one is skipped.
pub fn apply(body: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|e| (e.at, e.del));
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut cursor = 0usize;
    for e in edits {
        if e.at < cursor || e.at > body.len() {
            continue;
        }
        let end = (e.at + e.del).min(body.len());
        out.extend_from_slice(&body[cursor..e.at]);
        out.extend_from_slice(&e.ins);
        cursor = end;
    }
    out.extend_from_slice(&body[cursor.min(body.len())..]);
    out
}

fn edit(at: usize, del: usize, ins: Vec<u8>) -> Edit {
    Edit { at, del, ins }
}

pub const BOUNDARY: [u8; 4] = [0x00, 0x7f, 0x80, 0xff];

/// Special `f32` bit patterns.
pub const F32_SPECIAL: [u32; 18] = [
    0x7fc0_0000, // NaN
    0xffc0_0000, // -NaN
    0x7f80_0001, // signalling NaN
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x7f7f_ffff, // MAX
    0xff7f_ffff, // -MAX
    0x0000_0001, // smallest denormal
    0x8000_0001, // -smallest denormal
    0x007f_ffff, // largest denormal
    0x0080_0000, // MIN_POSITIVE
    0x0000_0000, // 0
    0x8000_0000, // -0
    0x7149_f2ca, // 1e30
    0xf149_f2ca, // -1e30
    0x3f80_0000, // 1
    0xbf80_0000, // -1
    0x3400_0000, // ~1.2e-7
];

pub const F64_SPECIAL: [u64; 10] = [
    0x7ff8_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x0000_0000_0000_0001,
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x47ef_ffff_e000_0000, // f32::MAX as f64
];

fn new_f32(rng: &mut Rng, old: f32) -> f32 {
    match rng.below(8) {
        0..=3 => f32::from_bits(*rng.pick(&F32_SPECIAL).unwrap_or(&0)),
        4 => -old,
        5 => old * [1e6f32, 1e-6, 1e20, 2.0, 0.5][rng.below(5)],
        6 => f32::from_bits(old.to_bits().wrapping_add(1)),
        _ => (rng.unit() as f32 - 0.5) * 10f32.powi(rng.below(12) as i32 - 4),
    }
}

fn new_uint(rng: &mut Rng, old: u128) -> u128 {
    const SPECIAL: [u128; 14] = [
        0,
        1,
        2,
        0x7f,
        0x80,
        0xff,
        0x100,
        0x3fff,
        0x4000,
        0xffff,
        u32::MAX as u128 - 1,
        u32::MAX as u128,
        u32::MAX as u128 + 1,
        u64::MAX as u128,
    ];
    match rng.below(6) {
        0..=2 => *rng.pick(&SPECIAL).unwrap_or(&0),
        3 => old.wrapping_add(1),
        4 => old.saturating_sub(1),
        _ => old.saturating_mul(2).saturating_add(rng.below(3) as u128),
    }
}

/// A new length for a length slot: enlarged or shrunk.
fn new_len(rng: &mut Rng, old: u128) -> u128 {
    match rng.below(10) {
        0 => 0,
        1 => old.saturating_sub(1),
        2 | 3 => old + 1,
        4 => old / 2,
        5 => old.saturating_mul(2),
        6 => old + 1 + rng.below(1000) as u128,
        7 => [0x7f, 0x80, 0x3fff, 0x4000, 0xffff][rng.below(5)],
        8 => [u32::MAX as u128, u64::MAX as u128, 1 << 40][rng.below(3)],
        _ => old.saturating_sub(1 + rng.below(8) as u128),
    }
}

// ---- byte-level -------------------------------------------------------

fn byte_level(rng: &mut Rng, body: &[u8], other: &[u8]) -> (Vec<Edit>, String) {
    let n = body.len();
    if n == 0 {
        return (
            vec![edit(0, 0, rng.bytes_between(1, 16))],
            "bytes:insert".into(),
        );
    }
    let at = rng.below(n);
    match rng.below(9) {
        0 | 1 => {
            let b = body[at] ^ (1u8 << rng.below(8));
            (vec![edit(at, 1, vec![b])], "bytes:bitflip".into())
        }
        2 => {
            let b = *rng.pick(&BOUNDARY).unwrap_or(&0);
            (vec![edit(at, 1, vec![b])], "bytes:boundary".into())
        }
        3 => {
            let len = rng.range(1, 64.min(n - at));
            let to = rng.below(n + 1);
            (
                vec![edit(to, 0, body[at..at + len].to_vec())],
                "bytes:duplicate".into(),
            )
        }
        4 => {
            let len = rng.range(1, 64.min(n - at));
            (vec![edit(at, len, Vec::new())], "bytes:delete".into())
        }
        5 if !other.is_empty() => {
            let from = rng.below(other.len());
            let len = rng.range(1, 256.min(other.len() - from));
            let del = if rng.coin() { len.min(n - at) } else { 0 };
            (
                vec![edit(at, del, other[from..from + len].to_vec())],
                "bytes:splice".into(),
            )
        }
        6 => (
            vec![edit(at, 0, rng.bytes_between(1, 8))],
            "bytes:insert".into(),
        ),
        7 => (vec![edit(at, n - at, Vec::new())], "bytes:truncate".into()),
        _ => {
            let len = rng.range(1, 4.min(n - at));
            let b = rng.bytes(len);
            (vec![edit(at, len, b)], "bytes:random".into())
        }
    }
}

// ---- layout-aware -----------------------------------------------------

fn pick_slot(rng: &mut Rng, layout: &Layout, kinds: &[SlotKind]) -> Option<usize> {
    let kind = *rng.pick(kinds)?;
    let list = layout.slots_of(kind);
    rng.pick(list).copied()
}

fn aware(
    rng: &mut Rng,
    src: &Source<'_>,
    layout: &Layout,
    other: Option<&Source<'_>>,
) -> Option<(Vec<Edit>, String)> {
    let body = src.body;
    match rng.below(14) {
        0..=3 => {
            let i = pick_slot(rng, layout, &[SlotKind::F32])?;
            let s = layout.slots.get(i)?;
            let old = f32::from_le_bytes(body.get(s.at..s.at + 4)?.try_into().ok()?);
            let v = new_f32(rng, old);
            Some((
                vec![edit(s.at, 4, v.to_le_bytes().to_vec())],
                format!("f32={v:e}@{}", layout.path(s.path)),
            ))
        }
        4 => {
            let i = pick_slot(rng, layout, &[SlotKind::F64])?;
            let s = layout.slots.get(i)?;
            let v = f64::from_bits(*rng.pick(&F64_SPECIAL)?);
            Some((
                vec![edit(s.at, 8, v.to_le_bytes().to_vec())],
                format!("f64={v:e}@{}", layout.path(s.path)),
            ))
        }
        5 | 6 => {
            let i = pick_slot(
                rng,
                layout,
                &[
                    SlotKind::Uint,
                    SlotKind::Uint,
                    SlotKind::Int,
                    SlotKind::Variant,
                    SlotKind::OptTag,
                    SlotKind::Bool,
                    SlotKind::Byte,
                ],
            )?;
            let s = layout.slots.get(i)?;
            let raw = body.get(s.at..s.at + s.len)?;
            let (ins, shown) = match s.kind {
                SlotKind::Uint | SlotKind::Variant => {
                    let (old, _) = read_varint(raw)?;
                    let v = if s.kind == SlotKind::Variant && rng.coin() {
                        rng.below(7) as u128
                    } else {
                        new_uint(rng, old)
                    };
                    (varint(v), v.to_string())
                }
                SlotKind::Int => {
                    let v: i128 = [0, -1, 1, i32::MIN as i128, i64::MAX as i128][rng.below(5)];
                    (varint(zigzag(v)), v.to_string())
                }
                _ => {
                    let v = if rng.coin() {
                        *rng.pick(&BOUNDARY)?
                    } else {
                        rng.below(4) as u8
                    };
                    (vec![v], v.to_string())
                }
            };
            Some((
                vec![edit(s.at, s.len, ins)],
                format!("{:?}={shown}@{}", s.kind, layout.path(s.path)),
            ))
        }
        7 => {
            // A length enlarged or shrunk, the data left as it is.
            let i = pick_slot(rng, layout, &[SlotKind::Len])?;
            let s = layout.slots.get(i)?;
            let (old, _) = read_varint(body.get(s.at..s.at + s.len)?)?;
            let v = new_len(rng, old);
            Some((
                vec![edit(s.at, s.len, varint(v))],
                format!("len {old}->{v}@{}", layout.path(s.path)),
            ))
        }
        8 | 9 => {
            // One element deleted or duplicated, the length kept consistent.
            let span = layout.spans.get(*rng.pick(&layout.seqs)?)?;
            let seq = span.seq.as_ref()?;
            let count = seq.elems.len().checked_sub(1)?;
            let (old, _) = read_varint(body.get(seq.len_at..seq.len_at + seq.len_len)?)?;
            if count == 0 {
                return None;
            }
            let k = rng.below(count);
            let (a, b) = (*seq.elems.get(k)?, *seq.elems.get(k + 1)?);
            let dup = rng.coin();
            let (new, elem_edit, what) = if dup {
                let times = if rng.one_in(8) { rng.range(2, 50) } else { 1 };
                let chunk = body.get(a..b)?.repeat(times);
                (old + times as u128, edit(b, 0, chunk), "duplicated")
            } else {
                (old.checked_sub(1)?, edit(a, b - a, Vec::new()), "deleted")
            };
            Some((
                vec![edit(seq.len_at, seq.len_len, varint(new)), elem_edit],
                format!("element {what}@{}", layout.path(span.path)),
            ))
        }
        10 => {
            // One element replaced by another of the same sequence.
            let span = layout.spans.get(*rng.pick(&layout.seqs)?)?;
            let seq = span.seq.as_ref()?;
            let count = seq.elems.len().checked_sub(1)?;
            if count < 2 {
                return None;
            }
            let (j, k) = (rng.below(count), rng.below(count));
            let (ja, jb) = (*seq.elems.get(j)?, *seq.elems.get(j + 1)?);
            let (ka, kb) = (*seq.elems.get(k)?, *seq.elems.get(k + 1)?);
            Some((
                vec![edit(ja, jb - ja, body.get(ka..kb)?.to_vec())],
                format!("element copied@{}", layout.path(span.path)),
            ))
        }
        11 => {
            // A string's content: empty, another string of the same field,
            // a missing token, invalid UTF-8, long.
            let i = pick_slot(rng, layout, &[SlotKind::Text])?;
            let text = layout.slots.get(i)?;
            let len = layout.slots.get(i.checked_sub(1)?)?;
            if len.kind != SlotKind::Len {
                return None;
            }
            let new: Vec<u8> = match rng.below(7) {
                0 => Vec::new(),
                1 => {
                    let same: Vec<usize> = layout
                        .slots_of(SlotKind::Text)
                        .iter()
                        .copied()
                        .filter(|&j| layout.slots.get(j).is_some_and(|s| s.path == text.path))
                        .collect();
                    let s = layout.slots.get(*rng.pick(&same)?)?;
                    body.get(s.at..s.at + s.len)?.to_vec()
                }
                2 => ["NA", "?", " ", "\u{0}", "é", "a,b", "\"q\""][rng.below(7)]
                    .as_bytes()
                    .to_vec(),
                3 => vec![0xff, 0xfe, 0xc3],
                4 => vec![b'x'; rng.range(100, 3000)],
                5 => {
                    let mut t = body.get(text.at..text.at + text.len)?.to_vec();
                    t.push(b' ');
                    t.insert(0, b' ');
                    t
                }
                _ => {
                    let mut t = body.get(text.at..text.at + text.len)?.to_vec();
                    t.make_ascii_uppercase();
                    t
                }
            };
            let mut ins = varint(new.len() as u128);
            ins.extend_from_slice(&new);
            Some((
                vec![edit(len.at, len.len + text.len, ins)],
                format!("text@{}", layout.path(text.path)),
            ))
        }
        _ => {
            // A whole field taken from another body (same path): schema from
            // another model, another model slot, another calibration …
            let other = other?;
            let ol = other.layout?;
            let span = layout.spans.get(rng.below(layout.spans.len()))?;
            let path = layout.path(span.path);
            let candidates = ol.spans_by_path.get(path)?;
            let os = ol.spans.get(*rng.pick(candidates)?)?;
            let piece = other.body.get(os.start..os.end)?;
            Some((
                vec![edit(span.start, span.end - span.start, piece.to_vec())],
                format!("field spliced@{path}"),
            ))
        }
    }
}

/// 1..=`max` stacked mutations of `src`; `other` is a second body for
/// splices. Returns the new body and a description of what was done.
pub fn mutate(
    rng: &mut Rng,
    src: &Source<'_>,
    other: Option<&Source<'_>>,
    max: usize,
) -> (Vec<u8>, Vec<String>) {
    let mut edits = Vec::new();
    let mut notes = Vec::new();
    let rounds = rng.small(max);
    for _ in 0..rounds {
        let mut done = false;
        if let Some(layout) = src.layout {
            if !rng.one_in(3) {
                for _ in 0..4 {
                    if let Some((e, note)) = aware(rng, src, layout, other) {
                        edits.extend(e);
                        notes.push(note);
                        done = true;
                        break;
                    }
                }
            }
        }
        if !done {
            let (e, note) = byte_level(rng, src.body, other.map_or(&[][..], |o| o.body));
            edits.extend(e);
            notes.push(note);
        }
    }
    (apply(src.body, edits), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_skip_overlaps() {
        let body = b"abcdefgh";
        let out = apply(
            body,
            vec![
                edit(6, 1, b"X".to_vec()),
                edit(1, 2, Vec::new()),
                edit(2, 1, b"Y".to_vec()),
                edit(8, 0, b"!".to_vec()),
            ],
        );
        assert_eq!(out, b"adefXh!");
    }
}
