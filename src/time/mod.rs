//! Time: [`sleep`], [`timeout`], [`interval`], and the runtime clock's
//! [`Instant`].
//!
//! Every timer lives in one structure of the loop (a 4-ary min-heap over a slab,
//! in `runtime/timers.rs`), never a thread per timer. The loop parks in the OS
//! poller until the earliest deadline. Deadlines are never fired early: the
//! poller's millisecond timeout is rounded up, and on Linux a timerfd armed
//! for the exact deadline ends the wait to the microsecond.
//!
//! With [`Builder::paused_clock`](crate::runtime::Builder::paused_clock) the
//! clock is virtual: it jumps to the next deadline whenever nothing else can
//! happen, so a test of "this takes 2 s" runs in microseconds and measures
//! exactly 2 s.

mod instant;
mod interval;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval};
pub use sleep::{Sleep, sleep, sleep_blocking, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
