//! [`channel`]: one value, sent once, awaited once (the future you set by
//! hand: asyncio's `loop.create_future()` and `fut.set_result(x)`).
//!
//! A [`Sender`] and a [`Receiver`] share one slot behind a `std::sync::Mutex`:
//! the value (once sent), whether each side is still there, and the waker of
//! the task awaiting the receiver. The sender may live on any thread: `send`
//! stores the value, releases the lock, then wakes the receiver's task,
//! which (if it belongs to a parked loop on another thread) goes through the
//! loop's remote queue and wakes the loop.
//!
//! The asyncio mapping: `fut = loop.create_future()` is `(tx, rx) =
//! oneshot::channel()`; `fut.set_result(x)` is `tx.send(x)`; `await fut` is
//! `rx.await`; `fut.cancel()` seen from the setter is
//! [`Sender::is_closed`]. The one difference is on purpose: the two ends are
//! separate values, so only the holder of the sender can set the result, and
//! a sender dropped without sending is an error the receiver sees
//! ([`RecvError`]) instead of a future that waits for ever.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Makes a one-shot channel: the [`Sender`] sets the value once, the
/// [`Receiver`] awaits it.
///
/// # Examples
///
/// A std thread sends while the loop waits:
///
/// ```
/// use evloop::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel();
/// let answer = evloop::run(async move {
///     std::thread::spawn(move || tx.send(42).unwrap());
///     rx.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            sender_done: false,
            receiver_closed: false,
            waker: None,
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// What both ends share.
struct Shared<T> {
    slot: Mutex<Slot<T>>,
}

/// The slot, under the lock.
struct Slot<T> {
    /// The value, between `send` and the receiver taking it.
    value: Option<T>,
    /// The sender has sent or been dropped: no value will come after this.
    sender_done: bool,
    /// The receiver was closed or dropped: `send` must fail.
    receiver_closed: bool,
    /// The task awaiting the receiver.
    waker: Option<Waker>,
}

impl<T> Shared<T> {
    /// Locks the slot. No user code runs under the lock (values are dropped
    /// and wakers woken after it is released), so poisoning cannot leave the
    /// slot inconsistent; it is ignored.
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending end: sets the value, once, from any thread.
///
/// Dropping it without sending makes the receiver return [`RecvError`].
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends the value and wakes the receiver's task (asyncio's
    /// `fut.set_result(value)`). Never waits; works from any thread.
    ///
    /// # Errors
    ///
    /// Gives the value back if the receiver was dropped or closed: nobody
    /// would ever read it.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("late"), Err("late"));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut slot = self.shared.lock();
            if slot.receiver_closed {
                return Err(value);
            }
            slot.value = Some(value);
            slot.sender_done = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        // `self` drops here; the slot already says "done", so its drop has
        // nothing left to do.
        Ok(())
    }

    /// Whether the receiver is gone (dropped or closed), so a `send` would
    /// fail. A producer can check it to skip work nobody wants any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().receiver_closed
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.shared.lock();
            if slot.sender_done {
                return; // sent: `send` already woke the receiver
            }
            slot.sender_done = true;
            slot.waker.take()
        };
        // Dropped without sending: wake the receiver to see the error.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The receiving end: a future of the value (asyncio's `await fut`).
///
/// As a future it returns `Pending` until the sender sends or is dropped;
/// the sender wakes it then, from whatever thread it is on. It resolves to
/// `Ok(value)`, or `Err(RecvError)` if no value will come: the sender was
/// dropped without sending, the receiver was [closed](Receiver::close)
/// before a value arrived, or the value was already taken (by
/// [`try_recv`](Receiver::try_recv) or an earlier poll).
///
/// Cancel safety: dropping the receiver, or a future that awaits it, drops
/// the value if one was sent; to keep it, await `&mut rx` and keep `rx`.
/// Polling a `&mut Receiver` that is then dropped loses nothing: the value
/// stays in the slot until a poll returns it.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent; never waits.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing was sent yet,
    /// [`TryRecvError::Closed`] if nothing ever will be (the sender was
    /// dropped, the receiver closed, or the value was already taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut slot = self.shared.lock();
        match slot.value.take() {
            Some(value) => Ok(value),
            None if slot.sender_done || slot.receiver_closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses any later `send` (it returns the value to the sender) and
    /// makes [`Sender::is_closed`] true; a value sent before this can still
    /// be received, and without one the receiver resolves to [`RecvError`]
    /// at once. asyncio's closest is `fut.cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert!(evloop::run(rx).is_err());
    /// ```
    pub fn close(&mut self) {
        self.shared.lock().receiver_closed = true;
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.shared.lock();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.sender_done || slot.receiver_closed {
            return Poll::Ready(Err(RecvError(())));
        }
        match &mut slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Take the value out under the lock, drop it after: its destructor
        // is user code.
        let value = {
            let mut slot = self.shared.lock();
            slot.receiver_closed = true;
            slot.waker = None;
            slot.value.take()
        };
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.shared.lock();
        f.debug_struct("oneshot::Receiver")
            .field("has_value", &slot.value.is_some())
            .field("sender_done", &slot.sender_done)
            .field("closed", &slot.receiver_closed)
            .finish()
    }
}

/// Awaiting a [`Receiver`] failed: the sender was dropped without sending.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// let err = evloop::run(rx).unwrap_err();
/// assert_eq!(err.to_string(), "oneshot: the sender was dropped without sending a value");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot: the sender was dropped without sending a value")
    }
}

impl std::error::Error for RecvError {}

/// [`Receiver::try_recv`] found no value.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u32>();
/// assert_eq!(rx.try_recv().unwrap_err().to_string(), "oneshot: no value has been sent yet");
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing has been sent yet; the sender is still there.
    Empty,
    /// Nothing will come: the sender was dropped without sending, or the
    /// value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("oneshot: no value has been sent yet"),
            TryRecvError::Closed => f.write_str(
                "oneshot: no value will come (the sender was dropped, or the value was taken)",
            ),
        }
    }
}

impl std::error::Error for TryRecvError {}
