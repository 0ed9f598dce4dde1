//! [`Semaphore`]: at most N at a time, fairly (asyncio's `Semaphore`).
//!
//! A semaphore holds a number of permits. [`acquire`](Semaphore::acquire)
//! waits until one is free and returns a guard, a [`SemaphorePermit`], that
//! gives it back when dropped, whatever way the holder leaves: return, `?`,
//! panic, or the task being aborted.
//!
//! # How it works: handoff
//!
//! Everything sits behind one `std::sync::Mutex`: the count of free permits
//! and a queue of waiters in arrival order (a `BTreeMap` keyed by a ticket
//! number that only grows). Two rules keep it fair and make cancellation easy
//! to reason about:
//!
//! 1. **A released permit is assigned to the head waiter at release time**,
//!    not left lying around for whoever polls first. A waiter whose request is
//!    complete moves to the `granted` map and is woken; when it next polls,
//!    the permits are already its own.
//! 2. **While anyone waits, no permit is free**: a request at the head that
//!    cannot be filled yet keeps what it has been assigned so far. So a new
//!    `acquire` never jumps ahead of a waiter, and a big `acquire_many` at the
//!    head is not starved by a stream of small ones.
//!
//! Cancellation is then a bookkeeping step in `Drop`: a waiter still queued
//! leaves the queue and gives back what it was assigned; a waiter already
//! granted (woken but not yet polled) gives back its whole grant. Either way
//! the permits go to the next waiter, so no wake-up is ever lost. (asyncio had
//! exactly this bug once: a task cancelled just after being woken swallowed
//! the wake-up, and the next waiter slept for ever.)
//!
//! Wakers are collected under the lock and woken after it is released, so a
//! waker that runs code (or takes another lock) never does so inside ours.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A counting semaphore with fair, first-come-first-served waiting
/// (asyncio's `Semaphore`, tokio's `Semaphore`).
///
/// It is `Send + Sync`: share it between tasks with a reference (the tasks of
/// a [`join_all`](crate::join_all)), an `Rc`, or an `Arc` (for
/// [`acquire_owned`](Semaphore::acquire_owned) and spawned tasks).
///
/// # Examples
///
/// At most two of five tasks are inside the guarded section at once:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use evloop::sync::Semaphore;
/// use evloop::time::{sleep, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let inside = Rc::new(Cell::new(0));
///     let most = Rc::new(Cell::new(0));
///     let start = Instant::now();
///     let tasks: Vec<_> = (0..5)
///         .map(|_| {
///             let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
///             evloop::spawn(async move {
///                 let _permit = sem.acquire().await.unwrap();
///                 inside.set(inside.get() + 1);
///                 most.set(most.get().max(inside.get()));
///                 sleep(Duration::from_secs(1)).await;
///                 inside.set(inside.get() - 1);
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(most.get(), 2);
///     assert_eq!(start.elapsed(), Duration::from_secs(3)); // 2 + 2 + 1
/// });
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

/// Everything the lock guards.
#[derive(Debug)]
struct State {
    /// Permits nobody holds and no waiter has been assigned. Zero whenever
    /// `queue` is not empty (rule 2 of the module docs).
    free: usize,
    /// Set by `close`; never cleared.
    closed: bool,
    /// The ticket the next waiter gets. Tickets only grow, so the map's
    /// order is arrival order.
    next_ticket: u64,
    /// Waiters whose request is not complete yet, oldest first.
    queue: BTreeMap<u64, Waiter>,
    /// Waiters whose request is complete but who have not polled since:
    /// ticket -> permits granted.
    granted: HashMap<u64, usize>,
}

/// One queued `acquire`.
#[derive(Debug)]
struct Waiter {
    /// How many permits it asked for.
    wanted: usize,
    /// How many it has been assigned so far (only the head has any).
    assigned: usize,
    /// Who to wake when the request is complete (or the semaphore closes).
    waker: Waker,
}

/// Wakers to wake once the lock is released.
type Wakeups = Vec<Waker>;

impl State {
    /// Hands free permits to the waiters at the head of the queue, in order,
    /// and collects the wakers of those whose request is now complete.
    fn hand_off(&mut self, wakeups: &mut Wakeups) {
        while self.free > 0 {
            let Some(mut head) = self.queue.first_entry() else {
                return;
            };
            let waiter = head.get_mut();
            let give = self.free.min(waiter.wanted - waiter.assigned);
            waiter.assigned += give;
            self.free -= give;
            if waiter.assigned < waiter.wanted {
                // The head keeps what it got and waits for more; nobody may
                // pass it (rule 2), so stop here.
                return;
            }
            let (ticket, waiter) = head.remove_entry();
            self.granted.insert(ticket, waiter.wanted);
            wakeups.push(waiter.waker);
        }
    }

    /// Adds permits, never past [`Semaphore::MAX_PERMITS`].
    fn add_free(&mut self, n: usize) {
        self.free = self.free.saturating_add(n).min(Semaphore::MAX_PERMITS);
    }
}

/// Wakes every collected waker; called with no lock held.
fn wake_all(wakeups: Wakeups) {
    for waker in wakeups {
        waker.wake();
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    ///
    /// [`Semaphore::new`] and [`Semaphore::add_permits`] never go past it:
    /// extra permits are not added (the limit is far beyond any real use).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    /// let sem = Semaphore::new(usize::MAX);
    /// assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits (at most
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS)).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                free: permits.min(Semaphore::MAX_PERMITS),
                closed: false,
                next_ticket: 0,
                queue: BTreeMap::new(),
                granted: HashMap::new(),
            }),
        }
    }

    /// Locks the state. A panic can never happen while the lock is held (no
    /// user code runs under it), but if one did, the state is still
    /// consistent, so poisoning is ignored: a permit dropped during
    /// unwinding must still be able to give itself back.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for one permit (asyncio's `async with sem:`).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed, before or while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once. The request waits its turn like any
    /// other: while it is at the head of the queue, released permits are
    /// set aside for it until it has all `n`, so later small requests cannot
    /// starve it. A request for more than the semaphore will ever hold waits
    /// until [`add_permits`](Semaphore::add_permits) or
    /// [`close`](Semaphore::close). `n == 0` succeeds at once.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed, before or while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Semaphore::new(5);
    ///     let three = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(three.num_permits(), 3);
    ///     assert_eq!(sem.available_permits(), 2);
    /// });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            request: Request::new(n),
        }
    }

    /// Waits for one permit that owns a handle to the semaphore, so it can
    /// move into a spawned task (`'static`).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed, before or while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Arc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let task = evloop::spawn(async move {
    ///         let _held_here = permit; // released when this task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// [`acquire_many`](Semaphore::acquire_many) with an owned permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed, before or while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Arc::new(Semaphore::new(4));
    ///     let permit = sem.clone().acquire_many_owned(4).await.unwrap();
    ///     assert_eq!((permit.num_permits(), sem.available_permits()), (4, 0));
    /// });
    /// ```
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned {
            semaphore: self,
            request: Request::new(n),
        }
    }

    /// Takes one permit if one is free and nobody is waiting; never waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if the semaphore is closed,
    /// [`TryAcquireError::NoPermits`] if it would have to wait (no permit
    /// free, or other tasks are queued first).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits { requested: 1 });
    /// drop(permit);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is waiting; never waits.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Semaphore::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(3);
    /// assert!(sem.try_acquire_many(4).is_err());
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let mut state = self.lock();
        if state.closed {
            return Err(TryAcquireError::Closed { requested: n });
        }
        if state.queue.is_empty() && state.free >= n {
            state.free -= n;
            return Ok(SemaphorePermit {
                semaphore: self,
                permits: n,
            });
        }
        Err(TryAcquireError::NoPermits { requested: n })
    }

    /// How many permits are free right now. Always zero while a task waits
    /// (free permits are set aside for the head of the queue).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(2);
    /// let _one = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.lock().free
    }

    /// Adds `n` permits (never past [`MAX_PERMITS`](Semaphore::MAX_PERMITS)),
    /// handing them to waiting tasks first, in arrival order.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            state.add_free(n);
            state.hand_off(&mut wakeups);
        }
        wake_all(wakeups);
    }

    /// Closes the semaphore: every task waiting in `acquire` (including one
    /// woken but not yet run) gets [`AcquireError`], and so does every later
    /// `acquire`. Permits already held stay valid and come back as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Semaphore::new(1);
    ///     sem.close();
    ///     assert!(sem.is_closed());
    ///     assert!(sem.acquire().await.is_err());
    /// });
    /// ```
    pub fn close(&self) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            state.closed = true;
            // Take back whatever the waiters were assigned or granted, so the
            // count stays true, and wake every one of them to see the error.
            let queue = std::mem::take(&mut state.queue);
            for waiter in queue.into_values() {
                state.add_free(waiter.assigned);
                wakeups.push(waiter.waker);
            }
            let granted = std::mem::take(&mut state.granted);
            for permits in granted.into_values() {
                state.add_free(permits);
            }
        }
        wake_all(wakeups);
    }

    /// Whether [`close`](Semaphore::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Gives `n` permits back (a permit's drop).
    fn release(&self, n: usize) {
        if n > 0 {
            self.add_permits(n);
        }
    }

    /// One poll of a request: the whole protocol of an `acquire`.
    fn poll_request(
        &self,
        request: &mut Request,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        assert!(!request.done, "`Acquire` polled after it completed");
        let wanted = request.wanted;
        let mut state = self.lock();
        match request.ticket {
            None => {
                // First poll.
                if state.closed {
                    request.done = true;
                    return Poll::Ready(Err(AcquireError { requested: wanted }));
                }
                if wanted == 0 {
                    // Nothing to wait for, and nothing to take from anyone.
                    request.done = true;
                    return Poll::Ready(Ok(()));
                }
                // Only an empty queue may be passed straight through: with
                // anyone waiting, `free` is zero anyway (rule 2).
                if state.queue.is_empty() && state.free >= wanted {
                    state.free -= wanted;
                    request.done = true;
                    return Poll::Ready(Ok(()));
                }
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.queue.insert(
                    ticket,
                    Waiter {
                        wanted,
                        assigned: 0,
                        waker: cx.waker().clone(),
                    },
                );
                request.ticket = Some(ticket);
                // If it is the head, the free permits (fewer than it wants)
                // are set aside for it now.
                let mut none = Wakeups::new();
                state.hand_off(&mut none);
                debug_assert!(none.is_empty(), "a request that did not fit was granted");
                Poll::Pending
            }
            Some(ticket) => {
                if state.granted.remove(&ticket).is_some() {
                    request.done = true;
                    return Poll::Ready(Ok(()));
                }
                if let Some(waiter) = state.queue.get_mut(&ticket) {
                    // Still waiting; a spurious poll. Keep the newest waker.
                    if !waiter.waker.will_wake(cx.waker()) {
                        waiter.waker = cx.waker().clone();
                    }
                    return Poll::Pending;
                }
                // Neither queued nor granted: only `close` removes a waiter
                // without granting it.
                debug_assert!(state.closed, "a waiter vanished without close");
                request.done = true;
                Poll::Ready(Err(AcquireError { requested: wanted }))
            }
        }
    }

    /// A request dropped before it completed: give back whatever it was
    /// assigned or granted, and pass it on to the next waiter.
    fn cancel_request(&self, request: &Request) {
        let Some(ticket) = request.ticket else {
            return; // never queued
        };
        if request.done {
            return; // completed: the permit (if any) owns the permits now
        }
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            if let Some(waiter) = state.queue.remove(&ticket) {
                // Cancelled while queued: leave the queue. If it was the
                // head, it may hold some permits, and the new head may now
                // be satisfiable.
                state.add_free(waiter.assigned);
                state.hand_off(&mut wakeups);
            } else if let Some(permits) = state.granted.remove(&ticket) {
                // Cancelled after being granted (woken, never polled again):
                // the permits were ours; pass them on with the wake-up.
                state.add_free(permits);
                state.hand_off(&mut wakeups);
            }
        }
        wake_all(wakeups);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Semaphore")
            .field("available_permits", &state.free)
            .field("waiters", &state.queue.len())
            .field("closed", &state.closed)
            .finish()
    }
}

/// Where one `acquire` stands.
#[derive(Debug)]
struct Request {
    /// Permits asked for.
    wanted: usize,
    /// Set at the first poll that had to wait.
    ticket: Option<u64>,
    /// Returned `Ready` (the permits, if any, now belong to a guard).
    done: bool,
}

impl Request {
    fn new(wanted: usize) -> Request {
        Request {
            wanted,
            ticket: None,
            done: false,
        }
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// Returns `Pending` while the request waits in the queue; whoever releases
/// the permits that complete it (a permit's drop,
/// [`add_permits`](Semaphore::add_permits), a cancelled waiter ahead of it)
/// wakes it, and so does [`close`](Semaphore::close).
///
/// Cancel safety: dropping it at any point is safe and loses nothing. Still
/// queued, it leaves the queue and returns any permits set aside for it;
/// already granted (woken, not yet polled), it hands its permits to the next
/// waiter. Dropping it does lose its place in the queue.
///
/// # Panics
///
/// If polled again after it returned `Ready` (the `Future` contract allows
/// this; the permit was already handed out).
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    request: Request,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let semaphore = this.semaphore;
        semaphore
            .poll_request(&mut this.request, cx)
            .map_ok(|()| SemaphorePermit {
                semaphore,
                permits: this.request.wanted,
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.semaphore.cancel_request(&self.request);
    }
}

/// The future of [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`].
///
/// Waits, wakes, cancels and panics exactly as [`Acquire`] does.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct AcquireOwned {
    semaphore: Arc<Semaphore>,
    request: Request,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.semaphore
            .poll_request(&mut this.request, cx)
            .map_ok(|()| OwnedSemaphorePermit {
                semaphore: this.semaphore.clone(),
                permits: this.request.wanted,
            })
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        self.semaphore.cancel_request(&self.request);
    }
}

/// Permits borrowed from a [`Semaphore`]; they go back when this is dropped.
///
/// # Examples
///
/// ```
/// let sem = evloop::sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good (the count shrinks).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits of an `Arc<Semaphore>`; `'static`, so they can move into a spawned
/// task or thread. They go back when this is dropped.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(evloop::sync::Semaphore::new(1));
/// let permit = evloop::run(sem.clone().acquire_owned()).unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(evloop::sync::Semaphore::new(3));
    /// let permit = evloop::run(sem.acquire_many_owned(3)).unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore these permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(evloop::sync::Semaphore::new(1));
    /// let permit = evloop::run(sem.clone().acquire_owned()).unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Keeps the permits out of the semaphore for good (the count shrinks).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(evloop::sync::Semaphore::new(1));
    /// evloop::run(sem.clone().acquire_owned()).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// [`Semaphore::acquire`] failed: the semaphore was closed.
///
/// # Examples
///
/// ```
/// let sem = evloop::sync::Semaphore::new(0);
/// sem.close();
/// let err = evloop::run(sem.acquire_many(2)).unwrap_err();
/// assert_eq!(err.requested(), 2);
/// assert_eq!(err.to_string(), "cannot acquire 2 permit(s): the semaphore is closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError {
    requested: usize,
}

impl AcquireError {
    /// How many permits the failed request asked for.
    pub fn requested(&self) -> usize {
        self.requested
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot acquire {} permit(s): the semaphore is closed",
            self.requested
        )
    }
}

impl std::error::Error for AcquireError {}

/// [`Semaphore::try_acquire`] failed.
///
/// # Examples
///
/// ```
/// use evloop::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(0);
/// let err = sem.try_acquire().unwrap_err();
/// assert_eq!(err, TryAcquireError::NoPermits { requested: 1 });
/// assert_eq!(err.to_string(), "cannot acquire 1 permit(s) without waiting");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed {
        /// Permits asked for.
        requested: usize,
    },
    /// Not enough permits are free, or other tasks are waiting first.
    NoPermits {
        /// Permits asked for.
        requested: usize,
    },
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed { requested } => write!(
                f,
                "cannot acquire {requested} permit(s): the semaphore is closed"
            ),
            TryAcquireError::NoPermits { requested } => {
                write!(f, "cannot acquire {requested} permit(s) without waiting")
            }
        }
    }
}

impl std::error::Error for TryAcquireError {}
