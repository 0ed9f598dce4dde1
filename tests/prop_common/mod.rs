//! Shared by the property tests (`tests/*_properties.rs`): one proptest
//! configuration, and byte mutations for turning valid inputs into nearly
//! valid ones.
//!
//! **Deterministic.** Every property runs a fixed number of cases from a fixed
//! seed, so `cargo test` (and CI) checks the same inputs every time and
//! stays quick. For a longer local hunt, proptest's own variables override
//! both: `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=7 cargo test --release
//! --test http_properties`.
//!
//! **Regressions.** A failing case is shrunk and its seed appended to
//! `tests/proptest-regressions/<test file>.txt` (the path is absolute, from
//! `CARGO_MANIFEST_DIR`, so it does not depend on the working directory).
//! Those files are committed: every later run replays their cases first,
//! before the generated ones.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// The seed of every property run unless `PROPTEST_RNG_SEED` says otherwise.
pub const SEED: u64 = 0x6576_6c6f_6f70; // "evloop"

/// The configuration for a property: `cases` cases (unless `PROPTEST_CASES`
/// is set), the fixed [`SEED`] (unless `PROPTEST_RNG_SEED` is set), failures
/// kept in `regressions` (an absolute path, see the module docs).
pub fn config(cases: u32, regressions: &'static str) -> Config {
    // `Config::default()` reads proptest's environment variables.
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            from_env.rng_seed
        } else {
            RngSeed::Fixed(SEED)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..from_env
    }
}

/// One change to a byte string. Positions are [`Index`]es, scaled to the
/// string's length when applied, so they shrink well and always hit.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Replace the byte at a position.
    Set(Index, u8),
    /// Insert a byte before a position.
    Insert(Index, u8),
    /// Remove the byte at a position.
    Remove(Index),
    /// Cut the string at a position.
    Truncate(Index),
    /// Copy the bytes between two positions to the end.
    Repeat(Index, Index),
}

/// A byte: mostly one that matters to HTTP framing, sometimes any.
pub fn interesting_byte() -> impl Strategy<Value = u8> {
    const INTERESTING: &[u8] = b"\r\n\r\n \t:;,=\"0123456789aAfFgG/.-+xX\x00\x7f\x80\xff";
    prop_oneof![
        3 => prop::sample::select(INTERESTING),
        1 => any::<u8>(),
    ]
}

/// Up to `max` edits.
pub fn edits(max: usize) -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<Index>().prop_map(Edit::Remove),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Repeat(a, b)),
    ];
    prop::collection::vec(edit, 0..=max)
}

/// `bytes` with `edits` applied in order.
pub fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for edit in edits {
        let len = out.len();
        match edit {
            Edit::Set(i, b) if len > 0 => out[i.index(len)] = *b,
            Edit::Insert(i, b) => out.insert(i.index(len + 1), *b),
            Edit::Remove(i) if len > 0 => {
                out.remove(i.index(len));
            }
            Edit::Truncate(i) => out.truncate(i.index(len + 1)),
            Edit::Repeat(a, b) if len > 0 => {
                let (a, b) = (a.index(len), b.index(len));
                let piece = out[a.min(b)..=a.max(b)].to_vec();
                out.extend(piece);
            }
            _ => {}
        }
    }
    out
}

/// Cut points for splitting a string of length `len` into pieces: sorted,
/// each in `0..=len`, duplicates allowed (empty pieces).
pub fn cuts(len: usize, cuts: &[Index]) -> Vec<usize> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
    at.sort_unstable();
    at
}

/// `bytes` split at `cuts` (as made by [`cuts`]).
pub fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        out.push(&bytes[start..cut]);
        start = cut;
    }
    out.push(&bytes[start..]);
    out
}
