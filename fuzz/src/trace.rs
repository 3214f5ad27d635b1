//! Where every field of a model body sits.
//!
//! A body is postcard: varints, raw `f32`/`f64`, length-prefixed strings and
//! sequences, variant indices, option tags, nothing else. To mutate it
//! *body-aware* (set an `f32` slot to NaN, enlarge a length, drop one
//! element of a sequence and fix its length) the harness needs the offset
//! and type of each field. It gets them by decoding a body into the frozen
//! wire structs (`ferrisk::format::v1`, `v2`, `v3` and each kind's section
//! wire struct) and serialising them again through [`Tracer`], a serde
//! `Serializer` that writes exactly postcard's bytes and records a
//! [`Layout`] as it goes. The bytes are compared with the original body; a
//! body the tracer does not reproduce gets no layout (only byte-level
//! mutations then).

use std::collections::HashMap;
use std::fmt;

use serde::ser::{self, Serialize};

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// Unsigned varint (u16, u32, u64, usize).
    Uint,
    /// Zig-zag varint (i16 … i64).
    Int,
    /// Varint length of a sequence, string, byte string or map.
    Len,
    /// Varint variant index of an enum.
    Variant,
    /// `0` (None) or `1` (Some).
    OptTag,
    Bool,
    /// One raw byte (u8, i8).
    Byte,
    F32,
    F64,
    /// The bytes of a string or byte string (after its `Len`).
    Text,
}

#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub at: usize,
    pub len: usize,
    pub kind: SlotKind,
    /// Index into [`Layout::paths`].
    pub path: usize,
}

/// A composite value: a sequence (with its length slot and elements), or a
/// struct, tuple or enum value (no length).
#[derive(Debug, Clone)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub path: usize,
    /// For sequences and maps: the length slot (offset, bytes) and the
    /// start of every element (entry for maps), then `end`.
    pub seq: Option<SeqInfo>,
}

#[derive(Debug, Clone)]
pub struct SeqInfo {
    pub len_at: usize,
    pub len_len: usize,
    pub elems: Vec<usize>,
}

/// The traced structure of one body.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub slots: Vec<Slot>,
    pub spans: Vec<Span>,
    /// Field paths such as `v1.model.Trees.trees[][].threshold`.
    pub paths: Vec<String>,
    /// Slot indices by kind, for quick picks.
    pub by_kind: HashMap<SlotKindKey, Vec<usize>>,
    /// Sequence spans (indices into `spans`).
    pub seqs: Vec<usize>,
    /// Span indices by path, for splicing the same field between bodies.
    pub spans_by_path: HashMap<String, Vec<usize>>,
}

/// `SlotKind` as a hash key.
pub type SlotKindKey = u8;

pub fn key(kind: SlotKind) -> SlotKindKey {
    kind as u8
}

impl Layout {
    pub fn slots_of(&self, kind: SlotKind) -> &[usize] {
        self.by_kind.get(&key(kind)).map_or(&[], Vec::as_slice)
    }

    pub fn path(&self, index: usize) -> &str {
        self.paths.get(index).map_or("?", String::as_str)
    }

    fn finish(mut self) -> Layout {
        self.by_kind.clear();
        for (i, s) in self.slots.iter().enumerate() {
            self.by_kind.entry(key(s.kind)).or_default().push(i);
        }
        self.seqs = (0..self.spans.len())
            .filter(|&i| self.spans[i].seq.is_some())
            .collect();
        self.spans_by_path.clear();
        for (i, s) in self.spans.iter().enumerate() {
            let p = self.paths.get(s.path).cloned().unwrap_or_default();
            self.spans_by_path.entry(p).or_default().push(i);
        }
        self
    }

    /// Appends another layout traced at its own offsets.
    fn absorb(&mut self, other: Layout) {
        let mut remap = Vec::with_capacity(other.paths.len());
        for p in other.paths {
            remap.push(intern(&mut self.paths, &p));
        }
        for mut s in other.slots {
            s.path = remap.get(s.path).copied().unwrap_or(0);
            self.slots.push(s);
        }
        for mut s in other.spans {
            s.path = remap.get(s.path).copied().unwrap_or(0);
            self.spans.push(s);
        }
    }
}

fn intern(paths: &mut Vec<String>, p: &str) -> usize {
    match paths.iter().position(|q| q == p) {
        Some(i) => i,
        None => {
            paths.push(p.to_string());
            paths.len() - 1
        }
    }
}

#[derive(Debug)]
pub struct TraceError(String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl ser::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

/// The recording serializer.
pub struct Tracer {
    /// Offset of `out[0]` in the whole body.
    base: usize,
    out: Vec<u8>,
    stack: Vec<String>,
    paths: Vec<String>,
    index: HashMap<String, usize>,
    slots: Vec<Slot>,
    spans: Vec<Span>,
    /// Open composite spans (indices into `spans`).
    open: Vec<usize>,
}

impl Tracer {
    pub fn new(base: usize, root: &str) -> Tracer {
        Tracer {
            base,
            out: Vec::new(),
            stack: if root.is_empty() {
                Vec::new()
            } else {
                vec![root.to_string()]
            },
            paths: Vec::new(),
            index: HashMap::new(),
            slots: Vec::new(),
            spans: Vec::new(),
            open: Vec::new(),
        }
    }

    fn here(&self) -> usize {
        self.base + self.out.len()
    }

    fn path_id(&mut self) -> usize {
        let mut p = String::new();
        for part in &self.stack {
            if !p.is_empty() && !part.starts_with('[') {
                p.push('.');
            }
            p.push_str(part);
        }
        if let Some(&i) = self.index.get(&p) {
            return i;
        }
        self.paths.push(p.clone());
        self.index.insert(p, self.paths.len() - 1);
        self.paths.len() - 1
    }

    fn slot(&mut self, kind: SlotKind, bytes: &[u8]) {
        let at = self.here();
        let path = self.path_id();
        self.out.extend_from_slice(bytes);
        self.slots.push(Slot {
            at,
            len: bytes.len(),
            kind,
            path,
        });
    }

    fn varint_slot(&mut self, kind: SlotKind, v: u128) {
        let bytes = varint(v);
        self.slot(kind, &bytes);
    }

    fn open_span(&mut self, seq_len: Option<usize>) {
        let start = self.here();
        let path = self.path_id();
        let seq = seq_len.map(|n| {
            let bytes = varint(n as u128);
            let len_at = self.here();
            self.slot(SlotKind::Len, &bytes);
            SeqInfo {
                len_at,
                len_len: bytes.len(),
                elems: Vec::with_capacity(n.min(1 << 16) + 1),
            }
        });
        self.spans.push(Span {
            start,
            end: start,
            path,
            seq,
        });
        self.open.push(self.spans.len() - 1);
    }

    fn element_start(&mut self) {
        let at = self.here();
        if let Some(&i) = self.open.last() {
            if let Some(seq) = self.spans.get_mut(i).and_then(|s| s.seq.as_mut()) {
                seq.elems.push(at);
            }
        }
    }

    fn close_span(&mut self) {
        let end = self.here();
        if let Some(i) = self.open.pop() {
            if let Some(s) = self.spans.get_mut(i) {
                s.end = end;
                if let Some(seq) = s.seq.as_mut() {
                    seq.elems.push(end);
                }
            }
        }
    }

    /// The bytes written and the layout recorded.
    pub fn finish(self) -> (Vec<u8>, Layout) {
        let layout = Layout {
            slots: self.slots,
            spans: self.spans,
            paths: self.paths,
            ..Layout::default()
        };
        (self.out, layout)
    }
}

/// LEB128, as postcard writes every integer wider than a byte.
pub fn varint(mut v: u128) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

pub fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

/// Decodes a varint at the start of `b`: (value, bytes used).
pub fn read_varint(b: &[u8]) -> Option<(u128, usize)> {
    let mut v: u128 = 0;
    for (i, &byte) in b.iter().enumerate().take(19) {
        v |= ((byte & 0x7f) as u128) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

type R = Result<(), TraceError>;

impl ser::Serializer for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        self.slot(SlotKind::Bool, &[v as u8]);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.slot(SlotKind::Byte, &[v as u8]);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.varint_slot(SlotKind::Int, zigzag(v as i128));
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.varint_slot(SlotKind::Int, zigzag(v as i128));
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.varint_slot(SlotKind::Int, zigzag(v as i128));
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.varint_slot(SlotKind::Int, zigzag(v));
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.slot(SlotKind::Byte, &[v]);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.varint_slot(SlotKind::Uint, v as u128);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.varint_slot(SlotKind::Uint, v as u128);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.varint_slot(SlotKind::Uint, v as u128);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.varint_slot(SlotKind::Uint, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.slot(SlotKind::F32, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.slot(SlotKind::F64, &v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> R {
        self.serialize_bytes(v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.varint_slot(SlotKind::Len, v.len() as u128);
        self.slot(SlotKind::Text, v);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.slot(SlotKind::OptTag, &[0]);
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> R {
        self.slot(SlotKind::OptTag, &[1]);
        self.stack.push("?".into());
        let r = value.serialize(&mut *self);
        self.stack.pop();
        r
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> R {
        self.varint_slot(SlotKind::Variant, index as u128);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        self.open_span(None);
        self.varint_slot(SlotKind::Variant, index as u128);
        self.stack.push(variant.to_string());
        let r = value.serialize(&mut *self);
        self.stack.pop();
        self.close_span();
        r
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, TraceError> {
        let n = len.ok_or_else(|| TraceError("sequence without a length".into()))?;
        self.open_span(Some(n));
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, TraceError> {
        self.open_span(None);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, TraceError> {
        self.open_span(None);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, TraceError> {
        self.open_span(None);
        self.varint_slot(SlotKind::Variant, index as u128);
        self.stack.push(variant.to_string());
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, TraceError> {
        let n = len.ok_or_else(|| TraceError("map without a length".into()))?;
        self.open_span(Some(n));
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, TraceError> {
        self.open_span(None);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, TraceError> {
        self.open_span(None);
        self.varint_slot(SlotKind::Variant, index as u128);
        self.stack.push(variant.to_string());
        Ok(self)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

impl ser::SerializeSeq for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.element_start();
        self.stack.push("[]".into());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.stack.push("()".into());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.stack.push("()".into());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.stack.push("()".into());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.stack.pop();
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeMap for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> R {
        self.element_start();
        self.stack.push("[key]".into());
        let r = key.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.stack.push("[value]".into());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> R {
        self.stack.push(name.to_string());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.close_span();
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> R {
        self.stack.push(name.to_string());
        let r = value.serialize(&mut **self);
        self.stack.pop();
        r
    }
    fn end(self) -> R {
        self.stack.pop();
        self.close_span();
        Ok(())
    }
}

/// Traces one value at `base` under `root`; returns its bytes and layout.
pub fn trace<T: Serialize>(value: &T, base: usize, root: &str) -> Option<(Vec<u8>, Layout)> {
    let mut t = Tracer::new(base, root);
    value.serialize(&mut t).ok()?;
    Some(t.finish())
}

/// Traces a model-file body of format `version` (1, 2, 3; later versions
/// as 3 plus trailing bytes). `None` when the body does not decode into the
/// wire structs or the tracer does not reproduce it byte for byte.
pub fn trace_body(version: u16, body: &[u8]) -> Option<Layout> {
    use ferrisk::format::{v1::FileV1, v2::FileV2, v3::ExtV3};
    let (bytes, layout) = match version {
        1 => {
            let w: FileV1 = postcard::from_bytes(body).ok()?;
            trace(&w, 0, "v1")?
        }
        2 => {
            let w: FileV2 = postcard::from_bytes(body).ok()?;
            trace(&w, 0, "")?
        }
        _ => {
            let (w, rest) = postcard::take_from_bytes::<FileV2>(body).ok()?;
            let (mut bytes, mut layout) = trace(&w, 0, "")?;
            let (ext, _) = postcard::take_from_bytes::<ExtV3>(rest).ok()?;
            let (ext_bytes, ext_layout) = trace(&ext, bytes.len(), "ext3")?;
            bytes.extend_from_slice(&ext_bytes);
            layout.absorb(ext_layout);
            for s in &ext.sections {
                let at = (s.body.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
                if let Some(inner) = trace_section(s.tag, s.body, at) {
                    layout.absorb(inner);
                }
            }
            (bytes, layout)
        }
    };
    if version >= 3 {
        if !body.starts_with(&bytes) {
            return None;
        }
    } else if bytes != body {
        return None;
    }
    Some(layout.finish())
}

/// Traces a v3 section body by its tag (model sections of known kinds).
fn trace_section(tag: &str, body: &[u8], at: usize) -> Option<Layout> {
    use ferrisk::kinds::{kernel_svm, linear, stump, trees};
    let kind = tag.strip_prefix(ferrisk::format::v3::MODEL_SECTION)?;
    let root = format!("section:{kind}");
    let (bytes, layout) = match kind {
        "linear" => trace(
            &postcard::from_bytes::<linear::LinearWire>(body).ok()?,
            at,
            &root,
        )?,
        "kernel-svm" => trace(
            &postcard::from_bytes::<kernel_svm::KernelSvmWire>(body).ok()?,
            at,
            &root,
        )?,
        "trees" => trace(
            &postcard::from_bytes::<trees::TreesWire>(body).ok()?,
            at,
            &root,
        )?,
        "stump" => trace(
            &postcard::from_bytes::<stump::StumpWire>(body).ok()?,
            at,
            &root,
        )?,
        "attention" => trace(
            &postcard::from_bytes::<ferrisk::format::v2::AttentionV2>(body).ok()?,
            at,
            &root,
        )?,
        _ => return None,
    };
    (bytes == body).then_some(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_golden_body_is_traced_byte_for_byte() {
        let seeds = crate::corpus::golden_seeds();
        assert!(seeds.len() >= 18, "{} golden files", seeds.len());
        for s in &seeds {
            let layout = s.layout.as_ref();
            assert!(layout.is_some(), "{} has no layout", s.name);
            let layout = layout.map(|l| l.slots.len()).unwrap_or(0);
            assert!(layout > 50, "{}: {layout} slots", s.name);
        }
    }

    #[test]
    fn mutated_bodies_are_framed_past_the_checksum() {
        let seeds = crate::corpus::golden_seeds();
        let mut rng = crate::rng::Rng::new(3);
        for s in &seeds {
            let src = crate::mutate::Source {
                body: &s.body,
                layout: s.layout.as_ref(),
            };
            let (body, _) = crate::mutate::mutate(&mut rng, &src, None, 3);
            let file = ferrisk::format::frame(s.version, s.min_reader, &body);
            assert!(ferrisk::format::read_header(&file).is_ok(), "{}", s.name);
        }
    }

    #[test]
    fn varints_round_trip() {
        for v in [0u128, 1, 127, 128, 300, u32::MAX as u128, u64::MAX as u128] {
            let b = varint(v);
            assert_eq!(read_varint(&b), Some((v, b.len())));
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
