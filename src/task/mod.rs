//! Tasks: the unit the loop schedules.
//!
//! What a caller of [`spawn`](crate::spawn()) gets is here: a [`JoinHandle`] to
//! await the task's result or [`abort`](JoinHandle::abort) it, an
//! [`AbortHandle`] to cancel it from anywhere, a [`JoinError`] saying why a
//! task gave no output, the task's [`Id`], and [`Builder`] to spawn a task
//! with a name.
//!
//! Inside, this module is the bottom floor of the crate: it uses nothing else
//! of evloop, and all of evloop's `unsafe` code lives here, in these files:
//!
//! * `raw.rs`: one allocation per task, a header (state flags, reference
//!   count, a vtable, the task's id, name and spawn location) followed by the
//!   future, later its result; and `RawTask`, a counted reference to it,
//!   whose construction is `unsafe` and whose methods are then safe;
//! * `vtable.rs`: the functions that know the future's concrete type: poll,
//!   cancel, complete, hand out the result, free;
//! * `state.rs`: the state machine, written down as a table;
//! * `waker.rs`: the hand-written `RawWaker` vtable over a task reference;
//! * `join.rs`: `JoinHandle`, `AbortHandle` and `JoinError`;
//! * `owned.rs`: `Task`, a reference as it sits in a run queue, and
//!   `OwnedTasks`, the loop's list of live tasks, the only thing that can
//!   poll one.

// Private: the rest of the crate sees only what is re-exported below, so the
// reasoning about `unsafe` here never depends on code outside this module.
mod join;
mod owned;
mod raw;
mod state;
mod vtable;
mod waker;

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
