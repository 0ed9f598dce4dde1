//! [`Sleep`]: a future that completes at a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use crate::runtime::handle::{self, TimerRef};

/// Waits until `duration` has passed (asyncio's `await asyncio.sleep(s)`).
///
/// The deadline is fixed when `sleep` is called, on the runtime's clock.
/// `Duration::ZERO` completes at the first poll; `Duration::MAX` (or any
/// duration too large for the clock) never completes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{Instant, sleep};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_secs(2)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    match handle::with_current(|h| h.now()) {
        Some(now) => Sleep::new(Instant::from_std(now).checked_add(duration)),
        // Made outside a runtime: the deadline is fixed at the first poll,
        // on the clock of the runtime that polls it.
        None => Sleep {
            deadline: Deadline::AfterFirstPoll(duration),
            armed: None,
        },
    }
}

/// Waits until `deadline`. A deadline in the past completes at once.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Some(deadline))
}

/// The future of [`sleep`] and [`sleep_until`].
///
/// Returns `Pending` until the runtime's clock reaches the deadline; the loop's
/// timer heap wakes it then. It never completes early: a deadline between two
/// milliseconds is waited for up to the next one, never down.
///
/// Cancel safety: dropping a `Sleep` disarms its timer at once.
///
/// # Panics
///
/// When polled outside a runtime.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Deadline,
    armed: Option<TimerRef>,
}

/// When a [`Sleep`] ends.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    /// At this instant (`None`: never).
    At(Option<Instant>),
    /// This long after the first poll (a sleep made outside a runtime).
    AfterFirstPoll(Duration),
}

impl Sleep {
    fn new(deadline: Option<Instant>) -> Sleep {
        Sleep {
            deadline: Deadline::At(deadline),
            armed: None,
        }
    }

    /// The deadline, or `None` for a sleep that never ends (or, for one
    /// made outside a runtime, before its first poll fixes it).
    pub fn deadline(&self) -> Option<Instant> {
        match self.deadline {
            Deadline::At(d) => d,
            Deadline::AfterFirstPoll(_) => None,
        }
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// Moves the deadline (used by `Interval`).
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = Deadline::At(Some(deadline));
    }

    fn disarm(&mut self) {
        if let Some(armed) = self.armed.take() {
            handle::with_current(|h| h.disarm_timer(&armed));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let polled = handle::with_current(|h| {
            if let Deadline::AfterFirstPoll(d) = this.deadline {
                this.deadline = Deadline::At(Instant::from_std(h.now()).checked_add(d));
            }
            let Deadline::At(Some(deadline)) = this.deadline else {
                // Never: nothing will ever wake us, and nothing needs to.
                return Poll::Pending;
            };
            let deadline = deadline.into_std();
            // Passed by the loop's latest reading (the usual case when the
            // timer fired): then it has passed now, no need to read again.
            if h.recent() >= deadline {
                return Poll::Ready(());
            }
            // Polled again while its timer is still armed (say, inside a
            // `select`): the timer fires on the loop's own reading, so there
            // is nothing to check, only the waker to update.
            if let Some(armed) = &this.armed
                && h.rearm_timer(armed, cx.waker())
            {
                return Poll::Pending;
            }
            if h.now() >= deadline {
                return Poll::Ready(());
            }
            this.armed = Some(h.arm_timer(deadline, cx.waker()));
            Poll::Pending
        });
        match polled {
            Some(Poll::Ready(())) => {
                this.disarm();
                Poll::Ready(())
            }
            Some(Poll::Pending) => Poll::Pending,
            None => panic!(
                "evloop::time::sleep polled outside a runtime: await it inside evloop::run or Runtime::block_on"
            ),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

/// Blocks the calling thread for `duration`, like `std::thread::sleep`.
///
/// This is the *mistake* of the lesson about blocking the loop, made visible
/// to tests: called on a loop thread whose runtime has the paused clock, it
/// moves virtual time forward by `duration` instead of sleeping, exactly as a
/// real blocking call would have moved real time while holding the loop.
/// Everywhere else it is `std::thread::sleep`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{Instant, sleep_blocking};
///
/// let rt = evloop::Runtime::builder()
///     .paused_clock(true)
///     .slow_poll_threshold(None)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep_blocking(Duration::from_secs(1)); // holds the loop for 1 s
///     assert_eq!(start.elapsed(), Duration::from_secs(1));
/// });
/// ```
pub fn sleep_blocking(duration: Duration) {
    let virtual_time = handle::with_current(|h| {
        h.advance_paused_clock(duration);
        h.clock_is_paused()
    });
    if virtual_time != Some(true) {
        std::thread::sleep(duration);
    }
}
