//! [`TcpStream`]: a connected TCP socket on the loop.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::{ToAddrs, lookup_host};
use crate::io::reactor::Direction;
use crate::io::registration::Evented;

/// A TCP connection.
///
/// Reading and writing take `&self`, so one task may read while another
/// writes (share the stream with `Rc`). One reader and one writer at a time:
/// two tasks reading the same stream at once would take turns being woken.
///
/// Each operation returns `Pending` only after the kernel answered
/// `WouldBlock`; the reactor wakes the task when the socket becomes ready.
/// All of them are cancel safe in the sense that dropping the future leaves
/// no waker behind; `read` and `write` lose nothing when dropped, while
/// `read_exact` and `write_all` may have moved part of the data already.
///
/// The stream (and `&TcpStream`) also implements the runtime-neutral
/// [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`], so code written
/// for those traits (futures-util's helpers, TLS and WebSocket crates) runs
/// on it; see the [module docs](crate::net) for an example. A plain method
/// call such as `stream.read(&mut buf)` picks the inherent method over
/// futures-util's `AsyncReadExt::read` of the same name; the two behave
/// alike, and generic code reaches the trait's.
pub struct TcpStream {
    inner: Evented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it names in turn.
    ///
    /// The connect is nonblocking: it completes when the socket turns
    /// writable, and then `SO_ERROR` says whether it worked, so a refused
    /// connection is an error here, not a stream that fails later.
    ///
    /// # Errors
    ///
    /// The last address's error (refused, unreachable...), naming it.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     // Nothing listens on this port: the connection is refused.
    ///     let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    ///     let err = evloop::net::TcpStream::connect(free).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    pub async fn connect(addr: impl ToAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in lookup_host(addr).await? {
            match TcpStream::connect_one(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("connecting to {addr}: {e}"),
                    ))
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(mio::net::TcpStream::connect(addr)?, Some(addr))?;
        loop {
            stream.inner.ready(Direction::Write).await;
            if let Some(e) = stream.inner.get().take_error()? {
                return Err(e);
            }
            match stream.inner.get().peer_addr() {
                Ok(_) => return Ok(stream),
                // Woken before the handshake finished: wait for the next edge.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    stream.inner.clear_ready(Direction::Write);
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::register(stream, None)
    }

    /// Registers with the reactor. `peer` names the far end for traces when
    /// the socket cannot say it yet (a connect in progress).
    fn register(stream: mio::net::TcpStream, peer: Option<SocketAddr>) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Evented::new(stream, |s| {
                match (s.local_addr(), s.peer_addr().ok().or(peer)) {
                    (Ok(l), Some(p)) => format!("tcp {l} -> {p}"),
                    (Ok(l), None) => format!("tcp {l}"),
                    _ => "tcp socket".to_owned(),
                }
            })?,
        })
    }

    /// Wraps a connected std stream (it is made nonblocking).
    ///
    /// # Errors
    ///
    /// Outside a runtime, or if it cannot be made nonblocking.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its side
    /// (or `buf` is empty).
    ///
    /// # Errors
    ///
    /// What `read(2)` reports (a reset peer: `ConnectionReset`).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.io(Direction::Read, |mut s| s.read(buf)).await
    }

    /// Polls a read: the building block for adapters (rustls, codecs).
    ///
    /// `Pending` only after `read(2)` said `WouldBlock`; the reactor wakes
    /// the waker of `cx` when the socket turns readable. The trait method
    /// [`AsyncRead::poll_read`] is this one.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_io(cx, Direction::Read, |mut s| s.read(buf))
    }

    /// Reads without waiting: `WouldBlock` if nothing is there.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `read(2)` reports.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_io(Direction::Read, |mut s| s.read(buf))
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the peer closes first, or a read error.
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("peer closed after {filled} of {} bytes", buf.len()),
                    ));
                }
                n => filled += n,
            }
        }
        Ok(())
    }

    /// Writes some bytes of `buf`; returns how many.
    ///
    /// # Errors
    ///
    /// What `write(2)` reports (a closed peer: `BrokenPipe` or `ConnectionReset`).
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.io(Direction::Write, |mut s| s.write(buf)).await
    }

    /// Polls a write: the building block for adapters.
    ///
    /// `Pending` only after `write(2)` said `WouldBlock`; the reactor wakes
    /// the waker of `cx` when the socket turns writable. The trait method
    /// [`AsyncWrite::poll_write`] is this one.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner
            .poll_io(cx, Direction::Write, |mut s| s.write(buf))
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `write(2)` reports.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_io(Direction::Write, |mut s| s.write(buf))
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    ///
    /// A write error, or `WriteZero` if the socket accepts nothing.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let mut written = 0;
        while written < buf.len() {
            match self.write(&buf[written..]).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => written += n,
            }
        }
        Ok(())
    }

    /// Waits until the socket is readable (or closed, or in error).
    pub async fn readable(&self) {
        self.inner.ready(Direction::Read).await
    }

    /// Waits until the socket is writable (or closed, or in error).
    pub async fn writable(&self) {
        self.inner.ready(Direction::Write).await
    }

    /// Shuts down the read side, the write side or both.
    ///
    /// # Errors
    ///
    /// What `shutdown(2)` reports.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get().shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// What `getpeername(2)` reports.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get().local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get().nodelay()
    }

    /// `readv(2)` into `bufs`, waiting for readiness as [`poll_read`](Self::poll_read).
    pub(crate) fn poll_read_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .poll_io(cx, Direction::Read, |mut s| s.read_vectored(bufs))
    }

    /// `writev(2)` from `bufs`, waiting for readiness as [`poll_write`](Self::poll_write).
    pub(crate) fn poll_write_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .poll_io(cx, Direction::Write, |mut s| s.write_vectored(bufs))
    }

    /// (syscalls that answered `WouldBlock`, `Pending`s returned) on this
    /// socket: lets tests check that every `Pending` followed a `WouldBlock`
    /// (they reach it through `crate::testing::readiness_counters`).
    pub(crate) fn readiness_counters(&self) -> (u64, u64) {
        self.inner.counters()
    }
}

/// Reading through the runtime-neutral trait.
///
/// `poll_read` and `poll_read_vectored` (`readv(2)`) return `Pending` only
/// after the syscall said `WouldBlock`; the reactor then wakes the waker of
/// the latest poll when the socket turns readable (or closed, or in error).
/// `Ok(0)` means the peer closed its side.
///
/// Cancel safety: nothing is read until `Ready` is returned, so a read future
/// dropped mid-wait loses no bytes and the stream stays usable. Its waker
/// stays registered until the next poll replaces it or the next readiness
/// event wakes it once (a harmless spurious wake).
impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read(&self, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_ref(cx, bufs)
    }
}

/// Writing through the runtime-neutral trait.
///
/// `poll_write` and `poll_write_vectored` (`writev(2)`) return `Pending`
/// only after the syscall said `WouldBlock` (the send buffer is full); the
/// reactor then wakes the waker of the latest poll when the socket turns
/// writable. `poll_flush` is always ready: TCP keeps no buffer in user space.
/// `poll_close` shuts down the write side (`shutdown(2)` with `SHUT_WR`), so
/// the peer reads end-of-file; it never waits.
///
/// Cancel safety: nothing is written until `Ready` is returned, so a write
/// future dropped mid-wait sends nothing and the stream stays usable.
impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// Reading through a shared reference, as with `&std::net::TcpStream`: one
/// task may read through one `&TcpStream` while another writes through a
/// second. Pending, waking and cancel safety as for [`TcpStream`]'s impl.
impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read(self.get_mut(), cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_vectored_ref(cx, bufs)
    }
}

/// Writing through a shared reference. Pending, waking, flushing, closing
/// and cancel safety as for [`TcpStream`]'s impl.
impl AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(self.get_mut(), cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
