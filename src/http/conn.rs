//! [`Conn`]: one connection to one origin, plain or TLS, with the bytes
//! read from it that no response has used yet.
//!
//! HTTP/1.1 reads do not line up with messages: one read may end inside a
//! response head, or carry the end of a head and the start of the body, or
//! the end of a body and (from a misbehaving server) bytes after it. So
//! every read appends to the connection's buffer, and the head parser and
//! the body decoder take from its front. Bytes still in the buffer when a
//! response is complete mean the server sent more than it framed, and the
//! connection must not carry another request.

use std::io;
use std::sync::Arc;

use rustls::ClientConfig;

use super::deadline::Deadline;
use super::error::{HttpError, Phase};
use super::pool::PoolKey;
use super::tls::{TlsRead, TlsStream};
use super::url::Url;
use crate::net::TcpStream;

/// The most bytes one read takes from the socket; also the most body bytes
/// one [`Response::chunk`](super::Response::chunk) returns.
pub const READ_SIZE: usize = 16 * 1024;

/// The socket, with or without TLS on top.
#[derive(Debug)]
enum Transport {
    Plain(TcpStream),
    /// Boxed: a rustls connection is large, and a `Conn` moves often.
    Tls(Box<TlsStream>),
}

/// What one [`Conn::fill`] brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the end of the stream comes in two kinds, and the framing decides what each means"]
pub(crate) enum Fill {
    /// This many bytes were appended to the unread bytes (never 0).
    Data(usize),
    /// The server closed the connection as cleanly as the transport can
    /// say: a TCP FIN on a plain connection, a `close_notify` alert on TLS.
    Closed,
    /// A TLS connection's TCP stream ended without `close_notify`. Nothing
    /// proves that the server meant the data to end there: a body delimited
    /// by the connection's close must be refused as truncated; a body with
    /// its own framing (`Content-Length`, chunked) is judged by that.
    ClosedWithoutCloseNotify,
}

/// A connection: the transport, its origin, and unread bytes.
#[derive(Debug)]
pub(crate) struct Conn {
    transport: Transport,
    key: PoolKey,
    /// Bytes read but not used yet; the unread part starts at `start`.
    buf: Vec<u8>,
    start: usize,
    /// Where each read lands before it is appended to `buf`, so that a read
    /// cancelled midway leaves `buf` untouched.
    scratch: Vec<u8>,
}

impl Conn {
    /// Connects to `url`'s origin (resolving its name off the loop) and,
    /// for `https`, runs the TLS handshake, all within `deadline`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Connect`](super::ErrorKind::Connect),
    /// [`ErrorKind::ConnectTimeout`](super::ErrorKind::ConnectTimeout) or
    /// [`ErrorKind::Timeout`](super::ErrorKind::Timeout),
    /// [`ErrorKind::Tls`](super::ErrorKind::Tls).
    pub(crate) async fn open(
        url: &Url,
        tls: &Arc<ClientConfig>,
        deadline: &Deadline,
    ) -> Result<Conn, HttpError> {
        let tcp = deadline
            .run(Phase::Connect, TcpStream::connect(url.authority()))
            .await?;
        // Requests are small and written at once: no reason to wait for
        // more bytes before sending them.
        let _ = tcp.set_nodelay(true);
        let transport = if url.is_https() {
            let stream = deadline
                .run(
                    Phase::TlsHandshake,
                    TlsStream::handshake(tcp, tls.clone(), url.host()),
                )
                .await?;
            Transport::Tls(Box::new(stream))
        } else {
            Transport::Plain(tcp)
        };
        Ok(Conn {
            transport,
            key: PoolKey::of(url),
            buf: Vec::new(),
            start: 0,
            scratch: vec![0; READ_SIZE],
        })
    }

    /// The origin this connection goes to.
    pub(crate) fn key(&self) -> &PoolKey {
        &self.key
    }

    /// Writes all of `bytes`.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.transport {
            Transport::Plain(tcp) => tcp.write_all(bytes).await,
            Transport::Tls(tls) => tls.write_all(bytes).await,
        }
    }

    /// Reads once (at most [`READ_SIZE`] bytes) and appends to the unread
    /// bytes; or says how the server closed the connection (see [`Fill`]).
    ///
    /// Cancel safe: dropped midway, it has appended nothing.
    pub(crate) async fn fill(&mut self) -> io::Result<Fill> {
        let n = match &mut self.transport {
            Transport::Plain(tcp) => match tcp.read(&mut self.scratch).await? {
                0 => return Ok(Fill::Closed),
                n => n,
            },
            Transport::Tls(tls) => match tls.read(&mut self.scratch).await? {
                TlsRead::Data(n) => n,
                TlsRead::Closed => return Ok(Fill::Closed),
                TlsRead::ClosedWithoutCloseNotify => return Ok(Fill::ClosedWithoutCloseNotify),
            },
        };
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            // Most of the buffer is used up: move the rest to the front.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(&self.scratch[..n]);
        Ok(Fill::Data(n))
    }

    /// The bytes read but not used yet.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Marks the first `n` unread bytes as used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.buf.len(), "consumed more than was read");
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Whether this idle connection can carry another request: nothing is
    /// left unread, and the server has neither closed it nor sent anything
    /// since (a zero-length read, or stray bytes, mean it must go). Never
    /// waits: one nonblocking read that must answer `WouldBlock`.
    pub(crate) fn is_idle_and_open(&mut self) -> bool {
        if !self.unread().is_empty() {
            return false;
        }
        match &mut self.transport {
            Transport::Plain(tcp) => {
                let mut probe = [0u8; 1];
                matches!(tcp.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            Transport::Tls(tls) => tls.is_idle_and_open(),
        }
    }
}
