//! [`timeout`]: give a future a deadline.

use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::{Instant, sleep, sleep_until};

/// The error of a future that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    after: Option<Duration>,
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.after {
            Some(d) => write!(f, "deadline elapsed after {d:?}"),
            None => write!(f, "deadline elapsed"),
        }
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` with a time limit (asyncio's `wait_for`).
///
/// Returns `Ok(output)` if the future finishes first, or `Err(Elapsed)` once
/// `duration` has passed, dropping (cancelling) the future. The future is
/// polled before the clock is checked, so one that is ready at once wins even
/// with a zero timeout.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, timeout};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let slow = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))).await;
///     assert!(slow.is_err());
///     let fast = timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
/// });
/// ```
pub async fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    race(future.into_future(), sleep(duration), Some(duration)).await
}

/// Runs `future` until `deadline`, like [`timeout`].
pub async fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Result<F::Output, Elapsed> {
    race(future.into_future(), sleep_until(deadline), None).await
}

async fn race<F: Future>(
    future: F,
    timer: super::Sleep,
    after: Option<Duration>,
) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { after })),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
