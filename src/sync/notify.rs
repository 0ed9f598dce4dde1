//! [`Notify`]: wake one waiting task, or all of them, with no data attached
//! (tokio's `Notify`; the building block under [`Event`](super::Event)).
//!
//! # The missed-notification rule
//!
//! A wake-up sent when nobody is waiting must not simply vanish, or every
//! "check, then wait" would race with the notifier. So:
//!
//! - [`notify_one`](Notify::notify_one) with no task waiting **stores one
//!   permit**; the next [`notified`](Notify::notified) consumes it and
//!   returns at once. Permits do not add up: two `notify_one` calls with
//!   nobody waiting store one permit, not two.
//! - [`notify_waiters`](Notify::notify_waiters) wakes every `Notified` that
//!   exists at the time of the call (polled yet or not) and **stores
//!   nothing**: a `Notified` created after it waits for the next one.
//!
//! # How it works
//!
//! One `std::sync::Mutex` guards a permit flag, a count of `notify_waiters`
//! calls, and the waiters in arrival order (a `BTreeMap` keyed by a growing
//! ticket, as in the semaphore). A notification is *assigned* when it is
//! sent: the waiter moves from the queue to a `notified` map, noting whether
//! it was picked by `notify_one` or released by `notify_waiters`, and is
//! woken. When it polls, it finds itself there and returns `Ready`.
//!
//! That bookkeeping is what makes cancellation lose nothing: a waiter
//! dropped while queued just leaves the queue; a waiter picked by
//! `notify_one` and dropped before it ran passes the notification on, to the
//! next waiter or, if there is none, as the stored permit.
//!
//! Wakers are collected under the lock and woken after it is released.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Wakes tasks that wait for "something happened", with no data attached
/// (tokio's `Notify`; asyncio's `Condition.notify` without the lock).
///
/// The module docs state the missed-notification rule; in short,
/// [`notify_one`](Notify::notify_one) is never lost (it is kept as a permit
/// when nobody waits) and [`notify_waiters`](Notify::notify_waiters) is for
/// those waiting now only.
///
/// It is `Send + Sync`: a plain std thread may notify a task on the loop.
///
/// # Examples
///
/// The missed-notification rule, asserted: a `notify_one` sent before
/// anyone waits is kept, so the later wait returns at once.
///
/// ```
/// use std::sync::Arc;
/// use evloop::sync::Notify;
///
/// evloop::run(async {
///     let notify = Arc::new(Notify::new());
///     let sender = notify.clone();
///     // A thread notifies, maybe before the task below waits: nothing is lost.
///     std::thread::spawn(move || sender.notify_one()).join().unwrap();
///     notify.notified().await; // consumes the stored permit
///     assert!(!notify.has_permit());
/// });
/// ```
///
/// `notify_waiters` wakes those waiting now, and stores nothing for later:
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Notify;
///
/// evloop::run(async {
///     let notify = Rc::new(Notify::new());
///     let waiters: Vec<_> = (0..3)
///         .map(|_| {
///             let notify = notify.clone();
///             evloop::spawn(async move { notify.notified().await })
///         })
///         .collect();
///     evloop::yield_now().await; // the three start waiting
///     notify.notify_waiters();
///     for w in waiters {
///         w.await.unwrap(); // all three were woken
///     }
///     assert!(!notify.has_permit()); // a later `notified()` would wait
/// });
/// ```
pub struct Notify {
    state: Mutex<State>,
}

/// Everything the lock guards.
#[derive(Debug)]
struct State {
    /// A `notify_one` that found nobody waiting. Never set while `queue` is
    /// non-empty: a waiter queues only when there is no permit, and a
    /// `notify_one` with a waiter queued goes to it.
    permit: bool,
    /// How many times `notify_waiters` was called. A `Notified` remembers
    /// the count when it is created; a different count at its first poll
    /// means a `notify_waiters` happened in between, which was for it too.
    waiters_calls: u64,
    /// The ticket the next waiter gets; tickets only grow, so the map's
    /// order is arrival order.
    next_ticket: u64,
    /// Waiters not yet notified, oldest first.
    queue: BTreeMap<u64, Waker>,
    /// Waiters notified but not yet polled since: ticket -> by what.
    notified: HashMap<u64, By>,
}

/// What notified a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// `notify_one` picked it: the notification is its alone, and must be
    /// passed on if it is dropped unused.
    One,
    /// `notify_waiters` released it along with everyone else: nothing to
    /// pass on.
    All,
}

impl State {
    /// One `notify_one`: the oldest waiter gets it, or it is kept as the
    /// permit. Returns the waker to wake once the lock is released.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.queue.pop_first() {
            Some((ticket, waker)) => {
                self.notified.insert(ticket, By::One);
                Some(waker)
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Notify {
    /// A `Notify` with no permit stored and nobody waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = evloop::sync::Notify::new();
    /// assert!(!notify.has_permit());
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters_calls: 0,
                next_ticket: 0,
                queue: BTreeMap::new(),
                notified: HashMap::new(),
            }),
        }
    }

    /// Locks the state. No user code runs under the lock, so it cannot be
    /// poisoned in practice; if it were, the state is still consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// It counts as waiting for [`notify_waiters`](Notify::notify_waiters)
    /// from the moment it is created; for
    /// [`notify_one`](Notify::notify_one), from its first poll (before
    /// that, a `notify_one` is kept as the permit, which the first poll then
    /// takes). See [`Notified`] for when it is woken and what dropping it
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use evloop::sync::Notify;
    ///
    /// evloop::run(async {
    ///     let notify = Rc::new(Notify::new());
    ///     let waiter = {
    ///         let notify = notify.clone();
    ///         evloop::spawn(async move {
    ///             notify.notified().await;
    ///             "woken"
    ///         })
    ///     };
    ///     evloop::yield_now().await; // it waits
    ///     notify.notify_one();
    ///     assert_eq!(waiter.await.unwrap(), "woken");
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        let waiters_calls = self.lock().waiters_calls;
        Notified {
            notify: self,
            waiters_calls,
            ticket: None,
            done: false,
        }
    }

    /// Wakes the task that has waited longest; if none waits, stores one
    /// permit for the next [`notified`](Notify::notified) (the
    /// missed-notification rule). A permit already stored stays one permit.
    ///
    /// # Examples
    ///
    /// Two calls with nobody waiting store one permit, not two:
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use std::pin::pin;
    /// use evloop::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_one();
    /// notify.notify_one();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(pin!(notify.notified()).poll(&mut cx), Poll::Ready(()));
    /// assert_eq!(pin!(notify.notified()).poll(&mut cx), Poll::Pending);
    /// ```
    pub fn notify_one(&self) {
        let waker = self.lock().notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now, that is every [`Notified`] already
    /// created (polled or not). Stores no permit: a `notified()` created
    /// after this call waits for the next notification. A permit stored
    /// earlier by [`notify_one`](Notify::notify_one) stays stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use std::pin::pin;
    /// use evloop::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut before = pin!(notify.notified()); // exists, never polled yet
    /// notify.notify_waiters();
    /// let mut after = pin!(notify.notified());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(before.as_mut().poll(&mut cx), Poll::Ready(()));
    /// assert_eq!(after.as_mut().poll(&mut cx), Poll::Pending);
    /// ```
    pub fn notify_waiters(&self) {
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            state.waiters_calls += 1;
            let queue = std::mem::take(&mut state.queue);
            let mut wakers = Vec::with_capacity(queue.len());
            for (ticket, waker) in queue {
                state.notified.insert(ticket, By::All);
                wakers.push(waker);
            }
            wakers
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether a `notify_one` permit is stored (sent while nobody waited,
    /// not yet consumed).
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = evloop::sync::Notify::new();
    /// notify.notify_one();
    /// assert!(notify.has_permit());
    /// ```
    pub fn has_permit(&self) -> bool {
        self.lock().permit
    }

    /// One poll of a `Notified`: the whole protocol of a wait.
    fn poll_wait(&self, wait: &mut Notified<'_>, cx: &mut Context<'_>) -> Poll<()> {
        if wait.done {
            return Poll::Ready(());
        }
        let mut state = self.lock();
        match wait.ticket {
            None => {
                // First poll. A `notify_waiters` since creation was for us.
                if state.waiters_calls != wait.waiters_calls {
                    wait.done = true;
                    return Poll::Ready(());
                }
                // A `notify_one` that nobody was waiting for: ours now.
                if state.permit {
                    state.permit = false;
                    wait.done = true;
                    return Poll::Ready(());
                }
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.queue.insert(ticket, cx.waker().clone());
                wait.ticket = Some(ticket);
                Poll::Pending
            }
            Some(ticket) => {
                if state.notified.remove(&ticket).is_some() {
                    wait.done = true;
                    return Poll::Ready(());
                }
                let waker = state
                    .queue
                    .get_mut(&ticket)
                    .expect("a queued waiter leaves the queue only by being notified");
                // A spurious poll; keep the newest waker.
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                Poll::Pending
            }
        }
    }

    /// A `Notified` dropped before it completed: leave the queue, or pass on
    /// a `notify_one` it was picked for.
    fn cancel_wait(&self, wait: &Notified<'_>) {
        let Some(ticket) = wait.ticket else {
            return; // never queued: nothing was assigned to it
        };
        if wait.done {
            return; // it returned Ready: the notification was used
        }
        let waker = {
            let mut state = self.lock();
            if state.queue.remove(&ticket).is_some() {
                None // still waiting: just leave
            } else {
                match state.notified.remove(&ticket) {
                    // Picked by `notify_one`, never ran: pass it on.
                    Some(By::One) => state.notify_one(),
                    // Released with everyone by `notify_waiters`: nothing to pass.
                    Some(By::All) | None => None,
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.queue.len())
            .finish()
    }
}

/// The future of [`Notify::notified`].
///
/// Returns `Pending` until a notification is assigned to it: the
/// [`notify_one`](Notify::notify_one) that picks it (the oldest waiter is
/// picked first), a [`notify_waiters`](Notify::notify_waiters) called after
/// it was created, or, at its first poll, a permit stored earlier. The task
/// that notifies wakes it. Polled again after `Ready`, it returns `Ready`
/// again.
///
/// Cancel safety: dropping it at any point loses no notification. Queued,
/// it leaves the queue. Picked by `notify_one` and dropped before it ran, it
/// passes the notification to the next waiter, or stores it as the permit
/// if there is none. Released by `notify_waiters`, it has nothing to pass
/// on (that wake was for everyone).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `Notify::waiters_calls` when this was created.
    waiters_calls: u64,
    /// Set at the first poll that had to wait.
    ticket: Option<u64>,
    /// Returned `Ready`.
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let notify = this.notify;
        notify.poll_wait(this, cx)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.notify.cancel_wait(self);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("queued", &self.ticket.is_some())
            .field("done", &self.done)
            .finish()
    }
}
