//! The runtime's clock: real time, or a paused virtual clock for tests.
//!
//! With the paused clock, time stands still while tasks run and jumps to the
//! next timer deadline when the loop has nothing else to do. A test of
//! "this takes 3 s" then takes microseconds and always measures exactly 3 s.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Real or virtual time for one runtime.
#[derive(Debug)]
pub(crate) struct Clock {
    paused: bool,
    base: Instant,
    offset: Cell<Duration>,
    /// The real clock's latest reading by [`now`](Clock::now).
    recent: Cell<Instant>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        let base = Instant::now();
        Clock {
            paused,
            base,
            offset: Cell::new(Duration::ZERO),
            recent: Cell::new(base),
        }
    }

    /// The instant the clock started from (the paused clock's zero).
    pub(crate) fn base(&self) -> Instant {
        self.base
    }

    /// Whether this is the paused (virtual) clock.
    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// The current time.
    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.base + self.offset.get()
        } else {
            let now = Instant::now();
            self.recent.set(now);
            now
        }
    }

    /// The latest reading of [`now`](Clock::now), without reading the clock
    /// again: at most the current time, and on the real clock no older than
    /// this tick's timer check, which reads it every tick. On the paused
    /// clock it is the current time exactly.
    ///
    /// For answers that are safe either way: "the deadline has passed" (if
    /// it passed by this reading, it has passed now), never "the deadline is
    /// still ahead".
    pub(crate) fn recent(&self) -> Instant {
        if self.paused {
            self.base + self.offset.get()
        } else {
            self.recent.get()
        }
    }

    /// A cheap timestamp in nanoseconds for measuring how long a poll took:
    /// the virtual clock when paused (exact), else the kernel's coarse
    /// monotonic clock (a few nanoseconds to read, a few milliseconds of
    /// resolution, which is plenty against a 100 ms threshold). Reading the
    /// precise clock around every poll would double the cost of a
    /// `yield_now` round trip. A plain `u64`, not a `Duration`: the loop
    /// compares two stamps after every poll, and a `Duration` costs a
    /// normalisation to make and two fields to compare.
    pub(crate) fn stamp(&self) -> u64 {
        if self.paused {
            nanos(self.offset.get())
        } else {
            coarse_now()
        }
    }

    /// Moves the paused clock forward to `to` (never backwards). No effect on
    /// the real clock.
    pub(crate) fn advance_to(&self, to: Instant) {
        if self.paused {
            let target = to.saturating_duration_since(self.base);
            if target > self.offset.get() {
                self.offset.set(target);
            }
        }
    }

    /// Moves the paused clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        if self.paused {
            self.offset.set(self.offset.get().saturating_add(by));
        }
    }
}

/// `d` in nanoseconds, saturating (at about 584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(target_os = "linux")]
fn coarse_now() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn coarse_now() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    nanos(START.get_or_init(Instant::now).elapsed())
}
