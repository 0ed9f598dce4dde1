//! [`ctrl_c`]: a future of the next Ctrl-C.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Signal, SignalKind};
use crate::runtime::handle;

/// Completes at the next Ctrl-C (`SIGINT`) (tokio's `signal::ctrl_c`;
/// asyncio's `loop.add_signal_handler(signal.SIGINT, ...)`).
///
/// It listens from the moment it is made (inside a runtime; made outside
/// one, from its first poll), so a Ctrl-C that comes between `ctrl_c()`
/// and the first `.await` is not missed. While it exists, Ctrl-C does not
/// end the process; after it is dropped (or has completed) and if nothing
/// else listens, Ctrl-C ends the process again, as before.
///
/// One `CtrlC` sees one Ctrl-C. To handle Ctrl-C again and again, keep one
/// listener, [`signal`](super::signal())`(SignalKind::interrupt())`, and
/// call its `recv` in the loop: between one `ctrl_c()` future and the next
/// there is a moment when nobody listens, and a Ctrl-C just then would end
/// the process.
///
/// # Examples
///
/// ```
/// use evloop::signal::{SignalKind, ctrl_c, raise};
///
/// evloop::run(async {
///     let interrupted = ctrl_c(); // listening from here on
///     raise(SignalKind::interrupt()).unwrap(); // as if the user pressed Ctrl-C
///     interrupted.await.unwrap();
///     // Done: the process is still alive, and Ctrl-C ends it again.
/// });
/// ```
pub fn ctrl_c() -> CtrlC {
    let state = if handle::in_runtime() {
        match Signal::new(SignalKind::interrupt()) {
            Ok(listener) => State::Listening(listener),
            Err(e) => State::Failed(Some(e)),
        }
    } else {
        State::NotYet
    };
    CtrlC { state }
}

/// The future of [`ctrl_c`]: `Ok(())` at the next Ctrl-C.
///
/// `Pending` until `SIGINT` arrives; the runtime's signal driver wakes it
/// when the signal's byte reaches its self-pipe. An error (outside a
/// runtime, or the handler could not be installed) is returned at the first
/// poll. Cancel safe: dropping it stops listening, and nothing else is
/// affected. Polled again after it completed, it waits for the next Ctrl-C.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CtrlC {
    state: State,
}

#[derive(Debug)]
enum State {
    /// Made outside a runtime: listens from the first poll.
    NotYet,
    Listening(Signal),
    Failed(Option<io::Error>),
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::NotYet = self.state {
            self.state = match Signal::new(SignalKind::interrupt()) {
                Ok(listener) => State::Listening(listener),
                Err(e) => State::Failed(Some(e)),
            };
        }
        match &mut self.state {
            State::Listening(listener) => listener.poll_recv(cx).map(Ok),
            State::Failed(error) => Poll::Ready(Err(error.take().unwrap_or_else(|| {
                io::Error::other("evloop: ctrl_c() polled again after it failed")
            }))),
            State::NotYet => unreachable!("replaced above"),
        }
    }
}
