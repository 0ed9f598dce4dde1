//! The primitives of evloop's cross-thread protocols: std's in every normal
//! build, loom's when the crate is built with `--cfg evloop_loom`.
//!
//! loom runs a small program (a *model*) under every interleaving of its
//! threads and every value the memory model lets each load return, and
//! checks each run for data races, deadlocks and leaks. It can only do that
//! through its own atomics, locks and cells, which record every access. So
//! that the models check the real code and not a copy of it, the protocols
//! name their primitives through this module:
//!
//! * the task cell (`raw.rs`, `state.rs`, `join.rs`, `vtable.rs`): the
//!   reference count, the state word, the join waker and its flag, the
//!   stage that holds the future and then the result;
//! * the runtime's remote queue and park flag (`runtime/shared.rs`);
//! * the offload pools' job slot (`offload/mod.rs`).
//!
//! In a normal build every name here is the std item itself, re-exported, so
//! the shim costs nothing. The one exception is [`UnsafeCell`], a newtype
//! whose only method, `with_mut`, hands out the raw pointer: loom's cell has
//! that method too and records the access, so a model catches a write to the
//! stage that is not ordered after the other thread's access.
//!
//! Left as std on purpose: counters that no protocol reads across threads
//! (the task id and owner id counters, the loop-only `owned_index`), and the
//! pools' crossbeam channel, which loom cannot see inside (the offload models
//! hand a job to a thread themselves).
//!
//! This file imports nothing of evloop, so `task` stays the bottom floor;
//! the runtime and the offload pools reach it as `crate::task::sync_prims`.
//! The models are in `task/loom_tests.rs`, `runtime/shared.rs` and
//! `offload/mod.rs`; `.ci/loom` runs them.

#[cfg(evloop_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, fence};
#[cfg(evloop_loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(evloop_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, fence};
#[cfg(not(evloop_loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

/// A cell whose contents are reached through a raw pointer, for the task's
/// stage. loom's cell checks that no two threads reach it without a
/// happens-before edge between them; std's compiles to `get()`.
#[cfg(evloop_loom)]
pub(crate) use loom::cell::UnsafeCell;

/// A cell whose contents are reached through a raw pointer, for the task's
/// stage (see the module docs: under loom this is loom's checked cell).
#[cfg(not(evloop_loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(evloop_loom))]
impl<T> UnsafeCell<T> {
    /// A cell holding `value`.
    pub(crate) fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the contents. Using the pointer is up to
    /// the caller: reading or writing through it needs the same guarantees
    /// as `std::cell::UnsafeCell::get`'s pointer.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Checks `f` under loom, as `loom::model` does (its bounds come from the
/// `LOOM_*` variables, which `.ci/loom` sets), and prints how many
/// executions it explored and how long that took.
#[cfg(all(evloop_loom, test))]
pub(crate) fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::Ordering::Relaxed;

    /// Prints the count when the check ends, passed or failed.
    struct Report<'a> {
        name: &'a str,
        runs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        started: std::time::Instant,
    }

    impl Drop for Report<'_> {
        fn drop(&mut self) {
            let verdict = if std::thread::panicking() {
                "FAILED at execution"
            } else {
                "passed,"
            };
            eprintln!(
                "loom model {}: {verdict} {} executions in {:.1?}",
                self.name,
                self.runs.load(Relaxed),
                self.started.elapsed()
            );
        }
    }

    let report = Report {
        name,
        runs: Default::default(),
        started: std::time::Instant::now(),
    };
    let counted = report.runs.clone();
    loom::model(move || {
        counted.fetch_add(1, Relaxed);
        f();
    });
}
