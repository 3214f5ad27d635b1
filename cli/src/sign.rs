//! `ferrisk keygen`, `ferrisk sign` and `ferrisk verify`: Ed25519 approval
//! signatures on model files (`ferrisk_trust`), and `--trusted-key`, which
//! the verbs that load a model flatten into their arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::signature::{self, format_date, SignatureInfo};
use ferrisk::Scorer;
use ferrisk_trust::{parse_date, today, SecretKey, TrustedKeys};

use crate::common::write_atomic;

/// `--trusted-key`, shared by every verb that loads a model.
#[derive(Args, Debug, Clone, Default)]
pub struct TrustArgs {
    /// Load only model files signed by a key of this public key file (from
    /// `ferrisk keygen`); refuse unsigned, expired and foreign files.
    /// Repeatable. Default: the files FERRISK_TRUSTED_KEYS lists (separated
    /// like PATH); neither: every file loads.
    #[arg(long = "trusted-key", value_name = "FILE")]
    pub trusted_keys: Vec<PathBuf>,
}

impl TrustArgs {
    fn keys(&self) -> Result<TrustedKeys> {
        Ok(TrustedKeys::from_files_or_env(&self.trusted_keys)?)
    }
}

fn read_model(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read model file", path.display()))
}

/// Reads a model file and, when trusted keys are configured, verifies its
/// signature before loading it (the same bytes: read once).
pub fn load_model(path: &Path, trust: &TrustArgs) -> Result<Scorer> {
    let keys = trust.keys()?;
    let bytes = read_model(path)?;
    ferrisk_trust::check(&bytes, &keys, SystemTime::now())
        .with_context(|| format!("{}", path.display()))?;
    Scorer::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

/// The signature of a model file for `inspect --json` (verified when
/// trusted keys are configured: `load_model` checked it).
pub fn info(path: &Path, trust: &TrustArgs) -> Option<SignatureInfo> {
    let bytes = std::fs::read(path).ok()?;
    let (_, block) = signature::split(&bytes).ok()?;
    let verified = trust.keys().is_ok_and(|k| !k.is_empty());
    block.map(|b| b.info(verified))
}

/// The signature of a model file for `inspect`, one line.
pub fn describe(path: &Path, trust: &TrustArgs) -> String {
    match info(path, trust) {
        None => "none (unsigned file)".to_string(),
        Some(i) => format!(
            "key {}, note \"{}\", {}; {}",
            i.key_id,
            i.note,
            i.expires.map_or("no expiry".to_string(), |d| format!(
                "valid through {d} (UTC)"
            )),
            if i.verified {
                "verified against a trusted key"
            } else {
                "not verified (no --trusted-key)"
            }
        ),
    }
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Secret key file to write (never overwritten; owner-only permissions).
    #[arg(long, value_name = "FILE.key")]
    pub out: PathBuf,
    /// Public key file to write; default: --out with the extension .pub.
    #[arg(long = "public", value_name = "FILE.pub")]
    pub public: Option<PathBuf>,
}

pub fn keygen(a: KeygenArgs) -> Result<ExitCode> {
    let public = a.public.unwrap_or_else(|| a.out.with_extension("pub"));
    let key = SecretKey::generate()?;
    key.write(&a.out, &public)?;
    let p = key.public();
    eprintln!(
        "wrote the secret key {} (keep it private) and the public key {}; key id {}",
        a.out.display(),
        public.display(),
        p.id
    );
    outln!("{}", p.to_line());
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct SignArgs {
    /// Secret key file (from `ferrisk keygen`).
    #[arg(long, value_name = "FILE.key")]
    pub key: PathBuf,
    /// Model file to sign (an existing signature is replaced).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// Approval note stored in the signature, e.g. "approved by model risk,
    /// ticket 123" (at most 1024 bytes, no control characters).
    #[arg(long)]
    pub note: String,
    /// Last day (UTC) the approval is valid, YYYY-MM-DD; default: no expiry.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expires: Option<String>,
    /// Signed file to write; default: the model file itself.
    #[arg(long, value_name = "FILE.frk")]
    pub out: Option<PathBuf>,
}

pub fn sign(a: SignArgs) -> Result<ExitCode> {
    let expires = a
        .expires
        .as_deref()
        .map(parse_date)
        .transpose()
        .context("--expires")?;
    let key = SecretKey::read(&a.key)?;
    let bytes = read_model(&a.model)?;
    let signed = ferrisk_trust::sign(&bytes, &key, &a.note, expires)
        .with_context(|| format!("{}", a.model.display()))?;
    let out = a.out.unwrap_or_else(|| a.model.clone());
    write_atomic(&out, &signed.bytes)?;
    if let Some(old) = signed.replaced {
        eprintln!("note: replaced the signature by key {old}");
    }
    if let Some(day) = expires {
        if day < today(SystemTime::now()) {
            eprintln!(
                "warning: the expiry {} is in the past: verifiers refuse this file",
                format_date(day)
            );
        }
    }
    outln!(
        "signed {} with key {}: note \"{}\", {}",
        out.display(),
        key.public().id,
        a.note,
        expires.map_or("no expiry".to_string(), |d| format!(
            "valid through {}",
            format_date(d)
        ))
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Model files to verify.
    #[arg(required = true, value_name = "FILE.frk")]
    pub models: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Exit 0 when every file verifies and loads, 1 when one does not.
pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let keys = a.trust.keys()?;
    if keys.is_empty() {
        bail!(
            "no trusted key: give --trusted-key FILE (a public key from `ferrisk keygen`) or set {}",
            ferrisk_trust::ENV
        );
    }
    let now = SystemTime::now();
    let mut refused = 0;
    for path in &a.models {
        let result = read_model(path).and_then(|bytes| {
            let v = ferrisk_trust::verify(&bytes, &keys, now)?;
            Scorer::from_bytes(v.model)?;
            Ok(v.block.info(true))
        });
        match result {
            Ok(i) => outln!(
                "{}: OK: signed by trusted key {}; note \"{}\"; {}",
                path.display(),
                i.key_id,
                i.note,
                i.expires
                    .map_or("no expiry".to_string(), |d| format!("valid through {d}"))
            ),
            Err(e) => {
                refused += 1;
                eprintln!("{}: REFUSED: {e:#}", path.display());
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
