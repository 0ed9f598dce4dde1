//! What a signal does while nobody listens: the process-wide half of
//! `evloop::signal`.
//!
//! A signal's handler is process-wide, while listeners belong to runtimes.
//! This file counts, per signal, the runtimes that listen to it right now
//! (each runtime's driver holds one [`Claim`] per signal while it has at
//! least one listener) and keeps the promise of the module docs: while no
//! runtime listens, the signal does what it did before evloop first
//! listened to it.
//!
//! How, without `unsafe` here: the first time any runtime listens to a
//! signal, this file asks what the signal did until then. If it had its
//! default action, it registers signal-hook's *conditional default*: an
//! action that runs the signal's default (for `SIGINT`, `SIGTERM`: end the
//! process, killed by that signal) whenever a shared flag says nobody
//! listens. The flag goes up when the last claim is released and down when
//! a new one is taken. If the signal was ignored or already had a handler
//! (someone else's, which signal-hook keeps calling), nothing is
//! registered: with nobody listening, the signal is ignored, or goes to
//! that handler, as before.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use super::SignalKind;

/// One signal's process-wide state.
struct PerSignal {
    /// How many runtimes listen to it now.
    listening: usize,
    /// Read by the conditional-default action inside the signal handler:
    /// `true` runs the default action.
    nobody_listens: Arc<AtomicBool>,
}

static SIGNALS: Mutex<BTreeMap<i32, PerSignal>> = Mutex::new(BTreeMap::new());

/// What a signal did before evloop listened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    /// Its default action (end the process, or ignore for `SIGCHLD` and
    /// `SIGWINCH`, ...).
    Default,
    /// Ignored (`SIG_IGN`: a background job's `SIGINT`, `nohup`'s `SIGHUP`).
    Ignored,
    /// Caught by a handler someone installed before.
    Caught,
}

/// A runtime listens to a signal; released on drop.
#[derive(Debug)]
pub(super) struct Claim(i32);

/// Counts one more runtime listening to `kind`. The first claim ever of a
/// signal arms its conditional default (see the file's docs).
///
/// # Errors
///
/// If signal-hook cannot install its handler (`sigaction` failed).
pub(super) fn claim(kind: SignalKind) -> io::Result<Claim> {
    let signum = kind.as_raw();
    let mut signals = SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let state = match signals.entry(signum) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(first) => {
            let nobody_listens = Arc::new(AtomicBool::new(false));
            // A signal without a name (a real-time one) has no entry in
            // signal-hook's table of default actions: such a signal is
            // dropped while nobody listens, as the module docs say.
            if before_evloop(signum) == Before::Default && kind.name().is_some() {
                signal_hook::flag::register_conditional_default(signum, nobody_listens.clone())
                    .map_err(|e| with_name(e, kind))?;
            }
            first.insert(PerSignal {
                listening: 0,
                nobody_listens,
            })
        }
    };
    state.listening += 1;
    state.nobody_listens.store(false, SeqCst);
    Ok(Claim(signum))
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut signals = SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = signals.get_mut(&self.0) {
            state.listening -= 1;
            if state.listening == 0 {
                state.nobody_listens.store(true, SeqCst);
            }
        }
    }
}

/// How many runtimes listen to `kind` right now.
pub(super) fn listening(kind: SignalKind) -> usize {
    let signals = SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    signals.get(&kind.as_raw()).map_or(0, |s| s.listening)
}

fn with_name(e: io::Error, kind: SignalKind) -> io::Error {
    io::Error::new(e.kind(), format!("evloop: cannot handle {kind}: {e}"))
}

/// What `signum` did before evloop touched it. Linux says so in
/// `/proc/self/status` (the `SigIgn` and `SigCgt` masks); elsewhere evloop
/// cannot ask without `unsafe` code (`sigaction` with no new action) and
/// assumes the default, which is what a program has unless it changed it.
fn before_evloop(signum: i32) -> Before {
    #[cfg(target_os = "linux")]
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        return before_from_status(&status, signum);
    }
    let _ = signum;
    Before::Default
}

/// Reads `signum`'s bit from the `SigIgn` and `SigCgt` lines of a
/// `/proc/<pid>/status` text (hexadecimal masks, bit `n - 1` for signal
/// `n`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn before_from_status(status: &str, signum: i32) -> Before {
    let has_bit = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| (1..=64).contains(&signum) && mask & (1 << (signum - 1)) != 0)
    };
    if has_bit("SigIgn:") {
        Before::Ignored
    } else if has_bit("SigCgt:") {
        Before::Caught
    } else {
        Before::Default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_masks_are_read_bit_by_bit() {
        // SIGHUP (1) ignored, SIGINT (2) caught, SIGUSR1 (10) neither.
        let status = "Name:\tx\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000001\nSigCgt:\t0000000000000002\n";
        assert_eq!(before_from_status(status, 1), Before::Ignored);
        assert_eq!(before_from_status(status, 2), Before::Caught);
        assert_eq!(before_from_status(status, 10), Before::Default);
        assert_eq!(before_from_status("", 10), Before::Default);
    }
}
