//! Children whose [`Child`](super::Child) was dropped before they were
//! reaped: reaped in the background, so none is left a zombie.
//!
//! A process that exits stays in the process table (a *zombie*, `Z` in
//! `ps`) until its parent collects its status with `waitpid`. A dropped
//! `Child` can no longer be waited on by anyone, so evloop does it:
//!
//! * **While the runtime lives**, the child goes to the runtime's reaper,
//!   which keeps its exit watch (pidfd or `SIGCHLD` listener) on the
//!   reactor and reaps it the moment it exits. The reaper is one task,
//!   named `evloop: reaping dropped children`, spawned when the first
//!   orphan comes and ending when the last one is reaped; it shows in
//!   `Runtime::task_count` and traces while it works.
//! * **After the runtime ends** (or for a `Child` dropped outside any
//!   runtime), children still running go to a process-wide list. The next
//!   [`Command::spawn`](super::Command::spawn), on any runtime, takes them
//!   over: those that exited meanwhile are reaped at once, the others
//!   handed to that runtime's reaper. If the program never spawns another
//!   child, they stay zombies after they exit, until the program itself
//!   exits (then the OS's init reaps them). tokio does the same with its
//!   orphan queue.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Poll, Waker};

use super::exit::{ExitWatch, Watch};
use crate::runtime::handle::{self, Extension};
use crate::runtime::spawn::Builder;

/// A child nobody waits for any more.
#[derive(Debug)]
pub(super) struct Orphan {
    pub(super) child: std::process::Child,
    pub(super) watch: ExitWatch,
}

/// Children left running when their runtime ended, or dropped outside
/// one: taken over by the next spawn.
static ADRIFT: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// One runtime's orphans and the task that reaps them.
#[derive(Debug, Default)]
struct Reaper {
    orphans: RefCell<Vec<Orphan>>,
    /// The reaping task's waker, to show it a new orphan.
    task: RefCell<Option<Waker>>,
    running: Cell<bool>,
    /// The runtime is shutting down: orphans go adrift instead.
    closed: Cell<bool>,
}

impl Reaper {
    /// Reaps what has exited; `true` once no orphan is left.
    fn sweep(&self, cx: &mut std::task::Context<'_>) -> bool {
        let mut orphans = self.orphans.borrow_mut();
        // Exited (or failed: the child is gone from our view either way):
        // dropped, which deregisters its watch.
        orphans.retain_mut(|o| o.watch.poll_exit(&mut o.child, cx).is_pending());
        orphans.is_empty()
    }

    /// Sends every orphan left adrift, after one last try to reap each.
    fn cast_off(&self) {
        let orphans = std::mem::take(&mut *self.orphans.borrow_mut());
        for orphan in orphans {
            set_adrift(orphan.child);
        }
    }
}

impl Extension for Reaper {
    fn shutdown(&self) {
        // The reaping task was cancelled before this runs.
        self.closed.set(true);
        self.running.set(false);
        self.cast_off();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // Orphans that came after the shutdown (dropped by the last tasks'
        // drops) are still here.
        self.cast_off();
    }
}

/// Takes over `orphan`: the current runtime's reaper reaps it when it
/// exits; without a runtime (or one shutting down), it goes adrift.
pub(super) fn adopt(mut orphan: Orphan) {
    if let Ok(Some(_)) | Err(_) = orphan.child.try_wait() {
        return; // already exited: reaped just now
    }
    let reaper = handle::with_current(|h| h.extension(|_| Reaper::default()));
    let Some(reaper) = reaper.filter(|r| !r.closed.get()) else {
        set_adrift(orphan.child);
        return;
    };
    reaper.orphans.borrow_mut().push(orphan);
    if reaper.running.get() {
        if let Some(task) = reaper.task.borrow().as_ref() {
            task.wake_by_ref();
        }
        return;
    }
    reaper.running.set(true);
    let handle = Builder::new()
        .name("evloop: reaping dropped children")
        .spawn(reap(reaper.clone()));
    if handle.is_finished() {
        // The runtime refused the task: it is closing.
        reaper.running.set(false);
        reaper.cast_off();
    }
}

/// The reaping task: polls every orphan's exit until none is left.
async fn reap(reaper: Rc<Reaper>) {
    poll_fn(|cx| {
        reaper.task.replace(Some(cx.waker().clone()));
        if reaper.sweep(cx) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    reaper.task.replace(None);
    reaper.running.set(false);
}

/// Reaps `child` if it has exited, else keeps it in the process-wide list.
pub(super) fn set_adrift(mut child: std::process::Child) {
    if let Ok(None) = child.try_wait() {
        ADRIFT.lock().unwrap_or_else(|e| e.into_inner()).push(child);
    }
}

/// Reaps the children left adrift that have exited, and hands the rest to
/// the current runtime's reaper (called by every spawn).
pub(super) fn take_over_adrift() {
    let adrift = std::mem::take(&mut *ADRIFT.lock().unwrap_or_else(|e| e.into_inner()));
    for mut child in adrift {
        // Exited (reaped now), or not ours to wait for any more: done.
        if let Ok(None) = child.try_wait() {
            match ExitWatch::new(child.id(), Watch::Best) {
                Ok(watch) => adopt(Orphan { child, watch }),
                // Out of file descriptors: try again at the next spawn.
                Err(_) => set_adrift(child),
            }
        }
    }
}

/// How many children are adrift (for the tests' hooks).
pub(crate) fn adrift() -> usize {
    ADRIFT.lock().unwrap_or_else(|e| e.into_inner()).len()
}
