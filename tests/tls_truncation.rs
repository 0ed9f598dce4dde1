//! A TLS body cut short is never taken for a whole one.
//!
//! Over TLS, the end of the data is authenticated only by the peer's
//! `close_notify` alert; a bare TCP FIN can be forged by anyone on the path.
//! So a body delimited by the connection's close (no `Content-Length`, not
//! chunked) that ends without `close_notify` is an error naming truncation,
//! while one that ends with it is whole. Bodies with their own framing keep
//! their own checks: a complete `Content-Length` body followed by a bare
//! FIN is fine, an incomplete one is the usual "body ended after N of M
//! bytes", and a keep-alive connection that the server drops without
//! `close_notify` while it sits idle in the pool costs nothing but a new
//! connection.
//!
//! The server is a std thread with rustls over a blocking socket, so it can
//! choose exactly how each connection ends. Every test runs under a
//! watchdog.

mod common;
mod http_common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

use evloop::http::{Client, ErrorKind};
use http_common::{fetch, run, self_signed};

/// A server-side TLS connection over a blocking socket.
type Tls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// How a scripted connection ends after its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// `close_notify`, then the TCP close: the proper end of a TLS stream.
    CloseNotify,
    /// The TCP close alone, as an attacker who cuts the connection would
    /// make it look.
    BareFin,
}

/// Serves `replies[i]` to the `i`-th request of every connection, then ends
/// the connection as `end` says. Returns where it listens.
fn serve(
    tls: Arc<rustls::ServerConfig>,
    replies: Vec<Vec<u8>>,
    end: End,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let replies = Arc::new(replies);
    thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(socket) = socket else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (tls, replies) = (tls.clone(), replies.clone());
            thread::spawn(move || {
                let conn = rustls::ServerConnection::new(tls).expect("a server connection");
                let mut stream = Tls::new(conn, socket);
                for reply in replies.iter() {
                    if !read_request(&mut stream) {
                        return;
                    }
                    if stream
                        .write_all(reply)
                        .and_then(|()| stream.flush())
                        .is_err()
                    {
                        return;
                    }
                }
                if end == End::CloseNotify {
                    stream.conn.send_close_notify();
                    // Best effort: a client that has gone cannot be told.
                    let _ = stream.flush();
                }
                // Half-close, so every record written reaches the client
                // before the socket goes.
                let _ = stream.sock.shutdown(Shutdown::Write);
                // Wait for the client to close its side, so that no reset
                // overtakes what was sent.
                let mut sink = [0u8; 1024];
                while matches!(stream.sock.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    (addr, accepted)
}

/// Reads one request head (byte by byte); `false` if the client left.
fn read_request(stream: &mut Tls) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// A client that trusts `cert` (and nothing else).
fn client(cert: &[u8]) -> Client {
    Client::builder()
        .tls_built_in_roots(false)
        .add_root_certificate(cert)
        .build()
        .expect("the self-signed certificate is a valid root")
}

/// A `200` whose body is delimited by the connection's close.
fn until_close(body: &[u8]) -> Vec<u8> {
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    reply.extend_from_slice(body);
    reply
}

#[test]
fn a_close_delimited_body_cut_without_close_notify_is_an_error_naming_truncation() {
    let (cert, tls) = self_signed();
    let (addr, _) = serve(tls, vec![until_close(b"the first half of")], End::BareFin);
    let url = format!("https://{addr}/cut");
    let err = run("close-delimited, bare FIN", async {
        fetch(&client(&cert), &url).await.unwrap_err()
    });
    let text = err.to_string();
    assert!(text.starts_with(&format!("{url}: ")), "{text}");
    assert!(text.contains("truncated"), "{text}");
    assert!(text.contains("close_notify"), "{text}");
    assert!(text.contains("17 bytes"), "{text}");
    assert!(
        matches!(err.kind(), ErrorKind::TlsTruncated { received: 17 }),
        "{err:?}"
    );
}

#[test]
fn a_close_delimited_body_ended_by_close_notify_is_whole() {
    let (cert, tls) = self_signed();
    let (addr, _) = serve(tls, vec![until_close(b"the whole of it")], End::CloseNotify);
    let body = run("close-delimited, close_notify", async {
        fetch(&client(&cert), &format!("https://{addr}/whole")).await
    })
    .expect("a body ended by close_notify is whole");
    assert_eq!(body, b"the whole of it");
}

#[test]
fn a_complete_content_length_body_then_a_bare_fin_is_fine() {
    let (cert, tls) = self_signed();
    let reply = http_common::ok(b"exactly this");
    let (addr, _) = serve(tls, vec![reply], End::BareFin);
    let body = run("content-length, bare FIN", async {
        fetch(&client(&cert), &format!("https://{addr}/framed")).await
    })
    .expect("a complete Content-Length body is whole, however the connection ends");
    assert_eq!(body, b"exactly this");
}

#[test]
fn a_short_content_length_body_keeps_its_own_error() {
    let (cert, tls) = self_signed();
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
    let (addr, _) = serve(tls, vec![reply], End::BareFin);
    let err = run("short content-length, bare FIN", async {
        fetch(&client(&cert), &format!("https://{addr}/short"))
            .await
            .unwrap_err()
    });
    assert!(
        matches!(
            err.kind(),
            ErrorKind::BodyTruncated {
                received: 3,
                expected: Some(10)
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_unfinished_chunked_body_keeps_its_own_error() {
    let (cert, tls) = self_signed();
    let reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec();
    let (addr, _) = serve(tls, vec![reply], End::BareFin);
    let err = run("unfinished chunked, bare FIN", async {
        fetch(&client(&cert), &format!("https://{addr}/chunked"))
            .await
            .unwrap_err()
    });
    assert!(
        matches!(
            err.kind(),
            ErrorKind::BodyTruncated {
                received: 5,
                expected: None
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_idle_keep_alive_connection_dropped_without_close_notify_is_replaced() {
    let (cert, tls) = self_signed();
    // One response per connection, kept alive by its head, then a bare FIN
    // while the connection sits in the client's pool.
    let (addr, accepted) = serve(tls, vec![http_common::ok(b"fresh")], End::BareFin);
    let client = client(&cert);
    let bodies = run("idle keep-alive, bare FIN", async {
        let mut bodies = Vec::new();
        for i in 0..3 {
            let url = format!("https://{addr}/{i}");
            bodies.push(fetch(&client, &url).await.expect("each request succeeds"));
        }
        bodies
    });
    assert_eq!(bodies, vec![b"fresh".to_vec(); 3]);
    // Each request after the first found its pooled connection dead and
    // opened a new one.
    assert_eq!(client.connections_opened(), 3);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
}
