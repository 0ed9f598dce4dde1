//! [`Signal`]: a stream of one Unix signal's arrivals, and [`raise`].

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::SignalKind;
use super::driver::Signals;
use crate::runtime::handle;

/// Listens for `kind` on the current runtime, from now on (asyncio's
/// `loop.add_signal_handler`, tokio's `tokio::signal::unix::signal`).
///
/// The listener sees every arrival of the signal after this call, until it
/// is dropped; arrivals between two [`recv`](Signal::recv)s are kept (a
/// burst counts once, see [`Signal`]). While it exists, the signal no
/// longer does what it did before (a `SIGTERM` no longer ends the
/// process); once the last listener in the process is dropped, it does
/// again (see the [module docs](super)).
///
/// # Errors
///
/// * outside a runtime;
/// * `InvalidInput` for a signal that cannot be caught (`SIGKILL`,
///   `SIGSTOP`) or that must not be (`SIGSEGV`, `SIGILL`, `SIGFPE`: they
///   report a fault in the program itself);
/// * if the self-pipe cannot be made (out of file descriptors) or the
///   handler cannot be installed.
///
/// # Examples
///
/// ```
/// use evloop::signal::{SignalKind, raise, signal};
///
/// evloop::run(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     raise(SignalKind::hangup()).unwrap(); // as `kill -HUP <pid>` would
///     hangups.recv().await; // ready: the signal came after `signal()`
///
///     let killer = signal(SignalKind::from_raw(9)).unwrap_err();
///     assert_eq!(killer.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Signal::new(kind)
}

/// Sends `kind` to this process's own thread, as `raise(3)` does (Python's
/// `signal.raise_signal`): the signal's handler runs before this returns.
/// Meant for tests and examples; another process sends one with `kill`.
///
/// # Errors
///
/// If the OS refuses (an invalid signal number).
///
/// # Examples
///
/// ```
/// use evloop::signal::{SignalKind, raise, signal};
///
/// evloop::run(async {
///     let mut first = signal(SignalKind::user_defined1()).unwrap();
///     let mut second = signal(SignalKind::user_defined1()).unwrap();
///     raise(SignalKind::user_defined1()).unwrap();
///     first.recv().await; // every listener sees it
///     second.recv().await;
/// });
/// ```
pub fn raise(kind: SignalKind) -> io::Result<()> {
    signal_hook::low_level::raise(kind.as_raw())
        .map_err(|e| io::Error::new(e.kind(), format!("raising {kind}: {e}")))
}

/// A listener of one Unix signal on one runtime: made by [`signal`].
///
/// # Delivery
///
/// The signal's handler (signal-hook's, process-wide) writes a byte to the
/// runtime's self-pipe for the signal; the pipe is registered with the
/// reactor, so a signal wakes a parked loop at once, and every listener of
/// the signal on every runtime sees it. A listener that is not waiting
/// when the signal comes keeps it for its next [`recv`](Signal::recv).
/// Arrivals coalesce, as the OS's own pending signals do: several arrivals
/// between two `recv`s make one ready `recv`, not several. (The OS itself
/// merges a signal that arrives while the same one is still pending, so no
/// count of arrivals could be exact anyway.)
///
/// A `Signal` is also a [`futures_core::Stream`] of `()` that never ends.
///
/// Dropping the listener stops listening; the other listeners are not
/// affected. It belongs to the runtime it was made on: poll it there.
pub struct Signal {
    driver: Rc<Signals>,
    kind: SignalKind,
    id: u64,
    seen: u64,
}

impl Signal {
    pub(super) fn new(kind: SignalKind) -> io::Result<Signal> {
        if signal_hook::consts::FORBIDDEN.contains(&kind.as_raw()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "evloop: {kind} cannot be listened for: it cannot be caught, or it reports \
                     a fault in the program that must not be waited on"
                ),
            ));
        }
        let driver =
            handle::with_current(|h| h.extension(|_| Signals::default())).ok_or_else(|| {
                io::Error::other(format!(
                    "evloop: {kind} can only be listened for inside a runtime \
                     (evloop::run or Runtime::block_on)"
                ))
            })?;
        let (id, seen) = driver.listen(kind)?;
        Ok(Signal {
            driver,
            kind,
            id,
            seen,
        })
    }

    /// Waits for the next arrival of the signal (or returns at once if one
    /// came since the last `recv`, or since the listener was made).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{SignalKind, raise, signal};
    ///
    /// evloop::run(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     raise(SignalKind::user_defined2()).unwrap();
    ///     raise(SignalKind::user_defined2()).unwrap();
    ///     usr2.recv().await; // both arrivals, coalesced into one
    ///     let again = evloop::time::timeout(std::time::Duration::from_millis(10), usr2.recv());
    ///     assert!(again.await.is_err()); // nothing new since
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_> {
        Recv { signal: self }
    }

    /// Polls for the next arrival: `Ready` if the signal came since the
    /// last `Ready`; otherwise `Pending`, and `cx`'s waker is woken by the
    /// next arrival. The building block of [`recv`](Signal::recv) and of
    /// the `Stream` impl.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.driver.poll(self.kind, self.id, self.seen, cx) {
            Poll::Ready(delivered) => {
                self.seen = delivered;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// The signal this listener waits for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// How many listeners of this signal the runtime has (this one
    /// included), and how many runtimes in the process listen to it.
    pub(crate) fn census(&self) -> (usize, usize) {
        (
            self.driver.listeners(self.kind),
            super::driver::runtimes_listening(self.kind),
        )
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.driver.unlisten(self.kind, self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("seen", &self.seen)
            .finish()
    }
}

/// The signals as a stream: an item `()` for each ready
/// [`poll_recv`](Signal::poll_recv). Never ends. Pending, waking and cancel
/// safety as for [`Recv`].
impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx).map(Some)
    }
}

/// The future of [`Signal::recv`].
///
/// `Pending` until the signal arrives (or has arrived since the last
/// `recv`); the runtime's signal driver wakes it when the signal's byte
/// reaches the self-pipe. Cancel safe: dropping it mid-wait loses nothing,
/// an arrival is kept for the next `recv`. (Its waker stays with the driver
/// until the next poll or the next arrival, which then wakes the task once
/// for nothing: harmless.)
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a> {
    signal: &'a mut Signal,
}

impl Future for Recv<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.signal.poll_recv(cx)
    }
}
