//! `http://` and `https://` URLs: parsing, printing, and resolving a
//! redirect's `Location` against the URL that was fetched.
//!
//! This is deliberately not a general URL library. It knows the two schemes
//! the client speaks and keeps just what a request needs: the scheme, the
//! host and port to connect to, and the request target (path and query).
//! The fragment is dropped, because it is never sent.
//!
//! What it refuses, with an [`ErrorKind::Url`] that names the URL:
//! other schemes, `user:password@` (never sent in the clear), spaces and
//! control characters anywhere, hosts with characters a DNS name cannot
//! hold, malformed IPv4/IPv6 literals, and ports outside 1..=65535.
//!
//! What it mends: scheme and host are lowercased, an empty path becomes `/`,
//! dot segments (`.` and `..`) are removed as RFC 3986 section 5.2.4 says,
//! and non-ASCII characters in the path or query are percent-encoded as
//! UTF-8 (servers do send raw UTF-8 in `Location`). A `%` that is not
//! followed by two hex digits is passed through unchanged, as browsers do.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::{ErrorKind, HttpError, UrlProblem};

/// The two schemes the client speaks.
///
/// # Examples
///
/// ```
/// use evloop::http::Scheme;
///
/// assert_eq!(Scheme::Https.default_port(), 443);
/// assert_eq!(Scheme::Http.as_str(), "http");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP, port 80 by default.
    Http,
    /// HTTP over TLS, port 443 by default.
    Https,
}

impl Scheme {
    /// The scheme's name, lowercase, without `:`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::http::Scheme::Https.as_str(), "https");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when the URL names none.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::http::Scheme::Http.default_port(), 80);
    /// ```
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed `http://` or `https://` URL.
///
/// Two URLs that differ only in what parsing mends (case of scheme and host,
/// an explicit default port, dot segments, the fragment) compare equal.
///
/// # Examples
///
/// ```
/// use evloop::http::{Scheme, Url};
///
/// let url = Url::parse("HTTPS://Images.Example.com:8443/cats/../dogs/1.jpg?size=big#top")?;
/// assert_eq!(url.scheme(), Scheme::Https);
/// assert_eq!(url.host(), "images.example.com");
/// assert_eq!(url.port(), 8443);
/// assert_eq!(url.target(), "/dogs/1.jpg?size=big");
/// assert_eq!(url.to_string(), "https://images.example.com:8443/dogs/1.jpg?size=big");
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    scheme: Scheme,
    /// Lowercase; an IPv6 address without its brackets.
    host: String,
    ipv6: bool,
    port: u16,
    /// The request target: path (starting with `/`) and `?query`.
    target: String,
    /// Where the path ends in `target` (the index of `?`, or its length).
    path_end: usize,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Url`] naming the input and the [`UrlProblem`]: no or an
    /// unsupported scheme, no host, user info, a bad host, IPv4 or IPv6
    /// literal, a bad port, a space or a control character.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, Url, UrlProblem};
    ///
    /// let url = Url::parse("http://[::1]:8080")?;
    /// assert_eq!(url.host(), "::1");
    /// assert_eq!(url.authority(), "[::1]:8080");
    /// assert_eq!(url.target(), "/");
    ///
    /// let err = Url::parse("http://user:pw@example.com/").unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::Url { problem: UrlProblem::Userinfo, .. }));
    /// assert!(err.to_string().contains("http://user:pw@example.com/"));
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Url, HttpError> {
        Url::parse_absolute(input).map_err(|problem| url_error(input, problem))
    }

    /// Resolves a redirect's `Location` value against this URL (RFC 3986
    /// section 5.2).
    ///
    /// Accepted forms: an absolute URL (`https://other/p`), scheme-relative
    /// (`//other/p`, keeps this URL's scheme), an absolute path (`/p?q`), a
    /// relative path (`a/b`, `../x`, resolved against this URL's directory
    /// with dot segments removed), query-only (`?q`, keeps this path), and
    /// fragment-only or empty (this URL again). Surrounding spaces and tabs
    /// are ignored.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Url`] naming the `Location` value, with this URL
    /// attached (see [`HttpError::url`]), when the result would not parse
    /// (for example `ftp://...`, user info, or a control character).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// let base = Url::parse("http://example.com/a/b/c?x=1")?;
    /// assert_eq!(base.join("d")?.to_string(), "http://example.com/a/b/d");
    /// assert_eq!(base.join("../d")?.to_string(), "http://example.com/a/d");
    /// assert_eq!(base.join("/e?f")?.to_string(), "http://example.com/e?f");
    /// assert_eq!(base.join("?y=2")?.to_string(), "http://example.com/a/b/c?y=2");
    /// assert_eq!(base.join("//cdn.test/i")?.to_string(), "http://cdn.test/i");
    /// assert_eq!(base.join("https://x.test")?.to_string(), "https://x.test/");
    /// assert!(base.join("ftp://x.test/").is_err());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn join(&self, location: &str) -> Result<Url, HttpError> {
        let location = location.trim_matches([' ', '\t']);
        // An absolute URL or a scheme-relative one: parse it whole.
        if split_scheme(location).is_some() {
            return Url::parse(location).map_err(|e| e.with_url(self));
        }
        if location.starts_with("//") {
            let absolute = format!("{}:{location}", self.scheme.as_str());
            return Url::parse_absolute(&absolute)
                .map_err(|problem| url_error(location, problem).with_url(self));
        }
        check_chars(location).map_err(|p| url_error(location, p).with_url(self))?;
        let (ref_path, ref_query) = split_reference(location);
        let (path, query) = if ref_path.is_empty() {
            // "?q" keeps the path; "" and "#f" keep the path and the query.
            let query = if location.starts_with('?') {
                ref_query
            } else {
                self.query()
            };
            (self.path().to_owned(), query)
        } else if ref_path.starts_with('/') {
            (remove_dot_segments(ref_path), ref_query)
        } else {
            // Merge: this URL's path up to its last '/', then the reference.
            let base = self.path();
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            (remove_dot_segments(&format!("{dir}{ref_path}")), ref_query)
        };
        Ok(Url::assemble(
            self.scheme,
            self.host.clone(),
            self.ipv6,
            self.port,
            &path,
            query,
        ))
    }

    /// The scheme.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{Scheme, Url};
    ///
    /// assert_eq!(Url::parse("https://a.test/")?.scheme(), Scheme::Https);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, lowercase, as a name to resolve or to send as TLS server
    /// name: an IPv6 address comes without its brackets.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://Example.COM/")?.host(), "example.com");
    /// assert_eq!(Url::parse("http://[::1]/")?.host(), "::1");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("https://a.test/")?.port(), 443);
    /// assert_eq!(Url::parse("http://a.test:8080/")?.port(), 8080);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path, starting with `/`, without the query.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://a.test/x/y?z")?.path(), "/x/y");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn path(&self) -> &str {
        &self.target[..self.path_end]
    }

    /// The query without its `?`, if the URL has one (it may be empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://a.test/?q=1")?.query(), Some("q=1"));
    /// assert_eq!(Url::parse("http://a.test/")?.query(), None);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn query(&self) -> Option<&str> {
        self.target.get(self.path_end + 1..)
    }

    /// The request target sent on the request line: path and `?query`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://a.test?q#frag")?.target(), "/?q");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether the scheme is `https`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert!(Url::parse("https://a.test/")?.is_https());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// `host:port` to connect to, always with the port and with brackets
    /// around an IPv6 address (the form `ToSocketAddrs` accepts).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://a.test/")?.authority(), "a.test:80");
    /// assert_eq!(Url::parse("https://[::1]/")?.authority(), "[::1]:443");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn authority(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    /// The value of the `Host` request header: the host, with `:port` only
    /// when the port is not the scheme's default.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Url;
    ///
    /// assert_eq!(Url::parse("http://a.test:80/")?.host_header(), "a.test");
    /// assert_eq!(Url::parse("http://a.test:8080/")?.host_header(), "a.test:8080");
    /// assert_eq!(Url::parse("https://[::1]:8443/")?.host_header(), "[::1]:8443");
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.bracketed_host().into_owned()
        } else {
            self.authority()
        }
    }

    fn parse_absolute(input: &str) -> Result<Url, UrlProblem> {
        check_chars(input)?;
        let (scheme_text, rest) = split_scheme(input).ok_or(UrlProblem::NoScheme)?;
        let scheme = if scheme_text.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if scheme_text.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else {
            return Err(UrlProblem::UnsupportedScheme(scheme_text.to_owned()));
        };
        let rest = rest.strip_prefix("//").ok_or(UrlProblem::NoHost)?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path_etc) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlProblem::Userinfo);
        }
        let (host, ipv6, port_text) = split_host_port(authority)?;
        let port = match port_text {
            None | Some("") => scheme.default_port(),
            Some(digits) => parse_port(digits).ok_or(UrlProblem::BadPort)?,
        };
        let (path, query) = split_reference(path_etc);
        let path = if path.is_empty() { "/" } else { path };
        Ok(Url::assemble(
            scheme,
            host,
            ipv6,
            port,
            &remove_dot_segments(path),
            query,
        ))
    }

    fn bracketed_host(&self) -> std::borrow::Cow<'_, str> {
        if self.ipv6 {
            format!("[{}]", self.host).into()
        } else {
            self.host.as_str().into()
        }
    }

    fn assemble(
        scheme: Scheme,
        host: String,
        ipv6: bool,
        port: u16,
        path: &str,
        query: Option<&str>,
    ) -> Url {
        let mut target = String::with_capacity(path.len() + query.map_or(0, |q| q.len() + 1));
        push_encoded(&mut target, path);
        let path_end = target.len();
        if let Some(query) = query {
            target.push('?');
            push_encoded(&mut target, query);
        }
        Url {
            scheme,
            host,
            ipv6,
            port,
            target,
            path_end,
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.host_header(),
            self.target
        )
    }
}

impl FromStr for Url {
    type Err = HttpError;

    /// Same as [`Url::parse`].
    fn from_str(s: &str) -> Result<Url, HttpError> {
        Url::parse(s)
    }
}

fn url_error(url: &str, problem: UrlProblem) -> HttpError {
    HttpError::new(ErrorKind::Url {
        url: url.to_owned(),
        problem,
    })
}

/// Refuses spaces and control characters anywhere in a URL.
fn check_chars(text: &str) -> Result<(), UrlProblem> {
    match text.chars().find(|c| *c == ' ' || c.is_control()) {
        None => Ok(()),
        Some(' ') => Err(UrlProblem::Space),
        Some(c) => Err(UrlProblem::ControlCharacter(c)),
    }
}

/// Splits `scheme:rest` if `text` starts with a syntactically valid scheme
/// (a letter, then letters, digits, `+`, `-`, `.`) before any `/?#`.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then(|| (scheme, &text[colon + 1..]))
}

/// Splits an authority (without user info) into lowercase host, whether it
/// is IPv6, and the port text after `:` if any.
fn split_host_port(authority: &str) -> Result<(String, bool, Option<&str>), UrlProblem> {
    if let Some(inside) = authority.strip_prefix('[') {
        let close = inside.find(']').ok_or(UrlProblem::BadIpv6)?;
        let address = &inside[..close];
        // Zone ids ("%25eth0") and anything else std does not take are refused.
        let parsed: Ipv6Addr = address.parse().map_err(|_| UrlProblem::BadIpv6)?;
        let port = match &inside[close + 1..] {
            "" => None,
            after => Some(after.strip_prefix(':').ok_or(UrlProblem::BadIpv6)?),
        };
        return Ok((parsed.to_string(), true, port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(UrlProblem::NoHost);
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
    {
        return Err(UrlProblem::BadHost(bad));
    }
    if host.chars().all(|c| c.is_ascii_digit() || c == '.') && host.parse::<Ipv4Addr>().is_err() {
        return Err(UrlProblem::BadIpv4);
    }
    Ok((host.to_ascii_lowercase(), false, port))
}

/// Parses a port: ASCII digits only (no sign), 1..=65535.
fn parse_port(digits: &str) -> Option<u16> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().filter(|p| *p != 0)
}

/// Splits what follows the authority (or a relative reference) into path
/// and query, dropping the fragment.
fn split_reference(text: &str) -> (&str, Option<&str>) {
    let text = text.split_once('#').map_or(text, |(before, _)| before);
    match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text, None),
    }
}

/// Removes `.` and `..` segments from an absolute path (RFC 3986 section
/// 5.2.4); `..` never climbs above the root.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {}
            ".." => {
                kept.pop();
            }
            other => {
                kept.push(other);
                continue;
            }
        }
        // A path ending in "." or ".." names a directory: keep its '/'.
        if i == last {
            kept.push("");
        }
    }
    format!("/{}", kept.join("/"))
}

/// Appends `text`, percent-encoding every non-ASCII character as UTF-8.
fn push_encoded(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
}
