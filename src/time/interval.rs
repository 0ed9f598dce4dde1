//! [`Interval`]: ticks at a fixed period.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;

use super::{Instant, Sleep, sleep_until};

/// What an [`Interval`] does with ticks it missed because the loop (or the
/// task) was busy past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after another, then go on with the
    /// original schedule (the default, as in tokio).
    #[default]
    Burst,
    /// Fire once now, then restart the period from now.
    Delay,
    /// Fire once now, then skip to the next tick of the original schedule.
    Skip,
}

/// Creates an interval whose first tick completes at once and whose later
/// ticks come every `period`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{interval, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut every = interval(Duration::from_millis(10));
///     for _ in 0..4 {
///         every.tick().await;
///     }
///     assert_eq!(start.elapsed(), Duration::from_millis(30));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "evloop::time::interval: the period must be non-zero"
    );
    let start = Instant::now();
    Interval {
        next: start,
        period,
        missed: MissedTickBehavior::default(),
        sleep: sleep_until(start),
    }
}

/// A stream of ticks; see [`interval`].
///
/// Ticks come from [`tick`](Interval::tick), from
/// [`poll_tick`](Interval::poll_tick), or through the runtime-neutral
/// [`futures_core::Stream`] (each item is the tick's scheduled [`Instant`]),
/// so stream combinators (`next`, `take`, `zip`...) work on it.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use std::time::Duration;
/// use evloop::time::{interval, Instant};
/// use futures_core::Stream;
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut every = interval(Duration::from_millis(5));
///     let mut seen = Vec::new();
///     while seen.len() < 3 {
///         // What `StreamExt::next` does.
///         let tick = poll_fn(|cx| Pin::new(&mut every).poll_next(cx)).await.unwrap();
///         seen.push(tick.duration_since(start));
///     }
///     let ms = Duration::from_millis;
///     assert_eq!(seen, [ms(0), ms(5), ms(10)]);
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    missed: MissedTickBehavior,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    ///
    /// Cancel safe: if the `tick()` future is dropped before it completes,
    /// no tick is lost.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready` with its scheduled time once the
    /// runtime's clock reaches it, else `Pending`, and the loop's timer heap
    /// wakes the waker of `cx` at the tick's time (only the latest poll's
    /// waker is kept).
    ///
    /// A `Pending` consumes nothing: the tick is still there for the next
    /// poll, from this task or another.
    ///
    /// # Panics
    ///
    /// When polled outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    /// use evloop::time::{interval, Instant};
    ///
    /// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut every = interval(Duration::from_secs(1));
    ///     assert_eq!(poll_fn(|cx| every.poll_tick(cx)).await, start);
    ///     let second = poll_fn(|cx| every.poll_tick(cx)).await;
    ///     assert_eq!(second.duration_since(start), Duration::from_secs(1));
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.next;
        let now = Instant::now();
        let mut next = scheduled + self.period;
        if now > next {
            // We are late by more than a period: some ticks were missed.
            next = match self.missed {
                MissedTickBehavior::Burst => next,
                MissedTickBehavior::Delay => now + self.period,
                MissedTickBehavior::Skip => {
                    let behind = now.duration_since(scheduled).as_nanos();
                    let periods = behind / self.period.as_nanos() + 1;
                    let periods = u32::try_from(periods).unwrap_or(u32::MAX);
                    scheduled + self.period * periods
                }
            };
        }
        self.next = next;
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Chooses what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The ticks as a runtime-neutral stream: never ends, each item is the
/// scheduled [`Instant`] of a tick.
///
/// `poll_next` returns `Pending` until the runtime's clock reaches the next
/// tick; the loop's timer heap wakes the waker of the latest poll then.
/// Missed ticks follow the [`MissedTickBehavior`] chosen.
///
/// Cancel safety: a `next()` future dropped before it completes takes no
/// tick with it; the next poll still gets that tick.
///
/// # Panics
///
/// When polled outside a runtime.
impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}
