//! [`TcpListener`]: accepting connections on the loop.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::{TcpStream, ToAddrs, lookup_host};
use crate::io::reactor::Direction;
use crate::io::registration::Evented;

/// A TCP socket listening for connections.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = evloop::spawn(async move {
///         let s = evloop::net::TcpStream::connect(addr).await.unwrap();
///         s.write_all(b"hi").await.unwrap();
///     });
///     let (conn, _) = listener.accept().await.unwrap();
///     let mut buf = [0u8; 2];
///     conn.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
/// });
/// ```
pub struct TcpListener {
    inner: Evented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first address that works, if it names several).
    ///
    /// # Errors
    ///
    /// If no address could be bound, or outside a runtime.
    pub async fn bind(addr: impl ToAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in lookup_host(addr).await? {
            match mio::net::TcpListener::bind(addr) {
                Ok(l) => return TcpListener::from_mio(l),
                Err(e) => last = Some(io::Error::new(e.kind(), format!("binding {addr}: {e}"))),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to bind")))
    }

    /// Wraps a bound std listener (it is made nonblocking).
    ///
    /// # Errors
    ///
    /// Outside a runtime, or if it cannot be made nonblocking.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Evented::new(listener, |l| match l.local_addr() {
                Ok(a) => format!("listener {a}"),
                Err(_) => "listener".to_owned(),
            })?,
        })
    }

    /// Waits for a connection.
    ///
    /// Cancel safe: a dropped `accept` loses no connection (it stays in the
    /// kernel's backlog).
    ///
    /// # Errors
    ///
    /// What `accept(2)` reports (e.g. out of file descriptors).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.inner.io(Direction::Read, |l| l.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get().local_addr()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
