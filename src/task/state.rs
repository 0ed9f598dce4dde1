//! The task state machine: one atomic word of flags, and the transitions on it.
//!
//! Every task carries a [`State`]. The loop thread and any number of wakers on
//! other threads race on it, so every change is a compare-and-swap loop that
//! returns a `#[must_use]` enum saying what the caller must do next. The flags:
//!
//! | flag | meaning |
//! | --- | --- |
//! | `SCHEDULED` | the task is in a run queue, or will be put back in one when its running poll ends |
//! | `RUNNING` | the loop thread is inside the task's poll (or cancelling it) right now |
//! | `COMPLETE` | the future is gone; the result (output, panic or cancellation) is stored |
//! | `CANCELLED` | `abort()` was called; the next time the loop touches the task it drops the future |
//! | `HANDLE` | the `JoinHandle` is alive and owns the right to read the result |
//!
//! ## The table
//!
//! Rows are states (flags not shown are clear; `HANDLE` is orthogonal and only
//! matters for completion and handle drop). Columns are events; cells are the
//! state after the event (after the runner's follow-up, where the event
//! makes it drop the future) and the side effect. `-` marks an event that
//! cannot happen in that state. The `tests` module at the bottom of this file
//! walks the same table, one entry per cell.
//!
//! | state | poll starts | poll returns Ready | poll returns Pending | wake during poll | wake while idle | abort | handle dropped | runtime shutdown |
//! | --- | --- | --- | --- | --- | --- | --- | --- | --- |
//! | Idle | - | - | - | - | Scheduled; push to queue | Scheduled+Cancelled; push to queue | clear HANDLE (detach) | Complete+Cancelled; drop future, store `Cancelled` |
//! | Scheduled | Running | - | - | - | no-op (already queued) | Scheduled+Cancelled | clear HANDLE | Complete+Cancelled; drop future, store `Cancelled` (the queue entry is now stale) |
//! | Running | refused (a panic: one runner at a time) | Complete; drop future, store output, wake the handle's waker | Idle | Running+Scheduled | - | Running+Cancelled | clear HANDLE | refused (shutdown never runs inside a poll) |
//! | Running+Scheduled | refused | Complete (the schedule is void) | Scheduled; queued again after the poll (the loop holds self-wakes until the end of the tick, like a yield; a task is queued at most once) | no-op | - | Running+Scheduled+Cancelled | clear HANDLE | refused |
//! | Running+Cancelled | refused | Complete+Cancelled; output stored (the abort came too late) | Complete+Cancelled; drop future, store `Cancelled` | Running+Scheduled+Cancelled (nothing queued) | - | no-op | clear HANDLE | refused |
//! | Running+Scheduled+Cancelled | refused | Complete+Cancelled; output stored | Complete+Cancelled; drop future, store `Cancelled` (not queued again) | no-op | - | no-op | clear HANDLE | refused |
//! | Scheduled+Cancelled | Complete+Cancelled; drop future, store `Cancelled` | - | - | - | no-op | no-op | clear HANDLE | Complete+Cancelled; drop future, store `Cancelled` |
//! | Complete | stale queue entry: drop it | - | - | - | no-op | no-op | clear HANDLE; the handle drops the stored result | no-op |
//!
//! `RUNNING` is the lock on the future: only the runner that set it may touch
//! the future, and starting a run (or a shutdown) while it is set is refused
//! with a panic rather than let two runners reach the same future.
//!
//! A wake that changes no flag (the task is already scheduled) still writes
//! the word back unchanged, so that what the waker wrote before waking is
//! visible to the poll that wake was folded into (see
//! [`State::transition_to_notified`]).
//!
//! When a task completes and `HANDLE` is clear, the loop drops the result at
//! once (a panic nobody will observe is reported on stderr). When the handle
//! is dropped after completion, the handle drops the result. The flag word
//! decides which of the two does it, so the result is dropped exactly once.

use std::sync::atomic::Ordering::{AcqRel, Acquire};

use super::sync_prims::AtomicUsize;

const RUNNING: usize = 1 << 0;
const SCHEDULED: usize = 1 << 1;
const COMPLETE: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const HANDLE: usize = 1 << 4;

/// The flag word of one task.
pub(crate) struct State(AtomicUsize);

/// What the runner must do with a task it took from a run queue.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Poll,
    /// The task was aborted: drop the future and store `Cancelled`.
    Cancel,
    /// The task already completed (a stale queue entry): do nothing.
    Stale,
}

/// What the runner must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum TransitionToIdle {
    /// Nobody woke the task: it waits for a waker.
    Idle,
    /// It was woken during its own poll: put it back in the queue.
    Reschedule,
    /// It was aborted during its own poll: drop the future now.
    Cancel,
}

/// Whether a wake must hand the task to the scheduler.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum TransitionToNotified {
    /// The task was idle: the waker must push it to a run queue.
    Submit,
    /// Already queued, running (it will be re-queued after the poll) or complete.
    DoNothing,
}

/// The outcome of completing a task.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum TransitionToComplete {
    /// The join handle is alive: it owns the result; wake its waker.
    HandleOwnsResult,
    /// The handle was dropped (detached): the runner drops the result now.
    RunnerDropsResult,
}

/// The outcome of dropping a join handle.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum HandleDropped {
    /// The task completed earlier: the handle drops the stored result.
    HandleDropsResult,
    /// The task is not complete: it will drop its result itself.
    Detached,
}

impl State {
    /// A new task: queued at once, with a live join handle.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(SCHEDULED | HANDLE))
    }

    /// Reads the flags (for tests and debugging).
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Whether the result is stored.
    pub(crate) fn is_complete(&self) -> bool {
        self.0.load(Acquire) & COMPLETE != 0
    }

    fn update<T>(&self, mut f: impl FnMut(usize) -> (Option<usize>, T)) -> T {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, out) = f(current);
            let Some(next) = next else { return out };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return out,
                Err(actual) => current = actual,
            }
        }
    }

    /// The runner took the task from a queue and is about to poll it.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.update(|s| {
            if s & COMPLETE != 0 {
                return (None, TransitionToRunning::Stale);
            }
            assert!(s & RUNNING == 0, "a task is polled by one runner at a time");
            let next = (s & !SCHEDULED) | RUNNING;
            if s & CANCELLED != 0 {
                (Some(next), TransitionToRunning::Cancel)
            } else {
                (Some(next), TransitionToRunning::Poll)
            }
        })
    }

    /// Runtime shutdown: take the task for cancellation unless it is complete.
    /// Returns `Cancel` or `Stale`.
    pub(crate) fn transition_to_shutdown(&self) -> TransitionToRunning {
        self.update(|s| {
            if s & COMPLETE != 0 {
                return (None, TransitionToRunning::Stale);
            }
            assert!(s & RUNNING == 0, "shutdown never runs inside a poll");
            (
                Some((s & !SCHEDULED) | RUNNING | CANCELLED),
                TransitionToRunning::Cancel,
            )
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.update(|s| {
            debug_assert!(s & RUNNING != 0);
            if s & CANCELLED != 0 {
                // Stay RUNNING: the runner drops the future right away.
                return (None, TransitionToIdle::Cancel);
            }
            let next = s & !RUNNING;
            if s & SCHEDULED != 0 {
                (Some(next), TransitionToIdle::Reschedule)
            } else {
                (Some(next), TransitionToIdle::Idle)
            }
        })
    }

    /// The future is gone and the result is stored. A wake that came during
    /// the last poll is void: `SCHEDULED` is cleared too.
    pub(crate) fn transition_to_complete(&self) -> TransitionToComplete {
        self.update(|s| {
            debug_assert!(s & RUNNING != 0 && s & COMPLETE == 0);
            let next = (s & !(RUNNING | SCHEDULED)) | COMPLETE;
            if s & HANDLE != 0 {
                (Some(next), TransitionToComplete::HandleOwnsResult)
            } else {
                (Some(next), TransitionToComplete::RunnerDropsResult)
            }
        })
    }

    /// A waker fired.
    ///
    /// Every wake of a task that is not complete writes the word, even when
    /// the task is already scheduled and no flag changes: the write (a
    /// release, in the chain of read-modify-writes that the runner's next
    /// `transition_to_running` or `transition_to_idle` reads from) is what
    /// makes whatever the waker stored before waking visible to the poll
    /// that this wake was folded into. A wake that only read the word would
    /// give no such order: a future whose producer does
    /// `flag.store(true, Release); waker.wake()` could be polled by the run
    /// already queued, see no flag, and wait for ever (the loom model
    /// `remote_wake_is_never_lost` finds that interleaving).
    pub(crate) fn transition_to_notified(&self) -> TransitionToNotified {
        self.update(|s| {
            if s & COMPLETE != 0 {
                (None, TransitionToNotified::DoNothing)
            } else if s & SCHEDULED != 0 {
                // Already queued (or due to be): write the word back as it is.
                (Some(s), TransitionToNotified::DoNothing)
            } else if s & RUNNING != 0 {
                (Some(s | SCHEDULED), TransitionToNotified::DoNothing)
            } else {
                (Some(s | SCHEDULED), TransitionToNotified::Submit)
            }
        })
    }

    /// `abort()` was called.
    pub(crate) fn transition_to_cancelled(&self) -> TransitionToNotified {
        self.update(|s| {
            if s & (COMPLETE | CANCELLED) != 0 {
                (None, TransitionToNotified::DoNothing)
            } else if s & (RUNNING | SCHEDULED) != 0 {
                (Some(s | CANCELLED), TransitionToNotified::DoNothing)
            } else {
                (
                    Some(s | CANCELLED | SCHEDULED),
                    TransitionToNotified::Submit,
                )
            }
        })
    }

    /// The join handle is being dropped.
    pub(crate) fn drop_handle(&self) -> HandleDropped {
        self.update(|s| {
            let next = s & !HANDLE;
            if s & COMPLETE != 0 {
                (Some(next), HandleDropped::HandleDropsResult)
            } else {
                (Some(next), HandleDropped::Detached)
            }
        })
    }
}

/// A copy of the flag word, for assertions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn has_handle(self) -> bool {
        self.0 & HANDLE != 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = Vec::new();
        for (bit, name) in [
            (RUNNING, "Running"),
            (SCHEDULED, "Scheduled"),
            (COMPLETE, "Complete"),
            (CANCELLED, "Cancelled"),
            (HANDLE, "Handle"),
        ] {
            if self.0 & bit != 0 {
                names.push(name);
            }
        }
        if names.is_empty() {
            names.push("Idle");
        }
        f.write_str(&names.join("+"))
    }
}

#[cfg(test)]
mod tests {
    //! Walks the table in the module docs: `table_cells` checks every cell,
    //! starting from the row's flag word; the `*_row` tests reach the rows
    //! through transitions, as a task does.
    use super::*;

    /// The columns of the table.
    #[derive(Debug, Clone, Copy)]
    enum Event {
        PollStarts,
        Ready,
        Pending,
        /// A wake, during a poll or while idle (the row says which).
        Wake,
        Abort,
        DropHandle,
        Shutdown,
    }
    use Event::*;

    /// Does what the runner in `raw.rs` does on `event`: the transition, and
    /// the completion that follows when it must drop the future. Returns
    /// what the transitions said.
    fn apply(s: &State, event: Event) -> String {
        let then_complete = |first: &str| format!("{first}, {:?}", s.transition_to_complete());
        match event {
            PollStarts => match s.transition_to_running() {
                TransitionToRunning::Cancel => then_complete("Cancel"),
                other => format!("{other:?}"),
            },
            Ready => format!("{:?}", s.transition_to_complete()),
            Pending => match s.transition_to_idle() {
                TransitionToIdle::Cancel => then_complete("Cancel"),
                other => format!("{other:?}"),
            },
            Wake => format!("{:?}", s.transition_to_notified()),
            Abort => format!("{:?}", s.transition_to_cancelled()),
            DropHandle => format!("{:?}", s.drop_handle()),
            Shutdown => match s.transition_to_shutdown() {
                TransitionToRunning::Cancel => then_complete("Cancel"),
                other => format!("{other:?}"),
            },
        }
    }

    const IDLE: usize = 0;
    const H: usize = HANDLE;

    /// (row, event, what the transitions say, the state after), one entry
    /// per cell of the table that is not `-` or "refused", with the handle
    /// alive unless the entry says otherwise.
    const TABLE: &[(usize, Event, &str, &str)] = &[
        // Idle
        (IDLE | H, Wake, "Submit", "Scheduled+Handle"),
        (IDLE | H, Abort, "Submit", "Scheduled+Cancelled+Handle"),
        (IDLE | H, DropHandle, "Detached", "Idle"),
        (
            IDLE | H,
            Shutdown,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            IDLE,
            Shutdown,
            "Cancel, RunnerDropsResult",
            "Complete+Cancelled",
        ),
        // Scheduled
        (SCHEDULED | H, PollStarts, "Poll", "Running+Handle"),
        (SCHEDULED | H, Wake, "DoNothing", "Scheduled+Handle"),
        (
            SCHEDULED | H,
            Abort,
            "DoNothing",
            "Scheduled+Cancelled+Handle",
        ),
        (SCHEDULED | H, DropHandle, "Detached", "Scheduled"),
        (
            SCHEDULED | H,
            Shutdown,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        // Running
        (RUNNING | H, Ready, "HandleOwnsResult", "Complete+Handle"),
        (RUNNING, Ready, "RunnerDropsResult", "Complete"),
        (RUNNING | H, Pending, "Idle", "Handle"),
        (RUNNING | H, Wake, "DoNothing", "Running+Scheduled+Handle"),
        (RUNNING | H, Abort, "DoNothing", "Running+Cancelled+Handle"),
        (RUNNING | H, DropHandle, "Detached", "Running"),
        // Running+Scheduled
        (
            RUNNING | SCHEDULED | H,
            Ready,
            "HandleOwnsResult",
            "Complete+Handle",
        ),
        (
            RUNNING | SCHEDULED | H,
            Pending,
            "Reschedule",
            "Scheduled+Handle",
        ),
        (
            RUNNING | SCHEDULED | H,
            Wake,
            "DoNothing",
            "Running+Scheduled+Handle",
        ),
        (
            RUNNING | SCHEDULED | H,
            Abort,
            "DoNothing",
            "Running+Scheduled+Cancelled+Handle",
        ),
        (
            RUNNING | SCHEDULED | H,
            DropHandle,
            "Detached",
            "Running+Scheduled",
        ),
        // Running+Cancelled
        (
            RUNNING | CANCELLED | H,
            Ready,
            "HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            RUNNING | CANCELLED | H,
            Pending,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            RUNNING | CANCELLED | H,
            Wake,
            "DoNothing",
            "Running+Scheduled+Cancelled+Handle",
        ),
        (
            RUNNING | CANCELLED | H,
            Abort,
            "DoNothing",
            "Running+Cancelled+Handle",
        ),
        (
            RUNNING | CANCELLED | H,
            DropHandle,
            "Detached",
            "Running+Cancelled",
        ),
        // Running+Scheduled+Cancelled
        (
            RUNNING | SCHEDULED | CANCELLED | H,
            Ready,
            "HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            RUNNING | SCHEDULED | CANCELLED | H,
            Pending,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            RUNNING | SCHEDULED | CANCELLED | H,
            Wake,
            "DoNothing",
            "Running+Scheduled+Cancelled+Handle",
        ),
        (
            RUNNING | SCHEDULED | CANCELLED | H,
            Abort,
            "DoNothing",
            "Running+Scheduled+Cancelled+Handle",
        ),
        (
            RUNNING | SCHEDULED | CANCELLED | H,
            DropHandle,
            "Detached",
            "Running+Scheduled+Cancelled",
        ),
        // Scheduled+Cancelled
        (
            SCHEDULED | CANCELLED | H,
            PollStarts,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        (
            SCHEDULED | CANCELLED | H,
            Wake,
            "DoNothing",
            "Scheduled+Cancelled+Handle",
        ),
        (
            SCHEDULED | CANCELLED | H,
            Abort,
            "DoNothing",
            "Scheduled+Cancelled+Handle",
        ),
        (
            SCHEDULED | CANCELLED | H,
            DropHandle,
            "Detached",
            "Scheduled+Cancelled",
        ),
        (
            SCHEDULED | CANCELLED | H,
            Shutdown,
            "Cancel, HandleOwnsResult",
            "Complete+Cancelled+Handle",
        ),
        // Complete
        (COMPLETE | H, PollStarts, "Stale", "Complete+Handle"),
        (COMPLETE | H, Wake, "DoNothing", "Complete+Handle"),
        (COMPLETE | H, Abort, "DoNothing", "Complete+Handle"),
        (COMPLETE | H, DropHandle, "HandleDropsResult", "Complete"),
        (COMPLETE | H, Shutdown, "Stale", "Complete+Handle"),
    ];

    #[test]
    fn table_cells() {
        for &(row, event, said, after) in TABLE {
            let s = State(AtomicUsize::new(row));
            let cell = format!("{:?} on {event:?}", Snapshot(row));
            assert_eq!(apply(&s, event), said, "{cell}: what the transitions say");
            assert_eq!(
                format!("{:?}", s.snapshot()),
                after,
                "{cell}: the state after"
            );
        }
    }

    #[test]
    fn refused_cells_panic_and_leave_the_state_alone() {
        for row in [
            RUNNING,
            RUNNING | SCHEDULED,
            RUNNING | CANCELLED,
            RUNNING | SCHEDULED | CANCELLED,
        ] {
            for event in [PollStarts, Shutdown] {
                let s = State(AtomicUsize::new(row | H));
                let refused =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(&s, event)));
                assert!(
                    refused.is_err(),
                    "{:?} on {event:?} must panic",
                    Snapshot(row)
                );
                assert_eq!(s.snapshot(), Snapshot(row | H));
            }
        }
    }

    fn idle() -> State {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Idle);
        s
    }

    #[test]
    fn idle_row() {
        let s = idle();
        assert_eq!(format!("{:?}", s.snapshot()), "Handle");
        assert_eq!(s.transition_to_notified(), TransitionToNotified::Submit);
        assert!(s.snapshot().is_scheduled());
        let s = idle();
        assert_eq!(s.transition_to_cancelled(), TransitionToNotified::Submit);
        assert!(s.snapshot().is_scheduled() && s.snapshot().is_cancelled());
        let s = idle();
        assert_eq!(s.drop_handle(), HandleDropped::Detached);
        assert!(!s.snapshot().has_handle());
        let s = idle();
        assert_eq!(s.transition_to_shutdown(), TransitionToRunning::Cancel);
        assert!(s.snapshot().is_running() && s.snapshot().is_cancelled());
    }

    #[test]
    fn scheduled_row() {
        let s = State::new();
        assert_eq!(s.transition_to_notified(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_cancelled(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancel);
        let s = State::new();
        assert_eq!(s.transition_to_shutdown(), TransitionToRunning::Cancel);
        assert!(!s.snapshot().is_scheduled());
    }

    #[test]
    fn running_row() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        assert_eq!(s.transition_to_notified(), TransitionToNotified::DoNothing);
        assert!(s.snapshot().is_running() && s.snapshot().is_scheduled());
        // Wake during poll: the runner re-queues after the poll.
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Reschedule);
        assert!(s.snapshot().is_scheduled() && !s.snapshot().is_running());

        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        assert_eq!(
            s.transition_to_complete(),
            TransitionToComplete::HandleOwnsResult
        );
        assert_eq!(s.drop_handle(), HandleDropped::HandleDropsResult);

        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        assert_eq!(s.drop_handle(), HandleDropped::Detached);
        assert_eq!(
            s.transition_to_complete(),
            TransitionToComplete::RunnerDropsResult
        );
    }

    #[test]
    fn running_cancelled_row() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        assert_eq!(s.transition_to_cancelled(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_cancelled(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Cancel);
        assert!(s.snapshot().is_running());
        assert_eq!(
            s.transition_to_complete(),
            TransitionToComplete::HandleOwnsResult
        );
    }

    #[test]
    fn complete_row() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Poll);
        let _ = s.transition_to_complete();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Stale);
        assert_eq!(s.transition_to_notified(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_cancelled(), TransitionToNotified::DoNothing);
        assert_eq!(s.transition_to_shutdown(), TransitionToRunning::Stale);
        assert!(s.is_complete());
    }
}
