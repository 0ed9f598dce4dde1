//! [`timeout`] and [`timeout_at`]: give a future a deadline. Both return a
//! [`Timeout`], a named future (tokio's `time::Timeout`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep, sleep_until};

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

/// Runs `future` with a time limit (asyncio's `wait_for`, tokio's
/// `time::timeout`).
///
/// The returned [`Timeout`] resolves to `Ok(output)` if the future finishes
/// first, or to `Err(Elapsed)` once `duration` has passed, dropping
/// (cancelling) the future. The future is polled before the clock is
/// checked, so one that is ready at once wins even with a zero timeout.
///
/// The deadline is fixed now, on the runtime's clock; called outside a
/// runtime, it is fixed at the first poll (as [`sleep`] does).
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
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep(duration), Some(duration))
}

/// Runs `future` until `deadline`, like [`timeout`]. A deadline in the past
/// still lets a future that is ready at once win.
///
/// # Examples
///
/// ```
/// use std::future::pending;
/// use std::time::Duration;
/// use evloop::time::{timeout_at, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let deadline = start + Duration::from_millis(250);
///     let err = timeout_at(deadline, pending::<()>()).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline elapsed");
///     assert_eq!(start.elapsed(), Duration::from_millis(250));
/// });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep_until(deadline), None)
}

/// The future of [`timeout`] and [`timeout_at`]: a future raced against a
/// deadline.
///
/// - **Pending** while the inner future is pending and the deadline has not
///   come. Each poll polls the inner future first, then the timer.
/// - **Who wakes it**: the inner future's own wake source (a socket, a
///   channel, another timer), or the loop's timer heap at the deadline.
/// - **Ready**: `Ok(output)` as soon as the inner future finishes (even at
///   the deadline's instant, since it is polled first), or `Err(`[`Elapsed`]`)`
///   once the deadline has passed. On `Err` the inner future is not
///   finished, and it is dropped with the `Timeout`: at once in the usual
///   `timeout(d, f).await`, which consumes it, on the loop thread. A
///   `Timeout` awaited by `&mut` keeps it, to be taken back with
///   [`into_inner`](Timeout::into_inner) and awaited without a limit; polled
///   again instead, it polls the inner future once more and returns `Err`
///   again unless that future has finished. The timer is disarmed as soon
///   as the timeout resolves either way.
/// - **Cancel safety**: dropping a `Timeout` midway drops the inner future
///   (so it is exactly as cancel-safe as that future) and disarms the timer
///   at once: a dropped timeout leaves no timer behind, and the paused
///   clock does not jump to its deadline.
///
/// The deadline is fixed when [`timeout`] is called (as tokio does, and as
/// [`sleep`] does), not at the first poll: a `Timeout` made early and
/// awaited late has less time left.
///
/// The inner future lives in its own heap allocation, so a `Timeout` is
/// `Unpin` whatever it wraps: it can be awaited by `&mut` (in a loop, or
/// in a `select`) and still be taken apart with
/// [`into_inner`](Timeout::into_inner) afterwards. (tokio stores it inline
/// and projects the pin; evloop keeps `unsafe` code in `src/task/` only, and
/// one allocation per timeout is the price.)
///
/// # Panics
///
/// If polled again after it returned `Ready(Ok(_))` (the inner future is
/// gone then), or polled outside a runtime while the inner future is
/// pending (the timer needs a runtime).
///
/// # Examples
///
/// Warn when a step runs late, then keep waiting for it without the limit:
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, timeout, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut step = timeout(Duration::from_secs(1), async {
///         sleep(Duration::from_secs(3)).await;
///         "done"
///     });
///     assert!((&mut step).await.is_err()); // late: warn here...
///     assert_eq!(start.elapsed(), Duration::from_secs(1));
///     assert_eq!(step.into_inner().await, "done"); // ...and wait on
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    /// `None` once the inner future has finished.
    future: Option<Pin<Box<F>>>,
    /// `None` once the timeout has resolved (`Ok` or `Err`): the timer is
    /// disarmed then, so a resolved `Timeout` kept alive leaves nothing in
    /// the timer heap. `None` with `future` still `Some` means the deadline
    /// has passed.
    timer: Option<Sleep>,
    /// The duration it was made with, for [`Elapsed`]'s message
    /// (`None` for `timeout_at`).
    after: Option<Duration>,
}

impl<F: Future> Timeout<F> {
    fn new(future: F, timer: Sleep, after: Option<Duration>) -> Timeout<F> {
        Timeout {
            future: Some(Box::pin(future)),
            timer: Some(timer),
            after,
        }
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    ///
    /// # Panics
    ///
    /// If the timeout already returned `Ok` (the inner future finished and
    /// is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::time::{sleep, timeout, Instant};
    ///
    /// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let limited = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5)));
    ///     let wrapped = limited.get_ref().deadline();
    ///     assert_eq!(wrapped, Some(Instant::now() + Duration::from_secs(5)));
    /// });
    /// ```
    #[track_caller]
    pub fn get_ref(&self) -> &F {
        self.future
            .as_deref()
            .expect("Timeout::get_ref called after the inner future finished")
    }

    /// The inner future, pinned, to poll or change it in place.
    ///
    /// # Panics
    ///
    /// If the timeout already returned `Ok` (the inner future finished and
    /// is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    /// use evloop::time::timeout;
    ///
    /// evloop::run(async {
    ///     let mut limited = timeout(Duration::from_secs(1), async { 2 + 2 });
    ///     // Poll the inner future directly, without the deadline.
    ///     let four = poll_fn(|cx| limited.get_mut().poll(cx)).await;
    ///     assert_eq!(four, 4);
    /// });
    /// ```
    #[track_caller]
    pub fn get_mut(&mut self) -> Pin<&mut F> {
        self.future
            .as_mut()
            .expect("Timeout::get_mut called after the inner future finished")
            .as_mut()
    }

    /// Gives up the deadline and returns the inner future, pinned in its
    /// box, as it is now: never polled, or part-way through if the timeout
    /// was polled (a `Timeout` is `Unpin`, so `(&mut timeout).await`
    /// leaves it whole). The timer is disarmed.
    ///
    /// # Panics
    ///
    /// If the timeout already returned `Ok` (the inner future finished and
    /// is gone).
    ///
    /// # Examples
    ///
    /// See the [`Timeout`] example: a late step is warned about, then
    /// awaited to the end.
    #[track_caller]
    pub fn into_inner(self) -> Pin<Box<F>> {
        self.future
            .expect("Timeout::into_inner called after the inner future finished")
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let future = this
            .future
            .as_mut()
            .expect("Timeout polled after its future finished");
        // The future first: one that is ready at the deadline's instant wins.
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            this.future = None;
            this.timer = None;
            return Poll::Ready(Ok(output));
        }
        let Some(timer) = this.timer.as_mut() else {
            // The deadline passed at an earlier poll.
            return Poll::Ready(Err(Elapsed { after: this.after }));
        };
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => {
                // Time is up. The future stays, to be dropped with the
                // `Timeout` (at once when it was awaited by value).
                this.timer = None;
                Poll::Ready(Err(Elapsed { after: this.after }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.timer.as_ref().and_then(Sleep::deadline))
            .field("after", &self.after)
            .field("finished", &self.future.is_none())
            .finish_non_exhaustive()
    }
}
