//! Reproducible model files. Training is deterministic for given data,
//! flags and seed, whatever the number of threads; the only wall-clock
//! values a file holds are its creation time (`created_unix`) and the fit
//! time (`fit_seconds`). With `SOURCE_DATE_EPOCH` set (the
//! reproducible-builds convention, seconds since 1970-01-01 UTC), the file
//! records that time as its creation time and a fit time of 0, so two runs
//! give byte-identical files.

use ferrisk::Bundle;

/// The environment variable (<https://reproducible-builds.org/specs/source-date-epoch/>).
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{SOURCE_DATE_EPOCH}='{value}' is not a time in whole seconds since 1970 (a non-negative integer)")]
pub struct EpochError {
    pub value: String,
}

/// Parses a `SOURCE_DATE_EPOCH` value; empty means unset.
pub fn parse_epoch(value: &str) -> Result<Option<u64>, EpochError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<u64>().map(Some).map_err(|_| EpochError {
        value: value.to_string(),
    })
}

/// `SOURCE_DATE_EPOCH` from the environment, if set.
pub fn source_date_epoch() -> Result<Option<u64>, EpochError> {
    match std::env::var_os(SOURCE_DATE_EPOCH) {
        None => Ok(None),
        Some(v) => parse_epoch(&v.to_string_lossy()),
    }
}

/// Replaces a trained bundle's wall-clock values: created at `epoch`,
/// fitted in 0 s.
pub fn stamp(bundle: &mut Bundle, epoch: u64) {
    bundle.metadata.created_unix = epoch;
    if let Some(r) = bundle.report.as_mut() {
        r.fit_seconds = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_values() {
        assert_eq!(parse_epoch("1700000000"), Ok(Some(1_700_000_000)));
        assert_eq!(parse_epoch(" "), Ok(None));
        for bad in ["-1", "1.5", "yesterday"] {
            let e = parse_epoch(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("SOURCE_DATE_EPOCH='{bad}'")), "{e}");
        }
    }
}
