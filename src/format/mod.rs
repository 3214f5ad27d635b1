//! The model file: a fixed header, then a postcard-encoded body.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  "FERRISK\0"
//!      8     2  format version (u16 LE) of this file
//!     10     2  minimum reader version (u16 LE) able to read it
//!     12     8  body length (u64 LE)
//!     20    32  SHA-256 of the body
//!     52     …  body (postcard; the wire struct of that format version)
//! ```
//!
//! Why postcard: a documented, stable wire format (1.0 spec), compact varint
//! encoding, `no_std`. Files are written with serde and read by hand
//! (`wire`: the derived decoders cost the wasm bundle several times more;
//! they stay as the tests' reference). The body's size is bounded before
//! decoding, and every vector is decoded under a memory budget
//! proportional to the body (`wire`, [`bounded`] for serde), so a hostile
//! file cannot cause a huge allocation (tested with a counting allocator:
//! `tests/decode_memory.rs`).
//!
//! Compatibility: a reader of version N reads every format version
//! `1..=N` (each version's wire structs are kept forever in their own
//! module) and rejects files whose minimum reader version is above N with
//! [`FormatError::FromFuture`].

pub mod bounded;
pub mod v1;
pub mod v2;
pub mod v3;
pub(crate) mod wire;

use sha2::{Digest, Sha256};

use crate::bundle::Bundle;
use crate::error::FormatError;

pub const MAGIC: [u8; 8] = *b"FERRISK\0";
/// Format version written (and the newest read) by this build.
pub const FORMAT_VERSION: u16 = 3;
pub const HEADER_LEN: usize = 52;
/// Upper bound on a body, far above any real model (an RBF SVM on 10k rows
/// of 100 columns is ~4 MB).
pub const MAX_BODY: u64 = 256 * 1024 * 1024;

/// The parsed fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    pub min_reader: u16,
    pub body_len: u64,
    pub checksum: [u8; 32],
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

/// Reads and checks the header; returns it with the body slice.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8]), FormatError> {
    let (bytes, _signature) = crate::signature::split(bytes)?;
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        // A short file that still starts like ours is "truncated", not "foreign".
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) && !bytes.is_empty() {
            return Err(FormatError::TooShort {
                len: bytes.len(),
                min: HEADER_LEN,
            });
        }
        if bytes.is_empty() {
            return Err(FormatError::TooShort {
                len: 0,
                min: HEADER_LEN,
            });
        }
        return Err(FormatError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(FormatError::TooShort {
            len: bytes.len(),
            min: HEADER_LEN,
        });
    }
    let version = u16_at(bytes, 8);
    let min_reader = u16_at(bytes, 10);
    if version == 0 || min_reader == 0 || min_reader > version {
        return Err(FormatError::BadVersion { found: version });
    }
    if min_reader > FORMAT_VERSION {
        return Err(FormatError::FromFuture {
            found: version,
            needs: min_reader,
            supported: FORMAT_VERSION,
        });
    }
    let body_len = u64_at(bytes, 12);
    if body_len > MAX_BODY {
        return Err(FormatError::TooLarge {
            size: body_len,
            limit: MAX_BODY,
        });
    }
    let actual = (bytes.len() - HEADER_LEN) as u64;
    if body_len != actual {
        return Err(FormatError::LengthMismatch {
            declared: body_len,
            actual,
        });
    }
    let mut checksum = [0u8; 32];
    checksum.copy_from_slice(&bytes[20..52]);
    let body = &bytes[HEADER_LEN..];
    let digest = sha256(body);
    if digest != checksum {
        return Err(FormatError::Checksum);
    }
    Ok((
        Header {
            version,
            min_reader,
            body_len,
            checksum,
        },
        body,
    ))
}

/// Decodes a whole wire body of type `T` with serde; trailing bytes are an
/// error. The runtime reads by hand ([`wire`]); the tests use this as the
/// reference decoder.
#[cfg(test)]
pub(crate) fn decode_exact<'a, T: serde::Deserialize<'a>>(
    body: &'a [u8],
) -> Result<T, FormatError> {
    let (wire, rest) = postcard::take_from_bytes::<T>(body)
        .map_err(|e| FormatError::Decode(format!("{e} (body of {} bytes)", body.len())))?;
    if !rest.is_empty() {
        return Err(FormatError::Decode(format!(
            "{} unexpected bytes after the body at offset {}",
            rest.len(),
            HEADER_LEN + body.len() - rest.len()
        )));
    }
    Ok(wire)
}

/// Decodes a model file. Every byte is checked; nothing panics.
pub fn decode(bytes: &[u8]) -> Result<Bundle, FormatError> {
    Ok(decode_with_header(bytes)?.1)
}

/// [`decode`], also returning the checked header (whose SHA-256 of the
/// body names the model in decision records).
pub fn decode_with_header(bytes: &[u8]) -> Result<(Header, Bundle), FormatError> {
    let (header, body) = read_header(bytes)?;
    let bundle = bounded::with_budget(bounded::budget_for(body.len()), || {
        decode_body(header, body)
    })?;
    bundle.validate().map_err(FormatError::Invalid)?;
    Ok((header, bundle))
}

fn decode_body(header: Header, body: &[u8]) -> Result<Bundle, FormatError> {
    read_body(body, header.version)
}

/// Reads a body of format `version` by hand ([`wire`]): the v1 body, the
/// v2 extension from version 2, the v3 extension from version 3. Nothing
/// may follow, except in a newer file that declares a minimum reader we
/// satisfy: by that promise its body starts with a body we can read, and
/// the rest is ignored.
pub(crate) fn read_body(body: &[u8], version: u16) -> Result<Bundle, FormatError> {
    let mut w = wire::Wire::new(body);
    let mut b = v1::empty();
    let code = v1::read(&mut w, &mut b);
    if version >= 2 {
        v2::read(&mut w, &mut b);
    }
    let ext = (version >= 3).then(|| v3::read_ext(&mut w));
    if version <= 3 {
        w.end();
    }
    w.check("body")?;
    b.algorithm = v1::algorithm_from(code)?;
    match ext {
        Some(ext) => v3::apply(b, ext, crate::kinds::Model::decode_section),
        None => Ok(b),
    }
}

/// Encodes a bundle as a current-version model file.
pub fn encode(bundle: &Bundle) -> Result<Vec<u8>, FormatError> {
    bundle.validate().map_err(FormatError::Invalid)?;
    let body = v3::encode(bundle)?;
    Ok(frame(FORMAT_VERSION, v3::min_reader(bundle), &body))
}

/// Wraps a body in a header. Public for tests that build hostile files.
pub fn frame(version: u16, min_reader: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&min_reader.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    let digest: [u8; 32] = Sha256::digest(body).into();
    out.extend_from_slice(&digest);
    out.extend_from_slice(body);
    out
}

/// Hex SHA-256 of some bytes (used for data provenance).
/// SHA-256 of `bytes`: the one non-inlined digest call of the runtime
/// (each inlined copy of `Sha256::digest` costs the wasm bundle its own
/// padding and finalisation code).
#[inline(never)]
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
