//! A small read-only HTTP/1.1 server on the loop: the protocol half of the
//! embedded image host.
//!
//! [`serve`] accepts connections and runs each one as its own task, so a slow
//! or broken client only ever holds up itself. A connection task reads
//! request heads (parsed by `httparse`, never by hand), asks a [`Service`]
//! for the [`Response`], writes it with a `Content-Length`, and goes round
//! again while the connection is kept alive. What it enforces, so that the
//! service only ever sees a well-formed `GET` or `HEAD` without a body:
//!
//! | the client sends | the server answers |
//! | --- | --- |
//! | something `httparse` rejects | `400 Bad Request`, then closes |
//! | HTTP/1.1 without a `Host` header; or more than one `Host`, or a malformed one (RFC 9112, 3.2) | `400 Bad Request`, then closes |
//! | a head longer than [`ServerConfig::head_limit`], or too many header lines | `431 Request Header Fields Too Large`, then closes |
//! | a method other than `GET` or `HEAD` | `405 Method Not Allowed` with `Allow: GET, HEAD` |
//! | a request body (`Content-Length` above 0, or `Transfer-Encoding`) | `400` (or `405` for other methods), then closes without reading the body |
//! | nothing for [`ServerConfig::idle_timeout`] while a head is due | closes without a word |
//! | `Connection: close`, or HTTP/1.0 without `Connection: keep-alive` | the response, then closes |
//! | a new connection while [`ServerConfig::max_connections`] are open | the connection idle longest is closed to make room, if it has answered a request before or has sent nothing for `pressure_idle_timeout`; otherwise the new one waits until one may be closed |
//! | nothing, while more than three quarters of `max_connections` are open | closes after [`ServerConfig::pressure_idle_timeout`] (the idle longest first, until the pressure is off) |
//!
//! Keep-alive is HTTP/1.1's default. Requests pipelined on one connection are
//! answered one after another, in the order they came: the task reads the
//! next head only after it has written the previous response. `HEAD` gets the
//! headers a `GET` would get, `Content-Length` included, and no body.
//!
//! A connection is *idle* while it waits for a request head: after it was
//! accepted, and after each response. Only idle connections are closed to
//! make room; a connection answering a request is never cut off for another,
//! nor is one accepted a moment ago whose request may be in its socket,
//! unread.
//! (`connection_table.rs` keeps the count and applies both rules.)
//!
//! Simplified on purpose: no chunked bodies, no `Date` header, and the
//! request target is handed to the service as it came (no percent-decoding),
//! which suits a service that matches exact paths.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::connection_table::{ConnectionTable, Slot, Watch};
use crate::combine::{Either, select};
use crate::net::{TcpListener, TcpStream};
use crate::time::{Instant, sleep, sleep_until, timeout, timeout_at};

/// The largest request head accepted by default: 8 KiB.
pub const DEFAULT_HEAD_LIMIT: usize = 8 * 1024;

/// How long a connection may sit without sending a complete head, by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections a server keeps open at most, by default: well
/// under the usual limit of 1024 file descriptors per process, with room
/// for the rest of the program.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long a connection may sit idle while the server is under pressure,
/// by default.
pub const DEFAULT_PRESSURE_IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// How many header lines a request may carry.
const MAX_HEADERS: usize = 32;

/// How much one read takes from the socket.
const READ_CHUNK: usize = 8 * 1024;

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so that the kernel does not answer it with a reset
/// that could destroy the response before the client has read it.
const LINGER: Duration = Duration::from_millis(500);

/// How much a closing connection discards at most.
const LINGER_BYTES: usize = 64 * 1024;

/// Bodies up to this size are sent in the same write as the head.
const SMALL_BODY: usize = 4 * 1024;

/// Limits that every connection of a server obeys.
///
/// Every field is public; [`validate`](Self::validate) says whether a
/// combination is usable, and [`serve`] refuses one that is not.
///
/// # Examples
///
/// ```
/// use evloop::http::server::{DEFAULT_HEAD_LIMIT, DEFAULT_MAX_CONNECTIONS, ServerConfig};
///
/// let config = ServerConfig::default();
/// assert_eq!(config.head_limit, DEFAULT_HEAD_LIMIT);
/// assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
///
/// let small = ServerConfig { max_connections: 64, ..ServerConfig::default() };
/// assert!(small.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// The most bytes a request head (request line and headers) may take;
    /// a longer one is answered with `431` and the connection closed.
    pub head_limit: usize,
    /// How long the server waits for a complete request head, measured from
    /// when it starts waiting for one (after the previous response, or after
    /// accepting). Also the limit for writing one response to a client that
    /// does not read. When it runs out the connection is closed. A timeout
    /// too long to add to the current instant (`Duration::MAX`) means none.
    /// Default [`DEFAULT_IDLE_TIMEOUT`], 30 s.
    pub idle_timeout: Duration,
    /// The most connections open at once. A connection accepted beyond it
    /// takes the place of the one idle longest, which is closed; if none is
    /// idle, it waits until one is (and later clients wait in the kernel's
    /// backlog). Default [`DEFAULT_MAX_CONNECTIONS`], 512: set it below the
    /// process's file-descriptor limit, leaving room for everything else the
    /// process opens.
    pub max_connections: usize,
    /// The idle timeout while the server is under pressure, that is while
    /// more than three quarters of [`max_connections`](Self::max_connections)
    /// are open: a connection idle this long is closed (the idle longest
    /// first) until the pressure is off. Measured from when the connection
    /// went idle, so a connection idle for long goes as soon as the pressure
    /// starts. A value above `idle_timeout` changes nothing. Default
    /// [`DEFAULT_PRESSURE_IDLE_TIMEOUT`], 1 s.
    pub pressure_idle_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            head_limit: DEFAULT_HEAD_LIMIT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            pressure_idle_timeout: DEFAULT_PRESSURE_IDLE_TIMEOUT,
        }
    }
}

impl ServerConfig {
    /// Checks that a server can work with these limits.
    ///
    /// # Errors
    ///
    /// An `InvalidInput` error naming the field and its value when
    /// `head_limit` or `max_connections` is 0, or `idle_timeout` or
    /// `pressure_idle_timeout` is zero (no request could ever be served).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::server::ServerConfig;
    ///
    /// let none = ServerConfig { max_connections: 0, ..ServerConfig::default() };
    /// let err = none.validate().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "server config: max_connections is 0: at least one connection must be allowed"
    /// );
    /// ```
    pub fn validate(&self) -> io::Result<()> {
        let problem = if self.head_limit == 0 {
            "head_limit is 0: no request head fits".to_owned()
        } else if self.max_connections == 0 {
            "max_connections is 0: at least one connection must be allowed".to_owned()
        } else if self.idle_timeout.is_zero() {
            "idle_timeout is zero: no client could send a request in time".to_owned()
        } else if self.pressure_idle_timeout.is_zero() {
            "pressure_idle_timeout is zero: under pressure no client could send a request in time"
                .to_owned()
        } else {
            return Ok(());
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("server config: {problem}"),
        ))
    }
}

/// A request the server accepted and hands to its [`Service`].
///
/// # Examples
///
/// ```
/// use evloop::http::server::parse_request;
///
/// let (request, used) = parse_request(b"GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n", 8192)
///     .unwrap()
///     .unwrap();
/// assert_eq!((request.path(), request.query()), ("/a", Some("b")));
/// assert_eq!(used, 30);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method as sent (`GET`, `HEAD`, ...). The service only ever sees
    /// `GET` and `HEAD`.
    pub method: String,
    /// The request target as sent, query string included.
    pub target: String,
    /// The minor version: `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// Whether the connection stays open after the response, from the
    /// version and the `Connection` header.
    pub keep_alive: bool,
    /// Whether the request announced a body (`Content-Length` above zero, or
    /// any `Transfer-Encoding`); the server never reads one.
    pub has_body: bool,
}

impl Request {
    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(&self.target, |(path, _)| path)
    }

    /// The query string (after the first `?`), if there is one.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// Whether this is a `HEAD` request (the response is sent without body).
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// Why a request head was refused before it reached the service.
///
/// # Examples
///
/// ```
/// use evloop::http::server::parse_request;
///
/// let rejection = parse_request(b"hello there\r\n\r\n", 8192).unwrap_err();
/// assert_eq!(rejection.status(), 400);
/// assert!(rejection.to_string().contains("malformed request"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// `httparse` could not parse the head; the text is its reason.
    Malformed(String),
    /// The head is longer than the limit, or has too many header lines.
    TooLarge {
        /// The limit on the head, in bytes.
        limit: usize,
    },
    /// A `Content-Length` that is not one decimal number.
    BadContentLength(String),
    /// An HTTP/1.1 request without a `Host` header (RFC 9112, section 3.2:
    /// the server must answer `400`).
    MissingHost,
    /// A request with more than one `Host` header (how many).
    MultipleHosts(usize),
    /// A `Host` header that is not a host and optional port (escaped).
    BadHost(String),
}

impl Rejection {
    /// The status code the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Malformed(_)
            | Rejection::BadContentLength(_)
            | Rejection::MissingHost
            | Rejection::MultipleHosts(_)
            | Rejection::BadHost(_) => 400,
            Rejection::TooLarge { .. } => 431,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(why) => write!(f, "malformed request: {why}"),
            Rejection::TooLarge { limit } => write!(
                f,
                "request head larger than {limit} bytes or with more than {MAX_HEADERS} headers"
            ),
            Rejection::BadContentLength(value) => {
                write!(f, "bad Content-Length {value:?}")
            }
            Rejection::MissingHost => f.write_str("HTTP/1.1 request without a Host header"),
            Rejection::MultipleHosts(count) => {
                write!(f, "request with more than one Host header ({count})")
            }
            Rejection::BadHost(value) => write!(f, "invalid Host header \"{value}\""),
        }
    }
}

impl std::error::Error for Rejection {}

/// Parses one request head from the start of `buf`.
///
/// Returns `Ok(Some((request, bytes used)))` for a complete head,
/// `Ok(None)` if more bytes are needed (and `buf` is still under `limit`).
///
/// # Errors
///
/// A [`Rejection`] for a head `httparse` refuses, a head over `limit` bytes
/// (complete or not) or with too many headers, a bad `Content-Length`, or a
/// `Host` header missing (from HTTP/1.1), repeated or malformed. Only the
/// first `limit` bytes of `buf` are looked at, so a head that runs past the
/// limit is [`Rejection::TooLarge`] even if a later byte is malformed: the
/// same answer however the bytes arrived.
///
/// # Examples
///
/// ```
/// use evloop::http::server::parse_request;
///
/// assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: a", 8192), Ok(None));
/// let (request, _) = parse_request(b"GET / HTTP/1.0\r\n\r\n", 8192).unwrap().unwrap();
/// assert!(!request.keep_alive); // HTTP/1.0 closes unless asked not to
/// let missing = parse_request(b"GET / HTTP/1.1\r\n\r\n", 8192).unwrap_err();
/// assert_eq!((missing.status(), missing.to_string().as_str()), (400, "HTTP/1.1 request without a Host header"));
/// ```
pub fn parse_request(buf: &[u8], limit: usize) -> Result<Option<(Request, usize)>, Rejection> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    // Only the first `limit` bytes are read: a head that does not end
    // within them is too large whatever follows, so the answer does not
    // depend on how much arrived in one read.
    let window = &buf[..buf.len().min(limit)];
    let used = match parsed.parse(window) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) if buf.len() >= limit => {
            return Err(Rejection::TooLarge { limit });
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Rejection::TooLarge { limit }),
        Err(e) => return Err(Rejection::Malformed(e.to_string())),
    };
    // A complete parse always fills in the method, the target and the version.
    let (Some(method), Some(target), Some(minor_version)) =
        (parsed.method, parsed.path, parsed.version)
    else {
        return Err(Rejection::Malformed("incomplete request line".into()));
    };

    let mut close = false;
    let mut keep_alive_asked = false;
    let mut has_body = false;
    let mut hosts = 0;
    for header in parsed.headers.iter() {
        if header.name.eq_ignore_ascii_case("connection") {
            for token in String::from_utf8_lossy(header.value).split(',') {
                let token = token.trim();
                close |= token.eq_ignore_ascii_case("close");
                keep_alive_asked |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let text = String::from_utf8_lossy(header.value);
            let value = text.trim();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Rejection::BadContentLength(value.to_owned()));
            }
            has_body |= value.bytes().any(|b| b != b'0');
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if header.name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if !is_host(header.value) {
                let shown = header.value.escape_ascii().to_string();
                return Err(Rejection::BadHost(shown.chars().take(80).collect()));
            }
        }
    }
    match hosts {
        0 if minor_version >= 1 => return Err(Rejection::MissingHost),
        0 | 1 => {}
        many => return Err(Rejection::MultipleHosts(many)),
    }
    let keep_alive = !close && (minor_version >= 1 || keep_alive_asked);
    let request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        minor_version,
        keep_alive,
        has_body,
    };
    Ok(Some((request, used)))
}

/// Whether a `Host` value has the shape of `uri-host [":" port]` (RFC 3986):
/// only the characters a registered name, an IP literal in brackets or a
/// port may hold. Empty is allowed (RFC 9112 asks for it when the target
/// has no authority).
fn is_host(value: &[u8]) -> bool {
    value
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:%[]".contains(b))
}

/// What the server sends back: a status, a content type and a body.
///
/// The body is shared (`Arc`), so serving the same large image to many
/// clients copies nothing.
///
/// # Examples
///
/// ```
/// use evloop::http::server::Response;
///
/// let not_found = Response::text(404, "not found\n");
/// assert_eq!((not_found.status, &*not_found.body), (404, &b"not found\n"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body; its length is the `Content-Length`.
    pub body: Arc<[u8]>,
}

impl Response {
    /// A response with the given status, content type and body.
    pub fn new(status: u16, content_type: &'static str, body: Arc<[u8]>) -> Response {
        Response {
            status,
            content_type,
            body,
        }
    }

    /// A `text/plain` response.
    pub fn text(status: u16, body: &str) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            Arc::from(body.as_bytes()),
        )
    }
}

/// The reason phrase for the status codes this server uses.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// What answers requests: the application half of a server.
///
/// `call` is given only `GET` and `HEAD` requests without a body; the server
/// strips the body of a `HEAD` response itself. The future runs on the
/// connection's task, so it may wait (a timer, IO) without holding up other
/// connections, and need not be `Send`.
///
/// # Examples
///
/// ```
/// use std::future::{Future, ready};
/// use evloop::http::server::{Request, Response, Service, parse_request};
///
/// struct Hello;
/// impl Service for Hello {
///     fn call(&self, _request: &Request) -> impl Future<Output = Response> {
///         ready(Response::text(200, "hello\n"))
///     }
/// }
///
/// let (request, _) = parse_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 8192).unwrap().unwrap();
/// let response = evloop::run(Hello.call(&request));
/// assert_eq!(response.status, 200);
/// ```
pub trait Service {
    /// Answers one request.
    fn call(&self, request: &Request) -> impl Future<Output = Response>;
}

/// Counters a server keeps, readable from any thread.
///
/// # Examples
///
/// ```
/// use evloop::http::server::ServerStats;
///
/// let stats = ServerStats::default();
/// assert_eq!((stats.connections_accepted(), stats.requests_served()), (0, 0));
/// ```
#[derive(Debug, Default)]
pub struct ServerStats {
    connections: AtomicU64,
    requests: AtomicU64,
    /// Connections open now (kept by the connection table).
    pub(crate) open: AtomicU64,
    /// Idle connections closed to make room or under pressure.
    pub(crate) idle_closed: AtomicU64,
}

impl ServerStats {
    /// How many connections were accepted.
    pub fn connections_accepted(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// How many responses (any status) the server has started to send.
    ///
    /// A response is counted just before its first byte is written, so a
    /// client that has read a response always finds it counted; a response
    /// cut off by a failed write counts too.
    pub fn requests_served(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// How many connections [`serve`] holds open now (not counting one it
    /// has accepted but waits to make room for).
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = evloop::http::server::ServerStats::default();
    /// assert_eq!(stats.connections_open(), 0);
    /// ```
    pub fn connections_open(&self) -> u64 {
        self.open.load(Ordering::SeqCst)
    }

    /// How many idle connections [`serve`] closed, to make room for a new
    /// one at [`ServerConfig::max_connections`] or under pressure (see
    /// [`ServerConfig::pressure_idle_timeout`]). Connections that time out
    /// the ordinary way, or that the client closes, are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = evloop::http::server::ServerStats::default();
    /// assert_eq!(stats.idle_connections_closed(), 0);
    /// ```
    pub fn idle_connections_closed(&self) -> u64 {
        self.idle_closed.load(Ordering::SeqCst)
    }
}

/// Accepts connections on `listener` for ever, running each one as a task
/// named after the peer, and answering its requests with `service`.
///
/// At most [`ServerConfig::max_connections`] connections are open at once:
/// one accepted beyond them takes the place of the connection idle longest;
/// if every connection is busy, the new one waits (and the loop accepts no
/// other) until one ends or goes idle. Above three quarters of the cap, idle
/// connections get only [`ServerConfig::pressure_idle_timeout`].
///
/// It never returns on its own: a failed `accept` (e.g. out of file
/// descriptors) is waited out and retried. Dropping the future stops
/// accepting at once (cancel safe: a connection not yet accepted stays in the
/// kernel's backlog; one waiting for room is closed); connections already
/// accepted go on until they close or their runtime ends, no longer counted
/// against a cap.
///
/// # Errors
///
/// Only at once, before accepting anything: the error of
/// [`ServerConfig::validate`] for a config it refuses.
///
/// # Examples
///
/// ```
/// use std::future::{Future, ready};
/// use std::io::{Read, Write};
/// use std::rc::Rc;
/// use std::sync::Arc;
/// use evloop::http::server::{Request, Response, ServerConfig, ServerStats, Service, serve};
///
/// struct Hello;
/// impl Service for Hello {
///     fn call(&self, _request: &Request) -> impl Future<Output = Response> {
///         ready(Response::text(200, "hello\n"))
///     }
/// }
///
/// let reply = evloop::run(async {
///     let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let stats = Arc::new(ServerStats::default());
///     evloop::spawn(serve(listener, Rc::new(Hello), ServerConfig::default(), stats));
///     // A blocking client on the blocking pool, so the loop keeps serving.
///     evloop::spawn_blocking(move || {
///         let mut client = std::net::TcpStream::connect(addr).unwrap();
///         client.write_all(b"GET / HTTP/1.1\r\nHost: hello.test\r\nConnection: close\r\n\r\n").unwrap();
///         let mut reply = String::new();
///         client.read_to_string(&mut reply).unwrap();
///         reply
///     })
///     .await
///     .unwrap()
/// });
/// assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(reply.ends_with("\r\n\r\nhello\n"));
/// ```
pub async fn serve<S: Service + 'static>(
    listener: TcpListener,
    service: Rc<S>,
    config: ServerConfig,
    stats: Arc<ServerStats>,
) -> io::Result<Infallible> {
    config.validate()?;
    let table = ConnectionTable::new(
        config.max_connections,
        config.pressure_idle_timeout,
        stats.clone(),
    );
    loop {
        // 1. Under pressure, close what has idled too long, and watch for
        //    the next one while waiting for a client.
        let accepted = match table.sweep() {
            Watch::Nothing => listener.accept().await,
            watch => {
                let pressure = async {
                    match watch {
                        Watch::Until(at) => drop(select(sleep_until(at), table.changed()).await),
                        _ => table.changed().await,
                    }
                };
                match select(listener.accept(), pressure).await {
                    Either::Left(accepted) => accepted,
                    // Time to sweep again (accepting is cancel safe).
                    Either::Right(()) => continue,
                }
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                stats.connections.fetch_add(1, Ordering::SeqCst);
                // 2. At the cap, make room (or wait for it) first.
                table.room().await;
                let slot = table.register();
                let id = slot.id();
                let connection =
                    connection(stream, service.clone(), config, stats.clone(), Some(slot));
                let handle = crate::task::Builder::new()
                    .name(format!("http connection {peer}"))
                    .spawn(connection);
                // The table may close it when it idles; otherwise the task
                // is detached and ends when its connection does.
                table.attach(id, handle.abort_handle());
            }
            // The client gave up between SYN and accept: nothing to do.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            // Out of descriptors or memory: wait for connections to close
            // instead of spinning on an error that is still there.
            Err(_) => sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Serves one connection until the client closes it, asks to close it,
/// breaks the protocol or idles past the timeout.
///
/// Alone (outside [`serve`]) it counts against no cap. Errors end only this
/// connection, so the function returns nothing.
pub async fn serve_connection<S: Service>(
    stream: TcpStream,
    service: Rc<S>,
    config: ServerConfig,
    stats: Arc<ServerStats>,
) {
    connection(stream, service, config, stats, None).await;
}

/// The body of [`serve_connection`]; `slot`, when the connection is one of
/// [`serve`]'s, is told when the connection is idle (waiting for a head)
/// and when it is busy.
async fn connection<S: Service>(
    stream: TcpStream,
    service: Rc<S>,
    config: ServerConfig,
    stats: Arc<ServerStats>,
    slot: Option<Slot>,
) {
    let idle = || {
        if let Some(slot) = &slot {
            slot.idle();
        }
    };
    let busy = || {
        if let Some(slot) = &slot {
            slot.busy();
        }
    };
    // Responses go out in one or two writes as soon as they are ready; Nagle's
    // algorithm would only delay the last segment of each.
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        // 1. Read until `buf` starts with a complete head, within the
        //    deadline (none, if the timeout is too long to add to now).
        let deadline = Instant::now().checked_add(config.idle_timeout);
        let request = loop {
            match parse_request(&buf, config.head_limit) {
                Ok(Some((request, used))) => {
                    buf.drain(..used);
                    busy();
                    break request;
                }
                Ok(None) => {}
                Err(rejection) => {
                    busy();
                    let response = Response::text(rejection.status(), &format!("{rejection}\n"));
                    if send(&stream, &response, false, true, &config, &stats).await {
                        linger_close(&stream).await;
                    }
                    return;
                }
            }
            // Waiting for (the rest of) a head: idle, since the first wait.
            idle();
            let read = match deadline {
                Some(at) => timeout_at(at, stream.read(&mut chunk)).await,
                None => Ok(stream.read(&mut chunk).await),
            };
            match read {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                // The client closed, the socket failed, or it stayed silent
                // too long: nothing useful can be said to it.
                Ok(Ok(_)) | Ok(Err(_)) | Err(_) => return,
            }
        };

        // 2. Refuse what the service must never see; otherwise ask it.
        let is_get_or_head = request.method == "GET" || request.method == "HEAD";
        let (response, keep_alive) = if !is_get_or_head {
            // The body (if any) is not read, so the connection cannot go on.
            let keep = request.keep_alive && !request.has_body;
            (Response::text(405, "only GET and HEAD are allowed\n"), keep)
        } else if request.has_body {
            (
                Response::text(400, "request bodies are not accepted\n"),
                false,
            )
        } else {
            (service.call(&request).await, request.keep_alive)
        };

        // 3. Answer, then go on or close.
        let with_body = !request.is_head();
        if !send(&stream, &response, keep_alive, with_body, &config, &stats).await {
            return;
        }
        if !keep_alive {
            linger_close(&stream).await;
            return;
        }
    }
}

/// Writes `response` and counts it; returns whether it was written in full
/// in time.
async fn send(
    stream: &TcpStream,
    response: &Response,
    keep_alive: bool,
    with_body: bool,
    config: &ServerConfig,
    stats: &ServerStats,
) -> bool {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: {}\r\nServer: evloop-image-host\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    )
    .into_bytes();
    if response.status == 405 {
        head.extend_from_slice(b"Allow: GET, HEAD\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let body: &[u8] = if with_body { &response.body } else { &[] };
    let write = async {
        if body.len() <= SMALL_BODY {
            head.extend_from_slice(body);
            stream.write_all(&head).await
        } else {
            stream.write_all(&head).await?;
            stream.write_all(body).await
        }
    };
    // Counted before the first byte goes out, so that a client that has read
    // a response always finds it counted.
    stats.requests.fetch_add(1, Ordering::SeqCst);
    matches!(timeout(config.idle_timeout, write).await, Ok(Ok(())))
}

/// Closes our side, then reads and discards what the client still sends for
/// a moment. Closing a socket with unread input makes the kernel send a
/// reset, which may destroy the last response before the client reads it.
async fn linger_close(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut total = 0;
        while total < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(n) if n > 0 => total += n,
                _ => break,
            }
        }
    };
    // Running out of time is the normal end for a client that keeps the
    // connection open; the socket is closed when the caller drops it.
    let _ = timeout(LINGER, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let cases: [(&[u8], bool); 6] = [
            (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
            (
                b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                false,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            (
                b"GET / HTTP/1.0\r\nconnection: upgrade, keep-alive\r\n\r\n",
                true,
            ),
        ];
        for (head, keep) in cases {
            let (request, used) = parse_request(head, 8192).unwrap().unwrap();
            assert_eq!(
                request.keep_alive,
                keep,
                "{}",
                String::from_utf8_lossy(head)
            );
            assert_eq!(used, head.len());
        }
    }

    #[test]
    fn bodies_are_detected_and_bad_lengths_refused() {
        let body = |head: &[u8]| parse_request(head, 8192).map(|r| r.unwrap().0.has_body);
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
            Ok(false)
        );
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\n\r\n"),
            Ok(false)
        );
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"),
            Ok(true)
        );
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(true)
        );
        for bad in ["-1", "", "1 2", "0x10", "+3"] {
            let head = format!("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: {bad}\r\n\r\n");
            let err = parse_request(head.as_bytes(), 8192).unwrap_err();
            assert!(matches!(err, Rejection::BadContentLength(_)), "{bad:?}");
            assert_eq!(err.status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn the_head_limit_holds_for_partial_and_complete_heads() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(100));
        let err = parse_request(long.as_bytes(), 64).unwrap_err();
        assert_eq!(err, Rejection::TooLarge { limit: 64 });
        let partial = format!("GET /{}", "a".repeat(100));
        assert_eq!(
            parse_request(partial.as_bytes(), 64).unwrap_err().status(),
            431
        );
        assert_eq!(parse_request(partial.as_bytes(), 8192), Ok(None));
        let many: String = (0..40).map(|i| format!("X-{i}: y\r\n")).collect();
        let head = format!("GET / HTTP/1.1\r\nHost: h\r\n{many}\r\n");
        assert_eq!(
            parse_request(head.as_bytes(), 8192).unwrap_err().status(),
            431
        );
    }

    #[test]
    fn host_is_required_from_http_1_1_once_and_well_formed() {
        let parse = |head: &str| parse_request(head.as_bytes(), 8192).map(|r| r.is_some());
        assert_eq!(parse("GET / HTTP/1.1\r\n\r\n"), Err(Rejection::MissingHost));
        assert_eq!(
            parse("GET / HTTP/1.1\r\nhost: a\r\nHOST: a\r\n\r\n"),
            Err(Rejection::MultipleHosts(2))
        );
        assert_eq!(
            parse("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(Rejection::MultipleHosts(2))
        );
        for bad in ["a b", "a/b", "a@b", "a\"b", "\u{e9}.test"] {
            let head = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
            assert!(
                matches!(parse(&head), Err(Rejection::BadHost(_))),
                "{bad:?}"
            );
        }
        for good in [
            "example.test",
            "example.test:8080",
            "127.0.0.1:1",
            "[::1]:80",
            "xn--bcher-kva.test",
            "",
        ] {
            let head = format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n");
            assert_eq!(parse(&head), Ok(true), "{good:?}");
        }
        assert_eq!(parse("GET / HTTP/1.0\r\n\r\n"), Ok(true));
        assert_eq!(Rejection::MissingHost.status(), 400);
    }

    #[test]
    fn garbage_is_malformed() {
        for garbage in [
            &b"\x00\x01\x02\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET\r\n\r\n",
        ] {
            assert_eq!(parse_request(garbage, 8192).unwrap_err().status(), 400);
        }
    }

    #[test]
    fn path_and_query_split_at_the_first_question_mark() {
        let (request, _) = parse_request(b"GET /x?ts=1?2 HTTP/1.1\r\nHost: h\r\n\r\n", 8192)
            .unwrap()
            .unwrap();
        assert_eq!(request.path(), "/x");
        assert_eq!(request.query(), Some("ts=1?2"));
        assert!(!request.is_head());
    }
}
