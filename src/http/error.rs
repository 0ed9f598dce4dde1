//! The one error type of the HTTP client.
//!
//! Every failure of the client, from a malformed URL to a chunked body that
//! stops halfway, is an [`HttpError`]. It is a small wrapper struct around an
//! [`ErrorKind`] that says *what* went wrong, plus the URL of the request
//! when it is known.
//!
//! # Why a wrapper and not a bare enum
//!
//! The parsers in [`head`](super::head) and [`body`](super::body) work on
//! bytes and do not know which URL the bytes belong to; the client that
//! feeds them does. So the parsers return an error without a URL and the
//! client attaches it once, with [`HttpError::with_url`], instead of every
//! enum variant carrying an `Option<String>` of its own. `Display` prints
//! `"<url>: <what went wrong>"` when a URL is attached and just the second
//! half otherwise.
//!
//! [`ErrorKind`] is `#[non_exhaustive]`: this file defines the kinds for
//! parsing and framing; the async client adds its own (connect, timeout,
//! TLS, status, redirect, I/O) next to them.

use std::fmt;
use std::io;
use std::time::Duration;

use super::url::Url;

/// An error of the HTTP client: what went wrong, and the URL it happened to.
///
/// # Examples
///
/// ```
/// use evloop::http::{ErrorKind, HttpError, Url};
///
/// let err = HttpError::new(ErrorKind::HeadTooLarge { limit: 64 });
/// assert_eq!(err.to_string(), "response head is larger than the limit of 64 bytes");
///
/// let url = Url::parse("http://example.com/a.jpg")?;
/// let err = err.with_url(&url);
/// assert_eq!(err.url(), Some("http://example.com/a.jpg"));
/// assert_eq!(
///     err.to_string(),
///     "http://example.com/a.jpg: response head is larger than the limit of 64 bytes"
/// );
/// # Ok::<(), HttpError>(())
/// ```
#[derive(Debug)]
pub struct HttpError {
    url: Option<String>,
    kind: ErrorKind,
}

impl HttpError {
    /// Creates an error of the given kind, with no URL attached yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, HttpError};
    ///
    /// let err = HttpError::new(ErrorKind::DecoderPoisoned);
    /// assert!(err.url().is_none());
    /// ```
    pub fn new(kind: ErrorKind) -> Self {
        HttpError { url: None, kind }
    }

    /// Attaches the URL of the request this error belongs to.
    ///
    /// A URL that is already attached is kept: the innermost code that knew
    /// the URL wins (after a redirect, that is the URL actually fetched).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, HttpError, Url};
    ///
    /// let first = Url::parse("http://a.test/")?;
    /// let second = Url::parse("http://b.test/")?;
    /// let err = HttpError::new(ErrorKind::DecoderPoisoned)
    ///     .with_url(&first)
    ///     .with_url(&second);
    /// assert_eq!(err.url(), Some("http://a.test/"));
    /// # Ok::<(), HttpError>(())
    /// ```
    #[must_use]
    pub fn with_url(mut self, url: &Url) -> Self {
        if self.url.is_none() {
            self.url = Some(url.to_string());
        }
        self
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, Url, UrlProblem};
    ///
    /// let err = Url::parse("ftp://example.com/").unwrap_err();
    /// assert!(matches!(
    ///     err.kind(),
    ///     ErrorKind::Url { problem: UrlProblem::UnsupportedScheme(s), .. } if s == "ftp"
    /// ));
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The URL of the request, if one was attached with [`with_url`](Self::with_url).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, HttpError};
    ///
    /// assert_eq!(HttpError::new(ErrorKind::DecoderPoisoned).url(), None);
    /// ```
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Takes the kind out of the error, dropping the URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, HttpError};
    ///
    /// let kind = HttpError::new(ErrorKind::TooManyHeaders { limit: 100 }).into_kind();
    /// assert!(matches!(kind, ErrorKind::TooManyHeaders { limit: 100 }));
    /// ```
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }
}

impl From<ErrorKind> for HttpError {
    fn from(kind: ErrorKind) -> Self {
        HttpError::new(kind)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.url {
            Some(url) => write!(f, "{url}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// [`source`](std::error::Error::source) is the error underneath, where
/// there is one: the [`io::Error`] of [`ErrorKind::Connect`] and
/// [`ErrorKind::Io`], the [`rustls::Error`] of [`ErrorKind::Tls`]. Other
/// kinds are evloop's own findings and have no source.
///
/// `Display` already includes the source's text (so a one-line message is
/// complete on its own); a reporter that prints the whole chain shows it
/// once more.
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use std::io;
/// use evloop::http::{ErrorKind, HttpError, Phase};
///
/// let reset = io::Error::new(io::ErrorKind::ConnectionReset, "peer reset");
/// let err = HttpError::new(ErrorKind::Io { phase: Phase::ReadBody, error: reset });
/// let source = err.source().and_then(|s| s.downcast_ref::<io::Error>());
/// assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::ConnectionReset));
///
/// assert!(HttpError::new(ErrorKind::DecoderPoisoned).source().is_none());
/// ```
impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Connect { error } | ErrorKind::Io { error, .. } => Some(error),
            ErrorKind::Tls { error } => Some(error),
            _ => None,
        }
    }
}

/// What went wrong, without the URL (see [`HttpError`]).
///
/// Byte excerpts and header values in the variants are already escaped
/// (non-printable bytes as `\xNN`) and cut short, so they are safe to print.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A URL (given by the user, or a redirect's `Location`) is malformed or
    /// not supported.
    Url {
        /// The URL text as given (printed escaped and cut to 200 characters).
        url: String,
        /// Which rule it broke.
        problem: UrlProblem,
    },
    /// The request method is not an HTTP token.
    InvalidMethod {
        /// The method as given, escaped.
        method: String,
    },
    /// An extra request header has a bad name or value (which could
    /// otherwise inject headers into the request).
    InvalidRequestHeader {
        /// The header name, escaped.
        name: String,
        /// Which rule it broke.
        problem: &'static str,
    },
    /// The response head did not end within the limit.
    HeadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The response head has more header fields than the parser accepts.
    TooManyHeaders {
        /// The most header fields accepted.
        limit: usize,
    },
    /// The response does not start with a valid `HTTP/1.x NNN` status line.
    BadStatusLine {
        /// httparse's description of the problem.
        problem: String,
        /// The start of what came instead, escaped.
        excerpt: String,
    },
    /// A header field of the response is malformed.
    BadHeader {
        /// httparse's description of the problem.
        problem: String,
    },
    /// The server answered `101 Switching Protocols`, which this client never
    /// asks for.
    UnexpectedSwitchingProtocols,
    /// A header the client needs to read (such as `Location`) is not UTF-8.
    HeaderNotUtf8 {
        /// The header name.
        name: &'static str,
    },
    /// A `Content-Length` value is not a plain decimal number that fits a
    /// `u64`.
    BadContentLength {
        /// The offending value, escaped.
        value: String,
    },
    /// `Content-Length` was given more than once (or as a list) with values
    /// that disagree.
    ConflictingContentLength {
        /// The first value seen.
        first: u64,
        /// The first value that disagrees with it.
        second: u64,
    },
    /// `Transfer-Encoding` names a coding other than a final `chunked`.
    UnsupportedTransferEncoding {
        /// All `Transfer-Encoding` values joined by `, `, escaped.
        value: String,
    },
    /// The body is (or is declared to be) larger than the body limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The body has at least this many bytes.
        at_least: u64,
    },
    /// A chunk-size line does not start with a hex digit, or a hex size is
    /// followed by something other than `;`, whitespace or CRLF.
    BadChunkSize {
        /// The offending byte.
        found: u8,
        /// Its offset in the body as it came on the wire.
        offset: u64,
    },
    /// A chunk size has more than 16 hex digits, so it would overflow `u64`.
    ChunkSizeOverflow {
        /// Offset of the 17th digit in the body as it came on the wire.
        offset: u64,
    },
    /// A chunk extension holds a control character.
    BadChunkExtension {
        /// The offending byte.
        found: u8,
        /// Its offset in the body as it came on the wire.
        offset: u64,
    },
    /// A chunk extension (everything between the size and the CRLF) is
    /// longer than the limit.
    ChunkExtensionTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A CR or LF that chunked framing requires is missing.
    BadChunkDelimiter {
        /// What was expected there.
        expected: &'static str,
        /// The byte that came instead.
        found: u8,
        /// Its offset in the body as it came on the wire.
        offset: u64,
    },
    /// The trailer section after the last chunk is longer than the limit.
    TrailersTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The trailer section after the last chunk is malformed.
    BadTrailer {
        /// What is wrong with it.
        problem: String,
    },
    /// The connection closed before the body was complete.
    BodyTruncated {
        /// Body bytes received.
        received: u64,
        /// Body bytes declared by `Content-Length`, or `None` for a chunked
        /// body that had not reached its last chunk.
        expected: Option<u64>,
    },
    /// A TLS connection ended without the server's `close_notify` alert
    /// while the body was delimited by the connection's close (no
    /// `Content-Length`, not chunked). Only `close_notify` proves where such
    /// a body ends; a bare TCP close can be forged by anyone on the path, so
    /// the body may have been cut short and is refused.
    TlsTruncated {
        /// Body bytes received before the close.
        received: u64,
    },
    /// A [`BodyDecoder`](super::body::BodyDecoder) was used again after it
    /// returned an error.
    DecoderPoisoned,
    /// No TCP connection could be made: the name did not resolve, or every
    /// address refused or was unreachable. The I/O error names the address.
    Connect {
        /// What the resolver or `connect(2)` reported.
        error: io::Error,
    },
    /// The connect timeout elapsed before the connection was ready (the TCP
    /// connect and, for `https`, the TLS handshake).
    ConnectTimeout {
        /// The connect timeout.
        limit: Duration,
    },
    /// The request's total deadline elapsed. It covers everything from the
    /// call to `get` to the last byte of the body, redirects included.
    Timeout {
        /// What the client was doing when time ran out.
        phase: Phase,
        /// The total timeout.
        limit: Duration,
    },
    /// An I/O error on an established connection (reset, broken pipe...).
    Io {
        /// What the client was doing.
        phase: Phase,
        /// What the socket reported.
        error: io::Error,
    },
    /// The server closed the connection before the response head was
    /// complete.
    HeadTruncated {
        /// Bytes of the head received before the close.
        received: usize,
    },
    /// TLS failed: a certificate the client does not trust, a handshake
    /// the server broke off, a bad record.
    Tls {
        /// What rustls reported (also the error's
        /// [`source`](std::error::Error::source)).
        error: rustls::Error,
    },
    /// A root certificate given to the client builder could not be used.
    InvalidRootCertificate {
        /// What is wrong with it.
        problem: String,
    },
    /// The response has a client or server error status (4xx or 5xx); made
    /// by [`Response::error_for_status`](super::Response::error_for_status).
    Status {
        /// The status code.
        status: u16,
        /// The reason phrase the server sent.
        reason: String,
    },
    /// A redirect points from an `https` URL to a plain `http` one, which
    /// would send the request (and leak what it reveals) in the clear.
    InsecureRedirect {
        /// The `http` URL the server redirected to.
        to: String,
    },
    /// A redirect leads back to a URL already fetched for this request.
    RedirectLoop {
        /// Every URL fetched, in order, ending with the one seen twice.
        chain: Vec<String>,
    },
    /// The server redirected more often than the client allows.
    TooManyRedirects {
        /// The most redirects followed for one request.
        limit: usize,
        /// Every URL fetched, in order, ending with the one not followed.
        chain: Vec<String>,
    },
}

/// Which step of a request was under way when it failed (see
/// [`ErrorKind::Timeout`] and [`ErrorKind::Io`]).
///
/// # Examples
///
/// ```
/// use evloop::http::Phase;
///
/// assert_eq!(Phase::ReadHead.to_string(), "reading the response head");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Resolving the host name and opening the TCP connection.
    Connect,
    /// The TLS handshake of an `https` connection.
    TlsHandshake,
    /// Writing the request.
    SendRequest,
    /// Reading the status line and header fields.
    ReadHead,
    /// Reading the body.
    ReadBody,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::TlsHandshake => "in the TLS handshake",
            Phase::SendRequest => "sending the request",
            Phase::ReadHead => "reading the response head",
            Phase::ReadBody => "reading the body",
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Url { url, problem } => {
                write!(f, "invalid URL \"{}\": {problem}", shorten(url, 200))
            }
            ErrorKind::InvalidMethod { method } => {
                write!(f, "invalid request method \"{method}\": not an HTTP token")
            }
            ErrorKind::InvalidRequestHeader { name, problem } => {
                write!(f, "invalid request header \"{name}\": {problem}")
            }
            ErrorKind::HeadTooLarge { limit } => {
                write!(f, "response head is larger than the limit of {limit} bytes")
            }
            ErrorKind::TooManyHeaders { limit } => {
                write!(f, "response has more than {limit} header fields")
            }
            ErrorKind::BadStatusLine { problem, excerpt } => {
                write!(f, "bad status line ({problem}): got \"{excerpt}\"")
            }
            ErrorKind::BadHeader { problem } => {
                write!(f, "malformed response header: {problem}")
            }
            ErrorKind::UnexpectedSwitchingProtocols => {
                write!(
                    f,
                    "server switched protocols (101) although none was requested"
                )
            }
            ErrorKind::HeaderNotUtf8 { name } => write!(f, "{name} header is not UTF-8"),
            ErrorKind::BadContentLength { value } => {
                write!(f, "bad Content-Length \"{value}\": not a plain decimal u64")
            }
            ErrorKind::ConflictingContentLength { first, second } => {
                write!(f, "conflicting Content-Length values {first} and {second}")
            }
            ErrorKind::UnsupportedTransferEncoding { value } => write!(
                f,
                "unsupported Transfer-Encoding \"{value}\": only a final \"chunked\" is understood"
            ),
            ErrorKind::BodyTooLarge { limit, at_least } => write!(
                f,
                "body of at least {at_least} bytes is over the limit of {limit} bytes"
            ),
            ErrorKind::BadChunkSize { found, offset } => write!(
                f,
                "bad chunk size: unexpected byte '{}' at body offset {offset}",
                found.escape_ascii()
            ),
            ErrorKind::ChunkSizeOverflow { offset } => write!(
                f,
                "chunk size has more than 16 hex digits (overflows u64) at body offset {offset}"
            ),
            ErrorKind::BadChunkExtension { found, offset } => write!(
                f,
                "bad chunk extension: control byte '{}' at body offset {offset}",
                found.escape_ascii()
            ),
            ErrorKind::ChunkExtensionTooLong { limit } => {
                write!(
                    f,
                    "chunk extension is longer than the limit of {limit} bytes"
                )
            }
            ErrorKind::BadChunkDelimiter {
                expected,
                found,
                offset,
            } => write!(
                f,
                "bad chunked framing: expected {expected}, got '{}' at body offset {offset}",
                found.escape_ascii()
            ),
            ErrorKind::TrailersTooLarge { limit } => {
                write!(
                    f,
                    "chunked trailers are longer than the limit of {limit} bytes"
                )
            }
            ErrorKind::BadTrailer { problem } => write!(f, "bad chunked trailer: {problem}"),
            ErrorKind::BodyTruncated {
                received,
                expected: Some(expected),
            } => write!(f, "body ended after {received} of {expected} bytes"),
            ErrorKind::BodyTruncated {
                received,
                expected: None,
            } => write!(
                f,
                "chunked body ended after {received} bytes, before its last chunk"
            ),
            ErrorKind::TlsTruncated { received } => write!(
                f,
                "body truncated: the TLS connection ended without close_notify after \
                 {received} bytes of a body that only the close delimits"
            ),
            ErrorKind::DecoderPoisoned => {
                write!(f, "body decoder used again after it reported an error")
            }
            ErrorKind::Connect { error } => write!(f, "cannot connect: {error}"),
            ErrorKind::ConnectTimeout { limit } => {
                write!(f, "connect timeout of {limit:?} elapsed")
            }
            ErrorKind::Timeout { phase, limit } => {
                write!(f, "request deadline of {limit:?} elapsed while {phase}")
            }
            ErrorKind::Io { phase, error } => write!(f, "I/O error while {phase}: {error}"),
            ErrorKind::HeadTruncated { received: 0 } => {
                write!(f, "server closed the connection before sending a response")
            }
            ErrorKind::HeadTruncated { received } => write!(
                f,
                "server closed the connection after {received} bytes of the response head"
            ),
            ErrorKind::Tls { error } => write!(f, "TLS error: {error}"),
            ErrorKind::InvalidRootCertificate { problem } => {
                write!(f, "invalid root certificate: {problem}")
            }
            ErrorKind::Status { status, reason } if reason.is_empty() => {
                write!(f, "server answered with status {status}")
            }
            ErrorKind::Status { status, reason } => {
                write!(f, "server answered with status {status} {reason}")
            }
            ErrorKind::InsecureRedirect { to } => {
                write!(f, "refusing to follow a redirect from https to {to}")
            }
            ErrorKind::RedirectLoop { chain } => {
                write!(f, "redirect loop: {}", chain.join(" -> "))
            }
            ErrorKind::TooManyRedirects { limit, chain } => {
                write!(f, "more than {limit} redirects: {}", chain.join(" -> "))
            }
        }
    }
}

/// Which rule a URL broke (see [`ErrorKind::Url`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlProblem {
    /// There is no `scheme:` at the start.
    NoScheme,
    /// The scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// The scheme is not followed by `//host`.
    NoHost,
    /// The authority holds `user:password@`, which this client refuses to
    /// send in the clear or to log.
    Userinfo,
    /// The host holds a character other than letters, digits, `-`, `.`, `_`
    /// and `~` (internationalized names must be given in punycode).
    BadHost(char),
    /// The host is all digits and dots but not a valid IPv4 address.
    BadIpv4,
    /// A bracketed host is not a valid IPv6 address (zone ids are refused).
    BadIpv6,
    /// The port is not a decimal number from 1 to 65535.
    BadPort,
    /// The URL holds a space.
    Space,
    /// The URL holds a control character.
    ControlCharacter(char),
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlProblem::NoScheme => write!(f, "no scheme (expected http:// or https://)"),
            UrlProblem::UnsupportedScheme(s) => write!(
                f,
                "unsupported scheme \"{}\" (only http and https)",
                shorten(s, 40)
            ),
            UrlProblem::NoHost => write!(f, "no host after the scheme"),
            UrlProblem::Userinfo => write!(f, "user info (user:password@) is not supported"),
            UrlProblem::BadHost(c) => {
                write!(
                    f,
                    "character '{}' is not allowed in a host",
                    c.escape_debug()
                )
            }
            UrlProblem::BadIpv4 => write!(f, "host looks like an IPv4 address but is not one"),
            UrlProblem::BadIpv6 => write!(f, "bad IPv6 address in brackets"),
            UrlProblem::BadPort => write!(f, "port is not a number from 1 to 65535"),
            UrlProblem::Space => write!(f, "spaces are not allowed (encode them as %20)"),
            UrlProblem::ControlCharacter(c) => {
                write!(f, "control character '{}' is not allowed", c.escape_debug())
            }
        }
    }
}

/// Escapes `text` for printing and cuts it to about `max` characters.
fn shorten(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// Escapes `bytes` for printing (`\xNN` for what is not printable ASCII) and
/// cuts the result to the first `max` bytes.
pub(crate) fn escape_bytes(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len().min(max);
    let mut out = bytes[..cut].escape_ascii().to_string();
    if cut < bytes.len() {
        out.push_str("...");
    }
    out
}
