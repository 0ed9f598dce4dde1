//! Tasks: the unit the loop schedules.
//!
//! A task is one heap allocation holding a header (state flags, reference
//! count, a vtable, its id, name and spawn location) and the future, later its
//! result ([`raw`]). The state machine is a table in [`state`]; wakers are a
//! hand-written `RawWaker` vtable over the header ([`waker`]);
//! [`JoinHandle`] and [`JoinError`] are the awaitable end ([`join`]); and
//! [`OwnedTasks`](owned::OwnedTasks) is the loop's list of live tasks, the
//! only thing that can poll one ([`owned`]).
//!
//! This module is the bottom of the crate: it uses nothing else of evloop.
//! All of evloop's `unsafe` code lives here.

pub(crate) mod join;
pub(crate) mod owned;
pub(crate) mod raw;
pub(crate) mod state;
pub(crate) mod waker;

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

pub use join::{AbortHandle, JoinError, JoinHandle};
pub(crate) use owned::{OwnedTasks, Ran, Task};

pub use crate::runtime::spawn::Builder;

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// It returned its output.
    Output,
    /// It panicked (in poll, or in its future's drop).
    Panic,
    /// It was aborted or cancelled at shutdown.
    Cancelled,
}

/// How a runtime receives tasks that were woken.
///
/// `schedule` may be called from any thread (a waker fired there); the
/// implementation decides between the loop's local queue and its remote one.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queue the task to be polled.
    fn schedule(&self, task: Task);
}

/// A task's id: unique among all tasks of the process, never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Id(NonZeroU64);

impl Id {
    fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("the task id counter does not wrap in 2^64 spawns"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)
    }
}
