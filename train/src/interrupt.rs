//! A training stop requested from outside (the CLI sets it on Ctrl-C).
//! Trainers that can stop early with a usable model (attention) check it
//! between batches and finish with the best state so far; the others
//! ignore it.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks running and later fits to stop early.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
