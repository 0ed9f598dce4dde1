//! The HTTP client against servers that misbehave: too slow, too short,
//! too long, too big, malformed, or gone. Each case ends promptly in one
//! clear error naming the URL, and never leaves a spoiled connection in the
//! pool. Deadlines are short (a few hundred ms); nothing asserts how long
//! anything took, and every test runs under a watchdog.

mod common;
mod http_common;

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use evloop::http::{Client, ErrorKind, HttpError, Phase};
use http_common::{fetch, ok, run, serve, serve_once, serve_paths, serve_then_stall};

/// A client with a short total deadline.
fn impatient(timeout_ms: u64) -> Client {
    Client::builder()
        .timeout(Duration::from_millis(timeout_ms))
        .build()
        .unwrap()
}

/// Asserts that `err` is of the kind the pattern describes, showing the
/// error if not.
macro_rules! assert_kind {
    ($err:expr, $($pattern:tt)+) => {
        assert!(matches!($err.kind(), $($pattern)+), "{:?}", $err)
    };
}

/// Asserts that `err` names `url`, both in [`HttpError::url`] and at the
/// start of its message.
fn assert_names(err: &HttpError, url: &str) {
    assert_eq!(err.url(), Some(url), "{err}");
    assert!(err.to_string().starts_with(&format!("{url}: ")), "{err}");
}

#[test]
fn head_dribbled_byte_by_byte_hits_the_total_deadline() {
    // One byte every 50 ms: a timeout per read (say 400 ms) would never
    // fire, and the head would take seconds. The total deadline does.
    let server = serve(|conn| {
        conn.request();
        let head = b"HTTP/1.1 200 OK\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nContent-Length: 0\r\n\r\n";
        for byte in head {
            if !conn.send(&[*byte]) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    run(
        "head_dribbled_byte_by_byte_hits_the_total_deadline",
        async {
            let url = server.url("/slow-head");
            let err = fetch(&impatient(400), &url).await.unwrap_err();
            assert_kind!(err, ErrorKind::Timeout { phase: Phase::ReadHead, limit } if *limit == Duration::from_millis(400));
            assert_names(&err, &url);
            assert!(
                err.to_string()
                    .ends_with("request deadline of 400ms elapsed while reading the response head")
            );
        },
    );
}

#[test]
fn body_dribbled_byte_by_byte_hits_the_total_deadline() {
    let server = serve(|conn| {
        conn.request();
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        for _ in 0..1000 {
            if !conn.send(b"x") {
                return;
            }
            thread::sleep(Duration::from_millis(30));
        }
    });
    run(
        "body_dribbled_byte_by_byte_hits_the_total_deadline",
        async {
            let url = server.url("/slow-body");
            let mut response = impatient(300).get(&url).await.unwrap();
            let mut got = 0;
            let err = loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => got += chunk.len(),
                    Ok(None) => panic!("the body cannot complete in time"),
                    Err(err) => break err,
                }
            };
            assert!(got < 1000);
            assert_kind!(
                err,
                ErrorKind::Timeout {
                    phase: Phase::ReadBody,
                    ..
                }
            );
            assert_names(&err, &url);
            // The response is spent: more reads say so instead of hanging.
            let again = response.chunk().await.unwrap_err();
            assert!(matches!(again.kind(), ErrorKind::DecoderPoisoned));
        },
    );
}

#[test]
fn stalled_body_hits_the_deadline() {
    let server = serve_then_stall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    run("stalled_body_hits_the_deadline", async {
        let url = server.url("/stall");
        let client = impatient(300);
        let err = fetch(&client, &url).await.unwrap_err();
        assert_kind!(
            err,
            ErrorKind::Timeout {
                phase: Phase::ReadBody,
                ..
            }
        );
        assert_names(&err, &url);
        assert_eq!(client.idle_connections(), 0);
    });
}

#[test]
fn stalled_head_hits_the_deadline() {
    // The request is read, and nothing at all is answered.
    let server = serve_then_stall(b"");
    run("stalled_head_hits_the_deadline", async {
        let url = server.url("/silent");
        let err = fetch(&impatient(200), &url).await.unwrap_err();
        assert_kind!(
            err,
            ErrorKind::Timeout {
                phase: Phase::ReadHead,
                ..
            }
        );
        assert_names(&err, &url);
    });
}

#[test]
fn short_body_is_truncated() {
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec();
    reply.extend_from_slice(&[b'h'; 50]);
    let server = serve_once(reply);
    run("short_body_is_truncated", async {
        let url = server.url("/short");
        let client = Client::new();
        let err = fetch(&client, &url).await.unwrap_err();
        assert_kind!(
            err,
            ErrorKind::BodyTruncated {
                received: 50,
                expected: Some(100)
            }
        );
        assert_eq!(
            err.to_string(),
            format!("{url}: body ended after 50 of 100 bytes")
        );
        assert_eq!(client.idle_connections(), 0);
    });
}

#[test]
fn body_longer_than_its_length_spoils_the_connection() {
    // The first response carries a forged second one after its stated
    // length. Reusing the connection would hand "forged" to the next GET.
    let server = serve(|conn| {
        if conn.index == 0 {
            conn.request();
            conn.send(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
                        HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
            );
            conn.wait_for_close();
            return;
        }
        while conn.request().is_some() {
            conn.send(&ok(b"real"));
        }
    });
    run("body_longer_than_its_length_spoils_the_connection", async {
        let client = Client::new();
        assert_eq!(fetch(&client, &server.url("/1")).await.unwrap(), b"hello");
        assert_eq!(client.idle_connections(), 0);
        assert_eq!(fetch(&client, &server.url("/2")).await.unwrap(), b"real");
        assert_eq!(client.connections_opened(), 2);
    });
}

#[test]
fn bytes_arriving_after_a_complete_body_spoil_the_idle_connection() {
    // Here the surplus comes in a later write, after the client has pooled
    // the connection: the check before reuse finds it.
    let (written_tx, written_rx) = mpsc::channel::<()>();
    let written_tx = std::sync::Mutex::new(written_tx);
    let server = serve(move |conn| {
        if conn.index == 0 {
            conn.request();
            conn.send(&ok(b"hello"));
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged");
            written_tx.lock().unwrap().send(()).unwrap();
            conn.wait_for_close();
            return;
        }
        while conn.request().is_some() {
            conn.send(&ok(b"real"));
        }
    });
    run(
        "bytes_arriving_after_a_complete_body_spoil_the_idle_connection",
        async {
            let client = Client::new();
            let mut response = client.get(&server.url("/1")).await.unwrap();
            assert_eq!(
                response.chunk().await.unwrap().as_deref(),
                Some(&b"hello"[..])
            );
            // Wait (off the loop) until the server has written the surplus.
            evloop::spawn_blocking(move || written_rx.recv().unwrap())
                .await
                .unwrap();
            // Give loopback a moment to deliver it; the outcome does not
            // depend on how long this takes, only that the bytes are there.
            evloop::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(response.chunk().await.unwrap(), None);
            assert_eq!(fetch(&client, &server.url("/2")).await.unwrap(), b"real");
            assert_eq!(client.connections_opened(), 2);
        },
    );
}

#[test]
fn chunked_with_a_bad_size_fails() {
    let server = serve_paths(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n".to_vec()
    });
    run("chunked_with_a_bad_size_fails", async {
        let url = server.url("/bad-chunk");
        let client = Client::new();
        let err = fetch(&client, &url).await.unwrap_err();
        assert_kind!(err, ErrorKind::BadChunkSize { found: b'z', .. });
        assert_names(&err, &url);
        assert_eq!(client.idle_connections(), 0);
    });
}

#[test]
fn chunk_size_with_too_many_digits_fails() {
    let server = serve_paths(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n"
            .to_vec()
    });
    run("chunk_size_with_too_many_digits_fails", async {
        let err = fetch(&Client::new(), &server.url("/")).await.unwrap_err();
        assert_kind!(err, ErrorKind::ChunkSizeOverflow { .. });
    });
}

#[test]
fn huge_chunk_size_fails_at_once_without_waiting_for_data() {
    // The server announces a 1 TB chunk and then sends nothing. The error
    // must come from the size itself, long before the 10 s deadline.
    let server =
        serve_then_stall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n");
    run(
        "huge_chunk_size_fails_at_once_without_waiting_for_data",
        async {
            let client = Client::builder()
                .max_body(1 << 20)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let url = server.url("/huge");
            let err = fetch(&client, &url).await.unwrap_err();
            assert_kind!(err, ErrorKind::BodyTooLarge { limit: 1_048_576, at_least } if *at_least > 1 << 20);
            assert_names(&err, &url);
        },
    );
}

#[test]
fn declared_length_over_the_limit_fails_before_the_body() {
    let server = serve_then_stall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
    run(
        "declared_length_over_the_limit_fails_before_the_body",
        async {
            let client = Client::builder()
                .max_body(1000)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let url = server.url("/big");
            let err = client.get(&url).await.unwrap_err();
            assert_kind!(
                err,
                ErrorKind::BodyTooLarge {
                    limit: 1000,
                    at_least: 1_000_000_000
                }
            );
            assert_names(&err, &url);
        },
    );
}

#[test]
fn body_until_close_over_the_limit_fails() {
    let server = serve(|conn| {
        conn.request();
        conn.send(b"HTTP/1.1 200 OK\r\n\r\n");
        conn.send(&[b'a'; 5000]);
    });
    run("body_until_close_over_the_limit_fails", async {
        let client = Client::builder().max_body(1000).build().unwrap();
        let err = fetch(&client, &server.url("/")).await.unwrap_err();
        assert_kind!(err, ErrorKind::BodyTooLarge { limit: 1000, .. });
    });
}

#[test]
fn bad_content_lengths_are_refused() {
    let server = serve_paths(|path| match path {
        "/signed" => b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello".to_vec(),
        _ => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
    });
    run("bad_content_lengths_are_refused", async {
        let client = Client::new();
        let url = server.url("/signed");
        let err = client.get(&url).await.unwrap_err();
        assert_kind!(err, ErrorKind::BadContentLength { .. });
        assert_names(&err, &url);
        let url = server.url("/twice");
        let err = client.get(&url).await.unwrap_err();
        assert_kind!(
            err,
            ErrorKind::ConflictingContentLength {
                first: 5,
                second: 6
            }
        );
        assert_names(&err, &url);
        assert_eq!(client.idle_connections(), 0);
    });
}

#[test]
fn unsupported_transfer_encoding_is_refused() {
    let server = serve_paths(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n".to_vec()
    });
    run("unsupported_transfer_encoding_is_refused", async {
        let err = Client::new().get(&server.url("/")).await.unwrap_err();
        assert_kind!(err, ErrorKind::UnsupportedTransferEncoding { .. });
    });
}

#[test]
fn a_megabyte_of_headers_stops_at_the_head_limit() {
    // A head that never ends: the client must give up at 64 KiB, not read
    // on (and not wait for the 10 s deadline).
    let server = serve(|conn| {
        conn.request();
        if !conn.send(b"HTTP/1.1 200 OK\r\n") {
            return;
        }
        // Long lines, so that the size limit trips before the limit of
        // 100 header fields would.
        let line = format!("X-Filler: {}\r\n", "f".repeat(4000));
        for _ in 0..(1 << 20) / line.len() {
            if !conn.send(line.as_bytes()) {
                return;
            }
        }
        conn.wait_for_close();
    });
    run("a_megabyte_of_headers_stops_at_the_head_limit", async {
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let url = server.url("/headers");
        let err = client.get(&url).await.unwrap_err();
        assert_kind!(err, ErrorKind::HeadTooLarge { limit: 65536 });
        assert_names(&err, &url);
    });
}

#[test]
fn too_many_header_fields_are_refused() {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..200 {
        head.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let server = serve_then_stall(head);
    run("too_many_header_fields_are_refused", async {
        let err = Client::new().get(&server.url("/")).await.unwrap_err();
        assert_kind!(err, ErrorKind::TooManyHeaders { limit: 100 });
    });
}

#[test]
fn garbage_status_line_is_refused() {
    // No line end, no close: the client must judge the start alone.
    let server = serve_then_stall(b"<html>this is not HTTP");
    run("garbage_status_line_is_refused", async {
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let url = server.url("/garbage");
        let err = client.get(&url).await.unwrap_err();
        assert_kind!(err, ErrorKind::BadStatusLine { .. });
        assert_names(&err, &url);
        assert!(err.to_string().contains("<html>"), "{err}");
    });
}

#[test]
fn reset_before_the_response_is_an_io_error() {
    // Closing a socket with unread bytes makes the kernel send RST.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut probe = [0u8; 1];
        let _ = stream.peek(&mut probe); // the request has arrived, unread
        drop(stream);
    });
    run("reset_before_the_response_is_an_io_error", async {
        let url = format!("http://{addr}/reset");
        let err = fetch(&Client::new(), &url).await.unwrap_err();
        match err.kind() {
            ErrorKind::Io {
                phase: Phase::ReadHead,
                error,
            } => {
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset)
            }
            other => panic!("expected a reset, got {other:?}"),
        }
        assert_names(&err, &url);
    });
}

#[test]
fn close_before_the_response_on_a_fresh_connection_is_not_retried() {
    let server = serve(|conn| {
        conn.request();
    });
    run(
        "close_before_the_response_on_a_fresh_connection_is_not_retried",
        async {
            let url = server.url("/gone");
            let client = Client::new();
            let err = fetch(&client, &url).await.unwrap_err();
            assert_kind!(err, ErrorKind::HeadTruncated { received: 0 });
            assert_eq!(
                err.to_string(),
                format!("{url}: server closed the connection before sending a response")
            );
            assert_eq!(client.connections_opened(), 1);
        },
    );
}

#[test]
fn close_in_the_middle_of_the_head_is_truncation() {
    let server = serve_once(b"HTTP/1.1 200 OK\r\nContent-Le");
    run("close_in_the_middle_of_the_head_is_truncation", async {
        let err = fetch(&Client::new(), &server.url("/")).await.unwrap_err();
        assert_kind!(err, ErrorKind::HeadTruncated { received: 27 });
    });
}

#[test]
fn stalled_tls_handshake_hits_the_connect_timeout() {
    // A server that accepts TCP and never answers the ClientHello.
    let server = serve(|conn| conn.wait_for_close());
    run("stalled_tls_handshake_hits_the_connect_timeout", async {
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let url = server.https_url("/");
        let err = client.get(&url).await.unwrap_err();
        assert_kind!(err, ErrorKind::ConnectTimeout { limit } if *limit == Duration::from_millis(200));
        assert_names(&err, &url);
    });
}

#[test]
fn plain_http_server_behind_an_https_url_is_a_tls_error() {
    // The server answers in plain HTTP at once, whatever the client says.
    let server = serve(|conn| {
        conn.send(&ok(b"plain"));
        conn.wait_for_close();
    });
    run(
        "plain_http_server_behind_an_https_url_is_a_tls_error",
        async {
            let url = server.https_url("/");
            let err = impatient(5000).get(&url).await.unwrap_err();
            assert_kind!(err, ErrorKind::Tls { .. });
            assert_names(&err, &url);
        },
    );
}
