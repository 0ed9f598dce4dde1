//! The HTTP client against well-behaved servers: bodies, keep-alive and
//! the pool, redirects, TLS, streaming. Servers are scripted std threads on
//! 127.0.0.1 (see `http_common`); every test runs under a watchdog.

mod common;
mod http_common;

use std::cell::RefCell;
use std::error::Error;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use evloop::http::{Client, ErrorKind, HttpError, READ_SIZE};
use http_common::{
    fetch, ok, redirect, run, self_signed, serve, serve_once, serve_paths, serve_tls,
};

#[test]
fn content_length_body_whole() {
    let server = serve_paths(|path| ok(format!("you asked for {path}").as_bytes()));
    run("content_length_body_whole", async {
        let client = Client::new();
        let response = client.get(&server.url("/a/b?c=d")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.reason(), "OK");
        assert_eq!(response.content_length(), Some(22));
        assert_eq!(response.url().to_string(), server.url("/a/b?c=d"));
        assert_eq!(response.bytes().await.unwrap(), b"you asked for /a/b?c=d");
        // Read to its end: the connection went back to the pool.
        assert_eq!(client.idle_connections(), 1);
    });
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let server = serve_paths(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n\
          1 ; quoted=\"x;y\"\r\n \r\n\
          5\r\nworld\r\n\
          0\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n"
            .to_vec()
    });
    run("chunked_body_with_extensions_and_trailers", async {
        let client = Client::new();
        for _ in 0..2 {
            let response = client.get(&server.url("/")).await.unwrap();
            assert_eq!(response.content_length(), None);
            assert_eq!(response.bytes().await.unwrap(), b"hello world");
        }
        // Chunked framing ends exactly: the connection was reused.
        assert_eq!(client.connections_opened(), 1);
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn body_until_close_is_read_whole_and_not_pooled() {
    let server = serve(|conn| {
        conn.request();
        conn.send(b"HTTP/1.1 200 OK\r\n\r\nno length, ");
        conn.send(b"read until close");
        // Returning drops the stream: the close ends the body.
    });
    run("body_until_close_is_read_whole_and_not_pooled", async {
        let client = Client::new();
        let response = client.get(&server.url("/")).await.unwrap();
        assert_eq!(response.content_length(), None);
        assert_eq!(
            response.bytes().await.unwrap(),
            b"no length, read until close"
        );
        assert_eq!(client.idle_connections(), 0);
    });
}

#[test]
fn empty_bodies_free_the_connection_at_once() {
    let server = serve_paths(|path| match path {
        "/204" => b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
        _ => ok(b""),
    });
    run("empty_bodies_free_the_connection_at_once", async {
        let client = Client::new();
        let response = client.get(&server.url("/204")).await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(response.content_length(), Some(0));
        // Nobody reads the (absent) body, yet the connection is reusable.
        drop(response);
        assert_eq!(client.idle_connections(), 1);
        let response = client.get(&server.url("/empty")).await.unwrap();
        assert_eq!(response.bytes().await.unwrap(), b"");
        assert_eq!(client.connections_opened(), 1);
    });
}

#[test]
fn twelve_sequential_gets_share_one_connection() {
    let server = serve_paths(|path| ok(path.as_bytes()));
    run("twelve_sequential_gets_share_one_connection", async {
        let client = Client::new();
        for i in 0..12 {
            let url = server.url(&format!("/img/{i}.jpg"));
            let body = fetch(&client, &url).await.unwrap();
            assert_eq!(body, format!("/img/{i}.jpg").as_bytes());
            assert_eq!(client.connections_opened(), 1, "after request {i}");
        }
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn twelve_concurrent_gets_four_at_a_time_use_at_most_four_connections() {
    // Each response takes a little while, so that the workers overlap.
    let server = serve_paths(|path| {
        std::thread::sleep(Duration::from_millis(5));
        ok(path.as_bytes())
    });
    let urls: Vec<String> = (0..12).map(|i| server.url(&format!("/{i}"))).collect();
    run(
        "twelve_concurrent_gets_four_at_a_time_use_at_most_four_connections",
        async {
            let client = Client::new();
            let queue = Rc::new(RefCell::new(urls.clone()));
            let done = Rc::new(RefCell::new(Vec::new()));
            let in_flight = Rc::new(RefCell::new((0usize, 0usize))); // (now, most)
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (client, queue, done, in_flight) = (
                        client.clone(),
                        queue.clone(),
                        done.clone(),
                        in_flight.clone(),
                    );
                    evloop::spawn(async move {
                        loop {
                            let Some(url) = queue.borrow_mut().pop() else {
                                break;
                            };
                            {
                                let mut f = in_flight.borrow_mut();
                                f.0 += 1;
                                f.1 = f.1.max(f.0);
                            }
                            let body = fetch(&client, &url).await.unwrap();
                            in_flight.borrow_mut().0 -= 1;
                            done.borrow_mut().push((url, body));
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await.unwrap();
            }
            let mut done = done.borrow().clone();
            done.sort();
            assert_eq!(done.len(), 12);
            for (url, body) in &done {
                assert!(url.ends_with(std::str::from_utf8(body).unwrap()));
            }
            assert!(in_flight.borrow().1 <= 4);
            assert!(
                client.connections_opened() <= 4,
                "{} connections",
                client.connections_opened()
            );
            assert_eq!(server.accepted() as u64, client.connections_opened());
        },
    );
}

#[test]
fn connection_close_is_honoured() {
    let server =
        serve_once(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none");
    run("connection_close_is_honoured", async {
        let client = Client::new();
        for _ in 0..2 {
            let body = fetch(&client, &server.url("/")).await.unwrap();
            assert_eq!(body, b"one");
            assert_eq!(client.idle_connections(), 0);
        }
        assert_eq!(client.connections_opened(), 2);
    });
}

#[test]
fn unread_body_is_not_returned_to_the_pool() {
    let server = serve_paths(|_| ok(&[b'x'; 100_000]));
    run("unread_body_is_not_returned_to_the_pool", async {
        let client = Client::new();
        let mut response = client.get(&server.url("/")).await.unwrap();
        let first = response.chunk().await.unwrap().unwrap();
        assert!(!first.is_empty());
        drop(response);
        assert_eq!(client.idle_connections(), 0);
        let body = fetch(&client, &server.url("/")).await.unwrap();
        assert_eq!(body.len(), 100_000);
        assert_eq!(client.connections_opened(), 2);
    });
}

#[test]
fn stale_pooled_connection_is_replaced() {
    // The server answers one request per connection, keep-alive header and
    // all, then closes: the pooled connection is dead when reused.
    let server = serve_once(ok(b"once"));
    run("stale_pooled_connection_is_replaced", async {
        let client = Client::new();
        for round in 0..3 {
            let body = fetch(&client, &server.url("/")).await.unwrap();
            assert_eq!(body, b"once", "round {round}");
            // Give the server's FIN time to arrive (no assertion on time).
            evloop::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(client.connections_opened(), 3);
    });
}

#[test]
fn pooled_connection_dying_before_the_response_is_retried_once() {
    // Connection 0 answers its first request, then closes on the second
    // without a byte: the client must resend on a fresh connection.
    let server = serve(|conn| {
        if conn.index == 0 {
            conn.request();
            conn.send(&ok(b"first"));
            conn.request();
            return;
        }
        while conn.request().is_some() {
            conn.send(&ok(b"fresh"));
        }
    });
    run(
        "pooled_connection_dying_before_the_response_is_retried_once",
        async {
            let client = Client::new();
            let body = fetch(&client, &server.url("/")).await.unwrap();
            assert_eq!(body, b"first");
            let body = fetch(&client, &server.url("/")).await.unwrap();
            assert_eq!(body, b"fresh");
            assert_eq!(client.connections_opened(), 2);
        },
    );
}

#[test]
fn error_for_status_names_url_and_status() {
    let server = serve_paths(|_| {
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops".to_vec()
    });
    run("error_for_status_names_url_and_status", async {
        let client = Client::new();
        let url = server.url("/broken");
        let response = client.get(&url).await.unwrap();
        assert_eq!(response.status(), 500); // not an error at this level
        let err = response.error_for_status().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Status { status: 500, .. }));
        assert_eq!(err.url(), Some(url.as_str()));
        assert_eq!(
            err.to_string(),
            format!("{url}: server answered with status 500 Internal Server Error")
        );
        let ok_server = serve_paths(|_| ok(b"fine"));
        let response = Client::new().get(&ok_server.url("/")).await.unwrap();
        assert_eq!(
            response.error_for_status().unwrap().bytes().await.unwrap(),
            b"fine"
        );
    });
}

#[test]
fn relative_and_absolute_redirects_are_followed() {
    let other = serve_paths(|path| ok(format!("other {path}").as_bytes()));
    let other_url = other.url("/final?z=1");
    let server = serve_paths(move |path| match path {
        "/a/b/start" => redirect(302, "next"),
        "/a/b/next" => redirect(301, "../up"),
        "/a/up" => redirect(307, "/root?q=1"),
        "/root?q=1" => redirect(308, "?q=2"),
        "/root?q=2" => redirect(303, &other_url),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
    });
    run("relative_and_absolute_redirects_are_followed", async {
        let client = Client::new();
        let response = client.get(&server.url("/a/b/start")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.url().to_string(), other.url("/final?z=1"));
        assert_eq!(response.bytes().await.unwrap(), b"other /final?z=1");
        // The five redirects came over one kept-alive connection.
        assert_eq!(server.accepted(), 1);
        assert_eq!(client.connections_opened(), 2);
    });
}

#[test]
fn redirects_are_not_followed_when_switched_off() {
    let server = serve_paths(|_| redirect(302, "/elsewhere"));
    run("redirects_are_not_followed_when_switched_off", async {
        let client = Client::builder().follow_redirects(false).build().unwrap();
        let response = client.get(&server.url("/")).await.unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(response.header("location"), Some(&b"/elsewhere"[..]));
    });
}

#[test]
fn redirect_loop_is_an_error_naming_the_urls() {
    let server = serve_paths(|path| match path {
        "/a" => redirect(302, "/b"),
        _ => redirect(302, "/a"),
    });
    run("redirect_loop_is_an_error_naming_the_urls", async {
        let err = Client::new().get(&server.url("/a")).await.unwrap_err();
        let (a, b) = (server.url("/a"), server.url("/b"));
        match err.kind() {
            ErrorKind::RedirectLoop { chain } => {
                assert_eq!(chain, &[a.clone(), b.clone(), a.clone()])
            }
            other => panic!("expected a redirect loop, got {other:?}"),
        }
        assert_eq!(err.url(), Some(b.as_str()));
        assert_eq!(
            err.to_string(),
            format!("{b}: redirect loop: {a} -> {b} -> {a}")
        );
    });
}

#[test]
fn too_many_redirects_is_an_error() {
    let server = serve_paths(|path| {
        let n: u32 = path.trim_start_matches('/').parse().unwrap_or(0);
        redirect(302, &format!("/{}", n + 1))
    });
    run("too_many_redirects_is_an_error", async {
        let client = Client::builder().max_redirects(3).build().unwrap();
        let err = client.get(&server.url("/0")).await.unwrap_err();
        match err.kind() {
            ErrorKind::TooManyRedirects { limit: 3, chain } => {
                assert_eq!(chain.len(), 5);
                assert_eq!(chain[4], server.url("/4"));
            }
            other => panic!("expected too many redirects, got {other:?}"),
        }
        assert_eq!(err.url(), Some(server.url("/3").as_str()));
        // Three redirects are fine.
        let server = serve_paths(|path| match path {
            "/3" => ok(b"arrived"),
            _ => {
                let n: u32 = path.trim_start_matches('/').parse().unwrap_or(0);
                redirect(302, &format!("/{}", n + 1))
            }
        });
        let body = fetch(&client, &server.url("/0")).await.unwrap();
        assert_eq!(body, b"arrived");
    });
}

#[test]
fn https_serves_with_a_self_signed_root_and_keeps_alive() {
    let (cert, tls) = self_signed();
    let server = serve_tls(tls, |conn| {
        while let Some(path) = conn.path() {
            if !conn.send(&ok(format!("secret {path}").as_bytes())) {
                return;
            }
        }
    });
    run(
        "https_serves_with_a_self_signed_root_and_keeps_alive",
        async {
            let client = Client::builder()
                .add_root_certificate(&cert)
                .build()
                .unwrap();
            for i in 0..3 {
                let url = server.https_url(&format!("/{i}"));
                let response = client.get(&url).await.unwrap();
                assert_eq!(response.url().to_string(), url);
                assert_eq!(
                    response.bytes().await.unwrap(),
                    format!("secret /{i}").as_bytes()
                );
            }
            assert_eq!(client.connections_opened(), 1);
        },
    );
}

#[test]
fn https_root_can_be_given_as_pem() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let server = serve_tls(Arc::new(config), |conn| {
        conn.request();
        conn.send(&ok(b"pem ok"));
    });
    run("https_root_can_be_given_as_pem", async {
        let client = Client::builder()
            .tls_built_in_roots(false)
            .add_root_certificate_pem(pem.as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let body = fetch(&client, &server.https_url("/")).await.unwrap();
        assert_eq!(body, b"pem ok");
    });
}

#[test]
fn https_without_the_root_is_a_certificate_error_naming_the_url() {
    let (_cert, tls) = self_signed();
    let server = serve_tls(tls, |conn| {
        conn.request();
    });
    run(
        "https_without_the_root_is_a_certificate_error_naming_the_url",
        async {
            let url = server.https_url("/private");
            let err: HttpError = Client::new().get(&url).await.unwrap_err();
            match err.kind() {
                ErrorKind::Tls { error } => assert!(
                    matches!(error, rustls::Error::InvalidCertificate(_)),
                    "{error:?}"
                ),
                other => panic!("expected a TLS error, got {other:?}"),
            }
            assert_eq!(err.url(), Some(url.as_str()));
            assert!(
                err.to_string().starts_with(&format!("{url}: TLS error: ")),
                "{err}"
            );
        },
    );
}

#[test]
fn https_to_http_redirect_is_refused() {
    let plain = serve_paths(|_| ok(b"in the clear"));
    let target = plain.url("/leak");
    let (cert, tls) = self_signed();
    let server = serve_tls(tls, move |conn| {
        while conn.request().is_some() {
            if !conn.send(&redirect(302, &target)) {
                return;
            }
        }
    });
    run("https_to_http_redirect_is_refused", async {
        let client = Client::builder()
            .add_root_certificate(&cert)
            .build()
            .unwrap();
        let from = server.https_url("/secure");
        let err = client.get(&from).await.unwrap_err();
        match err.kind() {
            ErrorKind::InsecureRedirect { to } => assert_eq!(to, &plain.url("/leak")),
            other => panic!("expected an insecure redirect, got {other:?}"),
        }
        assert_eq!(err.url(), Some(from.as_str()));
        assert!(err.to_string().contains(&plain.url("/leak")));
        assert_eq!(plain.accepted(), 0);
    });
}

#[test]
fn five_megabytes_stream_in_bounded_chunks() {
    const SIZE: usize = 5 * 1024 * 1024;
    let body: Arc<Vec<u8>> = Arc::new((0..SIZE).map(|i| (i % 251) as u8).collect());
    let served = body.clone();
    let server = serve(move |conn| {
        conn.request();
        conn.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n").as_bytes());
        for piece in served.chunks(100_000) {
            if !conn.send(piece) {
                return;
            }
        }
    });
    run("five_megabytes_stream_in_bounded_chunks", async {
        let client = Client::new();
        let mut response = client.get(&server.url("/big")).await.unwrap();
        assert_eq!(response.content_length(), Some(SIZE as u64));
        let mut received = Vec::new();
        let mut chunks = 0;
        while let Some(chunk) = response.chunk().await.unwrap() {
            assert!(
                !chunk.is_empty() && chunk.len() <= READ_SIZE,
                "{}",
                chunk.len()
            );
            received.extend_from_slice(&chunk);
            chunks += 1;
        }
        assert!(chunks >= SIZE / READ_SIZE);
        assert!(received == *body, "the body differs");
        assert_eq!(response.chunk().await.unwrap(), None);
        assert_eq!(client.idle_connections(), 1);
    });
}

#[test]
fn chunked_stream_chunks_are_bounded_too() {
    let server = serve(|conn| {
        conn.request();
        conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        // One chunk of 1 MB: the client still hands it out in small pieces.
        conn.send(format!("{:x}\r\n", 1 << 20).as_bytes());
        conn.send(&vec![b'z'; 1 << 20]);
        conn.send(b"\r\n0\r\n\r\n");
    });
    run("chunked_stream_chunks_are_bounded_too", async {
        let mut response = Client::new().get(&server.url("/")).await.unwrap();
        let mut total = 0;
        while let Some(chunk) = response.chunk().await.unwrap() {
            assert!(chunk.len() <= READ_SIZE);
            assert!(chunk.iter().all(|b| *b == b'z'));
            total += chunk.len();
        }
        assert_eq!(total, 1 << 20);
    });
}

#[test]
fn connection_refused_names_the_url() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run("connection_refused_names_the_url", async {
        let url = format!("http://{free}/x");
        let err = Client::new().get(&url).await.unwrap_err();
        match err.kind() {
            ErrorKind::Connect { error } => {
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused)
            }
            other => panic!("expected a connect error, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with(&format!("{url}: cannot connect: ")),
            "{err}"
        );
    });
}

/// `source()` of a refused connection is the `io::Error` itself, with its
/// kind intact, so `?` into `Box<dyn Error>` and error reporters can reach
/// it.
#[test]
fn connection_refused_has_the_io_error_as_its_source() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run("connection_refused_has_the_io_error_as_its_source", async {
        let err = Client::new()
            .get(&format!("http://{free}/x"))
            .await
            .unwrap_err();
        let source = err.source().expect("a connect error has a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the source is an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        // The same error as the kind carries, not a copy of its text.
        match err.kind() {
            ErrorKind::Connect { error } => assert!(std::ptr::eq(error, io)),
            other => panic!("expected a connect error, got {other:?}"),
        }
        // Through a boxed error, as `?` in an application would have it.
        let boxed: Box<dyn Error + Send + Sync> = Box::new(err);
        assert!(boxed.source().is_some_and(|s| s.is::<std::io::Error>()));
    });
}

/// `source()` of a failed TLS handshake is the rustls error: here the
/// server's self-signed certificate, which the client does not trust.
#[test]
fn tls_failure_has_the_rustls_error_as_its_source() {
    let (_cert, tls) = self_signed();
    let server = serve_tls(tls, |conn| {
        conn.request();
    });
    run("tls_failure_has_the_rustls_error_as_its_source", async {
        let err = Client::new().get(&server.https_url("/")).await.unwrap_err();
        let source = err.source().expect("a TLS error has a source");
        let tls = source
            .downcast_ref::<rustls::Error>()
            .expect("the source is a rustls::Error");
        assert_eq!(
            *tls,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
        assert!(
            err.to_string().ends_with(&format!("TLS error: {tls}")),
            "{err}"
        );
    });
}

/// Errors that evloop finds itself (a malformed response) have no source.
#[test]
fn a_protocol_error_has_no_source() {
    let server = serve_paths(|_| b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n".to_vec());
    run("a_protocol_error_has_no_source", async {
        let err = Client::new().get(&server.url("/")).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::BadContentLength { .. }),
            "{err}"
        );
        assert!(err.source().is_none());
    });
}

#[test]
fn clones_share_the_pool() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = serve_paths(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        ok(b"shared")
    });
    run("clones_share_the_pool", async {
        let client = Client::new();
        let clone = client.clone();
        fetch(&client, &server.url("/")).await.unwrap();
        fetch(&clone, &server.url("/")).await.unwrap();
        assert_eq!(client.connections_opened(), 1);
        assert_eq!(clone.connections_opened(), 1);
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    });
}
