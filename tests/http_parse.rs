//! The sans-IO core of the HTTP client: URLs and redirects, request bytes,
//! response heads, body framing and the body decoder, fed bytes directly
//! (no sockets).

use evloop::http::head::{DEFAULT_MAX_HEAD, MAX_HEADERS};
use evloop::http::{
    BodyDecoder, ErrorKind, Framing, HttpError, ResponseHead, Scheme, Url, UrlProblem, get_request,
    request,
};

// ---------------------------------------------------------------- helpers

fn url(text: &str) -> Url {
    Url::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"))
}

fn url_problem(text: &str) -> UrlProblem {
    let err = Url::parse(text).expect_err(text);
    assert!(
        err.to_string().contains(&text.escape_debug().to_string()),
        "error for {text:?} should name it: {err}"
    );
    match err.into_kind() {
        ErrorKind::Url { problem, .. } => problem,
        other => panic!("expected a URL error for {text:?}, got {other:?}"),
    }
}

fn head(raw: &[u8]) -> ResponseHead {
    let (head, used) = ResponseHead::parse(raw, DEFAULT_MAX_HEAD)
        .expect("valid head")
        .expect("complete head");
    assert_eq!(used, raw.len());
    head
}

fn framing(raw: &[u8]) -> Result<Framing, HttpError> {
    Framing::for_response(&head(raw), false)
}

const CHUNKED: Framing = Framing::Chunked {
    length_ignored: false,
};

/// What decoding a whole body produced, comparable across ways of feeding it.
#[derive(Debug, PartialEq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    done: bool,
    error: Option<String>,
}

/// Feeds `pieces` one after another (stopping at done or error), then, if
/// `eof` and not done, tells the decoder the peer closed.
fn feed(framing: Framing, max_body: u64, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut decoder = match BodyDecoder::new(framing, max_body) {
        Ok(d) => d,
        Err(e) => {
            return Outcome {
                body: Vec::new(),
                consumed: 0,
                done: false,
                error: Some(e.to_string()),
            };
        }
    };
    let mut body = Vec::new();
    let mut consumed = 0;
    let mut error = None;
    for piece in pieces {
        match decoder.decode(piece, &mut body) {
            Ok(step) => {
                consumed += step.consumed;
                if step.done {
                    assert!(decoder.is_done());
                    break;
                }
                assert_eq!(step.consumed, piece.len(), "not done, so all input is used");
            }
            Err(e) => {
                error = Some(e.to_string());
                // A failed call reports no count; where the error happened
                // is in the message (the body offset).
                consumed = 0;
                break;
            }
        }
    }
    if error.is_none()
        && eof
        && !decoder.is_done()
        && let Err(e) = decoder.eof()
    {
        error = Some(e.to_string());
    }
    Outcome {
        body,
        consumed,
        done: decoder.is_done(),
        error,
    }
}

fn decode_all(framing: Framing, max_body: u64, input: &[u8]) -> Outcome {
    feed(framing, max_body, &[input], false)
}

fn error_of(framing: Framing, max_body: u64, input: &[u8]) -> String {
    decode_all(framing, max_body, input)
        .error
        .unwrap_or_else(|| panic!("{:?} should fail", input.escape_ascii().to_string()))
}

/// The kind of the error from decoding `input` whole.
fn error_kind(framing: Framing, max_body: u64, input: &[u8]) -> ErrorKind {
    let mut decoder = BodyDecoder::new(framing, max_body).expect("decoder");
    decoder
        .decode(input, &mut Vec::new())
        .expect_err("should fail")
        .into_kind()
}

// ---------------------------------------------------------------- URLs

#[test]
fn url_defaults_and_normalisation() {
    let u = url("http://example.com");
    assert_eq!(u.scheme(), Scheme::Http);
    assert_eq!((u.host(), u.port(), u.target()), ("example.com", 80, "/"));
    assert_eq!(u.query(), None);
    assert_eq!(u.to_string(), "http://example.com/");

    let u = url("HTTPS://WWW.Example.COM:443/A/./b/../C?X=1#Frag");
    assert_eq!(u.scheme(), Scheme::Https);
    assert_eq!(u.host(), "www.example.com");
    assert_eq!(u.port(), 443);
    assert_eq!(u.path(), "/A/C");
    assert_eq!(u.query(), Some("X=1"));
    assert_eq!(u.to_string(), "https://www.example.com/A/C?X=1");
    assert_eq!(u, url("https://www.example.com/A/C?X=1"));

    // An empty port means the default one; an empty query is kept.
    assert_eq!(url("http://a.test:/x?").target(), "/x?");
    assert_eq!(url("http://a.test:").port(), 80);
    assert_eq!(url("http://a.test?q").target(), "/?q");
    assert_eq!(url("http://a.test#only-frag").target(), "/");
    assert_eq!(
        "http://a.test/p".parse::<Url>().unwrap(),
        url("http://a.test/p")
    );
}

#[test]
fn url_hosts_ipv4_ipv6_and_ports() {
    let u = url("http://127.0.0.1:8080/img");
    assert_eq!((u.host(), u.port()), ("127.0.0.1", 8080));
    assert_eq!(u.authority(), "127.0.0.1:8080");
    assert_eq!(u.host_header(), "127.0.0.1:8080");

    let u = url("http://[::1]/");
    assert_eq!(u.host(), "::1");
    assert_eq!(u.authority(), "[::1]:80");
    assert_eq!(u.host_header(), "[::1]");
    assert_eq!(u.to_string(), "http://[::1]/");

    let u = url("https://[2001:DB8::1]:8443/x");
    assert_eq!(u.host(), "2001:db8::1");
    assert_eq!(u.host_header(), "[2001:db8::1]:8443");
    assert_eq!(u.to_string(), "https://[2001:db8::1]:8443/x");

    assert_eq!(url("https://a.test").authority(), "a.test:443");
    assert_eq!(url("https://a.test").host_header(), "a.test");
    assert_eq!(url("https://a.test:80").host_header(), "a.test:80");
    assert_eq!(url("http://a.test:443").host_header(), "a.test:443");
    assert_eq!(url("http://a.test:65535").port(), 65535);
    assert_eq!(url("http://my_host-1.local~/").host(), "my_host-1.local~");
    assert!(url("https://x.test").is_https());
}

#[test]
fn url_non_ascii_path_is_percent_encoded() {
    let u = url("http://a.test/caf\u{e9}?q=\u{e9}");
    assert_eq!(u.target(), "/caf%C3%A9?q=%C3%A9");
    // A stray '%' is passed through, as browsers do.
    assert_eq!(url("http://a.test/100%").target(), "/100%");
}

#[test]
fn url_rejects_userinfo() {
    assert_eq!(url_problem("http://user@a.test/"), UrlProblem::Userinfo);
    assert_eq!(url_problem("http://user:pw@a.test/"), UrlProblem::Userinfo);
    assert_eq!(url_problem("https://:@a.test"), UrlProblem::Userinfo);
}

#[test]
fn url_rejects_spaces_and_control_characters() {
    assert_eq!(url_problem("http://a.test/a b"), UrlProblem::Space);
    assert_eq!(url_problem(" http://a.test/"), UrlProblem::Space);
    assert_eq!(url_problem("http://a.test/?q= "), UrlProblem::Space);
    assert_eq!(
        url_problem("http://a.test/\t"),
        UrlProblem::ControlCharacter('\t')
    );
    assert_eq!(
        url_problem("http://a.test/\r\nX: y"),
        UrlProblem::ControlCharacter('\r')
    );
    assert_eq!(
        url_problem("http://a.test/\0"),
        UrlProblem::ControlCharacter('\0')
    );
    assert_eq!(
        url_problem("http://a.test/\u{7f}"),
        UrlProblem::ControlCharacter('\u{7f}')
    );
    // The error escapes the control character when it prints the URL.
    let err = Url::parse("http://a.test/\n").unwrap_err();
    assert!(err.to_string().contains("http://a.test/\\n"), "{err}");
}

#[test]
fn url_rejects_unknown_schemes() {
    for (text, scheme) in [
        ("ftp://a.test/", "ftp"),
        ("file:///etc/passwd", "file"),
        ("mailto:me@a.test", "mailto"),
        ("ws://a.test/", "ws"),
        ("httpx://a.test/", "httpx"),
    ] {
        assert_eq!(
            url_problem(text),
            UrlProblem::UnsupportedScheme(scheme.to_owned())
        );
    }
    let err = Url::parse("gopher://a.test/").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid URL \"gopher://a.test/\": unsupported scheme \"gopher\" (only http and https)"
    );
}

#[test]
fn url_rejects_missing_parts() {
    assert_eq!(url_problem("example.com/x"), UrlProblem::NoScheme);
    assert_eq!(url_problem("/x"), UrlProblem::NoScheme);
    assert_eq!(url_problem(""), UrlProblem::NoScheme);
    assert_eq!(url_problem("1http://a.test"), UrlProblem::NoScheme);
    assert_eq!(url_problem("http:a.test"), UrlProblem::NoHost);
    assert_eq!(url_problem("http:/a.test"), UrlProblem::NoHost);
    assert_eq!(url_problem("http://"), UrlProblem::NoHost);
    assert_eq!(url_problem("http:///path"), UrlProblem::NoHost);
    assert_eq!(url_problem("http://:80/"), UrlProblem::NoHost);
}

#[test]
fn url_rejects_bad_hosts_and_ports() {
    assert_eq!(url_problem("http://a%41.test/"), UrlProblem::BadHost('%'));
    assert_eq!(
        url_problem("http://caf\u{e9}.test/"),
        UrlProblem::BadHost('\u{e9}')
    );
    assert_eq!(url_problem("http://a:b:80/"), UrlProblem::BadHost(':'));
    assert_eq!(url_problem("http://a\\b/"), UrlProblem::BadHost('\\'));
    assert_eq!(url_problem("http://999.1.1.1/"), UrlProblem::BadIpv4);
    assert_eq!(url_problem("http://1.2.3/"), UrlProblem::BadIpv4);
    assert_eq!(url_problem("http://01.2.3.4/"), UrlProblem::BadIpv4);
    assert_eq!(url_problem("http://[::g]/"), UrlProblem::BadIpv6);
    assert_eq!(url_problem("http://[::1/"), UrlProblem::BadIpv6);
    assert_eq!(url_problem("http://[::1]x/"), UrlProblem::BadIpv6);
    assert_eq!(url_problem("http://[fe80::1%25eth0]/"), UrlProblem::BadIpv6);
    assert_eq!(url_problem("http://[1.2.3.4]/"), UrlProblem::BadIpv6);
    for port in ["0", "65536", "99999999999", "+80", "-1", "8a", "0x50"] {
        assert_eq!(
            url_problem(&format!("http://a.test:{port}/")),
            UrlProblem::BadPort,
            "port {port}"
        );
    }
}

// ---------------------------------------------------------------- redirects

#[test]
fn join_rfc3986_normal_examples() {
    // RFC 3986 section 5.4.1, on an http base (and with "//g" given the
    // "/" path that an http URL always has).
    let base = url("http://a/b/c/d;p?q");
    for (reference, expected) in [
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g/"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q"),
        ("g#s", "http://a/b/c/g"),
        ("g?y#s", "http://a/b/c/g?y"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
    ] {
        let joined = base
            .join(reference)
            .unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(joined.to_string(), expected, "reference {reference:?}");
    }
}

#[test]
fn join_rfc3986_abnormal_examples() {
    // RFC 3986 section 5.4.2.
    let base = url("http://a/b/c/d;p?q");
    for (reference, expected) in [
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g"),
        ("g#s/../x", "http://a/b/c/g"),
    ] {
        let joined = base
            .join(reference)
            .unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(joined.to_string(), expected, "reference {reference:?}");
    }
    // "http:g" is the strict reading of RFC 3986: a URL with no host.
    assert!(base.join("http:g").is_err());
}

#[test]
fn join_every_kind_of_location() {
    let base = url("https://img.test:8443/gallery/cats/index.html?page=2");
    let cases = [
        // absolute, another scheme, host and port
        ("http://other.test/a.jpg", "http://other.test/a.jpg"),
        ("HTTPS://Other.Test:9000", "https://other.test:9000/"),
        // scheme-relative keeps https
        ("//cdn.test/x/y.jpg?s=1", "https://cdn.test/x/y.jpg?s=1"),
        ("//cdn.test:8443", "https://cdn.test:8443/"),
        // absolute path keeps scheme, host, port
        ("/login?next=%2F", "https://img.test:8443/login?next=%2F"),
        ("/a/../b/./c", "https://img.test:8443/b/c"),
        // relative path, against the base's directory
        ("1.jpg", "https://img.test:8443/gallery/cats/1.jpg"),
        ("big/1.jpg", "https://img.test:8443/gallery/cats/big/1.jpg"),
        ("../dogs/1.jpg", "https://img.test:8443/gallery/dogs/1.jpg"),
        ("../../../../up.jpg", "https://img.test:8443/up.jpg"),
        // query-only keeps the path
        (
            "?page=3",
            "https://img.test:8443/gallery/cats/index.html?page=3",
        ),
        ("?", "https://img.test:8443/gallery/cats/index.html?"),
        // fragment-only is the same resource
        (
            "#top",
            "https://img.test:8443/gallery/cats/index.html?page=2",
        ),
        // surrounding whitespace is ignored
        ("  /trimmed\t", "https://img.test:8443/trimmed"),
        // raw UTF-8 is percent-encoded
        ("/caf\u{e9}", "https://img.test:8443/caf%C3%A9"),
    ];
    for (location, expected) in cases {
        let joined = base
            .join(location)
            .unwrap_or_else(|e| panic!("{location}: {e}"));
        assert_eq!(joined.to_string(), expected, "Location {location:?}");
    }
}

#[test]
fn join_rejects_bad_locations_naming_both_urls() {
    let base = url("http://a.test/dir/page");
    for (location, problem) in [
        (
            "ftp://a.test/file",
            UrlProblem::UnsupportedScheme("ftp".into()),
        ),
        (
            "javascript:alert(1)",
            UrlProblem::UnsupportedScheme("javascript".into()),
        ),
        ("//user:pw@evil.test/", UrlProblem::Userinfo),
        ("http://user@evil.test/", UrlProblem::Userinfo),
        ("/a b", UrlProblem::Space),
        ("next\npage", UrlProblem::ControlCharacter('\n')),
        ("//", UrlProblem::NoHost),
        ("//[::1/", UrlProblem::BadIpv6),
    ] {
        let err = base.join(location).expect_err(location);
        assert_eq!(err.url(), Some("http://a.test/dir/page"), "{location:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("http://a.test/dir/page: invalid URL"),
            "{text}"
        );
        assert!(
            text.contains(&location.escape_debug().to_string()),
            "{text} should name {location:?}"
        );
        match err.into_kind() {
            ErrorKind::Url { problem: got, .. } => assert_eq!(got, problem, "{location:?}"),
            other => panic!("{other:?}"),
        }
    }
}

// ---------------------------------------------------------------- requests

#[test]
fn get_request_bytes() {
    let bytes = get_request(&url("http://example.com:8080/a/b.jpg?x=1#f"), &[]).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "GET /a/b.jpg?x=1 HTTP/1.1\r\n\
         Host: example.com:8080\r\n\
         User-Agent: evloop/0.1\r\n\
         Accept-Encoding: identity\r\n\
         Connection: keep-alive\r\n\
         \r\n"
    );
}

#[test]
fn extra_headers_are_appended_or_replace_defaults() {
    let bytes = get_request(
        &url("https://[::1]/"),
        &[("user-agent", "test/1"), ("Accept", "*/*"), ("X-Empty", "")],
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "GET / HTTP/1.1\r\n\
         Host: [::1]\r\n\
         Accept-Encoding: identity\r\n\
         Connection: keep-alive\r\n\
         user-agent: test/1\r\n\
         Accept: */*\r\n\
         X-Empty: \r\n\
         \r\n"
    );
    let head_request = request("HEAD", &url("http://a.test/x"), &[]).unwrap();
    assert!(head_request.starts_with(b"HEAD /x HTTP/1.1\r\n"));
}

#[test]
fn bad_request_headers_and_methods_are_refused() {
    let u = url("http://a.test/");
    for (name, value) in [
        ("X-Evil", "a\r\nInjected: 1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "nul\0"),
        ("Bad Name", "v"),
        ("Bad:Name", "v"),
        ("", "v"),
        ("X-Caf\u{e9}", "v"),
        ("Host", "other.test"),
        ("content-length", "5"),
        ("Transfer-Encoding", "chunked"),
    ] {
        let err = get_request(&u, &[(name, value)]).expect_err(name);
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequestHeader { .. }),
            "{name:?}: {err}"
        );
        assert!(err.to_string().contains("invalid request header"), "{err}");
    }
    // A tab inside a value is fine.
    assert!(get_request(&u, &[("X-Tab", "a\tb")]).is_ok());
    for method in ["", "GE T", "GET\r\n", "G\u{e9}T"] {
        let err = request(method, &u, &[]).expect_err(method);
        assert!(matches!(err.kind(), ErrorKind::InvalidMethod { .. }));
    }
}

// ---------------------------------------------------------------- response heads

#[test]
fn head_parses_status_reason_version_headers() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\ncontent-length: 3\r\nX-Bin: \xff\xfe\r\nVia: a\r\nVIA: b\r\n\r\nabc";
    let (h, used) = ResponseHead::parse(raw, DEFAULT_MAX_HEAD).unwrap().unwrap();
    assert_eq!(&raw[used..], b"abc");
    assert_eq!((h.status, h.reason.as_str(), h.version), (200, "OK", 1));
    assert_eq!(h.headers.len(), 5);
    assert_eq!(
        h.headers[0],
        ("Content-Type".to_owned(), b"image/jpeg".to_vec())
    );
    assert_eq!(h.header("CONTENT-LENGTH"), Some(&b"3"[..]));
    assert_eq!(h.header("x-bin"), Some(&b"\xff\xfe"[..]));
    assert_eq!(h.header("missing"), None);
    assert_eq!(
        h.headers_all("via").collect::<Vec<_>>(),
        [&b"a"[..], &b"b"[..]]
    );
    assert_eq!(h.headers_all("missing").count(), 0);

    let h = head(b"HTTP/1.0 404 Not Found\r\n\r\n");
    assert_eq!(
        (h.status, h.reason.as_str(), h.version),
        (404, "Not Found", 0)
    );
    let h = head(b"HTTP/1.1 500 \r\n\r\n");
    assert_eq!((h.status, h.reason.as_str()), (500, ""));
}

#[test]
fn head_is_incremental_at_every_split() {
    let raw: &[u8] = b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n";
    let whole = head(raw);
    for end in 0..raw.len() {
        assert_eq!(
            ResponseHead::parse(&raw[..end], DEFAULT_MAX_HEAD).unwrap(),
            None,
            "prefix of {end} bytes"
        );
    }
    let mut with_body = raw.to_vec();
    with_body.extend_from_slice(b"more");
    let (again, used) = ResponseHead::parse(&with_body, DEFAULT_MAX_HEAD)
        .unwrap()
        .unwrap();
    assert_eq!((again, used), (whole, raw.len()));
}

#[test]
fn head_location_and_redirects() {
    let h = head(b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://b.test/x\r\n\r\n");
    assert!(h.is_redirect());
    assert_eq!(h.location().unwrap(), Some("https://b.test/x"));
    for status in [301, 302, 303, 307, 308] {
        assert!(head(format!("HTTP/1.1 {status} R\r\n\r\n").as_bytes()).is_redirect());
    }
    for status in [200, 300, 304, 305, 404] {
        assert!(!head(format!("HTTP/1.1 {status} R\r\n\r\n").as_bytes()).is_redirect());
    }
    assert_eq!(
        head(b"HTTP/1.1 302 Found\r\n\r\n").location().unwrap(),
        None
    );
    let err = head(b"HTTP/1.1 302 Found\r\nLocation: /\xff\r\n\r\n")
        .location()
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::HeaderNotUtf8 { name: "Location" }
    ));
}

#[test]
fn head_keep_alive_rules() {
    for (raw, keep) in [
        (&b"HTTP/1.1 200 OK\r\n\r\n"[..], true),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", true),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false),
        (b"HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n\r\n", false),
        (
            b"HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\n\r\n",
            false,
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: te\r\nConnection: close\r\n\r\n",
            false,
        ),
        (b"HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n", true),
        (b"HTTP/1.0 200 OK\r\n\r\n", false),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", true),
        (
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
    ] {
        assert_eq!(head(raw).keep_alive(), keep, "{}", raw.escape_ascii());
    }
}

#[test]
fn interim_responses_are_skipped() {
    let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let (h, used) = ResponseHead::parse(raw, DEFAULT_MAX_HEAD).unwrap().unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.header("link"), None, "interim headers are not merged in");
    assert_eq!(&raw[used..], b"hi");

    // Interim heads complete, final one not yet: need more bytes.
    let partial = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20";
    assert_eq!(
        ResponseHead::parse(partial, DEFAULT_MAX_HEAD).unwrap(),
        None
    );

    // The limit counts interim heads too.
    let many_continues = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(100);
    let err = ResponseHead::parse(&many_continues, 1000).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::HeadTooLarge { limit: 1000 }
    ));

    let err = ResponseHead::parse(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 1024).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::UnexpectedSwitchingProtocols
    ));
}

#[test]
fn one_megabyte_of_headers_stops_at_the_limit() {
    // A server that sends 1 MB of 1000-byte header fields, read 4 KiB at a time.
    let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
    let field = format!("X-Padding: {}\r\n", "p".repeat(986));
    while wire.len() < 1 << 20 {
        wire.extend_from_slice(field.as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    const READ: usize = 4096;
    let mut buf = Vec::new();
    let mut reads = 0;
    let err = loop {
        let start = reads * READ;
        buf.extend_from_slice(&wire[start..(start + READ).min(wire.len())]);
        reads += 1;
        match ResponseHead::parse(&buf, DEFAULT_MAX_HEAD) {
            Ok(None) => continue,
            Ok(Some(_)) => panic!("a 1 MB head must not be accepted"),
            Err(e) => break e,
        }
    };
    assert!(matches!(
        err.kind(),
        ErrorKind::HeadTooLarge {
            limit: DEFAULT_MAX_HEAD
        }
    ));
    assert_eq!(
        err.to_string(),
        "response head is larger than the limit of 65536 bytes"
    );
    assert!(
        buf.len() <= DEFAULT_MAX_HEAD + READ,
        "read {} bytes",
        buf.len()
    );
    assert_eq!(reads, DEFAULT_MAX_HEAD / READ + 1);

    // Handed the whole megabyte at once, it fails the same way.
    let err = ResponseHead::parse(&wire, DEFAULT_MAX_HEAD).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::HeadTooLarge { .. }));
}

#[test]
fn head_limit_is_exact() {
    let raw = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    assert!(ResponseHead::parse(raw, raw.len()).unwrap().is_some());
    // Body bytes after the head do not count against the limit.
    let mut with_body = raw.to_vec();
    with_body.extend_from_slice(&[b'x'; 100]);
    assert!(
        ResponseHead::parse(&with_body, raw.len())
            .unwrap()
            .is_some()
    );
    // One byte less: the head cannot end in time.
    let err = ResponseHead::parse(raw, raw.len() - 1).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::HeadTooLarge { .. }));
    // A partial head exactly at the limit may still end: need more bytes.
    assert_eq!(ResponseHead::parse(&raw[..10], 10).unwrap(), None);
}

#[test]
fn header_count_limit() {
    let with_fields = |n: usize| {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..n {
            raw.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw
    };
    // More than the first try's room, up to the maximum: fine.
    assert_eq!(head(&with_fields(40)).headers.len(), 40);
    assert_eq!(head(&with_fields(MAX_HEADERS)).headers.len(), MAX_HEADERS);
    let err = ResponseHead::parse(&with_fields(MAX_HEADERS + 1), DEFAULT_MAX_HEAD).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::TooManyHeaders { limit: MAX_HEADERS }
    ));
    assert_eq!(err.to_string(), "response has more than 100 header fields");
}

#[test]
fn garbage_status_lines_are_named() {
    for (raw, shown) in [
        (
            &b"<html><body>hello</body></html>"[..],
            "<html><body>hello</body></html>",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "SSH-2.0-OpenSSH_9.6"),
        (b"HTTP/2 200 OK\r\n\r\n", "HTTP/2 200 OK"),
        (b"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 abc OK"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 2000 OK"),
        (b"http/1.1 200 OK\r\n\r\n", "http/1.1 200 OK"),
        // A TLS alert: what a plain-HTTP client gets from an HTTPS port.
        (
            b"\x15\x03\x03\x00\x02\x02\x46",
            "\\x15\\x03\\x03\\x00\\x02\\x02F",
        ),
    ] {
        let err = ResponseHead::parse(raw, DEFAULT_MAX_HEAD).expect_err(shown);
        assert!(
            matches!(err.kind(), ErrorKind::BadStatusLine { .. }),
            "{shown}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.starts_with("bad status line"), "{text}");
        assert!(text.contains(shown), "{text} should show {shown}");
    }
    // The excerpt is cut short.
    let long = format!("NOT HTTP {}", "z".repeat(10_000));
    let err = ResponseHead::parse(long.as_bytes(), DEFAULT_MAX_HEAD).unwrap_err();
    assert!(err.to_string().len() < 150, "{err}");
    // A prefix that could still become a status line is not an error yet.
    assert_eq!(ResponseHead::parse(b"HTT", DEFAULT_MAX_HEAD).unwrap(), None);
}

#[test]
fn malformed_header_fields() {
    for raw in [
        &b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
    ] {
        let err = ResponseHead::parse(raw, DEFAULT_MAX_HEAD).expect_err("malformed");
        assert!(
            matches!(err.kind(), ErrorKind::BadHeader { .. }),
            "{}: {err:?}",
            raw.escape_ascii()
        );
    }
}

// ---------------------------------------------------------------- framing

#[test]
fn framing_no_body_cases() {
    let with_len = |status: u16| format!("HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n");
    for status in [204, 304] {
        assert_eq!(
            framing(with_len(status).as_bytes()).unwrap(),
            Framing::Empty
        );
    }
    let chunked_204 = head(b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(
        Framing::for_response(&chunked_204, false).unwrap(),
        Framing::Empty
    );
    // A 1xx head never reaches the caller through parse, but is bodiless.
    let interim = ResponseHead {
        status: 100,
        reason: "Continue".into(),
        version: 1,
        headers: vec![],
    };
    assert_eq!(
        Framing::for_response(&interim, false).unwrap(),
        Framing::Empty
    );
    let ok = head(with_len(200).as_bytes());
    assert_eq!(Framing::for_response(&ok, true).unwrap(), Framing::Empty);
    assert_eq!(
        Framing::for_response(&ok, false).unwrap(),
        Framing::Length(10)
    );
}

#[test]
fn framing_content_length_strict() {
    for (value, length) in [
        ("0", 0),
        ("12", 12),
        ("007", 7),
        ("12, 12", 12),
        ("12,12,12", 12),
        ("18446744073709551615", u64::MAX),
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
        assert_eq!(
            framing(raw.as_bytes()).unwrap(),
            Framing::Length(length),
            "{value}"
        );
    }
    // Identical duplicate headers are accepted.
    let dup = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n";
    assert_eq!(framing(dup).unwrap(), Framing::Length(5));
}

#[test]
fn framing_rejects_signed_empty_and_malformed_lengths() {
    for value in [
        "+12",
        "-1",
        "",
        "1_000",
        "0x10",
        "1.5",
        "1e3",
        "12 34",
        "12,",
        ",12",
        "twelve",
        "\u{661}\u{662}", // Arabic-Indic digits are not ASCII digits
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
        let err = framing(raw.as_bytes()).expect_err(value);
        assert!(
            matches!(err.kind(), ErrorKind::BadContentLength { .. }),
            "{value:?}: {err:?}"
        );
        assert!(err.to_string().starts_with("bad Content-Length"), "{err}");
    }
}

#[test]
fn framing_rejects_overflowing_length() {
    for value in ["18446744073709551616", "99999999999999999999999999"] {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
        let err = framing(raw.as_bytes()).expect_err(value);
        assert!(matches!(err.kind(), ErrorKind::BadContentLength { .. }));
        assert!(err.to_string().contains(value), "{err}");
    }
}

#[test]
fn framing_rejects_disagreeing_lengths() {
    let two = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    let err = framing(two).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::ConflictingContentLength {
            first: 5,
            second: 6
        }
    ));
    assert_eq!(err.to_string(), "conflicting Content-Length values 5 and 6");

    let list = b"HTTP/1.1 200 OK\r\nContent-Length: 7, 7, 8\r\n\r\n";
    let err = framing(list).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::ConflictingContentLength {
            first: 7,
            second: 8
        }
    ));
    // "5" and "05" are the same number.
    let same = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n";
    assert_eq!(framing(same).unwrap(), Framing::Length(5));
}

#[test]
fn framing_transfer_encoding() {
    for value in [
        "chunked",
        "Chunked",
        "CHUNKED",
        " chunked ",
        "chunked,",
        ", chunked",
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {value}\r\n\r\n");
        assert_eq!(framing(raw.as_bytes()).unwrap(), CHUNKED, "{value:?}");
    }
    // With a Content-Length as well: chunked wins, and reuse is forbidden.
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 500\r\n\r\n",
    ] {
        let f = framing(raw).unwrap();
        assert_eq!(
            f,
            Framing::Chunked {
                length_ignored: true
            }
        );
        assert!(!f.allows_reuse());
    }
    assert!(CHUNKED.allows_reuse());
    // A malformed Content-Length next to chunked is still refused.
    let bad = b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert!(matches!(
        framing(bad).unwrap_err().kind(),
        ErrorKind::BadContentLength { .. }
    ));
}

#[test]
fn framing_rejects_other_transfer_codings() {
    for fields in [
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked, gzip",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: identity",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding: ",
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\n{fields}\r\n\r\n");
        let err = framing(raw.as_bytes()).expect_err(fields);
        assert!(
            matches!(err.kind(), ErrorKind::UnsupportedTransferEncoding { .. }),
            "{fields}: {err:?}"
        );
    }
    let err = framing(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").unwrap_err();
    assert!(err.to_string().contains("\"gzip, chunked\""), "{err}");
}

#[test]
fn framing_until_close() {
    let f = framing(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    assert_eq!(f, Framing::UntilClose);
    assert!(!f.allows_reuse());
    assert_eq!(
        framing(b"HTTP/1.0 200 OK\r\n\r\n").unwrap(),
        Framing::UntilClose
    );
}

// ---------------------------------------------------------------- Content-Length bodies

#[test]
fn length_body_stops_at_its_end() {
    let out = decode_all(Framing::Length(5), 100, b"helloHTTP/1.1 200");
    assert_eq!(
        out,
        Outcome {
            body: b"hello".to_vec(),
            consumed: 5,
            done: true,
            error: None
        }
    );
    let mut decoder = BodyDecoder::new(Framing::Length(2), 2).unwrap();
    let mut body = Vec::new();
    let step = decoder.decode(b"ab", &mut body).unwrap();
    assert!(step.done);
    // Once done, nothing more is taken.
    let step = decoder.decode(b"cd", &mut body).unwrap();
    assert_eq!((step.consumed, step.done), (0, true));
    assert_eq!(body, b"ab");
    decoder.eof().unwrap();
    assert!(decoder.connection_reusable());
    assert_eq!(decoder.received(), 2);
}

#[test]
fn length_over_limit_fails_before_any_byte() {
    let err = BodyDecoder::new(Framing::Length(101), 100).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::BodyTooLarge {
            limit: 100,
            at_least: 101
        }
    ));
    assert_eq!(
        err.to_string(),
        "body of at least 101 bytes is over the limit of 100 bytes"
    );
    assert!(BodyDecoder::new(Framing::Length(100), 100).is_ok());
    assert!(BodyDecoder::new(Framing::Length(u64::MAX), u64::MAX - 1).is_err());
}

#[test]
fn short_length_body_at_eof() {
    let out = feed(Framing::Length(10), 100, &[b"abc"], true);
    assert_eq!(out.body, b"abc");
    assert_eq!(out.error.as_deref(), Some("body ended after 3 of 10 bytes"));
    let out = feed(Framing::Length(10), 100, &[], true);
    assert_eq!(out.error.as_deref(), Some("body ended after 0 of 10 bytes"));

    let mut decoder = BodyDecoder::new(Framing::Length(10), 100).unwrap();
    let _ = decoder.decode(b"abc", &mut Vec::new()).unwrap();
    assert!(matches!(
        decoder.eof().unwrap_err().into_kind(),
        ErrorKind::BodyTruncated {
            received: 3,
            expected: Some(10)
        }
    ));
}

#[test]
fn declared_length_is_never_preallocated() {
    // A huge declared length with a huge limit: only what arrives is stored.
    let mut decoder = BodyDecoder::new(Framing::Length(u64::MAX / 2), u64::MAX).unwrap();
    let mut body = Vec::new();
    let _ = decoder.decode(b"tiny", &mut body).unwrap();
    assert_eq!(body, b"tiny");
    assert!(body.capacity() < 1024, "capacity {}", body.capacity());

    let mut decoder = BodyDecoder::new(CHUNKED, u64::MAX).unwrap();
    let mut body = Vec::new();
    let _ = decoder
        .decode(b"7fffffffffffffff\r\nabc", &mut body)
        .unwrap();
    assert_eq!(body, b"abc");
    assert!(body.capacity() < 1024, "capacity {}", body.capacity());
}

// ---------------------------------------------------------------- close-delimited bodies

#[test]
fn until_close_body() {
    let out = feed(Framing::UntilClose, 100, &[b"abc", b"", b"def"], true);
    assert_eq!(
        out,
        Outcome {
            body: b"abcdef".to_vec(),
            consumed: 6,
            done: true,
            error: None
        }
    );
    let mut decoder = BodyDecoder::new(Framing::UntilClose, 100).unwrap();
    let _ = decoder.decode(b"abc", &mut Vec::new()).unwrap();
    assert!(!decoder.is_done());
    decoder.eof().unwrap();
    assert!(decoder.is_done());
    assert!(
        !decoder.connection_reusable(),
        "close-delimited: never reused"
    );
}

#[test]
fn until_close_body_over_limit() {
    let out = feed(Framing::UntilClose, 5, &[b"abc", b"def"], true);
    assert_eq!(
        out.error.as_deref(),
        Some("body of at least 6 bytes is over the limit of 5 bytes")
    );
    // The body up to the limit, then the error at the first byte past it,
    // however the bytes were split.
    assert_eq!(out.body, b"abcde");
    assert_eq!(feed(Framing::UntilClose, 5, &[b"abcdef"], true), out);
    assert_eq!(
        feed(Framing::UntilClose, 5, &[b"abcdefgh", b"ij"], true),
        out
    );
    assert!(
        feed(Framing::UntilClose, 6, &[b"abc", b"def"], true)
            .error
            .is_none()
    );
}

// ---------------------------------------------------------------- chunked bodies

#[test]
fn chunked_basic() {
    let wire = b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
    let out = decode_all(CHUNKED, 1000, wire);
    assert_eq!(out.body, b"Wikipedia in\r\n\r\nchunks.");
    assert!(out.done);
    assert_eq!(&wire[out.consumed..], b"NEXT");
}

#[test]
fn chunked_hex_is_case_insensitive() {
    let data = "x".repeat(0xab);
    for size in ["ab", "AB", "aB", "0Ab", "00000000000000ab"] {
        let wire = format!("{size}\r\n{data}\r\n0\r\n\r\n");
        let out = decode_all(CHUNKED, 1000, wire.as_bytes());
        assert!(out.done, "{size}: {:?}", out.error);
        assert_eq!(out.body.len(), 0xab);
    }
}

#[test]
fn chunked_extensions_are_ignored() {
    let wire =
        b"3;name=value\r\nabc\r\n2 ;a;b=\"quoted; \tstring\"\r\nde\r\n1\t;x\r\nf\r\n0;last\r\n\r\n";
    let out = decode_all(CHUNKED, 100, wire);
    assert_eq!(out.error, None);
    assert_eq!(out.body, b"abcdef");
    assert!(out.done);
}

#[test]
fn chunked_extension_length_is_bounded() {
    use evloop::http::body::MAX_CHUNK_EXTENSION;
    let fits = format!(
        "1;{}\r\na\r\n0\r\n\r\n",
        "e".repeat(MAX_CHUNK_EXTENSION - 1)
    );
    assert!(decode_all(CHUNKED, 100, fits.as_bytes()).done);
    let long = format!("1;{}\r\na\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_EXTENSION));
    assert!(matches!(
        error_kind(CHUNKED, 100, long.as_bytes()),
        ErrorKind::ChunkExtensionTooLong {
            limit: MAX_CHUNK_EXTENSION
        }
    ));
    // Whitespace before the ';' counts as well: no endless padding.
    let padded = format!("1{}\r\na\r\n0\r\n\r\n", " ".repeat(MAX_CHUNK_EXTENSION + 1));
    assert!(matches!(
        error_kind(CHUNKED, 100, padded.as_bytes()),
        ErrorKind::ChunkExtensionTooLong { .. }
    ));
    // Control characters are refused at once.
    assert!(matches!(
        error_kind(CHUNKED, 100, b"1;a\0b\r\n"),
        ErrorKind::BadChunkExtension {
            found: 0,
            offset: 3
        }
    ));
    assert!(matches!(
        error_kind(CHUNKED, 100, b"1;a\nb\r\n"),
        ErrorKind::BadChunkExtension { found: b'\n', .. }
    ));
}

#[test]
fn chunked_trailers_are_parsed_and_ignored() {
    let wire = b"3\r\nabc\r\n0\r\nX-Checksum: 123\r\nExpires: never\r\n\r\nrest";
    let out = decode_all(CHUNKED, 100, wire);
    assert_eq!(out.error, None);
    assert_eq!(out.body, b"abc");
    assert!(out.done);
    assert_eq!(&wire[out.consumed..], b"rest");
}

#[test]
fn chunked_trailers_are_bounded() {
    use evloop::http::body::MAX_TRAILERS;
    let mut wire = b"0\r\n".to_vec();
    while wire.len() < MAX_TRAILERS + 100 {
        wire.extend_from_slice(b"X-Padding: 0123456789abcdef0123456789abcdef\r\n");
    }
    let err = error_of(CHUNKED, 100, &wire);
    assert_eq!(
        err,
        "chunked trailers are longer than the limit of 16384 bytes"
    );
}

#[test]
fn chunked_bad_trailers() {
    for (wire, problem) in [
        (&b"0\r\nno colon here\r\n\r\n"[..], "invalid"),
        (b"0\r\nX: a\nY: b\r\n\r\n", "LF without CR"),
        (b"0\r\nX: a\r\r\n", "CR without LF"),
        (b"0\r\n\n", "LF without CR"),
        (b"0\r\n\rX", "CR without LF"),
        (b"0\r\nBad Name: v\r\n\r\n", "invalid header name"),
    ] {
        let err = error_of(CHUNKED, 100, wire);
        assert!(
            err.starts_with("bad chunked trailer") && err.contains(problem),
            "{}: {err}",
            wire.escape_ascii()
        );
    }
}

#[test]
fn chunked_bad_hex() {
    for (wire, found, offset) in [
        (&b"g\r\n"[..], b'g', 0),
        (b"1g\r\n", b'g', 1),
        (b"0x5\r\nhello\r\n", b'x', 1),
        (b"-1\r\n", b'-', 0),
        (b"+1\r\n", b'+', 0),
        (b"\r\n", b'\r', 0),
        (b";ext\r\n", b';', 0),
        (b" 1\r\n", b' ', 0),
        (b"1 2\r\n", b'2', 2),
        (b"1\n", b'\n', 1),
        (b"3\r\nabc\r\nz\r\n", b'z', 8),
    ] {
        match error_kind(CHUNKED, 100, wire) {
            ErrorKind::BadChunkSize {
                found: f,
                offset: o,
            } => {
                assert_eq!((f, o), (found, offset), "{}", wire.escape_ascii());
            }
            other => panic!("{}: {other:?}", wire.escape_ascii()),
        }
    }
    assert_eq!(
        error_of(CHUNKED, 100, b"3\r\nabc\r\nz"),
        "bad chunk size: unexpected byte 'z' at body offset 8"
    );
}

#[test]
fn chunked_overflowing_hex_fails_at_the_17th_digit() {
    let wire = b"10000000000000000\r\n"; // 17 digits
    let mut decoder = BodyDecoder::new(CHUNKED, u64::MAX).unwrap();
    let mut out = Vec::new();
    for (i, byte) in wire.iter().enumerate().take(16) {
        let step = decoder
            .decode(std::slice::from_ref(byte), &mut out)
            .unwrap();
        assert_eq!(step.consumed, 1, "digit {i}");
    }
    let err = decoder.decode(&wire[16..17], &mut out).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::ChunkSizeOverflow { offset: 16 }
    ));
    assert_eq!(
        err.to_string(),
        "chunk size has more than 16 hex digits (overflows u64) at body offset 16"
    );
    // Sixteen f's are a (huge) valid size when the limit allows it.
    let mut decoder = BodyDecoder::new(CHUNKED, u64::MAX).unwrap();
    let step = decoder.decode(b"ffffffffffffffff\r\n", &mut out).unwrap();
    assert!(!step.done);
    assert!(matches!(
        error_kind(CHUNKED, u64::MAX, b"fffffffffffffffff"),
        ErrorKind::ChunkSizeOverflow { offset: 16 }
    ));
}

#[test]
fn chunk_over_limit_fails_at_once() {
    // Limit 1000: "3e8" is exactly 1000, "3e9" is over. The error comes with
    // the digit that crosses the limit, before the line ends.
    assert!(decode_all(CHUNKED, 1000, b"3e8\r\n").error.is_none());
    let mut decoder = BodyDecoder::new(CHUNKED, 1000).unwrap();
    let mut out = Vec::new();
    let _ = decoder.decode(b"3e", &mut out).unwrap(); // 62 so far
    let err = decoder.decode(b"9", &mut out).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::BodyTooLarge {
            limit: 1000,
            at_least: 1001
        }
    ));
    // A huge size fails on the digit that crosses the limit.
    let mut decoder = BodyDecoder::new(CHUNKED, 1000).unwrap();
    let _ = decoder.decode(b"ff", &mut out).unwrap(); // 255
    let err = decoder.decode(b"f", &mut out).unwrap_err(); // 4095
    assert!(matches!(
        err.kind(),
        ErrorKind::BodyTooLarge { at_least: 4095, .. }
    ));
    // The limit counts the whole body, not one chunk.
    let wire = format!("258\r\n{}\r\n258\r\n", "a".repeat(600));
    assert!(matches!(
        error_kind(CHUNKED, 1000, wire.as_bytes()),
        ErrorKind::BodyTooLarge {
            limit: 1000,
            at_least: 1200
        }
    ));
}

#[test]
fn chunked_missing_crlf() {
    for (wire, expected) in [
        (&b"3\r\nabcX"[..], "CRLF after chunk data"),
        (b"3\r\nabc\rX", "LF after chunk data's CR"),
        (b"3\r\nabcd\r\n", "CRLF after chunk data"),
        (b"3\rabc", "LF after the chunk-size line's CR"),
        (b"0\r\r\n", "LF after the chunk-size line's CR"),
    ] {
        match error_kind(CHUNKED, 100, wire) {
            ErrorKind::BadChunkDelimiter { expected: e, .. } => {
                assert_eq!(e, expected, "{}", wire.escape_ascii());
            }
            other => panic!("{}: {other:?}", wire.escape_ascii()),
        }
    }
}

#[test]
fn unfinished_chunked_body_at_eof() {
    for wire in [
        &b""[..],
        b"5",
        b"5\r\n",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\nX: y\r\n",
    ] {
        let out = feed(CHUNKED, 100, &[wire], true);
        let received = out.body.len();
        assert_eq!(
            out.error,
            Some(format!(
                "chunked body ended after {received} bytes, before its last chunk"
            )),
            "{}",
            wire.escape_ascii()
        );
    }
}

#[test]
fn decoder_is_poisoned_after_an_error() {
    let mut decoder = BodyDecoder::new(CHUNKED, 100).unwrap();
    let mut out = Vec::new();
    assert!(decoder.decode(b"z", &mut out).is_err());
    let err = decoder
        .decode(b"1\r\na\r\n0\r\n\r\n", &mut out)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::DecoderPoisoned));
    assert!(matches!(
        decoder.eof().unwrap_err().kind(),
        ErrorKind::DecoderPoisoned
    ));
    assert!(!decoder.is_done());
}

#[test]
fn empty_framing_is_done_at_once() {
    let mut decoder = BodyDecoder::new(Framing::Empty, 0).unwrap();
    let step = decoder.decode(b"HTTP/1.1 200 OK", &mut Vec::new()).unwrap();
    assert_eq!((step.consumed, step.done), (0, true));
    decoder.eof().unwrap();
    let mut decoder = BodyDecoder::new(Framing::Length(0), 0).unwrap();
    assert!(decoder.is_done());
    assert!(decoder.decode(b"", &mut Vec::new()).unwrap().done);
}

// ---------------------------------------------------------------- split at every byte

/// Bodies to feed in every way: (framing, limit, wire bytes, eof at end).
fn split_cases() -> Vec<(Framing, u64, Vec<u8>, bool)> {
    let mut cases = vec![
        (
            Framing::Length(11),
            100,
            b"hello worldEXTRA".to_vec(),
            false,
        ),
        (Framing::Length(11), 100, b"hello".to_vec(), true),
        (
            Framing::UntilClose,
            100,
            b"all of it until close".to_vec(),
            true,
        ),
        (
            CHUNKED,
            100,
            b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE \t;a=\"b\"\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT"
                .to_vec(),
            false,
        ),
        (
            CHUNKED,
            100,
            b"A\r\n0123456789\r\na\r\nabcdefghij\r\n0;end\r\nX-Sum: 1\r\nY: z\r\n\r\nHTTP/1.1"
                .to_vec(),
            false,
        ),
        (CHUNKED, 100, b"0\r\n\r\n".to_vec(), false),
        // Errors must be the same however the bytes are split.
        (CHUNKED, 100, b"5\r\nhello\r\nzz\r\n".to_vec(), false),
        (CHUNKED, 100, b"5\r\nhelloXX".to_vec(), false),
        (CHUNKED, 100, b"123456789abcdef01\r\n".to_vec(), false),
        (
            CHUNKED,
            10,
            b"5\r\nhello\r\n6\r\nworld!\r\n".to_vec(),
            false,
        ),
        (
            CHUNKED,
            100,
            b"3\r\nabc\r\n0\r\nbad trailer\r\n\r\n".to_vec(),
            false,
        ),
        (CHUNKED, 100, b"3\r\nabc\r\n0\r\nX: 1\n\r\n".to_vec(), false),
        (CHUNKED, 100, b"5\r\nhello\r\n".to_vec(), true),
    ];
    let mut long_ext = b"1;".to_vec();
    long_ext.extend(std::iter::repeat_n(b'e', 1100));
    cases.push((CHUNKED, 100, long_ext, false));
    cases
}

#[test]
fn split_at_every_byte_gives_the_same_result() {
    for (framing, limit, wire, eof) in split_cases() {
        let whole = feed(framing, limit, &[&wire], eof);
        // One byte at a time.
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(
            feed(framing, limit, &bytes, eof),
            whole,
            "byte by byte: {}",
            wire.escape_ascii()
        );
        // Every single split point, with an empty piece in between.
        for split in 0..=wire.len() {
            let (a, b) = wire.split_at(split);
            assert_eq!(
                feed(framing, limit, &[a, b"", b], eof),
                whole,
                "split at {split}: {}",
                wire.escape_ascii()
            );
        }
    }
}

#[test]
fn split_at_every_pair_of_points_gives_the_same_result() {
    for (framing, limit, wire, eof) in split_cases() {
        if wire.len() > 80 {
            continue;
        }
        let whole = feed(framing, limit, &[&wire], eof);
        for i in 0..=wire.len() {
            for j in i..=wire.len() {
                let pieces = [&wire[..i], &wire[i..j], &wire[j..]];
                assert_eq!(
                    feed(framing, limit, &pieces, eof),
                    whole,
                    "split at {i} and {j}: {}",
                    wire.escape_ascii()
                );
            }
        }
    }
}

#[test]
fn split_cases_have_the_expected_outcomes() {
    // Guard the property test against passing because everything fails.
    let outcomes: Vec<Outcome> = split_cases()
        .into_iter()
        .map(|(f, l, w, e)| feed(f, l, &[&w], e))
        .collect();
    assert_eq!(outcomes[0].body, b"hello world");
    assert_eq!(outcomes[0].consumed, 11);
    assert_eq!(
        outcomes[1].error.as_deref(),
        Some("body ended after 5 of 11 bytes")
    );
    assert_eq!(outcomes[2].body, b"all of it until close");
    assert_eq!(outcomes[3].body, b"Wikipedia in\r\n\r\nchunks.");
    assert_eq!(outcomes[4].body, b"0123456789abcdefghij");
    assert!(outcomes[5].done && outcomes[5].body.is_empty());
    for (i, outcome) in outcomes.iter().enumerate().take(6) {
        assert_eq!(outcome.error.is_none(), i != 1, "case {i}: {outcome:?}");
    }
    for (i, outcome) in outcomes.iter().enumerate().skip(6) {
        assert!(outcome.error.is_some(), "case {i}: {outcome:?}");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn errors_carry_the_url_once_attached() {
    let u = url("http://images.test/cat.jpg");
    let err = HttpError::from(ErrorKind::BodyTruncated {
        received: 3,
        expected: Some(10),
    })
    .with_url(&u);
    assert_eq!(
        err.to_string(),
        "http://images.test/cat.jpg: body ended after 3 of 10 bytes"
    );
    let as_dyn: Box<dyn std::error::Error> = Box::new(err);
    assert!(as_dyn.to_string().contains("cat.jpg"));
}
