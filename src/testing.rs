//! Hooks for evloop's own behaviour tests; not part of the API.
//!
//! The tests in `tests/` link evloop as any user does, so they see only
//! what is public. A few of them check an internal promise that the public
//! API rightly hides, and they reach it through this module. It is hidden
//! from the documentation, nothing in it is needed to use evloop, and it
//! may change or go away in any release.
//!
//! | hook | the promise a test checks with it |
//! | --- | --- |
//! | [`readiness_counters`] | a busy socket returns `Pending` only after a syscall answered `WouldBlock` (`tests/echo.rs`) |
//! | [`watch_exit_by_sigchld`], [`watched_by_pidfd`] | the `SIGCHLD` fallback for a child's exit works where pidfds work too, so it is tested on Linux (`tests/process.rs`) |
//! | [`children_adrift`] | children left running by a runtime that ended are taken over by the next spawn (`tests/process.rs`) |
//! | [`signal_census`] | a dropped signal listener is gone from its runtime, and a runtime that stops listening is no longer counted process-wide (`tests/signal.rs`) |

use crate::net::TcpStream;

/// How many syscalls on `stream` answered `WouldBlock`, and how many times
/// its reads and writes returned `Pending` to wait for readiness. A
/// `Pending` comes only when the reactor holds no readiness for that
/// direction: before the first event for it, or after a `WouldBlock`
/// cleared it. So on a stream past its first events, every `Pending`
/// follows a `WouldBlock`, which `tests/echo.rs` checks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::net::{TcpListener, TcpStream};
/// use evloop::testing::readiness_counters;
/// use evloop::time::timeout;
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (_peer, _) = listener.accept().await.unwrap();
///     assert_eq!(readiness_counters(&stream), (0, 0));
///     // The peer sends nothing: the read waits for readiness.
///     let mut buf = [0u8; 16];
///     assert!(timeout(Duration::from_millis(10), stream.read(&mut buf)).await.is_err());
///     let (_would_block, pendings) = readiness_counters(&stream);
///     assert!(pendings >= 1, "the read returned Pending");
/// });
/// ```
pub fn readiness_counters(stream: &TcpStream) -> (u64, u64) {
    stream.readiness_counters()
}

/// How many listeners of `listener`'s signal its runtime has (this one
/// included), and how many runtimes of the process listen to that signal.
///
/// # Examples
///
/// ```
/// use evloop::signal::{SignalKind, signal};
/// use evloop::testing::signal_census;
///
/// evloop::run(async {
///     let first = signal(SignalKind::window_change()).unwrap();
///     let second = signal(SignalKind::window_change()).unwrap();
///     assert_eq!(signal_census(&first), (2, 1));
///     drop(second);
///     assert_eq!(signal_census(&first), (1, 1));
/// });
/// ```
#[cfg(unix)]
pub fn signal_census(listener: &crate::signal::Signal) -> (usize, usize) {
    listener.census()
}

/// Makes `command`'s children be watched for their exit through `SIGCHLD`,
/// the fallback of platforms without pidfds, even on Linux.
///
/// # Examples
///
/// ```
/// use evloop::process::Command;
/// use evloop::testing::{watch_exit_by_sigchld, watched_by_pidfd};
///
/// evloop::run(async {
///     let mut command = Command::new("true");
///     watch_exit_by_sigchld(&mut command);
///     let mut child = command.spawn().unwrap();
///     assert_eq!(watched_by_pidfd(&child), Some(false));
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
#[cfg(unix)]
pub fn watch_exit_by_sigchld(command: &mut crate::process::Command) {
    command.watch_by_sigchld();
}

/// Whether `child`'s exit is watched through a pidfd (`Some(true)`) or
/// `SIGCHLD` (`Some(false)`); `None` once it was reaped.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let mut child = evloop::process::Command::new("true").spawn().unwrap();
///     let pidfd = evloop::testing::watched_by_pidfd(&child);
///     assert!(pidfd.is_some());
///     child.wait().await.unwrap();
///     assert_eq!(evloop::testing::watched_by_pidfd(&child), None);
/// });
/// ```
#[cfg(unix)]
pub fn watched_by_pidfd(child: &crate::process::Child) -> Option<bool> {
    child.watched_by_pidfd()
}

/// How many children are in the process-wide list of those left running
/// by a runtime that ended, waiting for the next spawn to take them over.
///
/// # Examples
///
/// ```
/// // Nothing was ever dropped in this process.
/// assert_eq!(evloop::testing::children_adrift(), 0);
/// ```
#[cfg(unix)]
pub fn children_adrift() -> usize {
    crate::process::adrift()
}
