//! The thread-local pointer to the loop running on this thread.
//!
//! `spawn`, `sleep` and the wakers find their loop here. It is set while
//! `block_on` runs (and while a runtime shuts down), and empty otherwise.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::core::Core;
use super::shared::Shared;
use crate::task::Task;

thread_local! {
    static CONTEXT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the current loop, or returns `None` outside a runtime.
///
/// Also `None` while this thread's thread-locals are being torn down (a
/// future dropped by a runtime kept in another thread-local, at thread
/// exit): every access here may sit on a drop path, so none may panic.
pub(crate) fn with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.borrow().as_ref().map(|core| f(core)))
        .ok()
        .flatten()
}

/// Pushes a task to the local run queue if `shared` is the loop running on
/// this thread; otherwise gives the task back.
pub(crate) fn push_local(shared: &Arc<Shared>, task: Task) -> Option<Task> {
    let mut task = Some(task);
    // If the thread-local is already gone (a waker fired during thread
    // exit), the task comes back and goes through the remote queue.
    let _ = CONTEXT.try_with(|c| {
        if let Some(core) = c.borrow().as_ref()
            && Arc::ptr_eq(&core.shared, shared)
            && let Some(task) = task.take()
        {
            if let Some(rec) = &core.recorder {
                rec.woken(task.id().as_u64(), core.clock.now());
            }
            if core.polling.get() == Some(task.id()) {
                core.last_yielder.set(Some(task.id()));
                core.self_woken.borrow_mut().push(task);
            } else {
                core.queue.borrow_mut().push_back(task);
            }
        }
    });
    task
}

/// Makes `core` the current loop until the guard drops.
///
/// # Panics
///
/// If a runtime is already running on this thread (a `block_on` inside a
/// task): that would block the outer loop.
#[track_caller]
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    let location = std::panic::Location::caller();
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            panic!(
                "evloop: cannot start a runtime (block_on) from inside a running runtime, at {}; \
                 await the future instead, or spawn it",
                location
            );
        }
        *c = Some(core);
    });
    EnterGuard { _private: () }
}

/// Clears the current loop on drop.
pub(crate) struct EnterGuard {
    _private: (),
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // At thread exit the thread-local may already be gone; then there
        // is nothing to clear.
        let core = CONTEXT.try_with(|c| c.borrow_mut().take()).ok().flatten();
        drop(core);
    }
}

/// Like [`enter`], but does nothing if another loop is current (used when a
/// runtime is dropped inside another one's `block_on`), or if this thread's
/// thread-locals are already torn down (a runtime dropped at thread exit).
pub(crate) fn try_enter(core: Rc<Core>) -> Option<EnterGuard> {
    let entered = CONTEXT.try_with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            false
        } else {
            *c = Some(core);
            true
        }
    });
    // `then`, not `then_some`: a guard made and dropped here would clear
    // the outer loop's context.
    entered
        .unwrap_or(false)
        .then(|| EnterGuard { _private: () })
}
