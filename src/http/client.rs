//! [`Client`]: HTTP/1.1 `GET` over evloop's sockets, with keep-alive,
//! redirects, deadlines, limits and TLS.
//!
//! One request goes like this:
//!
//! 1. compute the request's [deadline](ClientBuilder::timeout), once;
//! 2. take an idle connection to the origin from the pool, or open one
//!    (connect, then the TLS handshake for `https`) under the
//!    [connect timeout](ClientBuilder::connect_timeout);
//! 3. write the request from [`get_request`];
//! 4. read until [`ResponseHead::parse`] finds a complete head (at most
//!    [`max_head`](ClientBuilder::max_head) bytes);
//! 5. decide the body's [`Framing`] and make a [`BodyDecoder`], which
//!    refuses a declared length over [`max_body`](ClientBuilder::max_body)
//!    before reading any of it;
//! 6. on a redirect, resolve `Location` with [`Url::join`], check it, and
//!    go back to step 2; otherwise hand the head to the caller as a
//!    [`Response`], which reads the body on demand.
//!
//! If a connection taken from the pool fails before the server sent a
//! single byte of the response (the server closed it while it was idle, and
//! the check in step 2 did not see it yet), the request is sent once more
//! on a fresh connection. That is safe because a `GET` is idempotent.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::body::{BodyDecoder, Framing};
use super::conn::{Conn, Fill};
use super::deadline::Deadline;
use super::error::{ErrorKind, HttpError, Phase};
use super::head::{DEFAULT_MAX_HEAD, ResponseHead, get_request};
use super::pool::{Pool, PoolKey};
use super::redirect::Redirects;
use super::response::Response;
use super::tls;
use super::url::Url;

/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default total deadline of a request: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default body limit: 64 MiB.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;

/// The default number of redirects followed: 10.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// An HTTP/1.1 client (asyncio's `httpx.AsyncClient`, tokio's `reqwest`).
///
/// Cheap to clone: clones share one pool of keep-alive connections and one
/// TLS configuration. Not `Send`: like everything on evloop's loop, it
/// lives on the loop's thread.
///
/// # Examples
///
/// ```
/// # use std::io::{Read, Write};
/// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// # let addr = server.local_addr().unwrap();
/// # std::thread::spawn(move || {
/// #     let (mut s, _) = server.accept().unwrap();
/// #     for _ in 0..2 {
/// #         let mut req = Vec::new();
/// #         let mut b = [0; 1];
/// #         while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 { req.push(b[0]); }
/// #         s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
/// #     }
/// # });
/// use evloop::http::Client;
///
/// evloop::run(async {
///     let client = Client::new();
///     for _ in 0..2 {
///         let body = client.get(&format!("http://{addr}/")).await?.bytes().await?;
///         assert_eq!(body, b"ok");
///     }
///     // The second request reused the first one's connection.
///     assert_eq!(client.connections_opened(), 1);
///     Ok::<(), evloop::http::HttpError>(())
/// })?;
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

/// What clones of a client share.
#[derive(Debug)]
struct Inner {
    config: Config,
    tls: Arc<rustls::ClientConfig>,
    pool: Rc<RefCell<Pool>>,
    opened: Cell<u64>,
}

/// The limits and switches of a client.
#[derive(Debug, Clone)]
struct Config {
    connect_timeout: Duration,
    timeout: Duration,
    max_body: u64,
    max_head: usize,
    follow_redirects: bool,
    max_redirects: usize,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Duration,
    built_in_roots: bool,
    extra_roots: Vec<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            max_head: DEFAULT_MAX_HEAD,
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            pool_max_idle_per_host: 8,
            pool_idle_timeout: Duration::from_secs(30),
            built_in_roots: true,
            extra_roots: Vec::new(),
        }
    }
}

/// Why one exchange on a connection failed, and whether sending the
/// request again on a fresh connection is safe.
struct Failure {
    error: HttpError,
    /// The server sent no byte of a response: the request may never have
    /// been seen (the usual sign of a pooled connection closed while idle).
    nothing_received: bool,
}

impl Client {
    /// A client with the default settings: connect timeout 10 s, total
    /// deadline 30 s, body limit 64 MiB, head limit 64 KiB, up to 10
    /// redirects, the webpki roots for TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = evloop::http::Client::new();
    /// assert_eq!(client.connections_opened(), 0);
    /// ```
    pub fn new() -> Client {
        Client::builder()
            .build()
            .expect("the default configuration has no certificate that could be invalid")
    }

    /// A builder to set timeouts, limits and TLS roots.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = evloop::http::Client::builder()
    ///     .connect_timeout(Duration::from_secs(2))
    ///     .timeout(Duration::from_secs(20))
    ///     .max_body(10 << 20)
    ///     .max_redirects(3)
    ///     .build()?;
    /// assert_eq!(client.idle_connections(), 0);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: Config::default(),
        }
    }

    /// Sends a `GET` for `url`, follows redirects, and returns once the
    /// final response's head has arrived; read its body with
    /// [`Response::bytes`] or [`Response::chunk`].
    ///
    /// A non-2xx status is not an error here (a 404 is still a response);
    /// [`Response::error_for_status`] makes it one.
    ///
    /// Returns `Pending` while it waits for the network (or for the name
    /// lookup, which runs on the blocking pool). Cancel safe in the sense
    /// that dropping the future midway (as an outer `timeout` does) closes
    /// the connection in use and leaves the pool consistent.
    ///
    /// # Errors
    ///
    /// Every error names the URL it happened to (after a redirect, the URL
    /// actually fetched): a malformed URL ([`ErrorKind::Url`]);
    /// [`ErrorKind::Connect`], [`ErrorKind::ConnectTimeout`],
    /// [`ErrorKind::Tls`]; [`ErrorKind::Timeout`] when the total deadline
    /// passes; [`ErrorKind::Io`] and [`ErrorKind::HeadTruncated`] when the
    /// connection fails; the parse errors of [`ResponseHead::parse`] and
    /// [`Framing::for_response`]; [`ErrorKind::BodyTooLarge`] for a declared
    /// length over the limit; [`ErrorKind::InsecureRedirect`],
    /// [`ErrorKind::RedirectLoop`], [`ErrorKind::TooManyRedirects`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let addr = server.local_addr().unwrap();
    /// # std::thread::spawn(move || {
    /// #     let (mut s, _) = server.accept().unwrap();
    /// #     for reply in [&b"HTTP/1.1 301 Moved\r\nLocation: /new/place\r\nContent-Length: 0\r\n\r\n"[..],
    /// #                   &b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhere"[..]] {
    /// #         let mut req = Vec::new();
    /// #         let mut b = [0; 1];
    /// #         while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 { req.push(b[0]); }
    /// #         s.write_all(reply).unwrap();
    /// #     }
    /// # });
    /// evloop::run(async {
    ///     let client = evloop::http::Client::new();
    ///     let response = client.get(&format!("http://{addr}/old")).await?;
    ///     assert_eq!(response.url().path(), "/new/place");
    ///     assert_eq!(response.bytes().await?, b"here");
    ///
    ///     let err = client.get("http://no spaces.test/").await.unwrap_err();
    ///     assert!(matches!(err.kind(), evloop::http::ErrorKind::Url { .. }));
    ///     Ok::<(), evloop::http::HttpError>(())
    /// })?;
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub async fn get(&self, url: &str) -> Result<Response, HttpError> {
        let config = &self.inner.config;
        let deadline = Deadline::request(config.timeout);
        let mut redirects = Redirects::new(Url::parse(url)?, config.max_redirects);
        loop {
            let current = redirects.current().clone();
            let response = self
                .fetch(&current, &deadline)
                .await
                .map_err(|e| e.with_url(&current))?;
            if !config.follow_redirects || !response.head().is_redirect() {
                return Ok(response);
            }
            match response.head().location() {
                Ok(Some(location)) => redirects.follow(location)?,
                // A redirect status without a Location is the answer itself.
                Ok(None) => return Ok(response),
                Err(e) => return Err(e.with_url(&current)),
            };
            // Keep the connection if the redirect's body is already here.
            response.discard();
        }
    }

    /// How many connections this client (and its clones) opened so far:
    /// keep-alive reuse shows as fewer connections than requests.
    ///
    /// See the [type's example](Client#examples).
    pub fn connections_opened(&self) -> u64 {
        self.inner.opened.get()
    }

    /// How many idle keep-alive connections the pool holds now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::http::Client::new().idle_connections(), 0);
    /// ```
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.borrow().len()
    }

    /// One request to one URL (no redirects), on a pooled connection if
    /// there is one; retried once on a fresh connection if a pooled one
    /// fails before any response byte.
    async fn fetch(&self, url: &Url, deadline: &Deadline) -> Result<Response, HttpError> {
        let request = get_request(url, &[])?;
        let key = PoolKey::of(url);
        let mut retried = false;
        loop {
            let pooled = self.inner.pool.borrow_mut().take(&key);
            let reused = pooled.is_some();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => self.open(url, deadline).await?,
            };
            match self.exchange(&mut conn, &request, deadline).await {
                Ok((head, decoder)) => {
                    return Ok(Response::new(
                        url.clone(),
                        head,
                        decoder,
                        conn,
                        self.inner.pool.clone(),
                        *deadline,
                    ));
                }
                Err(failure) if reused && failure.nothing_received && !retried => {
                    // The pooled connection was dead after all: `conn` is
                    // dropped, and the request goes out on a fresh one.
                    retried = true;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// Opens a connection and counts it.
    async fn open(&self, url: &Url, deadline: &Deadline) -> Result<Conn, HttpError> {
        let config = &self.inner.config;
        let conn = Conn::open(
            url,
            &self.inner.tls,
            &deadline.for_connect(config.connect_timeout),
        )
        .await?;
        self.inner.opened.set(self.inner.opened.get() + 1);
        Ok(conn)
    }

    /// Writes the request and reads the response head; returns the head
    /// and a decoder for the body (the body's first bytes may already be
    /// in the connection's buffer).
    async fn exchange(
        &self,
        conn: &mut Conn,
        request: &[u8],
        deadline: &Deadline,
    ) -> Result<(ResponseHead, BodyDecoder), Failure> {
        let config = &self.inner.config;
        let early = |error: HttpError| Failure {
            error,
            nothing_received: true,
        };
        let late = |error: HttpError| Failure {
            error,
            nothing_received: false,
        };
        let timed_out = |e: &HttpError| matches!(e.kind(), ErrorKind::Timeout { .. });
        if let Err(error) = deadline
            .run(Phase::SendRequest, conn.write_all(request))
            .await
        {
            return Err(if timed_out(&error) {
                late(error)
            } else {
                early(error)
            });
        }
        let mut check = true;
        let head = loop {
            if check {
                match ResponseHead::parse(conn.unread(), config.max_head) {
                    Ok(Some((head, used))) => {
                        conn.consume(used);
                        break head;
                    }
                    Ok(None) => {}
                    Err(error) => return Err(late(error)),
                }
            }
            let before = conn.unread().len();
            let read = deadline.run(Phase::ReadHead, conn.fill()).await;
            // However the server closed (with or without TLS's
            // close_notify), a head that is not complete is an error.
            match read {
                Ok(Fill::Closed | Fill::ClosedWithoutCloseNotify) if before == 0 => {
                    return Err(early(ErrorKind::HeadTruncated { received: 0 }.into()));
                }
                Ok(Fill::Closed | Fill::ClosedWithoutCloseNotify) => {
                    // Closed mid-head: a parse error, if the bytes show
                    // one, says more than "truncated".
                    return Err(late(
                        match ResponseHead::parse(conn.unread(), config.max_head) {
                            Err(error) => error,
                            Ok(_) => ErrorKind::HeadTruncated { received: before }.into(),
                        },
                    ));
                }
                Ok(Fill::Data(_)) => {}
                Err(error) if before == 0 && !timed_out(&error) => return Err(early(error)),
                Err(error) => return Err(late(error)),
            }
            // Parse again only when the new bytes could have ended the head
            // (they hold a line feed), or could show a bad status line, or
            // pass the limit: a head dribbled one byte per read is not
            // re-parsed from its start for every byte.
            let new = &conn.unread()[before..];
            check = before < 16 || new.contains(&b'\n') || conn.unread().len() > config.max_head;
        };
        let framing = Framing::for_response(&head, false).map_err(late)?;
        let decoder = BodyDecoder::new(framing, config.max_body).map_err(late)?;
        Ok((head, decoder))
    }
}

impl Default for Client {
    /// Same as [`Client::new`].
    fn default() -> Client {
        Client::new()
    }
}

/// Settings for a [`Client`]; made by [`Client::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::http::{Client, ErrorKind};
///
/// let client = Client::builder().timeout(Duration::from_secs(5)).build()?;
/// # drop(client);
///
/// let err = Client::builder().add_root_certificate(b"not DER").build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::InvalidRootCertificate { .. }));
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    config: Config,
}

impl ClientBuilder {
    /// How long connecting may take: name lookup, TCP connect and, for
    /// `https`, the TLS handshake (default 10 s). The request's total
    /// deadline applies too, whichever comes first.
    ///
    /// See [`Client::builder`] for an example.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.config.connect_timeout = timeout;
        self
    }

    /// The total deadline of a request (default 30 s): from the call to
    /// [`Client::get`] to the last byte of the body, redirects included.
    /// Unlike a timeout per read, it stops a server that sends one byte a
    /// second. A duration too large to add to the current time (such as
    /// `Duration::MAX`) means no deadline.
    ///
    /// See [`Client::builder`] for an example.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.config.timeout = timeout;
        self
    }

    /// The largest body accepted, in bytes (default 64 MiB). A declared
    /// `Content-Length` or chunk size over it fails before the body is
    /// read; a body without a declared size fails when it passes it.
    ///
    /// See [`Client::builder`] for an example.
    pub fn max_body(mut self, bytes: u64) -> ClientBuilder {
        self.config.max_body = bytes;
        self
    }

    /// The largest response head accepted, in bytes (default 64 KiB). The
    /// client stops reading a longer head once it passes the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = evloop::http::Client::builder().max_head(8 * 1024).build()?;
    /// # drop(client);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn max_head(mut self, bytes: usize) -> ClientBuilder {
        self.config.max_head = bytes;
        self
    }

    /// The most redirects one request follows (default 10); one more is
    /// [`ErrorKind::TooManyRedirects`].
    ///
    /// See [`Client::builder`] for an example.
    pub fn max_redirects(mut self, redirects: usize) -> ClientBuilder {
        self.config.max_redirects = redirects;
        self
    }

    /// Whether to follow redirects at all (default yes). When not, a 3xx
    /// response is returned like any other.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = evloop::http::Client::builder().follow_redirects(false).build()?;
    /// # drop(client);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> ClientBuilder {
        self.config.follow_redirects = follow;
        self
    }

    /// The most idle keep-alive connections kept per origin (default 8);
    /// 0 turns reuse off.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = evloop::http::Client::builder().pool_max_idle_per_host(0).build()?;
    /// # drop(client);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn pool_max_idle_per_host(mut self, connections: usize) -> ClientBuilder {
        self.config.pool_max_idle_per_host = connections;
        self
    }

    /// How long an idle connection stays in the pool (default 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = evloop::http::Client::builder().pool_idle_timeout(Duration::from_secs(5)).build()?;
    /// # drop(client);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.config.pool_idle_timeout = timeout;
        self
    }

    /// Trusts `der` (a DER-encoded X.509 certificate) as a root for
    /// `https`, next to the built-in roots: how a test trusts its own
    /// self-signed server. Checked by [`build`](Self::build).
    ///
    /// See the [type's example](ClientBuilder#examples).
    pub fn add_root_certificate(mut self, der: &[u8]) -> ClientBuilder {
        self.config.extra_roots.push(der.to_vec());
        self
    }

    /// Trusts every certificate in a PEM text (`-----BEGIN CERTIFICATE-----`
    /// blocks) as a root.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRootCertificate`] if the PEM is malformed or has
    /// no certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{Client, ErrorKind};
    ///
    /// let err = Client::builder().add_root_certificate_pem(b"no PEM here").unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidRootCertificate { .. }));
    /// ```
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<ClientBuilder, HttpError> {
        self.config.extra_roots.extend(tls::pem_certificates(pem)?);
        Ok(self)
    }

    /// Whether to trust the built-in roots (Mozilla's, from webpki-roots;
    /// default yes). Off, only certificates added here are trusted.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = evloop::http::Client::builder().tls_built_in_roots(false).build()?;
    /// # drop(client);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn tls_built_in_roots(mut self, trust: bool) -> ClientBuilder {
        self.config.built_in_roots = trust;
        self
    }

    /// Makes the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRootCertificate`] if a certificate given to
    /// [`add_root_certificate`](Self::add_root_certificate) does not parse.
    ///
    /// See the [type's example](ClientBuilder#examples).
    pub fn build(self) -> Result<Client, HttpError> {
        let roots = tls::root_store(self.config.built_in_roots, &self.config.extra_roots)?;
        let pool = Pool::new(
            self.config.pool_max_idle_per_host,
            self.config.pool_idle_timeout,
        );
        Ok(Client {
            inner: Rc::new(Inner {
                tls: Arc::new(tls::client_config(roots)),
                config: self.config,
                pool: Rc::new(RefCell::new(pool)),
                opened: Cell::new(0),
            }),
        })
    }
}
