//! [`Interval`]: ticks at a fixed period.

use std::time::Duration;

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
        (&mut self.sleep).await;
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
        scheduled
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
