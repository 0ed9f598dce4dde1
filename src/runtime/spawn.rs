//! Spawning tasks, and yielding to the loop.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::context;
use crate::task::JoinHandle;

/// Starts a task on the current loop (asyncio's `create_task`).
///
/// The future starts running at the loop's next turn, concurrently with the
/// caller; the returned [`JoinHandle`] awaits its output. The future need not
/// be `Send`: it never leaves this thread.
///
/// For tokio users: this is the counterpart of `tokio::task::spawn_local`,
/// not of `tokio::spawn`. `tokio::spawn` may move a task to another worker
/// thread and so requires `F: Send`; evloop's loop is single-threaded, every
/// task runs on the thread that runs the loop, and a task may hold an `Rc`
/// or a `RefCell` borrow across an `.await`. Work that must run on other
/// threads goes through [`spawn_blocking`](crate::spawn_blocking) or
/// [`spawn_cpu`](crate::spawn_cpu), which take `Send` closures.
///
/// # Panics
///
/// Outside a runtime (not inside [`run`](crate::run) or
/// [`Runtime::block_on`](crate::Runtime::block_on)); the message names the
/// call site.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let a = evloop::spawn(async { sleep(Duration::from_secs(1)).await; 1 });
///     let b = evloop::spawn(async { sleep(Duration::from_secs(2)).await; 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
///     assert_eq!(start.elapsed(), Duration::from_secs(2)); // they overlapped
/// });
/// ```
///
/// A future that is not `Send` (it holds an `Rc` across an await), which
/// `tokio::spawn` would reject:
///
/// ```
/// use std::rc::Rc;
///
/// let total = evloop::run(async {
///     let shared = Rc::new(41);
///     let task = evloop::spawn({
///         let shared = Rc::clone(&shared);
///         async move {
///             evloop::yield_now().await;
///             *shared + 1
///         }
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(total, 42);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}

/// Spawns a task with a name, for warnings, errors and traces.
///
/// # Examples
///
/// ```
/// let name = evloop::run(async {
///     let handle = evloop::task::Builder::new()
///         .name("download 3")
///         .spawn(async { panic!("bad image") });
///     handle.await.unwrap_err().name().map(str::to_owned)
/// });
/// assert_eq!(name.as_deref(), Some("download 3"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Box<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns the task on the current loop, like [`spawn`].
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        let name = self.name;
        match context::with_core(move |core| core.spawn(future, name, location)) {
            Some(handle) => handle,
            None => panic!(
                "evloop::spawn called outside a runtime, at {location}: \
                 spawn from inside evloop::run(...) or Runtime::block_on(...)"
            ),
        }
    }
}

/// Gives other tasks, timers and IO a turn before this task goes on
/// (asyncio's `await asyncio.sleep(0)`).
///
/// The task is queued again only after the loop has fired due timers and
/// polled for IO, so a task that yields in a loop cannot starve them.
///
/// On the paused clock a yield costs no virtual time: the yielding task is
/// ready, so the loop does not jump to the next timer for it. Only a task
/// that spins on `yield_now` for 20,000 ticks in a row, with nothing else
/// ready, makes the loop treat it as idle, with a warning (see
/// [`Builder::paused_clock`](crate::runtime::Builder::paused_clock)).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let other = evloop::spawn(async { "ran" });
///     evloop::yield_now().await; // the spawned task runs now
///     assert!(other.is_finished());
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        let deferred = context::with_core(|core| {
            core.deferred.borrow_mut().push(cx.waker().clone());
            core.last_yielder.set(core.polling.get());
        });
        if deferred.is_none() {
            // Not on a loop thread (polled by some other executor): plain wake.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
