//! Rewrites a model file whose forest is in the `trees` kind into the
//! compact `forest` kind when that reproduces it exactly (same scores and
//! explanations, bit for bit); everything else in the file is kept.
//!
//!   cargo run --release --example repack_forest -- IN.frk OUT.frk
//!
//! tests/golden/rf.frk is tests/golden/v3-trees/rf.frk repacked this way
//! (so tests/golden/expected-rf.csv is the same file as the frozen one's).
use ferrisk::kinds::{Forest, Model};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [from, to] = args.as_slice() else {
        return Err("usage: repack_forest IN.frk OUT.frk".into());
    };
    let bytes = std::fs::read(from).map_err(|e| format!("{from}: {e}"))?;
    let mut b = ferrisk::format::decode(&bytes).map_err(|e| format!("{from}: {e}"))?;
    let Model::Trees(e) = &b.model else {
        return Err(format!("{from}: not a trees model"));
    };
    let f = Forest::pack(e).ok_or(format!("{from}: not a count forest"))?;
    b.model = Model::from(f);
    let out = ferrisk::format::encode(&b).map_err(|e| e.to_string())?;
    std::fs::write(to, out).map_err(|e| format!("{to}: {e}"))?;
    Ok(())
}
