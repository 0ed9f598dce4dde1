//! Coordination between tasks: [`Semaphore`], [`oneshot`] and the bounded
//! [`mpsc`] channel.
//!
//! | evloop | what it is for | asyncio | tokio |
//! | --- | --- | --- | --- |
//! | [`Semaphore`] | at most N at a time (downloads, connections) | `asyncio.Semaphore(n)` | `tokio::sync::Semaphore` |
//! | [`oneshot::channel`] | one value, handed over once, from anywhere | `loop.create_future()` + `set_result` | `tokio::sync::oneshot` |
//! | [`mpsc::channel`] | a stream of items with back-pressure, many producers | `asyncio.Queue(maxsize)` | `tokio::sync::mpsc::channel` |
//! | [`Mutex`] | one task at a time, guard held across `.await` | `asyncio.Lock()` | `tokio::sync::Mutex` |
//! | [`Notify`] | wake one waiter or all, no data | `asyncio.Condition.notify` (without the lock) | `tokio::sync::Notify` |
//! | [`Event`] | a flag tasks wait for | `asyncio.Event()` | (`Notify` plus a flag) |
//!
//! - **[`Semaphore`]** hands out permits as guards that give themselves back
//!   when dropped, whatever way the holder leaves (error, panic, abort).
//!   Waiters are served first come, first served; a released permit is
//!   *assigned* to the oldest waiter at once (handoff), so a newcomer never
//!   jumps the queue and a waiter cancelled after being woken passes its
//!   permits on instead of losing them.
//! - **[`oneshot`]** is the settable future: whoever holds the
//!   [`oneshot::Sender`] (a task, a callback, a plain std thread) sends one
//!   value; the [`oneshot::Receiver`] *is* a future of it. A sender dropped
//!   without sending is an error the receiver sees, not a hang.
//! - **[`mpsc`]** is a bounded queue: `send` waits while it is full, so a
//!   fast producer cannot run ahead of a slow consumer by more than the
//!   capacity. It is a `VecDeque` plus a [`Semaphore`] of free slots, so its
//!   waiting senders inherit the semaphore's fairness and cancel safety. Its
//!   receiver is also a `futures_core::Stream`.
//! - **[`Mutex`]** is a [`Semaphore`] of one permit in front of the value,
//!   so it is fair and cancel safe the same way: the lock is handed to the
//!   oldest waiter, and a waiter cancelled after being handed it passes it
//!   on. Its guard may be held across `.await`.
//! - **[`Notify`]** wakes the oldest waiter
//!   ([`notify_one`](Notify::notify_one)) or all current ones
//!   ([`notify_waiters`](Notify::notify_waiters)). The missed-notification
//!   rule: a `notify_one` with nobody waiting is kept as one permit for the
//!   next waiter; `notify_waiters` keeps nothing.
//! - **[`Event`]** is asyncio's: [`set`](Event::set) releases every waiter
//!   and the flag stays up for later ones until [`clear`](Event::clear).
//!
//! The oneshot, the channel and the semaphore are built on `std::sync::Mutex` and `Waker` only (no `unsafe`),
//! so they work between tasks on the loop and with other threads: a std
//! thread can send on a oneshot or a channel, and the wake reaches the
//! parked loop. Locks are held for a few instructions; wakers are collected
//! under the lock and woken after it is released.
//!
//! # Examples
//!
//! A worker thread reports through a oneshot while tasks feed a channel:
//!
//! ```
//! use evloop::sync::{mpsc, oneshot};
//!
//! evloop::run(async {
//!     let (done_tx, done_rx) = oneshot::channel();
//!     std::thread::spawn(move || done_tx.send("thread finished").unwrap());
//!
//!     let (tx, mut rx) = mpsc::channel(2);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         evloop::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx);
//!     let mut ids = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         ids.push(id);
//!     }
//!     ids.sort();
//!     assert_eq!(ids, [0, 1, 2]);
//!     assert_eq!(done_rx.await.unwrap(), "thread finished");
//! });
//! ```

mod event;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod semaphore;

pub use event::{Event, Wait};
pub use mutex::{Lock, Mutex, MutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use semaphore::{
    Acquire, AcquireError, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit,
    TryAcquireError,
};
