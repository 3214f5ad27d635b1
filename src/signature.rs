//! Signed model files: the envelope that carries an approval signature.
//!
//! The SHA-256 in a model file's header catches corruption, not
//! substitution. A bank's model-risk function signs an approved file with
//! an Ed25519 key (`ferrisk sign`); a portal configured with the bank's
//! public keys then scores only files that carry a valid, unexpired
//! signature by one of them (`ferrisk-trust` natively, Web Crypto in the
//! page).
//!
//! This module has no cryptography: it parses the envelope, bounds and
//! validates every field, builds the exact bytes that are signed, and
//! applies the policy (unsigned, unknown key, expired) around a signature
//! check that the caller performs. So the wasm bundle gains a parser, not an
//! Ed25519 implementation.
//!
//! # Layout
//!
//! A signed file is the model file, byte for byte, followed by one
//! signature block:
//!
//! ```text
//! offset      size  field
//!      0  52 + L    the model file, unchanged (header declares body length L)
//!
//! signature block, at offset B = 52 + L:
//!  B +  0        8  magic "FRKSIGN\0"
//!  B +  8        2  envelope version (u16 LE), 1
//!  B + 10        2  algorithm (u16 LE), 1 = Ed25519
//!  B + 12        8  key id: first 8 bytes of SHA-256(the 32-byte public key)
//!  B + 20        4  expiry: last valid day (u32 LE, days since 1970-01-01 UTC),
//!                   0xFFFF_FFFF = no expiry; otherwise at most 9999-12-31
//!  B + 24        2  note length n (u16 LE), 1 ..= 1024
//!  B + 26        n  approval note, UTF-8, no control or bidi-override characters
//!  B + 26 + n   64  Ed25519 signature
//! ```
//!
//! The block ends the file: its length is exactly `26 + n + 64`.
//!
//! The signed message is
//! `"ferrisk signed model v1\0" ‖ SHA-256(model file) ‖ block[0 .. 26 + n]`,
//! so the model bytes (header included), the key id, the expiry and the
//! note are all covered: changing any of them, or re-signing with another
//! key under the same id, fails verification.
//!
//! # Readers that do not verify
//!
//! [`crate::format::read_header`] (and so [`crate::format::decode`] and
//! [`crate::Scorer::from_bytes`]) calls [`split`] first: a signed file
//! loads like the model it wraps. A block is recognised only after the
//! length the header declares and only when it starts with the magic;
//! other trailing bytes stay a [`crate::FormatError::LengthMismatch`], and a
//! malformed block is an error that names its byte offset.

use serde::Serialize;
use thiserror::Error;

use crate::error::FormatError;
use crate::format;

/// First bytes of a signature block.
pub const MAGIC: [u8; 8] = *b"FRKSIGN\0";
/// Envelope version written and read by this build.
pub const VERSION: u16 = 1;
/// Algorithm number of Ed25519, the only one.
pub const ED25519: u16 = 1;
pub const KEY_ID_LEN: usize = 8;
pub const PUBLIC_KEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;
/// Longest approval note, in UTF-8 bytes.
pub const MAX_NOTE: usize = 1024;
/// Expiry field value of a signature that does not expire.
pub const NO_EXPIRY: u32 = u32::MAX;
/// 9999-12-31, the last day an expiry may name.
pub const MAX_DAY: u32 = 2_932_896;
/// Bytes of the block before the note.
pub const FIXED_LEN: usize = 26;
/// Domain separation: what the signed message starts with.
pub const CONTEXT: &[u8] = b"ferrisk signed model v1\0";
/// First word of a public key line (`ferrisk keygen` writes it).
pub const PUBLIC_KEY_WORD: &str = "ferrisk-public-key";
/// First word of a secret key line (recognised only to refuse it as a
/// trusted key).
pub const SECRET_KEY_WORD: &str = "ferrisk-secret-key";
/// Most keys one key list may hold.
pub const MAX_KEYS: usize = 256;

/// A signature envelope or key text is malformed, or a file is refused by
/// the trust policy. Messages name what and where (byte offset, line).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("signature block at byte {offset} is truncated: {need} bytes needed, {have} present")]
    Truncated {
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("signature block at byte {offset}: envelope version {found} is not supported (this ferrisk reads version {v}); upgrade ferrisk", v = VERSION)]
    Version { offset: usize, found: u16 },
    #[error("signature block at byte {offset}: algorithm {found} is not supported (1 = Ed25519)")]
    Algorithm { offset: usize, found: u16 },
    #[error("signature block at byte {offset}: expiry {value} is not a day between 1970-01-01 and 9999-12-31")]
    Expiry { offset: usize, value: u32 },
    #[error("signature block at byte {offset}: the approval note is empty")]
    NoteEmpty { offset: usize },
    #[error("signature block at byte {offset}: the approval note has {len} bytes, more than the limit of {max}", max = MAX_NOTE)]
    NoteTooLong { offset: usize, len: usize },
    #[error("signature block: the approval note is not UTF-8 at byte {offset}")]
    NoteNotUtf8 { offset: usize },
    #[error("signature block: the approval note has a control character at byte {offset}")]
    NoteControl { offset: usize },
    #[error("{count} unexpected bytes after the signature block, at byte {offset}")]
    Trailing { offset: usize, count: usize },
    #[error("'{0}' is not a date: expected YYYY-MM-DD between 1970-01-01 and 9999-12-31")]
    BadDate(String),
    #[error("{0}")]
    BadKey(String),
    #[error("cannot sign: {0}")]
    NotAModel(FormatError),
    #[error("model file is already signed (by key {key_id}); remove the signature block first")]
    AlreadySigned { key_id: KeyId },
    #[error("no trusted public key is configured")]
    NoTrustedKeys,
    #[error(
        "model file is not signed; only files signed by a trusted key ({trusted}) are accepted"
    )]
    Unsigned { trusted: String },
    #[error(
        "model file is signed by key {key_id}, which is not a trusted key (trusted: {trusted})"
    )]
    UnknownKey { key_id: KeyId, trusted: String },
    #[error("model file signature by key {key_id} is invalid: the model, its note or its expiry was changed after signing, or another key signed it")]
    BadSignature { key_id: KeyId },
    #[error("model file approval expired: the signature by key {key_id} was valid through {expired}, today is {today} (UTC)")]
    Expired {
        key_id: KeyId,
        expired: String,
        today: String,
    },
}

/// A loader that does not verify still refuses a malformed block.
impl From<SignatureError> for FormatError {
    fn from(e: SignatureError) -> FormatError {
        FormatError::Invalid(e.to_string())
    }
}

// ---------------------------------------------------------------------------
// Key ids and public keys

/// Names a public key: the first 8 bytes of its SHA-256, shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    pub fn of(public_key: &[u8; PUBLIC_KEY_LEN]) -> KeyId {
        let digest = crate::format::sha256(public_key);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Exactly `2 * N` hex digits (either case) as `N` bytes.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let t = text.as_bytes();
    if t.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16);
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        let hi = digit(t[2 * i])?;
        let lo = digit(t[2 * i + 1])?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// An Ed25519 public key that may verify signatures, with its id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PublicKey {
    pub id: KeyId,
    pub bytes: [u8; PUBLIC_KEY_LEN],
}

impl PublicKey {
    pub fn new(bytes: [u8; PUBLIC_KEY_LEN]) -> PublicKey {
        PublicKey {
            id: KeyId::of(&bytes),
            bytes,
        }
    }

    /// Parses one key: `ferrisk-public-key <key id> <64 hex digits>` (the
    /// line `ferrisk keygen` writes; the id must match the key) or the 64
    /// hex digits alone.
    pub fn parse(text: &str) -> Result<PublicKey, SignatureError> {
        let bad = |m: &str| Err(SignatureError::BadKey(m.into()));
        let t = text.trim();
        if t.starts_with(SECRET_KEY_WORD) {
            return bad("this is a secret key, not a public key: give the .pub file that `ferrisk keygen` wrote (and keep the secret key private)");
        }
        // The key is the last 64 characters; a line has its word and id before.
        let (head, key) = t
            .split_at_checked(t.len().saturating_sub(64))
            .unwrap_or_default();
        let id = match head.strip_prefix(PUBLIC_KEY_WORD) {
            Some(rest) => Some(rest.trim()),
            None if head.is_empty() => None,
            None => Some(""),
        };
        let (Some(bytes), false) = (from_hex::<PUBLIC_KEY_LEN>(key), id == Some("")) else {
            return bad("not a public key: expected 'ferrisk-public-key <key id> <64 hex digits>' or 64 hex digits");
        };
        let k = PublicKey::new(bytes);
        if id.is_some_and(|id| !id.eq_ignore_ascii_case(&hex(&k.id.0))) {
            return bad("the key id does not match the key: the key text is damaged");
        }
        Ok(k)
    }

    /// The line `ferrisk keygen` writes and [`PublicKey::parse`] reads.
    pub fn to_line(&self) -> String {
        format!("{PUBLIC_KEY_WORD} {} {}", self.id, hex(&self.bytes))
    }
}

/// The keys of a key file: one per line; blank lines and lines starting
/// with `#` are skipped. At least one, at most [`MAX_KEYS`].
pub fn parse_public_keys(text: &str) -> Result<Vec<PublicKey>, SignatureError> {
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let k = PublicKey::parse(t)
            .map_err(|e| SignatureError::BadKey(format!("line {}: {e}", i + 1)))?;
        if keys.len() == MAX_KEYS {
            return Err(SignatureError::BadKey(format!("more than {MAX_KEYS} keys")));
        }
        keys.push(k);
    }
    if keys.is_empty() {
        return Err(SignatureError::BadKey("no public key in it".into()));
    }
    Ok(keys)
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------
// Days

/// Day number (since 1970-01-01) of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day number.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses `YYYY-MM-DD` (1970-01-01 ..= 9999-12-31) as a day number.
pub fn parse_date(text: &str) -> Result<u32, SignatureError> {
    let bad = || SignatureError::BadDate(shorten(text));
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let field = |r: std::ops::Range<usize>| text.get(r).and_then(num);
    let (y, m, d) = match (field(0..4), field(5..7), field(8..10)) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        _ => return Err(bad()),
    };
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return Err(bad());
    }
    let day = days_from_civil(y, m, d);
    // The day must not roll over into the next month (2027-02-30).
    if civil_from_days(day) != (y, m, d) {
        return Err(bad());
    }
    u32::try_from(day).map_err(|_| bad())
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: u32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC day of a Unix time in seconds.
pub fn day_of_unix(seconds: u64) -> u32 {
    u32::try_from(seconds / 86_400).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// The block

/// A parsed (or to-be-signed) signature block. Its fields are valid by
/// construction: [`SignatureBlock::new`] and the parser check them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignatureBlock {
    key_id: KeyId,
    note: String,
    expires: Option<u32>,
    signature: [u8; SIGNATURE_LEN],
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// Offset (in the note) of the first character a note may not hold.
fn forbidden_char(note: &str) -> Option<usize> {
    note.char_indices()
        .find(|(_, c)| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .map(|(i, _)| i)
}

impl SignatureBlock {
    /// A block to sign (its signature is zero until [`Self::set_signature`]).
    /// `expires` is the last valid day ([`parse_date`]).
    pub fn new(
        key_id: KeyId,
        note: &str,
        expires: Option<u32>,
    ) -> Result<SignatureBlock, SignatureError> {
        if note.is_empty() {
            return Err(SignatureError::NoteEmpty { offset: FIXED_LEN });
        }
        if note.len() > MAX_NOTE {
            return Err(SignatureError::NoteTooLong {
                offset: FIXED_LEN,
                len: note.len(),
            });
        }
        if let Some(at) = forbidden_char(note) {
            return Err(SignatureError::NoteControl {
                offset: FIXED_LEN + at,
            });
        }
        if let Some(day) = expires {
            if day > MAX_DAY {
                return Err(SignatureError::Expiry {
                    offset: 20,
                    value: day,
                });
            }
        }
        Ok(SignatureBlock {
            key_id,
            note: note.to_string(),
            expires,
            signature: [0; SIGNATURE_LEN],
        })
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    pub fn note(&self) -> &str {
        &self.note
    }
    /// Last valid day, if the approval expires.
    pub fn expires(&self) -> Option<u32> {
        self.expires
    }
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }
    pub fn set_signature(&mut self, signature: [u8; SIGNATURE_LEN]) {
        self.signature = signature;
    }

    /// Length of the encoded block.
    pub fn len(&self) -> usize {
        FIXED_LEN + self.note.len() + SIGNATURE_LEN
    }

    /// Never: a block holds at least its fixed fields and the signature.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The block up to the signature: the part the signature covers.
    pub fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&ED25519.to_le_bytes());
        out.extend_from_slice(&self.key_id.0);
        out.extend_from_slice(&self.expires.unwrap_or(NO_EXPIRY).to_le_bytes());
        // `new` and `parse` bound the note to MAX_NOTE (< u16::MAX).
        out.extend_from_slice(&(self.note.len() as u16).to_le_bytes());
        out.extend_from_slice(self.note.as_bytes());
        out
    }

    /// The encoded block.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses a block that starts with [`MAGIC`] and ends the file; `at` is
    /// its offset in the file (for messages).
    fn parse(block: &[u8], at: usize) -> Result<SignatureBlock, SignatureError> {
        let min = FIXED_LEN + 1 + SIGNATURE_LEN;
        if block.len() < FIXED_LEN {
            return Err(SignatureError::Truncated {
                offset: at,
                need: min,
                have: block.len(),
            });
        }
        let version = u16_at(block, 8);
        if version != VERSION {
            return Err(SignatureError::Version {
                offset: at + 8,
                found: version,
            });
        }
        let algorithm = u16_at(block, 10);
        if algorithm != ED25519 {
            return Err(SignatureError::Algorithm {
                offset: at + 10,
                found: algorithm,
            });
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&block[12..20]);
        let raw_expiry = u32_at(block, 20);
        let expires = match raw_expiry {
            NO_EXPIRY => None,
            day if day <= MAX_DAY => Some(day),
            value => {
                return Err(SignatureError::Expiry {
                    offset: at + 20,
                    value,
                })
            }
        };
        let n = usize::from(u16_at(block, 24));
        if n == 0 {
            return Err(SignatureError::NoteEmpty { offset: at + 24 });
        }
        if n > MAX_NOTE {
            return Err(SignatureError::NoteTooLong {
                offset: at + 24,
                len: n,
            });
        }
        let total = FIXED_LEN + n + SIGNATURE_LEN;
        if block.len() < total {
            return Err(SignatureError::Truncated {
                offset: at,
                need: total,
                have: block.len(),
            });
        }
        if block.len() > total {
            return Err(SignatureError::Trailing {
                offset: at + total,
                count: block.len() - total,
            });
        }
        let note_bytes = &block[FIXED_LEN..FIXED_LEN + n];
        let note = std::str::from_utf8(note_bytes).map_err(|e| SignatureError::NoteNotUtf8 {
            offset: at + FIXED_LEN + e.valid_up_to(),
        })?;
        if let Some(i) = forbidden_char(note) {
            return Err(SignatureError::NoteControl {
                offset: at + FIXED_LEN + i,
            });
        }
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&block[FIXED_LEN + n..]);
        Ok(SignatureBlock {
            key_id: KeyId(key_id),
            note: note.to_string(),
            expires,
            signature,
        })
    }

    /// What surfaces show of the block.
    pub fn info(&self, verified: bool) -> SignatureInfo {
        SignatureInfo {
            key_id: self.key_id.to_string(),
            note: self.note.clone(),
            expires: self.expires.map(format_date),
            verified,
        }
    }
}

/// A signature as `ferrisk inspect --json` and the page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureInfo {
    /// Key id (16 hex digits).
    pub key_id: String,
    /// The approval note.
    pub note: String,
    /// Last valid day (`YYYY-MM-DD`, UTC), if the approval expires.
    pub expires: Option<String>,
    /// Whether the signature was checked against a trusted key.
    pub verified: bool,
}

/// Length of the model file at the start of `bytes`, from its header, when
/// `bytes` starts like a model file.
fn model_len(bytes: &[u8]) -> Option<usize> {
    if bytes.get(..format::MAGIC.len())? != format::MAGIC {
        return None;
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(bytes.get(12..20)?);
    let body = u64::from_le_bytes(len);
    if body > format::MAX_BODY {
        return None;
    }
    usize::try_from(body).ok()?.checked_add(format::HEADER_LEN)
}

/// Splits a file into the model bytes and its signature block, if any.
///
/// Bytes that do not start like a model file, or end where the header
/// says, are returned whole with no block (the format reader then says
/// what is wrong). After the declared length, a block is recognised by its
/// magic and must be well-formed and end the file.
pub fn split(bytes: &[u8]) -> Result<(&[u8], Option<SignatureBlock>), SignatureError> {
    let Some((model, trailer)) = model_len(bytes).and_then(|n| bytes.split_at_checked(n)) else {
        return Ok((bytes, None));
    };
    if !trailer.starts_with(&MAGIC) {
        return Ok((bytes, None));
    }
    let block = SignatureBlock::parse(trailer, model.len())?;
    Ok((model, Some(block)))
}

/// The bytes a signature covers (see the module docs).
pub fn message(model: &[u8], block: &SignatureBlock) -> Vec<u8> {
    let digest = crate::format::sha256(model);
    let mut out = Vec::with_capacity(CONTEXT.len() + 32 + block.len());
    out.extend_from_slice(CONTEXT);
    out.extend_from_slice(&digest);
    out.extend_from_slice(&block.signed_part());
    out
}

/// Appends a (signed) block to an unsigned model file.
pub fn attach(model: &[u8], block: &SignatureBlock) -> Result<Vec<u8>, SignatureError> {
    if let (_, Some(b)) = split(model)? {
        return Err(SignatureError::AlreadySigned { key_id: b.key_id() });
    }
    format::read_header(model).map_err(SignatureError::NotAModel)?;
    let mut out = Vec::with_capacity(model.len() + block.len());
    out.extend_from_slice(model);
    out.extend_from_slice(&block.encode());
    Ok(out)
}

// ---------------------------------------------------------------------------
// Policy

fn key_list(trusted: &[PublicKey]) -> String {
    let mut out = String::new();
    for k in trusted {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&hex(&k.id.0));
    }
    out
}

/// A signed file whose key is trusted, waiting for its signature check.
#[derive(Debug, Clone)]
pub struct Pending<'a> {
    /// The model file inside the envelope.
    pub model: &'a [u8],
    pub block: SignatureBlock,
    /// The trusted key that must verify [`Pending::message`].
    pub key: PublicKey,
    /// The signed message ([`message`]).
    pub message: Vec<u8>,
}

/// A file whose signature a trusted key verified and that has not expired.
#[derive(Debug, Clone)]
pub struct Verified<'a> {
    /// The model file inside the envelope (load it with `Scorer::from_bytes`).
    pub model: &'a [u8],
    pub block: SignatureBlock,
    pub key: PublicKey,
}

/// First half of verification: refuses a malformed, unsigned or foreign
/// file; returns what the caller's Ed25519 implementation must check.
pub fn prepare<'a>(bytes: &'a [u8], trusted: &[PublicKey]) -> Result<Pending<'a>, SignatureError> {
    if trusted.is_empty() {
        return Err(SignatureError::NoTrustedKeys);
    }
    let (model, block) = split(bytes)?;
    let Some(block) = block else {
        return Err(SignatureError::Unsigned {
            trusted: key_list(trusted),
        });
    };
    let Some(key) = trusted.iter().find(|k| k.id == block.key_id()) else {
        return Err(SignatureError::UnknownKey {
            key_id: block.key_id(),
            trusted: key_list(trusted),
        });
    };
    let message = message(model, &block);
    Ok(Pending {
        model,
        block,
        key: key.clone(),
        message,
    })
}

impl<'a> Pending<'a> {
    /// Second half: `signature_valid` is the Ed25519 check of
    /// `self.message` and `self.block.signature()` under `self.key`; `today`
    /// is the current UTC day ([`day_of_unix`]). Expiry is judged only on a
    /// valid signature (before that, the expiry field is unauthenticated).
    pub fn accept(self, signature_valid: bool, today: u32) -> Result<Verified<'a>, SignatureError> {
        let key_id = self.block.key_id();
        if !signature_valid {
            return Err(SignatureError::BadSignature { key_id });
        }
        if let Some(last) = self.block.expires() {
            if today > last {
                return Err(SignatureError::Expired {
                    key_id,
                    expired: format_date(last),
                    today: format_date(today),
                });
            }
        }
        Ok(Verified {
            model: self.model,
            block: self.block,
            key: self.key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_refuse_nonsense() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2000-03-01"), Ok(11_017));
        assert_eq!(parse_date("9999-12-31"), Ok(MAX_DAY));
        for day in [0, 59, 60, 11_016, 20_000, 47_482, MAX_DAY] {
            assert_eq!(parse_date(&format_date(day)), Ok(day), "{day}");
        }
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        for bad in [
            "",
            "2027-6-30",
            "2027-06-31",
            "2023-02-29",
            "1969-12-31",
            "2027/06/30",
            "+027-06-30",
            "2027-00-10",
            "2027-13-01",
            "2027-06-00",
            "２０２７-06-30",
            "2027-06-3x",
        ] {
            assert!(
                matches!(parse_date(bad), Err(SignatureError::BadDate(_))),
                "{bad}"
            );
        }
        assert_eq!(day_of_unix(86_399), 0);
        assert_eq!(day_of_unix(86_400), 1);
    }

    #[test]
    fn hex_and_key_text() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(from_hex::<3>("00AB10"), Some([0, 0xab, 0x10]));
        assert_eq!(from_hex::<2>("00ab10"), None);
        assert_eq!(from_hex::<1>("g0"), None);
        let k = PublicKey::new([7; 32]);
        assert_eq!(PublicKey::parse(&k.to_line()), Ok(k.clone()));
        assert_eq!(PublicKey::parse(&hex(&k.bytes)), Ok(k.clone()));
        let line = k.to_line().replace(&k.id.to_string(), "0000000000000000");
        let e = PublicKey::parse(&line).unwrap_err().to_string();
        assert!(e.contains("does not match"), "{e}");
        let e = PublicKey::parse(&format!("{SECRET_KEY_WORD} x y"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("secret key"), "{e}");
        let e = parse_public_keys("# nothing\n\n").unwrap_err().to_string();
        assert!(e.contains("no public key"), "{e}");
        let e = parse_public_keys(&format!("{}\nnonsense\n", k.to_line()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2:"), "{e}");
    }

    #[test]
    fn notes_are_bounded_and_printable() {
        let id = KeyId([1; 8]);
        assert!(SignatureBlock::new(id, "ok", None).is_ok());
        assert!(matches!(
            SignatureBlock::new(id, "", None),
            Err(SignatureError::NoteEmpty { .. })
        ));
        assert!(matches!(
            SignatureBlock::new(id, &"x".repeat(MAX_NOTE + 1), None),
            Err(SignatureError::NoteTooLong { .. })
        ));
        for bad in ["a\nb", "a\u{1b}[31m", "a\u{202e}b", "\u{7f}"] {
            assert!(
                matches!(
                    SignatureBlock::new(id, bad, None),
                    Err(SignatureError::NoteControl { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            SignatureBlock::new(id, "ok", Some(MAX_DAY + 1)),
            Err(SignatureError::Expiry { .. })
        ));
    }

    #[test]
    fn a_block_round_trips_and_ends_the_file() {
        let model = format::frame(3, 1, b"body");
        let mut block =
            SignatureBlock::new(KeyId([9; 8]), "approved, ticket 1", Some(20_000)).unwrap();
        block.set_signature([5; 64]);
        let signed = attach(&model, &block).unwrap();
        assert_eq!(&signed[..model.len()], &model[..]);
        assert_eq!(signed.len(), model.len() + block.len());
        let (m, b) = split(&signed).unwrap();
        assert_eq!(m, &model[..]);
        assert_eq!(b.as_ref(), Some(&block));
        assert!(matches!(
            attach(&signed, &block),
            Err(SignatureError::AlreadySigned { .. })
        ));
        // The message covers the model, the key id, the note and the expiry.
        let msg = message(&model, &block);
        let mut other = block.clone();
        other.note.push('!');
        assert_ne!(message(&model, &other), msg);
        let mut other = block.clone();
        other.expires = None;
        assert_ne!(message(&model, &other), msg);
        let mut other = block.clone();
        other.key_id = KeyId([8; 8]);
        assert_ne!(message(&model, &other), msg);
        assert_ne!(message(&format::frame(3, 1, b"bodz"), &block), msg);
        // Unsigned files and foreign bytes pass through whole.
        assert_eq!(split(&model).unwrap(), (&model[..], None));
        assert_eq!(split(b"abc").unwrap(), (&b"abc"[..], None));
        let mut padded = model.clone();
        padded.extend_from_slice(b"FRKSIG");
        assert_eq!(split(&padded).unwrap(), (&padded[..], None));
    }
}
