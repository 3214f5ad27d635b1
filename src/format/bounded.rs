//! Decoding with a memory budget. A postcard body is dense: an empty string
//! or an empty vector costs one byte in the file but 24 in memory, so a
//! hostile file of 64 MB of empty notes used to decode into 1.5 GB. Every
//! vector is therefore charged before it is allocated: by the runtime's
//! reader (`format::wire`, through `charge`) and, where serde decodes
//! (a kind's default `Kind::decode`, the tests' reference), by [`vec()`] (or
//! [`nested`]), which charges its elements' in-memory size to a per-thread
//! budget *before* allocating, preallocates exactly (no growth slack), and
//! fails the decode when the budget is spent. `format::decode` sets the
//! budget from the body's length ([`budget_for`]), so decoding memory is
//! bounded by a small constant times the file size.

use std::cell::Cell;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};

thread_local! {
    /// Bytes the current decode may still allocate; `None` outside a decode
    /// (encoding round trips in tests, tools).
    static LEFT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Memory a decode of a body of `len` bytes may allocate for vectors.
pub fn budget_for(len: usize) -> u64 {
    2 * len as u64 + 4 * 1024 * 1024
}

/// Runs `f` with a decoding budget of `bytes`.
pub(crate) fn with_budget<T>(bytes: u64, f: impl FnOnce() -> T) -> T {
    let before = LEFT.with(|l| l.replace(Some(bytes)));
    let out = f();
    LEFT.with(|l| l.set(before));
    out
}

pub(crate) fn charge(bytes: u64) -> bool {
    LEFT.with(|l| match l.get() {
        None => true,
        Some(left) if bytes <= left => {
            l.set(Some(left - bytes));
            true
        }
        Some(_) => false,
    })
}

pub(crate) const TOO_BIG: &str = "a list needs more memory than a file of this size may use";

/// A vector read under the budget.
pub struct Bounded<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Bounded<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Bounded<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bounded<T>, A::Error> {
                let each = std::mem::size_of::<T>().max(1) as u64;
                let hint = seq.size_hint().unwrap_or(0);
                if !charge(each.saturating_mul(hint as u64)) {
                    return Err(A::Error::custom(TOO_BIG));
                }
                let mut out = Vec::with_capacity(hint);
                while let Some(x) = seq.next_element()? {
                    if out.len() >= hint && !charge(each) {
                        return Err(A::Error::custom(TOO_BIG));
                    }
                    out.push(x);
                }
                Ok(Bounded(out))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// `#[serde(deserialize_with = "bounded::vec")]` for a `Vec<T>` field.
pub fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Bounded::<T>::deserialize(d)?.0)
}

/// `#[serde(deserialize_with = "bounded::nested")]` for a `Vec<Vec<T>>` field.
pub fn nested<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<Vec<T>>, D::Error> {
    Ok(Bounded::<Bounded<T>>::deserialize(d)?
        .0
        .into_iter()
        .map(|b| b.0)
        .collect())
}

/// `#[serde(deserialize_with = "bounded::opt_vec")]` for an `Option<Vec<T>>` field.
pub fn opt_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Ok(Option::<Bounded<T>>::deserialize(d)?.map(|b| b.0))
}
