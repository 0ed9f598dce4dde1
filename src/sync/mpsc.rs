//! A bounded multi-producer, single-consumer channel: a queue between tasks
//! (or threads) with back-pressure. It is asyncio's `Queue(maxsize)` and
//! tokio's `sync::mpsc::channel`, under tokio's path and names.
//!
//! [`channel`] makes the two ends. Many [`Sender`]s (it is `Clone`), one
//! [`Receiver`], which is also a [`Stream`] of the
//! items, so the combinators of `futures-util` and friends work on it. There
//! is no unbounded channel on purpose: back-pressure is the point.
//!
//! # How it works
//!
//! The channel is two things side by side:
//!
//! - the items: a `VecDeque` behind a `std::sync::Mutex`, with the count of
//!   live senders, a "closed" flag and the receiver's waker;
//! - the free slots: a [`Semaphore`] with `capacity` permits.
//!
//! A send first acquires a slot permit (waiting, in FIFO order with the other
//! senders, while the channel is full), then pushes its item and *forgets*
//! the permit: the slot now belongs to the item. A receive pops an item and
//! adds one permit back, which the semaphore hands to the oldest waiting
//! sender. So everything the semaphore promises, fairness and safe
//! cancellation, the channel gets for free: a cancelled send leaves no ghost
//! slot behind (its `Acquire` gives back what it was handed), and closing
//! the receiver closes the semaphore, which fails every waiting sender.
//!
//! # Examples
//!
//! Producers on the loop, the consumer reading the receiver as a stream:
//!
//! ```
//! use evloop::sync::mpsc;
//! use futures_util::StreamExt;
//!
//! evloop::run(async {
//!     let (tx, rx) = mpsc::channel(2);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         evloop::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx); // the stream ends once the spawned senders are gone too
//!     let mut ids: Vec<u32> = rx.map(|id| id * 10).collect().await;
//!     ids.sort();
//!     assert_eq!(ids, [0, 10, 20]);
//! });
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use futures_core::{FusedStream, Stream};

use super::semaphore::{Acquire, Semaphore, TryAcquireError};

/// Makes a bounded channel that holds at most `capacity` items (asyncio's
/// `Queue(maxsize=capacity)`, tokio's `mpsc::channel(capacity)`).
///
/// A capacity above [`Semaphore::MAX_PERMITS`] (an eighth of `usize::MAX`)
/// is taken as that maximum, which no queue reaches.
///
/// # Panics
///
/// If `capacity` is 0. A channel that can hold nothing could never pass
/// anything on, and asyncio's `Queue(0)` ("unbounded") has no counterpart:
/// evloop has no unbounded channel on purpose. The capacity is almost always
/// a constant of the program, so a zero is a bug to fix rather than an
/// error to handle, and tokio panics in the same place.
///
/// ```should_panic
/// // panics: "evloop::sync::mpsc::channel: the capacity must be at least 1, got 0 ..."
/// let _ = evloop::sync::mpsc::channel::<u8>(0);
/// ```
///
/// # Examples
///
/// ```
/// use evloop::sync::mpsc::channel;
///
/// evloop::run(async {
///     let (tx, mut rx) = channel(8);
///     let producer = evloop::spawn(async move {
///         for i in 0..3 {
///             tx.send(i).await.unwrap();
///         }
///         // `tx` drops here: the receiver sees the end.
///     });
///     let mut got = Vec::new();
///     while let Some(i) = rx.recv().await {
///         got.push(i);
///     }
///     producer.await.unwrap();
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "evloop::sync::mpsc::channel: the capacity must be at least 1, got 0 \
         (a channel that holds nothing cannot pass anything on; \
         evloop has no unbounded channel)"
    );
    let capacity = capacity.min(Semaphore::MAX_PERMITS);
    let shared = Arc::new(Shared {
        slots: Semaphore::new(capacity),
        capacity,
        state: Mutex::new(State {
            items: VecDeque::with_capacity(capacity.min(1024)),
            senders: 1,
            closed: false,
            receiver_waker: None,
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// What every end shares.
struct Shared<T> {
    /// One permit per free slot.
    slots: Semaphore,
    /// The channel's capacity (at least 1, at most `Semaphore::MAX_PERMITS`).
    capacity: usize,
    state: Mutex<State<T>>,
}

/// The items and the ends' bookkeeping, under the lock.
struct State<T> {
    items: VecDeque<T>,
    /// Live `Sender`s; at zero the receiver sees the end once `items` drain.
    senders: usize,
    /// The receiver closed or dropped: sends fail.
    closed: bool,
    /// The task waiting in `recv`.
    receiver_waker: Option<Waker>,
}

impl<T> Shared<T> {
    /// Locks the state. No user code runs under the lock (items are dropped
    /// and wakers woken after release), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pushes an item whose slot permit was already taken (and forgotten),
    /// and wakes the receiver.
    fn push(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut state = self.lock();
            if state.closed {
                // The receiver closed between our permit and now.
                return Err(SendError(value));
            }
            state.items.push_back(value);
            state.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Closes the receiving side: no more sends; queued items stay.
    fn close(&self) {
        self.lock().closed = true;
        // Fails every waiting sender (and wakes them), then every later one.
        self.slots.close();
    }
}

/// The sending half of a [`channel`]. Clone it for more producers; it is
/// `Send` when `T` is, so a producer may also be a std thread
/// ([`try_send`](Sender::try_send), [`blocking_send`](Sender::blocking_send)).
///
/// When the last sender is dropped, the receiver drains what is queued and
/// then gets `None`.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends an item, waiting while the channel is full (asyncio's
    /// `await queue.put(item)`). Waiting senders go in arrival order.
    ///
    /// # Errors
    ///
    /// [`SendError`], carrying the item back, if the receiver is closed or
    /// dropped, before or while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::mpsc::channel;
    /// use evloop::time::{sleep, Instant};
    ///
    /// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = channel(1);
    ///     tx.send("first").await.unwrap(); // fits
    ///     let start = Instant::now();
    ///     let consumer = evloop::spawn(async move {
    ///         sleep(Duration::from_secs(2)).await;
    ///         (rx.recv().await, rx.recv().await)
    ///     });
    ///     tx.send("second").await.unwrap(); // waits for the consumer
    ///     assert_eq!(start.elapsed(), Duration::from_secs(2));
    ///     assert_eq!(consumer.await.unwrap(), (Some("first"), Some("second")));
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            shared: &self.shared,
            slot: self.shared.slots.acquire(),
            value: Some(value),
        }
    }

    /// Sends an item if there is a free slot and no sender is waiting for
    /// one; never waits. Works from any thread.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] (no free slot, or other senders wait first) or
    /// [`TrySendError::Closed`] (the receiver is gone), each with the item.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::mpsc::{channel, TrySendError};
    ///
    /// let (tx, _rx) = channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.shared.slots.try_acquire() {
            Ok(permit) => {
                permit.forget();
                self.shared
                    .push(value)
                    .map_err(|SendError(value)| TrySendError::Closed(value))
            }
            Err(TryAcquireError::NoPermits { .. }) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed { .. }) => Err(TrySendError::Closed(value)),
        }
    }

    /// Sends from a plain thread, blocking the thread while the channel is
    /// full. It parks the calling thread; use it only outside the loop.
    ///
    /// # Errors
    ///
    /// [`SendError`], with the item, if the receiver is gone.
    ///
    /// # Panics
    ///
    /// If called on a thread that is running an evloop runtime (inside a
    /// task or `block_on`): blocking there would freeze the loop, and with it
    /// the receiver this call waits for. Use `send(..).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::mpsc::channel;
    ///
    /// let (tx, mut rx) = channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.blocking_send(i).unwrap(); // waits while the channel is full
    ///     }
    /// });
    /// let got = evloop::run(async move {
    ///     let mut got = Vec::new();
    ///     while let Some(i) = rx.recv().await {
    ///         got.push(i);
    ///     }
    ///     got
    /// });
    /// producer.join().unwrap();
    /// assert_eq!(got, [0, 1, 2]);
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        if crate::runtime::handle::in_runtime() {
            panic!(
                "evloop: Sender::blocking_send called on a runtime thread, at {}; \
                 it would block the loop: use `send(value).await` instead",
                std::panic::Location::caller()
            );
        }
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut send = self.send(value);
        loop {
            if let Poll::Ready(result) = Pin::new(&mut send).poll(&mut cx) {
                return result;
            }
            // A wake that came before this park leaves the token set, so
            // park returns at once: no wake-up is lost. Spurious returns
            // just poll again.
            std::thread::park();
        }
    }

    /// Whether the receiver is closed or dropped, so sends would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = evloop::sync::mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Items queued now (asyncio's `qsize()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = evloop::sync::mpsc::channel(4);
    /// tx.try_send('a').unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.lock().items.len()
    }

    /// Whether no item is queued (asyncio's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = evloop::sync::mpsc::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the channel holds (asyncio's `maxsize`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = evloop::sync::mpsc::channel::<u8>(4);
    /// assert_eq!(tx.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.receiver_waker.take()
        };
        // The last sender: wake the receiver to see the end.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("len", &self.len())
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

/// Wakes a thread parked in [`Sender::blocking_send`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The future of [`Sender::send`].
///
/// Returns `Pending` while every slot is full (or other senders wait first);
/// the receiver wakes it when it frees a slot that is handed to this send,
/// and closing the receiver wakes it with an error.
///
/// Cancel safety: dropping it before it completes means the item was *not*
/// sent (it is dropped with the future) and no slot is lost: one that was
/// already handed to it passes to the next waiting sender. Dropping it does
/// lose its place among the waiting senders.
///
/// # Panics
///
/// If polled again after it returned `Ready`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SendFuture<'a, T> {
    shared: &'a Shared<T>,
    slot: Acquire<'a>,
    value: Option<T>,
}

// The item is only ever moved, never pinned in place, so the future may move
// freely whatever `T` is.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // Step 1: a slot (Pending while full; FIFO among senders).
        let acquired = match Pin::new(&mut this.slot).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(acquired) => acquired,
        };
        let value = this
            .value
            .take()
            .expect("SendFuture polled after it completed");
        match acquired {
            Ok(permit) => {
                // Step 2: the slot now belongs to the item until `recv` pops
                // it and adds the permit back.
                permit.forget();
                Poll::Ready(self.shared.push(value))
            }
            // The semaphore is closed only when the receiver is.
            Err(_) => Poll::Ready(Err(SendError(value))),
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("slot", &self.slot)
            .field("has_value", &self.value.is_some())
            .finish()
    }
}

/// The receiving half of a [`channel`].
///
/// Take items with [`recv`](Receiver::recv), or read the receiver as a
/// [`Stream`] of them (see the `impl Stream` below): it ends, yielding
/// `None`, once every sender is gone (or the receiver closed) and the queue
/// is drained.
///
/// Dropping it closes the channel: waiting and later sends fail, and the
/// items still queued are dropped.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the next item (asyncio's `await queue.get()`). `None` once
    /// every sender is gone (or the receiver closed) and the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::mpsc::channel;
    ///
    /// evloop::run(async {
    ///     let (tx, mut rx) = channel(2);
    ///     tx.send(7).await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Some(7));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// Polls for the next item: the step that [`recv`](Receiver::recv) and
    /// the [`Stream`] impl both take, for code that writes its own `Future`
    /// or `Stream` around a receiver.
    ///
    /// Returns `Ready(Some(item))` if one is queued, `Ready(None)` once
    /// every sender is gone (or the receiver closed) and the queue is empty,
    /// and otherwise `Pending`, after storing `cx`'s waker: the next send,
    /// or the last sender's drop, wakes it. Only the waker of the latest
    /// `Pending` poll is kept (there is one receiver).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use evloop::sync::mpsc::channel;
    ///
    /// evloop::run(async {
    ///     let (tx, mut rx) = channel(1);
    ///     tx.send('x').await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some('x'));
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, None);
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let item = {
            let mut state = self.shared.lock();
            match state.items.pop_front() {
                Some(item) => item,
                None if state.senders == 0 || state.closed => return Poll::Ready(None),
                None => {
                    match &mut state.receiver_waker {
                        Some(waker) if waker.will_wake(cx.waker()) => {}
                        other => *other = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        // The slot is free again: the oldest waiting sender gets it.
        self.shared.slots.add_permits(1);
        Poll::Ready(Some(item))
    }

    /// Takes the next item if one is queued; never waits (asyncio's
    /// `get_nowait()`).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is queued but senders remain,
    /// [`TryRecvError::Disconnected`] if nothing is queued and nothing can
    /// come (every sender gone, or the receiver closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::mpsc::{channel, TryRecvError};
    ///
    /// let (tx, mut rx) = channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let popped = {
            let mut state = self.shared.lock();
            match state.items.pop_front() {
                Some(item) => Ok(item),
                None if state.senders == 0 || state.closed => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        };
        if popped.is_ok() {
            // The slot is free again: the oldest waiting sender gets it.
            self.shared.slots.add_permits(1);
        }
        popped
    }

    /// Closes the channel for senders: waiting and later sends fail with
    /// the item given back. Items already queued can still be received;
    /// after them, `recv` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::mpsc::channel;
    ///
    /// evloop::run(async {
    ///     let (tx, mut rx) = channel(2);
    ///     tx.send(1).await.unwrap();
    ///     rx.close();
    ///     assert!(tx.send(2).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        self.shared.close();
    }

    /// Items queued now (asyncio's `qsize()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = evloop::sync::mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.lock().items.len()
    }

    /// Whether no item is queued (asyncio's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = evloop::sync::mpsc::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the channel holds (asyncio's `maxsize`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = evloop::sync::mpsc::channel::<u8>(3);
    /// assert_eq!(rx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.close();
        // Drop the queued items outside the lock: their destructors are
        // user code.
        let items = std::mem::take(&mut self.shared.lock().items);
        drop(items);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

/// The receiver as a stream of the items: `poll_next` is
/// [`poll_recv`](Receiver::poll_recv).
///
/// - **Pending**: while the queue is empty and a sender remains. The next
///   send wakes the task that polled last, and so does the last sender's
///   drop, after which the stream yields `None`.
/// - **End**: `None` once every sender is gone (or the receiver closed) and
///   the queue is drained; it stays ended (the stream is fused, and says so
///   through [`FusedStream`]).
/// - **Cancel safety**: a `next()` (or any combinator's poll) dropped midway
///   loses nothing: an item leaves the queue only in the poll that returns
///   it.
/// - **`size_hint`**: at least the items queued now (only this receiver
///   takes them); at most that many too once no sender is left.
///
/// # Examples
///
/// ```
/// use evloop::sync::mpsc::channel;
/// use futures_util::StreamExt;
///
/// evloop::run(async {
///     let (tx, rx) = channel(4);
///     evloop::spawn(async move {
///         for word in ["one", "two", "three"] {
///             tx.send(word).await.unwrap();
///         }
///     });
///     let lengths: Vec<usize> = rx.map(str::len).collect().await;
///     assert_eq!(lengths, [3, 3, 5]);
/// });
/// ```
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let state = self.shared.lock();
        let queued = state.items.len();
        if state.senders == 0 || state.closed {
            (queued, Some(queued))
        } else {
            (queued, None)
        }
    }
}

impl<T> FusedStream for Receiver<T> {
    /// Whether the stream has ended: nothing is queued and nothing can come.
    fn is_terminated(&self) -> bool {
        let state = self.shared.lock();
        state.items.is_empty() && (state.senders == 0 || state.closed)
    }
}

/// The future of [`Receiver::recv`].
///
/// Returns `Pending` while the queue is empty and a sender remains; a send,
/// or the last sender's drop, wakes it.
///
/// Cancel safety: dropping it loses nothing. An item leaves the queue only
/// in the poll that returns it, so a `recv` dropped midway (say, in a
/// [`select`](crate::select) whose other side won) leaves the item for the
/// next `recv`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.receiver.poll_recv(cx)
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("receiver", &self.receiver)
            .finish()
    }
}

/// [`Sender::send`] failed: the receiver is closed or dropped. The item is
/// inside; [`into_inner`](SendError::into_inner) takes it back.
///
/// # Examples
///
/// ```
/// use evloop::sync::mpsc::channel;
///
/// let (tx, rx) = channel(1);
/// drop(rx);
/// let err = evloop::run(tx.send("lost?")).unwrap_err();
/// assert_eq!(err.to_string(), "channel: cannot send, the receiver is closed");
/// assert_eq!(err.into_inner(), "lost?"); // no: here it is
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel: cannot send, the receiver is closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// [`Sender::try_send`] failed; the item is inside.
///
/// # Examples
///
/// ```
/// use evloop::sync::mpsc::{channel, TrySendError};
///
/// let (tx, rx) = channel(1);
/// tx.try_send(1).unwrap();
/// let full = tx.try_send(2).unwrap_err();
/// assert_eq!(full.to_string(), "channel: cannot send without waiting, the channel is full");
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// Every slot is taken, or other senders wait first.
    Full(T),
    /// The receiver is closed or dropped.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => {
                f.write_str("channel: cannot send without waiting, the channel is full")
            }
            TrySendError::Closed(_) => f.write_str("channel: cannot send, the receiver is closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// [`Receiver::try_recv`] found no item.
///
/// # Examples
///
/// ```
/// let (_tx, mut rx) = evloop::sync::mpsc::channel::<u8>(1);
/// assert_eq!(rx.try_recv().unwrap_err().to_string(), "channel: no item is queued");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is queued; senders remain.
    Empty,
    /// Nothing is queued and nothing will come: every sender is gone or the
    /// receiver was closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel: no item is queued"),
            TryRecvError::Disconnected => {
                f.write_str("channel: no item is queued and every sender is gone")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}
