//! # ferrisk-trust
//!
//! Signed model files for the native surfaces (`ferrisk keygen`, `sign`,
//! `verify`, `--trusted-key` on the verbs that load models, and
//! `ferrisk serve --trusted-key`): Ed25519 keys (ed25519-dalek, seeds from
//! the operating system's random number generator), signing and
//! verification.
//!
//! The envelope, the signed message and the refusal policy (unsigned,
//! unknown key, expired) live in the runtime ([`ferrisk::signature`]), which
//! has no cryptography, so the page (Web Crypto) and this crate refuse the
//! same files with the same messages.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ferrisk_trust::{verify, TrustedKeys};
//! let keys = TrustedKeys::from_files(&["bank.pub"])?;
//! let bytes = std::fs::read("models/lr.frk")?;
//! let ok = verify(&bytes, &keys, std::time::SystemTime::now())?;
//! println!("approved by key {}: {}", ok.block.key_id(), ok.block.note());
//! let scorer = ferrisk::Scorer::from_bytes(ok.model)?;
//! # let _ = scorer; Ok(()) }
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use ferrisk::signature::{self as sig, from_hex, hex};
pub use ferrisk::signature::{
    parse_date, KeyId, PublicKey, SignatureBlock, SignatureError, SignatureInfo, Verified,
};
use ferrisk::FormatError;
use thiserror::Error;
use zeroize::Zeroizing;

/// Environment variable naming public key files (separated like `PATH`)
/// when no `--trusted-key` is given.
pub const ENV: &str = "FERRISK_TRUSTED_KEYS";
/// Largest key file read.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Signing or verification failed, or a key could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// The envelope is malformed, or the policy refuses the file: unsigned,
    /// unknown key, bad signature, expired.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The bytes to sign are not a loadable model file.
    #[error(transparent)]
    Model(#[from] FormatError),
    #[error("key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("cannot generate a key: the operating system's random number generator failed ({0})")]
    Random(String),
}

impl TrustError {
    fn key_file(path: &Path, message: impl ToString) -> TrustError {
        TrustError::KeyFile {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}

/// The UTC day of a time (days since 1970-01-01), what expiries compare with.
pub fn today(now: SystemTime) -> u32 {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    sig::day_of_unix(secs)
}

/// Checks that 32 bytes are an Ed25519 public key.
fn verifying_key(k: &PublicKey) -> Result<VerifyingKey, SignatureError> {
    VerifyingKey::from_bytes(&k.bytes).map_err(|_| {
        SignatureError::BadKey(format!("key {} is not a valid Ed25519 public key", k.id))
    })
}

/// Reads a small text file (a key file), refusing large or non-UTF-8 ones.
fn read_small(path: &Path) -> Result<String, TrustError> {
    let file = std::fs::File::open(path).map_err(|e| TrustError::key_file(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TrustError::key_file(path, e))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(TrustError::key_file(
            path,
            format!("larger than {MAX_KEY_FILE} bytes: not a key file"),
        ));
    }
    String::from_utf8(bytes).map_err(|_| TrustError::key_file(path, "not UTF-8 text"))
}

// ---------------------------------------------------------------------------
// Trusted keys

/// The public keys whose signatures a loader accepts. Empty: no policy
/// (every file loads, signed or not, as before signing existed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<PublicKey>,
}

impl TrustedKeys {
    /// Checks every key and drops duplicates.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Result<TrustedKeys, TrustError> {
        let mut out: Vec<PublicKey> = Vec::new();
        for k in keys {
            verifying_key(&k)?;
            if !out.contains(&k) {
                out.push(k);
            }
        }
        Ok(TrustedKeys { keys: out })
    }

    /// The keys of public key files (each one or more `ferrisk-public-key`
    /// lines, as `ferrisk keygen` writes them).
    pub fn from_files(paths: &[impl AsRef<Path>]) -> Result<TrustedKeys, TrustError> {
        let mut keys = Vec::new();
        for p in paths {
            let path = p.as_ref();
            let text = read_small(path)?;
            let parsed =
                sig::parse_public_keys(&text).map_err(|e| TrustError::key_file(path, e))?;
            for k in &parsed {
                verifying_key(k).map_err(|e| TrustError::key_file(path, e))?;
            }
            keys.extend(parsed);
        }
        TrustedKeys::new(keys)
    }

    /// [`TrustedKeys::from_files`] of `paths`, or, when there are none, of
    /// the files [`ENV`] names (none: no keys).
    pub fn from_files_or_env(paths: &[PathBuf]) -> Result<TrustedKeys, TrustError> {
        if !paths.is_empty() {
            return TrustedKeys::from_files(paths);
        }
        let Some(list) = std::env::var_os(ENV) else {
            return Ok(TrustedKeys::default());
        };
        let paths: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        TrustedKeys::from_files(&paths)
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids, comma-separated.
    pub fn ids(&self) -> String {
        let ids: Vec<String> = self.keys.iter().map(|k| k.id.to_string()).collect();
        ids.join(", ")
    }
}

// ---------------------------------------------------------------------------
// Secret keys

/// An Ed25519 signing key. Its bytes are wiped when dropped; `Debug` shows
/// only the key id.
pub struct SecretKey {
    key: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.public().id)
    }
}

impl SecretKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<SecretKey, TrustError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| TrustError::Random(e.to_string()))?;
        Ok(SecretKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::new(self.key.verifying_key().to_bytes())
    }

    /// The secret key file's text: a comment, then
    /// `ferrisk-secret-key <key id> <64 hex digits of the seed>`.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(hex(self.key.as_bytes()));
        Zeroizing::new(format!(
            "# ferrisk secret signing key (Ed25519). Keep it private; share the .pub file.\n{} {} {}\n",
            sig::SECRET_KEY_WORD,
            self.public().id,
            seed.as_str()
        ))
    }

    /// Parses [`SecretKey::to_text`]; the key id must match.
    pub fn parse(text: &str) -> Result<SecretKey, SignatureError> {
        let bad = |m: &str| SignatureError::BadKey(m.to_string());
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| bad("no secret key in it"))?;
        let words: Vec<&str> = line.split_ascii_whitespace().take(4).collect();
        let [word, id, seed] = words.as_slice() else {
            return Err(bad(
                "not a secret key: expected 'ferrisk-secret-key <key id> <64 hex digits>'",
            ));
        };
        if *word == sig::PUBLIC_KEY_WORD {
            return Err(bad(
                "this is a public key; signing needs the secret key file `ferrisk keygen` wrote",
            ));
        }
        if *word != sig::SECRET_KEY_WORD {
            return Err(bad(
                "not a secret key: expected 'ferrisk-secret-key <key id> <64 hex digits>'",
            ));
        }
        let seed = Zeroizing::new(
            from_hex::<32>(seed).ok_or_else(|| bad("the secret key is not 64 hex digits"))?,
        );
        let key = SecretKey {
            key: SigningKey::from_bytes(&seed),
        };
        if !id.eq_ignore_ascii_case(&key.public().id.to_string()) {
            return Err(bad(
                "the key id does not match the secret key: the key file is damaged",
            ));
        }
        Ok(key)
    }

    pub fn read(path: &Path) -> Result<SecretKey, TrustError> {
        let text = Zeroizing::new(read_small(path)?);
        SecretKey::parse(&text).map_err(|e| TrustError::key_file(path, e))
    }

    /// Writes the secret key (owner-only permissions on Unix) and its
    /// public key file. Neither file may exist: keys are never overwritten.
    pub fn write(&self, secret: &Path, public: &Path) -> Result<(), TrustError> {
        if secret == public {
            return Err(TrustError::key_file(
                public,
                "the public key file must differ from the secret key file",
            ));
        }
        for p in [secret, public] {
            if p.exists() {
                return Err(TrustError::key_file(
                    p,
                    "already exists; refusing to overwrite a key",
                ));
            }
        }
        write_new(secret, self.to_text().as_bytes(), true)?;
        let text = format!(
            "# ferrisk public key (Ed25519): give it to every loader with --trusted-key\n{}\n",
            self.public().to_line()
        );
        write_new(public, text.as_bytes(), false)
    }

    fn sign_message(&self, message: &[u8]) -> [u8; sig::SIGNATURE_LEN] {
        self.key.sign(message).to_bytes()
    }
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), TrustError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options
        .open(path)
        .map_err(|e| TrustError::key_file(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| TrustError::key_file(path, e))
}

// ---------------------------------------------------------------------------
// Signing and verifying

/// A freshly signed file.
#[derive(Debug, Clone)]
pub struct Signed {
    pub bytes: Vec<u8>,
    /// The key id of the signature this one replaced, if the input was signed.
    pub replaced: Option<KeyId>,
}

/// Signs a model file (replacing an existing signature): the output is the
/// model bytes unchanged plus a signature block over them, the key id, the
/// note and the expiry (last valid day, see [`parse_date`]). The model must
/// load.
pub fn sign(
    bytes: &[u8],
    key: &SecretKey,
    note: &str,
    expires: Option<u32>,
) -> Result<Signed, TrustError> {
    let (model, old) = sig::split(bytes)?;
    ferrisk::format::decode(model)?;
    let mut block = SignatureBlock::new(key.public().id, note, expires)?;
    block.set_signature(key.sign_message(&sig::message(model, &block)));
    Ok(Signed {
        bytes: sig::attach(model, &block)?,
        replaced: old.map(|b| b.key_id()),
    })
}

/// Verifies a file against trusted keys at time `now`: refuses an unsigned
/// file, a key that is not trusted, a signature that does not verify (the
/// model, note or expiry changed, or another key signed), and an expired
/// approval, each with its own [`SignatureError`].
pub fn verify<'a>(
    bytes: &'a [u8],
    keys: &TrustedKeys,
    now: SystemTime,
) -> Result<Verified<'a>, TrustError> {
    let pending = sig::prepare(bytes, keys.keys())?;
    let signature = Signature::from_bytes(pending.block.signature());
    let valid = verifying_key(&pending.key)
        .map(|k| k.verify_strict(&pending.message, &signature).is_ok())
        .unwrap_or(false);
    Ok(pending.accept(valid, today(now))?)
}

/// What a loader does: with no trusted keys, accepts every file (`None`);
/// otherwise [`verify`].
pub fn check<'a>(
    bytes: &'a [u8],
    keys: &TrustedKeys,
    now: SystemTime,
) -> Result<Option<Verified<'a>>, TrustError> {
    if keys.is_empty() {
        return Ok(None);
    }
    verify(bytes, keys, now).map(Some)
}
