//! [`Event`]: a flag tasks can wait for (asyncio's `Event`).
//!
//! A flag plus a [`Notify`]: [`set`](Event::set) raises the flag and calls
//! [`notify_waiters`](Notify::notify_waiters); [`wait`](Event::wait) creates
//! its `Notified` *first* and only then looks at the flag. Whatever order a
//! `set` on another thread and a `wait` take, the waiter either sees the flag
//! or counts as waiting when `notify_waiters` runs, so it is never missed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll};

use super::{Notified, Notify};

/// A flag that tasks can wait for: [`set`](Event::set) releases every waiter
/// at once, and later [`wait`](Event::wait)s return at once until
/// [`clear`](Event::clear) (asyncio's `Event`).
///
/// The missed-notification rule, as asyncio has it: the flag is the memory.
/// A `set` before anyone waits is not lost (the flag stays up), and a waiter
/// released by `set` returns even if `clear` is called before it runs.
/// Unlike [`Notify`], an `Event` does not count: ten `set`s are one flag.
///
/// It is `Send + Sync`: a std thread may set it for tasks on the loop.
///
/// # Examples
///
/// Three workers wait for a start signal:
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Event;
///
/// evloop::run(async {
///     let start = Rc::new(Event::new());
///     let workers: Vec<_> = (0..3)
///         .map(|id| {
///             let start = start.clone();
///             evloop::spawn(async move {
///                 start.wait().await;
///                 id
///             })
///         })
///         .collect();
///     evloop::yield_now().await;
///     assert!(!start.is_set()); // they are all waiting
///     start.set();
///     let mut done = Vec::new();
///     for w in workers {
///         done.push(w.await.unwrap());
///     }
///     assert_eq!(done, [0, 1, 2]);
/// });
/// ```
pub struct Event {
    flag: AtomicBool,
    notify: Notify,
}

impl Event {
    /// An event whose flag is down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!evloop::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// Raises the flag and wakes every task waiting in
    /// [`wait`](Event::wait). Setting a set event does nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// evloop::run(event.wait()); // returns at once
    /// ```
    pub fn set(&self) {
        // Flag first, then the wake-ups: a waiter that missed the flag was
        // created before this `notify_waiters`, so it is released by it.
        self.flag.store(true, SeqCst);
        self.notify.notify_waiters();
    }

    /// Lowers the flag: later [`wait`](Event::wait)s wait again. Waiters
    /// already released by a [`set`](Event::set) still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag.store(false, SeqCst);
    }

    /// Whether the flag is up.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(SeqCst)
    }

    /// Waits until the flag is up; returns at once if it already is.
    ///
    /// The [`Wait`] counts as waiting from the moment this is called, so a
    /// `set` between this call and the first poll is not missed, even if a
    /// `clear` follows it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Event;
    ///
    /// evloop::run(async {
    ///     let event = Arc::new(Event::new());
    ///     let setter = event.clone();
    ///     std::thread::spawn(move || setter.set());
    ///     event.wait().await; // whichever comes first, nothing is missed
    ///     assert!(event.is_set());
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            // Created before the flag is looked at (in `poll`): see the module docs.
            notified: self.notify.notified(),
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// Returns `Ready` at once if the flag is up when it is polled; otherwise
/// `Pending` until a [`set`](Event::set) called after the `wait()` call,
/// whose caller wakes it.
///
/// Cancel safety: dropping it at any point is safe; it leaves the list of
/// waiters, and there is nothing to pass on (a `set` is for everyone).
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Wait<'a> {
    event: &'a Event,
    notified: Notified<'a>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.event.is_set() {
            return Poll::Ready(());
        }
        Pin::new(&mut self.notified).poll(cx)
    }
}
