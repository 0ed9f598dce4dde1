//! The head of an HTTP/1.1 exchange: writing the request, parsing the
//! response's status line and header fields.
//!
//! Both halves are pure functions over bytes. The client writes the bytes
//! of [`get_request`] to the socket, then appends what it reads to a buffer
//! and calls [`ResponseHead::parse`] on the whole buffer after every read
//! until it returns a head; the bytes after the head are the start of the
//! body (see [`body`](super::body)). Parsing is done by `httparse`.
//!
//! ```
//! use evloop::http::{ResponseHead, Url, get_request, head::DEFAULT_MAX_HEAD};
//!
//! let url = Url::parse("http://example.com/cat.jpg")?;
//! let request = get_request(&url, &[])?;
//! assert!(request.starts_with(b"GET /cat.jpg HTTP/1.1\r\nHost: example.com\r\n"));
//!
//! // The response arrives in two reads.
//! let mut buf = b"HTTP/1.1 200 OK\r\nContent-Len".to_vec();
//! assert!(ResponseHead::parse(&buf, DEFAULT_MAX_HEAD)?.is_none());
//! buf.extend_from_slice(b"gth: 3\r\n\r\nabc");
//! let (head, used) = ResponseHead::parse(&buf, DEFAULT_MAX_HEAD)?.expect("complete");
//! assert_eq!(head.status, 200);
//! assert_eq!(&buf[used..], b"abc");
//! # Ok::<(), evloop::http::HttpError>(())
//! ```

use super::error::{ErrorKind, HttpError, escape_bytes};
use super::url::Url;

/// The default limit on the size of a response head: 64 KiB.
pub const DEFAULT_MAX_HEAD: usize = 64 * 1024;

/// The most header fields a response head may have.
pub const MAX_HEADERS: usize = 100;

/// How many header fields the first parse attempt makes room for; a head
/// with more is parsed again with room for [`MAX_HEADERS`].
const FIRST_TRY_HEADERS: usize = 32;

/// The `User-Agent` the client sends unless told otherwise.
pub const USER_AGENT: &str = "evloop/0.1";

/// Serializes a `GET` request for `url`.
///
/// Same as [`request`] with method `GET`; see there for the headers sent
/// and for the errors.
///
/// # Examples
///
/// ```
/// use evloop::http::{Url, get_request};
///
/// let url = Url::parse("http://127.0.0.1:8000/img/1.jpg?w=10#frag")?;
/// let bytes = get_request(&url, &[("Accept", "image/jpeg")])?;
/// let text = String::from_utf8(bytes).unwrap();
/// assert_eq!(
///     text,
///     "GET /img/1.jpg?w=10 HTTP/1.1\r\n\
///      Host: 127.0.0.1:8000\r\n\
///      User-Agent: evloop/0.1\r\n\
///      Accept-Encoding: identity\r\n\
///      Connection: keep-alive\r\n\
///      Accept: image/jpeg\r\n\
///      \r\n"
/// );
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
pub fn get_request(url: &Url, extra_headers: &[(&str, &str)]) -> Result<Vec<u8>, HttpError> {
    request("GET", url, extra_headers)
}

/// Serializes a bodiless HTTP/1.1 request (`GET`, `HEAD`, ...) for `url`.
///
/// The request line carries [`Url::target`] (never the fragment). The
/// headers are, in order: `Host` ([`Url::host_header`]), `User-Agent:
/// evloop/0.1`, `Accept-Encoding: identity` (the client does not decode
/// compressed bodies), `Connection: keep-alive`, then `extra_headers`. An
/// extra header named like one of the last three (case-insensitive)
/// replaces it instead of being sent twice.
///
/// # Errors
///
/// - [`ErrorKind::InvalidMethod`] if `method` is not an HTTP token.
/// - [`ErrorKind::InvalidRequestHeader`] if an extra header's name is not a
///   token, if its value holds CR, LF or another control character (which
///   would let it inject headers), or if it is `Host`, `Content-Length` or
///   `Transfer-Encoding` (the first comes from the URL; the request has no
///   body).
///
/// # Examples
///
/// ```
/// use evloop::http::{ErrorKind, Url, request};
///
/// let url = Url::parse("https://example.com/")?;
/// let bytes = request("HEAD", &url, &[("Connection", "close")])?;
/// let text = String::from_utf8(bytes).unwrap();
/// assert!(text.starts_with("HEAD / HTTP/1.1\r\nHost: example.com\r\n"));
/// assert!(text.contains("Connection: close\r\n"));
/// assert!(!text.contains("keep-alive"));
///
/// let err = request("GET", &url, &[("X-Evil", "a\r\nSet-Cookie: b")]).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::InvalidRequestHeader { .. }));
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
pub fn request(
    method: &str,
    url: &Url,
    extra_headers: &[(&str, &str)],
) -> Result<Vec<u8>, HttpError> {
    if !is_token(method) {
        return Err(ErrorKind::InvalidMethod {
            method: escape_bytes(method.as_bytes(), 40),
        }
        .into());
    }
    for (name, value) in extra_headers {
        check_request_header(name, value)?;
    }
    let mut out = Vec::with_capacity(128 + url.target().len());
    let mut line = |name: &str, value: &str| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    let overridden = |name: &str| {
        extra_headers
            .iter()
            .any(|(extra, _)| extra.eq_ignore_ascii_case(name))
    };
    line("Host", &url.host_header());
    for (name, value) in [
        ("User-Agent", USER_AGENT),
        ("Accept-Encoding", "identity"),
        ("Connection", "keep-alive"),
    ] {
        if !overridden(name) {
            line(name, value);
        }
    }
    for (name, value) in extra_headers {
        line(name, value);
    }
    let mut request = format!("{method} {} HTTP/1.1\r\n", url.target()).into_bytes();
    request.extend_from_slice(&out);
    request.extend_from_slice(b"\r\n");
    Ok(request)
}

fn check_request_header(name: &str, value: &str) -> Result<(), HttpError> {
    let problem = if !is_token(name) {
        Some("the name is not an HTTP token")
    } else if ["Host", "Content-Length", "Transfer-Encoding"]
        .iter()
        .any(|reserved| name.eq_ignore_ascii_case(reserved))
    {
        Some("this header is set by the client itself")
    } else if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        Some("the value holds CR, LF or another control character")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ErrorKind::InvalidRequestHeader {
            name: escape_bytes(name.as_bytes(), 40),
            problem,
        }
        .into()),
    }
}

/// Whether `text` is an HTTP token (RFC 9110 section 5.6.2).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The status line and header fields of a response.
///
/// # Examples
///
/// ```
/// use evloop::http::ResponseHead;
///
/// let raw = b"HTTP/1.1 301 Moved\r\nLocation: /new\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n";
/// let (head, _) = ResponseHead::parse(raw, 1024)?.unwrap();
/// assert_eq!((head.status, head.reason.as_str(), head.version), (301, "Moved", 1));
/// assert_eq!(head.location()?, Some("/new"));
/// assert_eq!(head.headers_all("SET-COOKIE").count(), 2);
/// assert!(head.is_redirect());
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code, 200 to 599 for a final response (100 to 199 only for
    /// interim ones, which [`ResponseHead::parse`] skips).
    pub status: u16,
    /// The reason phrase; empty if the server sent none or sent non-UTF-8.
    pub reason: String,
    /// The minor HTTP version: `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub version: u8,
    /// The header fields in the order received, names as sent (compare them
    /// case-insensitively, or use [`header`](Self::header)).
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ResponseHead {
    /// Parses a response head from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds only part of a head: read more,
    /// append, and call again with the whole buffer. Returns
    /// `Ok(Some((head, n)))` when the head is complete: the body starts at
    /// `buf[n]`.
    ///
    /// **Interim responses.** `1xx` heads (`100 Continue`, `103 Early
    /// Hints`, ...) that come before the final response are parsed and
    /// skipped: the returned head is always the final one, and `n` counts
    /// the interim heads too, so the caller has nothing to do for them.
    /// `101 Switching Protocols` is an error instead, because this client
    /// never asks to switch.
    ///
    /// **Size limit.** The head (interim heads included) must end within the
    /// first `max_head` bytes ([`DEFAULT_MAX_HEAD`] is a good value). Once
    /// `buf` is longer than that without a complete head, the result is an
    /// error rather than `Ok(None)`, so a caller that reads a server sending
    /// megabytes of headers stops after about `max_head` bytes. Only the
    /// first `max_head` bytes of `buf` are ever looked at.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::HeadTooLarge`] as said above;
    /// - [`ErrorKind::TooManyHeaders`] for more than [`MAX_HEADERS`] fields;
    /// - [`ErrorKind::BadStatusLine`] when the bytes do not start with
    ///   `HTTP/1.0` or `HTTP/1.1` and a three-digit status (the error shows
    ///   an escaped excerpt of what came);
    /// - [`ErrorKind::BadHeader`] for a malformed header field;
    /// - [`ErrorKind::UnexpectedSwitchingProtocols`] for a `101`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, ResponseHead};
    ///
    /// let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    /// let (head, used) = ResponseHead::parse(raw, 1024)?.unwrap();
    /// assert_eq!(head.status, 204);
    /// assert_eq!(used, raw.len());
    ///
    /// let err = ResponseHead::parse(b"<html>oops</html>", 1024).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::BadStatusLine { .. }));
    /// assert!(err.to_string().contains("<html>"));
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn parse(buf: &[u8], max_head: usize) -> Result<Option<(ResponseHead, usize)>, HttpError> {
        let window = &buf[..buf.len().min(max_head)];
        let mut start = 0;
        loop {
            match parse_one(&window[start..])? {
                None if buf.len() > max_head => {
                    return Err(ErrorKind::HeadTooLarge { limit: max_head }.into());
                }
                None => return Ok(None),
                Some((head, used)) => {
                    start += used;
                    match head.status {
                        101 => return Err(ErrorKind::UnexpectedSwitchingProtocols.into()),
                        100..=199 => continue,
                        _ => return Ok(Some((head, start))),
                    }
                }
            }
        }
    }

    /// The value of the first header field called `name` (case-insensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::ResponseHead;
    ///
    /// let (head, _) = ResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n", 1024)?.unwrap();
    /// assert_eq!(head.header("content-type"), Some(&b"image/jpeg"[..]));
    /// assert_eq!(head.header("etag"), None);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers_all(name).next()
    }

    /// The values of every header field called `name` (case-insensitive), in
    /// the order received.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::ResponseHead;
    ///
    /// let raw = b"HTTP/1.1 200 OK\r\nVary: a\r\nVARY: b\r\n\r\n";
    /// let (head, _) = ResponseHead::parse(raw, 1024)?.unwrap();
    /// let all: Vec<&[u8]> = head.headers_all("vary").collect();
    /// assert_eq!(all, [&b"a"[..], &b"b"[..]]);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn headers_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The `Location` header, to resolve with [`Url::join`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::HeaderNotUtf8`] when the value is not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ResponseHead, Url};
    ///
    /// let raw = b"HTTP/1.1 302 Found\r\nLocation: ../b\r\n\r\n";
    /// let (head, _) = ResponseHead::parse(raw, 1024)?.unwrap();
    /// let base = Url::parse("http://example.com/x/y/z")?;
    /// let next = base.join(head.location()?.unwrap())?;
    /// assert_eq!(next.to_string(), "http://example.com/x/b");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn location(&self) -> Result<Option<&str>, HttpError> {
        match self.header("location") {
            None => Ok(None),
            Some(value) => std::str::from_utf8(value)
                .map(Some)
                .map_err(|_| ErrorKind::HeaderNotUtf8 { name: "Location" }.into()),
        }
    }

    /// Whether the status is a redirect the client can follow: 301, 302,
    /// 303, 307 or 308.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::ResponseHead;
    ///
    /// let (head, _) = ResponseHead::parse(b"HTTP/1.1 308 Permanent Redirect\r\n\r\n", 64)?.unwrap();
    /// assert!(head.is_redirect());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn is_redirect(&self) -> bool {
        super::redirect::is_followed(self.status)
    }

    /// Whether the server lets the connection be reused after this
    /// response, by its version and `Connection` header: HTTP/1.1 keeps it
    /// alive unless a `Connection` header lists `close`; HTTP/1.0 closes it
    /// unless one lists `keep-alive` (and none lists `close`).
    ///
    /// The body's framing may still forbid reuse: see
    /// [`Framing::allows_reuse`](super::body::Framing::allows_reuse).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::ResponseHead;
    ///
    /// let parse = |raw: &[u8]| ResponseHead::parse(raw, 1024).unwrap().unwrap().0;
    /// assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n").keep_alive());
    /// assert!(!parse(b"HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n").keep_alive());
    /// assert!(!parse(b"HTTP/1.0 200 OK\r\n\r\n").keep_alive());
    /// assert!(parse(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keep_alive());
    /// ```
    pub fn keep_alive(&self) -> bool {
        let mut close = false;
        let mut keep_alive = false;
        for token in self.list("connection") {
            close |= token.eq_ignore_ascii_case(b"close");
            keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
        }
        !close && (self.version == 1 || keep_alive)
    }

    /// The non-empty elements of every `name` field, read as a
    /// comma-separated list, trimmed of spaces and tabs.
    pub(crate) fn list<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.headers_all(name)
            .flat_map(|value| value.split(|b| *b == b','))
            .map(|element| element.trim_ascii())
            .filter(|element| !element.is_empty())
    }
}

/// Parses one head at the start of `buf`, first with room for
/// [`FIRST_TRY_HEADERS`] fields, then for [`MAX_HEADERS`].
fn parse_one(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    let mut few = [httparse::EMPTY_HEADER; FIRST_TRY_HEADERS];
    let first = parse_with(buf, &mut few);
    let result = match first {
        Err(httparse::Error::TooManyHeaders) => {
            let mut many = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
            parse_with(buf, &mut many)
        }
        other => other,
    };
    result.map_err(|error| {
        let kind = match error {
            httparse::Error::TooManyHeaders => ErrorKind::TooManyHeaders { limit: MAX_HEADERS },
            httparse::Error::Version | httparse::Error::Status => ErrorKind::BadStatusLine {
                problem: error.to_string(),
                excerpt: first_line_excerpt(buf),
            },
            other => ErrorKind::BadHeader {
                problem: other.to_string(),
            },
        };
        kind.into()
    })
}

fn parse_with<'b>(
    buf: &'b [u8],
    headers: &mut [httparse::Header<'b>],
) -> Result<Option<(ResponseHead, usize)>, httparse::Error> {
    let mut response = httparse::Response::new(headers);
    let used = match response.parse(buf)? {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(used) => used,
    };
    let head = ResponseHead {
        status: response
            .code
            .expect("httparse sets the code of a complete head"),
        reason: response.reason.unwrap_or("").to_owned(),
        version: response
            .version
            .expect("httparse sets the version of a complete head"),
        headers: response
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect(),
    };
    Ok(Some((head, used)))
}

/// The first line of `buf` (after any blank lines), escaped, at most 48 bytes.
fn first_line_excerpt(buf: &[u8]) -> String {
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let line = &buf[start..];
    let end = line
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(line.len());
    escape_bytes(&line[..end], 48)
}
