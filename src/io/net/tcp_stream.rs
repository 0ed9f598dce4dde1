//! [`TcpStream`]: a connected TCP socket on the loop.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

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

    /// (syscalls that answered `WouldBlock`, `Pending`s returned) on this
    /// socket: lets tests check that every `Pending` followed a `WouldBlock`
    /// (they reach it through `crate::testing::readiness_counters`).
    pub(crate) fn readiness_counters(&self) -> (u64, u64) {
        self.inner.counters()
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
