//! [`JoinHandle`], the awaitable end of a task, and [`JoinError`], why a task
//! gave no output.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::Id;
use super::raw::{Header, Meta, Payload, RawTask};
use super::state::HandleDropped;
use super::sync_prims::fence;

/// An owned permission to await a spawned task's result, or to cancel it.
///
/// `JoinHandle<T>` is a future that resolves to `Ok(T)` when the task
/// returns, or to a [`JoinError`] when it panicked or was cancelled. It is
/// the `Task` object of asyncio: `await task` there is `handle.await` here.
///
/// Dropping a `JoinHandle` *detaches* the task: it keeps running, and its
/// output is dropped when it finishes. (This is why `JoinHandle` is not
/// `#[must_use]`.) To stop the task, call [`abort`](JoinHandle::abort).
///
/// # Cancel safety
///
/// Dropping the `.await` of a handle midway (inside `select` or `timeout`)
/// loses nothing: the task goes on, and a later await of the same handle
/// still gets the result.
///
/// # Examples
///
/// ```
/// let n = evloop::run(async {
///     let handle = evloop::spawn(async { 40 + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
pub struct JoinHandle<T> {
    /// The handle's reference to the task.
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle touches the header (shareable by `RawTask`'s own
// `Send + Sync`), and the output `T`, which travels to whichever thread
// holds the handle; so `T: Send` is what it takes.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`, `abort_handle`, `is_finished`
// and `id`, which use the header and never the output.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Makes the join handle of a new task out of the reference kept for it.
    ///
    /// # Safety
    ///
    /// `T` is the output type of the task's future (the handle reads the
    /// result as a `T`), and this is the task's only join handle: the one
    /// whose life the state's `HANDLE` flag stands for.
    pub(super) unsafe fn new(raw: RawTask) -> Self {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Cancels the task (asyncio's `task.cancel()`).
    ///
    /// The future is dropped on the loop thread at its next turn (at once if
    /// it is idle, after the current poll if it is running), and the handle
    /// resolves to a [`JoinError`] for which `is_cancelled()` is true. A task
    /// that already finished keeps its result. Aborting twice is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = evloop::run(async {
    ///     let handle = evloop::spawn(evloop::time::sleep(Duration::from_secs(3600)));
    ///     handle.abort();
    ///     handle.await.unwrap_err()
    /// });
    /// assert!(err.is_cancelled());
    /// ```
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// A handle that can abort the task but not await it; it may be cloned
    /// and sent to other threads.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            raw: self.raw.clone(),
        }
    }

    /// Whether the task has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().meta.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.header();
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        if !header.state.is_complete() {
            {
                let mut slot = header.join_waker.lock().unwrap_or_else(|e| e.into_inner());
                match &*slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
            }
            header.join_waker_set.store(true, Ordering::Release);
            // Checked again after storing the waker. The runner sets COMPLETE,
            // fences, then looks at the flag; we set the flag, fence, then
            // look at COMPLETE: one of us sees the other's write.
            fence(Ordering::SeqCst);
            if !header.state.is_complete() {
                return Poll::Pending;
            }
        }
        // SAFETY: COMPLETE is set (seen with Acquire) and we are the
        // handle, which owns the result; `T` is the task's output type, as
        // `JoinHandle::new` was promised.
        unsafe { self.raw.take_output(&mut out) };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // Release the awaiting task's waker now: a task that polled its own
        // handle would otherwise keep a reference to itself.
        if self.header().join_waker_set.load(Ordering::Acquire) {
            let waker = self
                .header()
                .join_waker
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            drop(waker);
        }
        if self.header().state.drop_handle() == HandleDropped::HandleDropsResult {
            // SAFETY: we are the task's join handle and the state machine
            // gave the result to us; nobody else touches the stage now.
            unsafe { self.raw.drop_output() };
        }
        // Our reference is released when `self.raw` drops, after this.
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("state", &self.header().state.snapshot())
            .finish()
    }
}

/// Cancels a task from anywhere, without awaiting it.
///
/// Made by [`JoinHandle::abort_handle`]. Unlike the join handle it can be
/// cloned and is always `Send + Sync`.
// Send + Sync come from `RawTask`: an abort handle touches only the header
// and the scheduler (which is Send + Sync by the Schedule trait's bounds).
#[derive(Clone)]
pub struct AbortHandle {
    /// Our reference to the task (cloning the handle adds one).
    raw: RawTask,
}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.is_complete()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.raw.header().meta.id;
        f.debug_struct("AbortHandle").field("id", &id).finish()
    }
}

/// Why a task produced no output: it was cancelled, or it panicked.
///
/// # Examples
///
/// ```
/// let err = evloop::run(async {
///     evloop::task::Builder::new()
///         .name("doomed")
///         .spawn(async { panic!("boom") })
///         .await
///         .unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task 'doomed' (task 1) panicked: boom".replace("task 1", &err.id().to_string()));
/// ```
pub struct JoinError {
    id: Id,
    // Boxed, so that a task's stored result (`Result<T, JoinError>`) stays
    // small: most tasks never fail, yet every task cell makes room for it.
    inner: Box<Inner>,
}

struct Inner {
    name: Option<Box<str>>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    // The Mutex makes the error Sync (the payload is only Send), so it can
    // travel inside error types that require Send + Sync.
    Panic(Mutex<Payload>),
}

impl JoinError {
    pub(crate) fn cancelled(meta: &Meta) -> Self {
        JoinError {
            id: meta.id,
            inner: Box::new(Inner {
                name: meta.name().map(Box::from),
                repr: Repr::Cancelled,
            }),
        }
    }

    pub(crate) fn panic(meta: &Meta, payload: Payload) -> Self {
        JoinError {
            id: meta.id,
            inner: Box::new(Inner {
                name: meta.name().map(Box::from),
                repr: Repr::Panic(Mutex::new(payload)),
            }),
        }
    }

    /// Whether the task was cancelled (aborted, or dropped at shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.inner.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.inner.repr, Repr::Panic(_))
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The panic payload, to resume the panic with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking (check
    /// [`is_panic`](JoinError::is_panic) first, or use
    /// [`try_into_panic`](JoinError::try_into_panic)).
    pub fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn std::any::Any + Send + 'static>, JoinError> {
        if self.is_cancelled() {
            return Err(self);
        }
        match self.inner.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => unreachable!("checked above"),
        }
    }

    /// The panic message when the payload is a string (as `panic!` makes it).
    pub(crate) fn panic_message(&self) -> Option<String> {
        match &self.inner.repr {
            Repr::Panic(p) => {
                let p = p.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(s) = p.downcast_ref::<&'static str>() {
                    Some((*s).to_string())
                } else {
                    p.downcast_ref::<String>().cloned()
                }
            }
            Repr::Cancelled => None,
        }
    }

    fn describe(&self) -> String {
        match &self.inner.name {
            Some(name) => format!("task '{name}' ({})", self.id),
            None => format!("{}", self.id),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.repr {
            Repr::Cancelled => write!(f, "{} was cancelled", self.describe()),
            Repr::Panic(_) => match self.panic_message() {
                Some(msg) => write!(f, "{} panicked: {msg}", self.describe()),
                None => write!(f, "{} panicked", self.describe()),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.describe()),
            Repr::Panic(_) => write!(
                f,
                "JoinError::Panic({}, {:?})",
                self.describe(),
                self.panic_message()
            ),
        }
    }
}

impl std::error::Error for JoinError {}
