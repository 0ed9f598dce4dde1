//! [`Mutex`]: one task at a time, fairly, even across `.await` (asyncio's
//! `Lock`, tokio's `Mutex`).
//!
//! # How it works: a semaphore of one, and a lock nobody contends
//!
//! The queue is a [`Semaphore`] with one permit: it already serves waiters
//! first come, first served, hands a released permit straight to the oldest
//! waiter, and gets cancellation right (a waiter dropped while queued leaves
//! the queue; a waiter dropped after it was handed the permit passes it on).
//! The lock adds nothing to that protocol, so it inherits all of it.
//!
//! The value sits in a `std::sync::Mutex`, which is what lets the guard hand
//! out `&mut T` without `unsafe` (evloop keeps `unsafe` in `task/`). Only the
//! holder of the permit ever locks it, so it is never contended: taking it
//! cannot block. The guard holds both, and drops the std lock *before* the
//! permit, so the next holder always finds the value unlocked.
//!
//! A std lock held across `.await` is the classic async bug (it blocks the
//! loop's thread if another task wants it). Here it cannot bite: nobody ever
//! waits on the std lock, everybody waits on the semaphore, which waits by
//! returning `Pending`.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{PoisonError, TryLockError as StdTryLockError};
use std::task::{Context, Poll};

use super::{Acquire, Semaphore, SemaphorePermit};

/// An async mutual-exclusion lock whose guard may be held across `.await`
/// (asyncio's `Lock`, tokio's `Mutex`).
///
/// - **Fair**: waiters get the lock in the order they first polled
///   [`lock`](Mutex::lock); an unlock hands it to the oldest waiter at once,
///   so a newcomer (even [`try_lock`](Mutex::try_lock)) never jumps the queue.
/// - **Cancel safe**: see [`Lock`]. A waiter that gives up (timeout, abort,
///   `select`) never leaves the lock stuck.
/// - **No poisoning**: a holder that panics releases the lock as it unwinds,
///   and the next holder sees the value as the panic left it (tokio does the
///   same; std's `Mutex` would poison instead).
///
/// `Mutex<T>` is `Send` and `Sync` when `T` is `Send`, like std's: share it
/// with `Rc` between tasks of the loop, or with `Arc` with other threads
/// (their wakers reach the loop). The guard is not `Send`: it stays on the
/// thread that locked, which evloop's tasks never leave anyway.
///
/// Prefer `std::sync::Mutex` (or a `RefCell`) when the guard is never held
/// across an `.await`: it is cheaper. Use this one when it is.
///
/// # Examples
///
/// Three tasks append to a shared log, each holding the lock across a sleep;
/// their lines never interleave, and they take turns in arrival order:
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// use evloop::sync::Mutex;
/// use evloop::time::{sleep, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let log = Rc::new(Mutex::new(Vec::new()));
///     let start = Instant::now();
///     let tasks: Vec<_> = (0..3)
///         .map(|id| {
///             let log = log.clone();
///             evloop::spawn(async move {
///                 let mut lines = log.lock().await;
///                 lines.push(format!("{id} begins"));
///                 sleep(Duration::from_secs(1)).await; // the others wait
///                 lines.push(format!("{id} ends"));
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     let log = Rc::into_inner(log).unwrap().into_inner();
///     assert_eq!(log, ["0 begins", "0 ends", "1 begins", "1 ends", "2 begins", "2 ends"]);
///     assert_eq!(start.elapsed(), Duration::from_secs(3)); // one at a time
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// One permit: whoever holds it holds the lock. Its queue is the lock's.
    turn: Semaphore,
    /// The value. Locked only by the holder of `turn`, so never contended.
    value: std::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = evloop::sync::Mutex::new(5);
    /// assert_eq!(*m.try_lock().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            turn: Semaphore::new(1),
            value: std::sync::Mutex::new(value),
        }
    }

    /// Consumes the mutex and returns the value (no lock needed: nobody
    /// else can hold it).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = evloop::sync::Mutex::new(String::from("mine"));
    /// assert_eq!(m.into_inner(), "mine");
    /// ```
    pub fn into_inner(self) -> T {
        self.value
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock and returns a guard that releases it when dropped
    /// (asyncio's `async with lock:`).
    ///
    /// The returned [`Lock`] future says when it waits, who wakes it, and
    /// what dropping it does.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Mutex;
    ///
    /// evloop::run(async {
    ///     let counter = Mutex::new(0);
    ///     *counter.lock().await += 1;
    ///     *counter.lock().await += 1;
    ///     assert_eq!(*counter.lock().await, 2);
    /// });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.turn.acquire(),
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it; never
    /// waits.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held, or if other tasks are queued
    /// for it (they come first, even if the holder has just let go).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = evloop::sync::Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.turn.try_acquire() {
            Ok(permit) => Ok(self.guard(permit)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// A mutable reference to the value, with no locking: `&mut self` proves
    /// nobody else holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = evloop::sync::Mutex::new(1);
    /// *m.get_mut() = 10;
    /// assert_eq!(*m.try_lock().unwrap(), 10);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// Builds the guard for the holder of `permit`.
    fn guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> MutexGuard<'a, T> {
        let value = match self.value.try_lock() {
            Ok(value) => value,
            // A holder panicked; the value is as it left it (no poisoning).
            Err(StdTryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(StdTryLockError::WouldBlock) => {
                unreachable!("the value is locked only by the permit's holder, and that is us")
            }
        };
        MutexGuard {
            value,
            _permit: permit,
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("value", &&*guard),
            Err(_) => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The future of [`Mutex::lock`].
///
/// Returns `Pending` while another task holds the lock or is ahead in the
/// queue. The task that unlocks (by dropping its [`MutexGuard`]) hands the
/// lock to the oldest waiter and wakes it; so does a waiter ahead of it that
/// is cancelled after being handed the lock.
///
/// Cancel safety: dropping it at any point is safe and loses nothing. Still
/// queued, it leaves the queue; already handed the lock (woken, not yet
/// polled), it passes the lock to the next waiter, or frees it if there is
/// none. It does lose its place in the queue.
///
/// # Panics
///
/// If polled again after it returned `Ready` (the guard was already handed
/// out).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = &mut *self;
        let mutex = this.mutex;
        Pin::new(&mut this.acquire).poll(cx).map(|permit| {
            let permit = permit.expect("a mutex never closes its semaphore");
            mutex.guard(permit)
        })
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("acquire", &self.acquire)
            .finish()
    }
}

/// Holds a [`Mutex`] locked; gives access to the value through `Deref` and
/// `DerefMut`, and unlocks when dropped, handing the lock to the oldest
/// waiter.
///
/// It may be held across `.await`: that is what it is for.
///
/// # Examples
///
/// ```
/// use evloop::sync::Mutex;
///
/// let m = Mutex::new(vec![1, 2]);
/// {
///     let mut v = m.try_lock().unwrap();
///     v.push(3);
///     assert_eq!(v.len(), 3);
/// } // unlocked here
/// assert_eq!(*m.try_lock().unwrap(), [1, 2, 3]);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Field order is drop order: the value is unlocked before the permit
    // goes back and wakes the next holder, who then finds it free.
    value: std::sync::MutexGuard<'a, T>,
    _permit: SemaphorePermit<'a>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// [`Mutex::try_lock`] failed: the lock is held, or others wait for it.
///
/// # Examples
///
/// ```
/// let m = evloop::sync::Mutex::new(());
/// let _held = m.try_lock().unwrap();
/// let err = m.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "the mutex is locked (or other tasks wait for it)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked (or other tasks wait for it)")
    }
}

impl std::error::Error for TryLockError {}
