//! A hand-written reader of the postcard encoding the frozen wire structs
//! of formats 1–3 use (`v1::FileV1`, `v2::ExtV2`, `v3::ExtV3` and the v3
//! sections), decoding straight into the model types.
//!
//! Why not serde's derived decoders: they read the same bytes through
//! generic visitors, with a branch and the drop of everything read so far
//! after every value; with them, decoding was ~60 KB of the wasm before
//! wasm-opt, with this reader ~8 KB (the size pass, ARCHITECTURE.md). The
//! derived `Deserialize` impls stay on the wire structs as the reference:
//! the tests below decode every golden file and thousands of damaged ones
//! both ways and require the same bundle or the same refusal.
//!
//! The postcard encoding (1.0 specification), as these structs use it:
//! `u8` one byte; `bool` and an `Option`'s tag one byte, 0 or 1; `u32`,
//! `u64`, lengths and enum variants as LEB128 varints (at most 5 or 10
//! bytes, no bits beyond the type); `f32`/`f64` little-endian bytes;
//! strings and byte strings a length and the bytes (strings UTF-8); a
//! sequence its length and its items; structs, tuples and arrays their
//! fields in order, nothing else.
//!
//! Every list is charged to the decode's memory budget before it is
//! allocated, as [`super::bounded`] does for serde.

use crate::error::FormatError;

/// A decoding failure: what was wrong.
pub(crate) type Fail = &'static str;

/// A reader whose first failure sticks: it is recorded with its offset,
/// the rest of the bytes are dropped, and every later read returns zero,
/// `false` or empty (so every list after it is empty). Decoders therefore
/// read straight on, without a branch and a drop of what was read so far
/// per value (the code that cost the bundle most), and [`Wire::check`]
/// turns the first failure into the error at the end.
pub(crate) struct Wire<'a> {
    bytes: &'a [u8],
    at: usize,
    failed: Option<(Fail, usize)>,
}

const END: Fail = "the body ends inside a value";
/// An enum variant the wire struct does not have.
const BAD_VARIANT: Fail = "an unknown variant";

impl<'a> Wire<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Wire<'a> {
        Wire {
            bytes,
            at: 0,
            failed: None,
        }
    }

    /// Records the first failure and drops the bytes left.
    #[inline(never)]
    pub(crate) fn fail(&mut self, what: Fail) {
        if self.failed.is_none() {
            self.failed = Some((what, self.at));
        }
        self.at = self.bytes.len();
    }

    #[inline(never)]
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        match self.bytes.get(self.at..).and_then(|r| r.get(..n)) {
            Some(out) => {
                self.at += n;
                out
            }
            None => {
                self.fail(END);
                &[]
            }
        }
    }

    #[inline(never)]
    pub(crate) fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// A `bool` or an `Option`'s tag.
    #[inline(never)]
    pub(crate) fn bool(&mut self) -> bool {
        match self.u8() {
            0 => false,
            1 => true,
            _ => {
                self.fail("a flag or option tag that is not 0 or 1");
                false
            }
        }
    }

    /// A varint of at most `bits` bits.
    #[inline(never)]
    fn varint(&mut self, bits: u32) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let Some(&b) = self.bytes.get(self.at) else {
                self.fail(END);
                return 0;
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                // The last byte holds no bits beyond the type.
                if shift + 7 > bits && u32::from(b) >> (bits - shift) != 0 {
                    break;
                }
                return v;
            }
            shift += 7;
            if shift >= bits {
                break;
            }
        }
        self.fail("a varint out of range");
        0
    }

    #[inline(never)]
    pub(crate) fn u32(&mut self) -> u32 {
        self.varint(32) as u32
    }

    #[inline(never)]
    pub(crate) fn u64(&mut self) -> u64 {
        self.varint(64)
    }

    /// An enum's variant index, below `n`; 0 (with a failure) otherwise.
    pub(crate) fn variant(&mut self, n: u32) -> u32 {
        let v = self.u32();
        if v >= n {
            self.fail(BAD_VARIANT);
            return 0;
        }
        v
    }

    #[inline(never)]
    pub(crate) fn f32(&mut self) -> f32 {
        let b = self.take(4);
        f32::from_bits(b.iter().rev().fold(0, |v, &x| (v << 8) | u32::from(x)))
    }

    #[inline(never)]
    pub(crate) fn f64(&mut self) -> f64 {
        let b = self.take(8);
        f64::from_bits(b.iter().rev().fold(0, |v, &x| (v << 8) | u64::from(x)))
    }

    /// A little-endian `u64` (the hand-coded v3 sections).
    #[inline(never)]
    pub(crate) fn u64_le(&mut self) -> u64 {
        self.f64().to_bits()
    }

    /// A text of the hand-coded v3 sections: a little-endian `u32` length,
    /// then UTF-8 bytes.
    #[inline(never)]
    pub(crate) fn text(&mut self) -> String {
        let n = self.f32().to_bits() as usize;
        let b = self.take(n);
        std::str::from_utf8(b)
            .unwrap_or_else(|_| {
                self.fail("a text that is not UTF-8");
                ""
            })
            .to_owned()
    }

    /// A little-endian `u32` count of items of `each` bytes or more; one
    /// the bytes left cannot hold is a failure (and 0), before anything is
    /// allocated or looped over.
    pub(crate) fn fixed_count(&mut self, each: usize) -> usize {
        let n = self.f32().to_bits() as usize;
        if n > self.bytes.len().saturating_sub(self.at) / each {
            self.fail(END);
            return 0;
        }
        n
    }

    /// A length or count.
    fn len(&mut self) -> usize {
        let n = self.u64();
        usize::try_from(n).unwrap_or_else(|_| {
            self.fail(END);
            0
        })
    }

    #[inline(never)]
    pub(crate) fn bytes(&mut self) -> &'a [u8] {
        let n = self.len();
        self.take(n)
    }

    #[inline(never)]
    pub(crate) fn str(&mut self) -> &'a str {
        let b = self.bytes();
        std::str::from_utf8(b).unwrap_or_else(|_| {
            self.fail("a text that is not UTF-8");
            ""
        })
    }

    #[inline(never)]
    pub(crate) fn string(&mut self) -> String {
        self.str().to_owned()
    }

    /// The length of a list of items of `each` bytes in memory, charged
    /// to the decoding budget. Every item takes a byte or more of the body,
    /// so a count above the bytes left is a failure at once (and no list
    /// is longer than the body, even outside a budget).
    #[inline(never)]
    fn count(&mut self, each: usize) -> usize {
        let n = self.len();
        if n > self.bytes.len().saturating_sub(self.at) {
            self.fail(END);
            return 0;
        }
        if !super::bounded::charge((each.max(1) as u64).saturating_mul(n as u64)) {
            self.fail(super::bounded::TOO_BIG);
            return 0;
        }
        n
    }

    /// A list read by `item`.
    pub(crate) fn list<T>(&mut self, item: impl Fn(&mut Self) -> T) -> Vec<T> {
        let n = self.count(std::mem::size_of::<T>());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self));
        }
        out
    }

    #[inline(never)]
    pub(crate) fn f32s(&mut self) -> Vec<f32> {
        self.list(Self::f32)
    }

    #[inline(never)]
    pub(crate) fn strings(&mut self) -> Vec<String> {
        self.list(Self::string)
    }

    /// An `Option`: its tag, then the value read by `item`.
    pub(crate) fn option<T>(&mut self, item: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.bool() {
            Some(item(self))
        } else {
            None
        }
    }

    /// The end of the value: every byte read.
    #[inline(never)]
    pub(crate) fn end(&mut self) {
        if self.at != self.bytes.len() {
            self.fail("unexpected bytes after it");
        }
    }

    /// The first failure as a decoding error naming where: `what` was
    /// being read (`body`, a section) and the byte offset in it.
    #[inline(never)]
    pub(crate) fn check(&self, what: &str) -> Result<(), FormatError> {
        match self.failed {
            None => Ok(()),
            Some((fail, at)) => Err(FormatError::Decode(format!(
                "{what}: {fail} (byte {at} of {})",
                self.bytes.len()
            ))),
        }
    }

    #[cfg(test)]
    pub(crate) fn ok(&self) -> bool {
        self.failed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;
    use crate::format::{bounded, decode_exact, frame, read_header, v1, v2, v3};

    /// The reference: serde's derived decoders and the wire structs'
    /// conversions, as the runtime read files before the size pass (model
    /// sections too; the other v3 sections then go through `v3::apply`,
    /// whose three small section readers `sections_match_serde` checks).
    fn decode_serde(bytes: &[u8]) -> Result<Bundle, FormatError> {
        let (header, body) = read_header(bytes)?;
        let b = bounded::with_budget(bounded::budget_for(body.len()), || match header.version {
            1 => Bundle::try_from(decode_exact::<v1::FileV1>(body)?),
            2 => Bundle::try_from(decode_exact::<v2::FileV2>(body)?),
            v => {
                let (file, rest) = postcard::take_from_bytes::<v2::FileV2>(body)
                    .map_err(|e| FormatError::Decode(e.to_string()))?;
                let ext = if v == 3 {
                    decode_exact::<v3::ExtV3>(rest)?
                } else {
                    postcard::take_from_bytes::<v3::ExtV3>(rest)
                        .map_err(|e| FormatError::Decode(e.to_string()))?
                        .0
                };
                v3::apply(
                    Bundle::try_from(file)?,
                    ext,
                    crate::kinds::Model::decode_section_serde,
                )
            }
        })?;
        b.validate().map_err(FormatError::Invalid)?;
        Ok(b)
    }

    fn same(bytes: &[u8], what: &str) {
        let (a, b) = (crate::format::decode(bytes), decode_serde(bytes));
        match (&a, &b) {
            // A damaged float may read as NaN, which is never equal to
            // itself: such bundles are the same when they print the same.
            (Ok(a), Ok(b)) => assert!(
                a == b || format!("{a:?}") == format!("{b:?}"),
                "{what}: different bundles"
            ),
            (Err(FormatError::Decode(_)), Err(FormatError::Decode(_))) => {}
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}"),
            _ => panic!("{what}: hand {a:?} vs serde {b:?}"),
        }
    }

    fn next(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// Every golden file of every format version, whole, truncated and
    /// with bytes changed (reframed, so the checksum holds): the hand
    /// reader gives the bundle serde gives, or refuses what serde refuses
    /// (decoding errors may word it differently; validation errors are
    /// the same text).
    #[test]
    fn golden_and_damaged_files_decode_as_with_serde() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        let mut files = Vec::new();
        for dir in ["", "/v1", "/v2", "/v3-trees"] {
            for e in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "frk") {
                    files.push(p);
                }
            }
        }
        assert!(files.len() >= 20, "{files:?}");
        let mut s = 0x00c0_ffee_u64;
        let mut loaded = 0;
        for p in &files {
            let bytes = std::fs::read(p).unwrap();
            let name = p.display().to_string();
            assert!(crate::format::decode(&bytes).is_ok(), "{name}");
            same(&bytes, &name);
            let (h, body) = read_header(&bytes).unwrap();
            let reframe = |body: &[u8]| frame(h.version, h.min_reader, body);
            for _ in 0..150 {
                let r = next(&mut s);
                let mut b = body.to_vec();
                match r % 4 {
                    0 => b.truncate((r >> 8) as usize % body.len()),
                    1 => b.push((r >> 8) as u8),
                    _ => {
                        for k in 0..1 + (r >> 2) % 3 {
                            let at = (next(&mut s) >> 3) as usize % b.len();
                            // Small values hit lengths, tags and flags.
                            b[at] = if k % 2 == 0 {
                                (r >> 16) as u8 % 4
                            } else {
                                (r >> 24) as u8
                            };
                        }
                    }
                }
                let f = reframe(&b);
                same(&f, &format!("{name} damaged {r:x}"));
                loaded += usize::from(crate::format::decode(&f).is_ok());
            }
            // A newer format that promises compatibility: the v3 prefix.
            if h.version == 3 {
                let mut b = body.to_vec();
                b.extend_from_slice(b"later");
                same(&frame(4, h.min_reader, &b), &name);
            }
        }
        // Some damaged files still load (a changed value), most are refused.
        assert!(loaded > 0);
    }

    /// A list longer than the bytes left is refused at its count, with or
    /// without a decoding budget (no loop over a count the body cannot
    /// hold, no allocation for it).
    #[test]
    fn a_count_beyond_the_body_is_refused_at_once() {
        // Kind code 0, then 2^60 - 1 features, and nothing else.
        let body = [0u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
        for version in [1, 2, 3] {
            let err = crate::format::read_body(&body, version).unwrap_err();
            assert!(
                err.to_string().contains("ends inside a value (byte 10"),
                "{err}"
            );
        }
        let mut w = Wire::new(&[3, 1, 2]);
        assert_eq!(w.f32s(), Vec::<f32>::new());
        assert!(!w.ok());
        let mut w = Wire::new(&[2, 1, 2]);
        assert_eq!(w.list(Wire::u8), vec![1, 2]);
        assert!(w.ok());
    }

    /// The v3 sections the reader decodes by hand (`calibration/platt-logit`,
    /// `calibration/isotonic`, `explain/background`) against serde.
    #[test]
    fn sections_match_serde() {
        let mut s = 5u64;
        let iso = postcard::to_allocvec(&v3::IsotonicV3 {
            x: vec![0.0, 0.25, 1.0],
            y: vec![0.1, 0.5, 0.9],
        })
        .unwrap();
        let platt = postcard::to_allocvec(&(-0.5f32, 0.25f32)).unwrap();
        for body in [iso, platt] {
            for _ in 0..500 {
                let r = next(&mut s);
                let mut b = body.clone();
                if r % 3 == 0 {
                    b.truncate((r >> 8) as usize % b.len());
                } else {
                    let at = (r >> 8) as usize % b.len();
                    b[at] = (r >> 20) as u8 % 5;
                }
                let hand = |w: &mut Wire<'_>| {
                    let v = (w.f32s(), w.f32s());
                    w.end();
                    w.ok().then_some(v)
                };
                let a = hand(&mut Wire::new(&b));
                let c = decode_exact::<v3::IsotonicV3>(&b).ok().map(|w| (w.x, w.y));
                assert_eq!(a, c, "{b:?}");
                let pair = |w: &mut Wire<'_>| {
                    let v = (w.f32().to_bits(), w.f32().to_bits());
                    w.end();
                    w.ok().then_some(v)
                };
                let a = pair(&mut Wire::new(&b));
                let c = decode_exact::<(f32, f32)>(&b)
                    .ok()
                    .map(|(x, y)| (x.to_bits(), y.to_bits()));
                assert_eq!(a, c, "{b:?}");
            }
        }
    }

    /// Varints as postcard reads them: the same values, the same refusals.
    #[test]
    fn varints_match_postcard() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![0],
            vec![0x7f],
            vec![0x80, 0x01],
            vec![0x80],
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            vec![0xff, 0xff, 0xff, 0xff, 0x10],
            vec![0xff, 0xff, 0xff, 0xff, 0x8f, 0x00],
            vec![0x80, 0x80, 0x80, 0x80, 0x00],
            vec![0xff; 9],
            [vec![0xff; 9], vec![0x01]].concat(),
            [vec![0xff; 9], vec![0x02]].concat(),
            [vec![0x80; 9], vec![0x00]].concat(),
            vec![0xff; 11],
        ];
        let mut s = 0x1234_5678_9abc_def0_u64;
        for _ in 0..2000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let n = 1 + (s % 11) as usize;
            cases.push((0..n).map(|i| (s >> (i * 5)) as u8 | 0x80).collect());
            cases.last_mut().unwrap()[n - 1] &= 0x7f | (s >> 60) as u8;
        }
        for c in &cases {
            let mut w = Wire::new(c);
            let a = Some(w.u32()).filter(|_| w.ok());
            let b = postcard::take_from_bytes::<u32>(c).ok().map(|(v, _)| v);
            assert_eq!(a, b, "u32 {c:x?}");
            let mut w = Wire::new(c);
            let a = Some(w.u64()).filter(|_| w.ok());
            let b = postcard::take_from_bytes::<u64>(c).ok().map(|(v, _)| v);
            assert_eq!(a, b, "u64 {c:x?}");
        }
    }
}
