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
