//! [`Response`]: a response whose head has arrived, and whose body is read
//! on demand, whole or chunk by chunk.
//!
//! The response owns its connection while the body is being read. When the
//! body is complete, and the connection is clean (the framing allows reuse,
//! the server did not say `Connection: close`, and it sent nothing past the
//! body), the connection goes back to the client's pool at once. A response
//! dropped before its body ends, or whose body fails, closes its connection:
//! the bytes still on the way would be misread as the next response.

use std::cell::RefCell;
use std::rc::Rc;

use super::body::{BodyDecoder, Framing};
use super::conn::{Conn, Fill, READ_SIZE};
use super::deadline::Deadline;
use super::error::{ErrorKind, HttpError, Phase};
use super::head::ResponseHead;
use super::pool::Pool;
use super::url::Url;

/// A response: status and headers at hand, the body still to read.
///
/// Made by [`Client::get`](super::Client::get). Reading the body is bound
/// by the same deadline as the request (see
/// [`ClientBuilder::timeout`](super::ClientBuilder::timeout)).
///
/// # Examples
///
/// ```
/// # use std::io::{Read, Write};
/// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// # let addr = server.local_addr().unwrap();
/// # std::thread::spawn(move || {
/// #     let (mut s, _) = server.accept().unwrap();
/// #     let mut req = Vec::new();
/// #     let mut b = [0; 1];
/// #     while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 { req.push(b[0]); }
/// #     s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello").unwrap();
/// # });
/// evloop::run(async {
///     let client = evloop::http::Client::new();
///     let response = client.get(&format!("http://{addr}/greeting")).await?;
///     assert_eq!(response.status(), 200);
///     assert_eq!(response.header("content-type"), Some(&b"text/plain"[..]));
///     assert_eq!(response.content_length(), Some(5));
///     assert_eq!(response.bytes().await?, b"hello");
///     Ok::<(), evloop::http::HttpError>(())
/// })?;
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug)]
pub struct Response {
    url: Url,
    head: ResponseHead,
    decoder: BodyDecoder,
    /// `None` once the body is complete (the connection went back to the
    /// pool or was closed) or failed.
    conn: Option<Conn>,
    pool: Rc<RefCell<Pool>>,
    deadline: Deadline,
    /// The head allows reuse (HTTP/1.1 without `Connection: close`).
    keep_alive: bool,
}

impl Response {
    /// Wraps a parsed head and the connection its body will come from.
    pub(crate) fn new(
        url: Url,
        head: ResponseHead,
        decoder: BodyDecoder,
        conn: Conn,
        pool: Rc<RefCell<Pool>>,
        deadline: Deadline,
    ) -> Response {
        let keep_alive = head.keep_alive();
        let mut response = Response {
            url,
            head,
            decoder,
            conn: Some(conn),
            pool,
            deadline,
            keep_alive,
        };
        if response.decoder.is_done() {
            // No body (204, 304, Content-Length: 0): the connection is free now.
            response.finish();
        }
        response
    }

    /// The status code.
    ///
    /// See the [type's example](Response#examples).
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The reason phrase (may be empty).
    ///
    /// See the [type's example](Response#examples).
    pub fn reason(&self) -> &str {
        &self.head.reason
    }

    /// The first header field called `name` (case-insensitive), as bytes.
    ///
    /// See the [type's example](Response#examples).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.head.header(name)
    }

    /// The whole head: status, version, every header field in order.
    ///
    /// See the [type's example](Response#examples).
    pub fn head(&self) -> &ResponseHead {
        &self.head
    }

    /// The URL this response came from: the last one, after redirects.
    ///
    /// See [`Client::get`](super::Client::get) for an example.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body's length if the server declared it (`Content-Length`), for
    /// a progress bar; `Some(0)` for a response that has no body.
    ///
    /// See the [type's example](Response#examples).
    pub fn content_length(&self) -> Option<u64> {
        match self.decoder.framing() {
            Framing::Length(n) => Some(n),
            Framing::Empty => Some(0),
            Framing::Chunked { .. } | Framing::UntilClose => None,
        }
    }

    /// Turns a 4xx or 5xx status into an error naming the URL and the
    /// status; other responses pass through.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Status`] for a status from 400 to 599.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let addr = server.local_addr().unwrap();
    /// # std::thread::spawn(move || {
    /// #     let (mut s, _) = server.accept().unwrap();
    /// #     let mut req = Vec::new();
    /// #     let mut b = [0; 1];
    /// #     while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 { req.push(b[0]); }
    /// #     s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").unwrap();
    /// # });
    /// evloop::run(async {
    ///     let url = format!("http://{addr}/busy");
    ///     let response = evloop::http::Client::new().get(&url).await.unwrap();
    ///     let err = response.error_for_status().unwrap_err();
    ///     assert_eq!(err.to_string(), format!("{url}: server answered with status 503 Service Unavailable"));
    /// });
    /// ```
    pub fn error_for_status(self) -> Result<Response, HttpError> {
        if (400..=599).contains(&self.head.status) {
            return Err(HttpError::new(ErrorKind::Status {
                status: self.head.status,
                reason: self.head.reason.clone(),
            })
            .with_url(&self.url));
        }
        Ok(self)
    }

    /// Reads the rest of the body and returns it whole.
    ///
    /// # Errors
    ///
    /// As [`chunk`](Self::chunk).
    ///
    /// See the [type's example](Response#examples).
    pub async fn bytes(mut self) -> Result<Vec<u8>, HttpError> {
        // Reserve for the declared length, but not blindly: it was checked
        // against the body limit, yet a liar could still declare 64 MiB
        // and send nothing.
        let reserve = self.content_length().unwrap_or(0).min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        while self.read_into(&mut body).await? {}
        Ok(body)
    }

    /// Reads the next piece of the body: `Ok(Some(bytes))` with at most
    /// [`READ_SIZE`] bytes, or `Ok(None)` once the body is complete (and
    /// again on every later call).
    ///
    /// Use it to write a download to disk as it arrives, holding one piece
    /// in memory at a time. Returns `Pending` while no body bytes are
    /// available; the reactor wakes the task when the socket has more.
    ///
    /// Cancel safety: dropping the future midway loses no bytes (they stay
    /// in the connection's buffer), so the next call goes on where this one
    /// stopped.
    ///
    /// # Errors
    ///
    /// With the URL attached: a framing error from the
    /// [`BodyDecoder`] (such as [`ErrorKind::BadChunkSize`] or
    /// [`ErrorKind::BodyTooLarge`]), [`ErrorKind::BodyTruncated`] if the
    /// server closes early, [`ErrorKind::TlsTruncated`] if a TLS server's
    /// connection ends without `close_notify` while the body is delimited
    /// by the close, [`ErrorKind::Timeout`] when the request's
    /// deadline passes, [`ErrorKind::Io`]. After an error the connection is
    /// closed, and later calls return [`ErrorKind::DecoderPoisoned`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let addr = server.local_addr().unwrap();
    /// # std::thread::spawn(move || {
    /// #     let (mut s, _) = server.accept().unwrap();
    /// #     let mut req = Vec::new();
    /// #     let mut b = [0; 1];
    /// #     while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 { req.push(b[0]); }
    /// #     s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    /// #     s.write_all(b"6\r\nchunk \r\n").unwrap();
    /// #     s.write_all(b"2\r\nby\r\n").unwrap();
    /// #     s.write_all(b"6\r\n chunk\r\n0\r\n\r\n").unwrap();
    /// # });
    /// evloop::run(async {
    ///     let client = evloop::http::Client::new();
    ///     let mut response = client.get(&format!("http://{addr}/")).await?;
    ///     let mut body = Vec::new();
    ///     while let Some(piece) = response.chunk().await? {
    ///         assert!(piece.len() <= evloop::http::READ_SIZE);
    ///         body.extend_from_slice(&piece); // or write it to a file
    ///     }
    ///     assert_eq!(body, b"chunk by chunk");
    ///     assert_eq!(response.chunk().await?, None);
    ///     Ok::<(), evloop::http::HttpError>(())
    /// })?;
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        let mut out = Vec::new();
        while out.is_empty() {
            if !self.read_into(&mut out).await? {
                break;
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// Appends at most [`READ_SIZE`] more body bytes to `out` (maybe none,
    /// when a read brought only framing); `Ok(false)` once the body is
    /// complete. On error, closes the connection and attaches the URL.
    async fn read_into(&mut self, out: &mut Vec<u8>) -> Result<bool, HttpError> {
        match self.step(out).await {
            Ok(more) => Ok(more),
            Err(error) => {
                self.conn = None;
                Err(error.with_url(&self.url))
            }
        }
    }

    async fn step(&mut self, out: &mut Vec<u8>) -> Result<bool, HttpError> {
        if self.decoder.is_done() {
            self.finish();
            return Ok(false);
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or(HttpError::new(ErrorKind::DecoderPoisoned))?;
        if conn.unread().is_empty() {
            match self.deadline.run(Phase::ReadBody, conn.fill()).await? {
                Fill::Data(_) => {}
                Fill::ClosedWithoutCloseNotify if self.decoder.framing() == Framing::UntilClose => {
                    // Only the close says where this body ends, and over TLS
                    // a close without close_notify proves nothing: whoever
                    // cut the connection could have cut the body.
                    return Err(HttpError::new(ErrorKind::TlsTruncated {
                        received: self.decoder.received(),
                    }));
                }
                Fill::Closed | Fill::ClosedWithoutCloseNotify => {
                    // The server closed: the end of a close-delimited body,
                    // or a truncated one, which the framing tells (a
                    // `Content-Length` or chunked body that is not complete
                    // is an error, however the connection ended).
                    self.decoder.eof()?;
                    self.finish();
                    return Ok(false);
                }
            }
        }
        let unread = conn.unread();
        let take = unread.len().min(READ_SIZE);
        let step = self.decoder.decode(&unread[..take], out)?;
        conn.consume(step.consumed);
        if step.done {
            self.finish();
        }
        Ok(true)
    }

    /// Reads whatever of the body has already arrived and, if that
    /// completes it, keeps the connection; otherwise closes it. Never waits:
    /// used on a redirect, whose body nobody wants.
    pub(crate) fn discard(mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let unread = conn.unread();
        let mut sink = Vec::new();
        if let Ok(step) = self.decoder.decode(unread, &mut sink) {
            conn.consume(step.consumed);
        }
        if self.decoder.is_done() {
            self.finish();
        }
    }

    /// The body is complete (or was never there): returns a clean
    /// connection to the pool, closes any other.
    fn finish(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.keep_alive && self.decoder.connection_reusable() && conn.unread().is_empty() {
            self.pool.borrow_mut().put(conn);
        }
        // Otherwise dropping `conn` closes it.
    }
}
