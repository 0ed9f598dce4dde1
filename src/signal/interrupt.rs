//! Ctrl-C cancels the main future, as `asyncio.run` does:
//! [`run_interruptible`], [`Runtime::block_on_interruptible`],
//! [`Builder::cancel_on_ctrl_c`], and the error they report,
//! [`Interrupted`].
//!
//! These are methods of the runtime's types, written here because they are
//! made of a Ctrl-C listener: the loop itself knows nothing of signals. It
//! offers "run this future unless that one completes first", and this file
//! passes a Ctrl-C listener as "that one".

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use super::{Signal, SignalKind};
use crate::runtime::{Builder, Interrupter, Runtime};

/// A run was interrupted by Ctrl-C: the main future and every task were
/// cancelled (their drops ran) before this was returned.
///
/// Its message is "interrupted by Ctrl-C (SIGINT)". A program usually
/// prints it and exits with status 130 (128 + `SIGINT`), as a shell
/// reports a process that Ctrl-C ended.
///
/// # Examples
///
/// ```
/// use evloop::signal::Interrupted;
///
/// assert_eq!(Interrupted::new().to_string(), "interrupted by Ctrl-C (SIGINT)");
/// assert_eq!(Interrupted::EXIT_STATUS, 130);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interrupted {
    _private: (),
}

impl Interrupted {
    /// The exit status a program interrupted by Ctrl-C conventionally
    /// ends with: 128 + 2 (`SIGINT`).
    pub const EXIT_STATUS: u8 = 130;

    /// The error value (for tests, and for code that reports an
    /// interruption of its own the same way).
    pub const fn new() -> Interrupted {
        Interrupted { _private: () }
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted by Ctrl-C (SIGINT)")
    }
}

impl Error for Interrupted {}

/// Waits for Ctrl-C; the listener is made at the first poll, which comes
/// before the main future's first poll.
///
/// # Panics
///
/// If the listener cannot be made (out of file descriptors).
async fn first_ctrl_c() -> Interrupted {
    let mut listener = Signal::new(SignalKind::interrupt())
        .unwrap_or_else(|e| panic!("evloop: cannot listen for Ctrl-C: {e}"));
    listener.recv().await;
    Interrupted::new()
}

impl Runtime {
    /// Runs `future` like [`block_on`](Runtime::block_on), but a Ctrl-C
    /// cancels it, as `asyncio.run` does: the main future is dropped, then
    /// every task of the runtime is cancelled (each future dropped once, on
    /// this thread, so their `Drop`s clean up), and `Err(Interrupted)` is
    /// returned.
    ///
    /// This call listens for Ctrl-C from its start to its end, whatever
    /// [`Builder::cancel_on_ctrl_c`] says (its name asks for it); outside
    /// it, Ctrl-C does what it did before.
    ///
    /// After an interruption the runtime is shut down, as `asyncio.run`
    /// closes its loop: its tasks are gone and its pools stopped. A later
    /// `block_on` still runs its future, but tasks spawned then are
    /// cancelled at once; build a new runtime to go on.
    ///
    /// A second Ctrl-C while the cancellation runs (a `Drop` that takes
    /// long) finds nobody listening: the Ctrl-C listener is dropped first,
    /// so the signal does what it did before evloop, by default ending the
    /// process at once, as a second Ctrl-C under `asyncio.run` raises
    /// `KeyboardInterrupt` at once. (A task that listens for Ctrl-C itself
    /// keeps catching it until it is dropped.)
    ///
    /// # Panics
    ///
    /// As [`block_on`](Runtime::block_on), and if the Ctrl-C listener
    /// cannot be made (out of file descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{Interrupted, SignalKind, raise};
    ///
    /// let rt = evloop::Runtime::new().unwrap();
    /// let result = rt.block_on_interruptible(async {
    ///     let _worker = evloop::spawn(std::future::pending::<()>());
    ///     raise(SignalKind::interrupt()).unwrap(); // the user presses Ctrl-C
    ///     std::future::pending::<()>().await // never ends by itself
    /// });
    /// assert_eq!(result, Err(Interrupted::new()));
    /// assert_eq!(rt.task_count(), 0); // the worker was cancelled too
    /// ```
    #[track_caller]
    pub fn block_on_interruptible<F: Future>(&self, future: F) -> Result<F::Output, Interrupted> {
        self.block_on_or_stop(future, first_ctrl_c())
    }
}

/// Runs a future on a new runtime, unless Ctrl-C comes first:
/// `asyncio.run`, Ctrl-C included.
///
/// On Ctrl-C the main future and every task are cancelled (their drops
/// run) and `Err(Interrupted)` is returned; see
/// [`Runtime::block_on_interruptible`]. Otherwise, as [`run`](crate::run):
/// the future's output, and tasks left running are cancelled.
///
/// # Panics
///
/// If the runtime or the Ctrl-C listener cannot be made, if called inside a
/// runtime, or if the future panics.
///
/// # Examples
///
/// A program that cleans up and exits with status 130 on Ctrl-C:
///
/// ```
/// use std::process::ExitCode;
///
/// fn program() -> ExitCode {
///     match evloop::run_interruptible(async { "work done" }) {
///         Ok(message) => {
///             assert_eq!(message, "work done");
///             ExitCode::SUCCESS
///         }
///         Err(interrupted) => {
///             eprintln!("{interrupted}");
///             ExitCode::from(evloop::signal::Interrupted::EXIT_STATUS)
///         }
///     }
/// }
/// assert_eq!(program(), ExitCode::SUCCESS); // in `main`: `fn main() -> ExitCode`
/// ```
#[track_caller]
pub fn run_interruptible<F: Future>(future: F) -> Result<F::Output, Interrupted> {
    let rt = Runtime::new().unwrap_or_else(|e| panic!("evloop: cannot create a runtime: {e}"));
    rt.block_on_interruptible(future)
}

impl Builder {
    /// Makes Ctrl-C cancel every [`block_on`](Runtime::block_on) of the
    /// runtime, as `asyncio.run` does: the main future and every task are
    /// cancelled (their drops run), then `block_on` panics with
    /// "interrupted by Ctrl-C (SIGINT)", which unwinds the caller's stack
    /// as `KeyboardInterrupt` does in Python.
    /// [`Runtime::block_on_interruptible`] returns that as an error
    /// instead, and listens whatever this says.
    ///
    /// **Off by default**, unlike `asyncio.run`. Python installs a `SIGINT`
    /// handler in every program at startup (that is what raises
    /// `KeyboardInterrupt`), so asyncio only redirects an exception that
    /// would be raised anyway. A Rust program has no handler: Ctrl-C ends it
    /// at once, and a library that quietly installed one (say, a crate that
    /// runs evloop for one HTTP request inside someone's CLI) would change
    /// what Ctrl-C does to its host, and could only report it by a panic,
    /// since `block_on` returns the future's output, not a `Result`. So the
    /// program asks for it, here or with
    /// [`run_interruptible`](crate::run_interruptible).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{SignalKind, raise};
    ///
    /// let rt = evloop::Runtime::builder().cancel_on_ctrl_c(true).build().unwrap();
    /// assert_eq!(rt.block_on(async { 2 + 2 }), 4); // no Ctrl-C, nothing changes
    /// let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     rt.block_on(async {
    ///         raise(SignalKind::interrupt()).unwrap();
    ///         std::future::pending::<()>().await
    ///     })
    /// }));
    /// let message = interrupted.unwrap_err().downcast::<String>().unwrap();
    /// assert_eq!(*message, "interrupted by Ctrl-C (SIGINT)");
    /// ```
    pub fn cancel_on_ctrl_c(self, on: bool) -> Builder {
        let interrupter: Option<Interrupter> = on.then(|| {
            let make: Interrupter = Rc::new(|| {
                Box::pin(async { first_ctrl_c().await.to_string() })
                    as std::pin::Pin<Box<dyn Future<Output = String>>>
            });
            make
        });
        self.interrupter(interrupter)
    }
}
