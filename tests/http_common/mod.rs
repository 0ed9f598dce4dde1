//! Shared by the HTTP client tests: [`run`] under a watchdog, and scripted
//! servers on 127.0.0.1 built on std (threads and blocking sockets), so the
//! server side never depends on the code under test.
//!
//! The watchdog is `common`'s: a test binary that includes this module must
//! also declare `mod common;` at its root (including `common` from here
//! instead would put a second copy of it into binaries that have both).

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// How long any one [`run`] may take before the watchdog ends the process.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh evloop runtime (real clock) under a watchdog.
pub fn run<F: Future>(name: &'static str, future: F) -> F::Output {
    let _dog = crate::common::abort_after(name, WATCHDOG);
    evloop::run(future)
}

/// Fetches `url` and reads the body whole; the error if either step fails.
pub async fn fetch(
    client: &evloop::http::Client,
    url: &str,
) -> Result<Vec<u8>, evloop::http::HttpError> {
    client.get(url).await?.bytes().await
}

/// Something a server connection can be: a plain or a TLS stream.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One accepted connection, seen by a script.
pub struct Conn {
    reader: BufReader<Box<dyn Stream>>,
    /// Which connection this is, counting from 0.
    pub index: usize,
}

impl Conn {
    /// Reads one request head; its first line (`GET /path HTTP/1.1`), or
    /// `None` if the client closed the connection first.
    pub fn request(&mut self) -> Option<String> {
        let mut first = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                return Some(first);
            }
            if first.is_empty() {
                first = line.trim_end().to_owned();
            }
        }
    }

    /// The path of the next request, or `None` at the end.
    pub fn path(&mut self) -> Option<String> {
        let line = self.request()?;
        Some(line.split(' ').nth(1).unwrap_or("").to_owned())
    }

    /// Writes `bytes`; `false` if the client is gone.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).is_ok() && stream.flush().is_ok()
    }

    /// Blocks until the client closes its side (or errors), discarding
    /// whatever it sends: how a server "stalls" without keeping its thread
    /// alive after the test.
    pub fn wait_for_close(&mut self) {
        let mut sink = [0u8; 1024];
        while matches!(self.reader.read(&mut sink), Ok(n) if n > 0) {}
    }
}

/// A running scripted server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Server {
    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `https://127.0.0.1:port` + `path`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// How many connections it accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// A closure that blocks (in real time, for at most `limit`) until the
    /// server has accepted `n` connections, and says whether it did. Run
    /// it on `evloop::spawn_blocking`: while the job runs, a paused clock
    /// stands still, so a test can let a real connection land before it
    /// lets virtual time pass.
    pub fn until_accepted(
        &self,
        n: usize,
        limit: Duration,
    ) -> impl FnOnce() -> bool + Send + 'static {
        let accepted = self.accepted.clone();
        move || {
            let deadline = std::time::Instant::now() + limit;
            while accepted.load(Ordering::SeqCst) < n {
                if std::time::Instant::now() > deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            true
        }
    }
}

/// Starts a plain server: every accepted connection runs `script` on its
/// own thread.
pub fn serve(script: impl Fn(&mut Conn) + Send + Sync + 'static) -> Server {
    serve_with(None, script)
}

/// Starts a TLS server with `tls` (see [`self_signed`]).
pub fn serve_tls(
    tls: Arc<rustls::ServerConfig>,
    script: impl Fn(&mut Conn) + Send + Sync + 'static,
) -> Server {
    serve_with(Some(tls), script)
}

fn serve_with(
    tls: Option<Arc<rustls::ServerConfig>>,
    script: impl Fn(&mut Conn) + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let script = Arc::new(script);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let index = counter.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            let tls = tls.clone();
            thread::spawn(move || {
                let stream: Box<dyn Stream> = match tls {
                    None => Box::new(stream),
                    Some(config) => {
                        let conn = rustls::ServerConnection::new(config).expect("server conn");
                        Box::new(rustls::StreamOwned::new(conn, stream))
                    }
                };
                let mut conn = Conn {
                    reader: BufReader::new(stream),
                    index,
                };
                script(&mut conn);
            });
        }
    });
    Server { addr, accepted }
}

/// Starts a plain server that, on every connection, reads one request,
/// sends `reply` and closes the connection.
pub fn serve_once(reply: impl AsRef<[u8]> + Send + Sync + 'static) -> Server {
    serve(move |conn| {
        conn.request();
        conn.send(reply.as_ref());
    })
}

/// Starts a plain server that, on every connection, reads one request,
/// sends `reply` (perhaps nothing, or part of a response) and then stalls:
/// it keeps the connection open and silent until the client closes it.
pub fn serve_then_stall(reply: impl AsRef<[u8]> + Send + Sync + 'static) -> Server {
    serve(move |conn| {
        conn.request();
        conn.send(reply.as_ref());
        conn.wait_for_close();
    })
}

/// A complete response with a `Content-Length` body.
pub fn ok(body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// A redirect to `location` with an empty body.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

/// Serves every request on every connection with `respond(path)`.
pub fn serve_paths(respond: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Server {
    serve(move |conn| {
        while let Some(path) = conn.path() {
            if !conn.send(&respond(&path)) {
                return;
            }
        }
    })
}

/// A self-signed certificate for `127.0.0.1` and `localhost`: (the
/// certificate's DER, a server config presenting it).
pub fn self_signed() -> (Vec<u8>, Arc<rustls::ServerConfig>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("rcgen");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .expect("server config");
    (cert.to_vec(), Arc::new(config))
}

/// Reads from a raw std stream until the end of a request head.
pub fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(head)
}
