//! The small HTTP server under pressure: a cap on open connections, the
//! oldest idle connection closed first to make room (but never one that has
//! not had its chance to send a request), a short idle timeout
//! while more than three quarters of the cap are open, `400` for an HTTP/1.1
//! request without a `Host`, and an idle timeout too long to add to "now"
//! taken as no timeout at all.
//!
//! The server and its clients share one runtime on the paused clock, so
//! every timing claim is exact: virtual time moves only when the test sleeps
//! (the loop first looks at the sockets, so connections and responses on
//! loopback always land before time moves). Each test runs under a
//! real-time watchdog.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::{LIMIT, watchdog};
use evloop::http::server::{
    DEFAULT_MAX_CONNECTIONS, Request, Response, ServerConfig, ServerStats, Service, serve,
};
use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Notify;
use evloop::time::{Instant, sleep, timeout};

/// Answers `200 ok` at once, or after ten seconds for `/slow`; counts the
/// slow requests begun.
#[derive(Default)]
struct Answer {
    slow_started: Cell<usize>,
    started: Notify,
}

impl Answer {
    /// Waits until `n` slow requests have begun.
    async fn slow_started(&self, n: usize) {
        loop {
            let next = self.started.notified();
            if self.slow_started.get() >= n {
                return;
            }
            next.await;
        }
    }
}

/// How long `/slow` takes.
const SLOW: Duration = Duration::from_secs(10);

impl Service for Answer {
    fn call(&self, request: &Request) -> impl Future<Output = Response> {
        let slow = request.path() == "/slow";
        if slow {
            self.slow_started.set(self.slow_started.get() + 1);
            self.started.notify_waiters();
        }
        async move {
            if slow {
                sleep(SLOW).await;
            }
            Response::text(200, "ok\n")
        }
    }
}

/// A running server: where it listens, its counters, its service.
struct Server {
    addr: SocketAddr,
    stats: Arc<ServerStats>,
    answer: Rc<Answer>,
}

/// Starts a server with `config` on the current runtime.
async fn start(config: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let stats = Arc::new(ServerStats::default());
    let answer = Rc::new(Answer::default());
    drop(evloop::spawn(serve(
        listener,
        answer.clone(),
        config,
        stats.clone(),
    )));
    Server {
        addr,
        stats,
        answer,
    }
}

/// One response as a client read it.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Sends `request` and reads one response (its head, and the body its
/// `Content-Length` announces).
async fn exchange(stream: &TcpStream, request: &[u8]) -> Reply {
    stream
        .write_all(request)
        .await
        .expect("the request is sent");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await.expect("the response arrives");
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head[9..12].parse().expect("a status code");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("every response has a Content-Length");
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.expect("the body arrives");
        assert!(n > 0, "closed inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    Reply { status, head, body }
}

/// A request for `/` with a `Host`.
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";

/// Whether the server still holds the connection open: nothing to read and
/// no end of stream. Never waits.
fn is_open(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    match stream.try_read(&mut probe) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Ok(0) => false,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => false,
        other => panic!("unexpected read on an idle connection: {other:?}"),
    }
}

/// Asserts that the server closed the connection (end of stream or reset),
/// waiting at most a moment of virtual time for the close to land.
async fn assert_closed(stream: &TcpStream, which: &str) {
    let mut sink = [0u8; 64];
    match timeout(Duration::from_millis(1), stream.read(&mut sink)).await {
        Ok(Ok(0)) => {}
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("{which}: expected the server to close it, got {other:?}"),
    }
}

/// Opens `n` connections, one after another, each accepted by the server
/// before the next is made.
///
/// A connect on loopback completes without waiting, so a task that only
/// connects never lets the server's accepting task run, and the kernel's
/// backlog would fill. So after every batch the newest connection is sent
/// one request: its answer means the server has accepted it, and every
/// connection before it. (Virtual time does not move, so each of them has
/// been idle since the same instant; the server breaks such ties by age,
/// and the oldest is still the first made.)
async fn open(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    const BATCH: usize = 32;
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        streams.push(TcpStream::connect(addr).await.expect("connect"));
        if (i + 1) % BATCH == 0 || i + 1 == n {
            let newest = streams.last().expect("one was just made");
            assert_eq!(exchange(newest, GET).await.status, 200);
        }
    }
    streams
}

#[test]
fn at_the_cap_the_connection_served_and_idle_longest_makes_room_for_a_new_client() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig::default();
            assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
            assert_eq!(DEFAULT_MAX_CONNECTIONS, 512);
            let Server { addr, stats, .. } = start(config).await;
            let start = Instant::now();
            // Two more than the cap, all idle. `open` sent one request on
            // every 32nd (indices 31, 63, ...): those were served and wait
            // for another; the rest were accepted a moment ago and have
            // sent nothing yet, so they have not had their chance.
            let idle = open(addr, DEFAULT_MAX_CONNECTIONS + 2).await;
            let newcomer = TcpStream::connect(addr).await.expect("connect");
            let reply = exchange(&newcomer, GET).await;
            assert_eq!((reply.status, &reply.body[..]), (200, &b"ok\n"[..]));
            // The three that made room were the three served connections
            // idle longest, in the order they went idle; every other one,
            // the silent ones included, is still open.
            let made_room = [31, 63, 95];
            for i in made_room {
                assert_closed(&idle[i], &format!("connection {i}")).await;
            }
            let still_open: Vec<usize> = (0..idle.len()).filter(|i| is_open(&idle[*i])).collect();
            let expected: Vec<usize> = (0..idle.len()).filter(|i| !made_room.contains(i)).collect();
            assert_eq!(still_open, expected);
            assert_eq!(stats.idle_connections_closed(), 3);
            assert_eq!(stats.connections_open(), DEFAULT_MAX_CONNECTIONS as u64);
            // A silent connection left is served as ever.
            let reply = exchange(&idle[0], GET).await;
            assert_eq!(reply.status, 200);
            // No time passed: the cap, not a timeout, closed them.
            assert_eq!(Instant::now(), start);
        });
    });
}

#[test]
fn at_the_cap_a_silent_connection_makes_room_only_after_its_second() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig {
                max_connections: 4,
                ..ServerConfig::default()
            };
            let server = start(config).await;
            let start = Instant::now();
            // Four connections that never send a thing. Connecting does not
            // let the server run, so wait (without moving the clock) until
            // it has accepted all four.
            let mut silent = Vec::new();
            for _ in 0..4 {
                silent.push(TcpStream::connect(server.addr).await.expect("connect"));
            }
            while server.stats.connections_open() < 4 {
                evloop::yield_now().await;
            }
            let newcomer = TcpStream::connect(server.addr).await.expect("connect");
            let served = evloop::spawn(async move {
                let reply = exchange(&newcomer, GET).await;
                (reply.status, Instant::now())
            });
            // Not a moment before their second is out are they closed.
            sleep(Duration::from_millis(999)).await;
            assert!(silent.iter().all(is_open), "none is closed before 1 s");
            assert!(!served.is_finished());
            // Then the oldest makes room (and, the table being full, the
            // pressure rule may close the other silent ones too).
            let (status, at) = served.await.expect("the newcomer's task ends");
            assert_eq!(status, 200);
            assert_eq!(at.duration_since(start), Duration::from_secs(1));
            assert_closed(&silent[0], "connection 0").await;
            assert!(server.stats.idle_connections_closed() >= 1);
        });
    });
}

#[test]
fn a_burst_of_clients_larger_than_the_cap_is_served_whole() {
    // Twenty clients connect and send their request at once to a server
    // that serves eight at a time. Each connection the server accepts has
    // its request in its socket already, not yet read; none of them may be
    // closed to make room for the next arrival (before the fix, every
    // accept at the cap cut off the connection accepted just before it,
    // and the demo lost a third of 1,000 images this way).
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig {
                max_connections: 8,
                ..ServerConfig::default()
            };
            let server = start(config).await;
            let addr = server.addr;
            let clients: Vec<_> = (0..20)
                .map(|_| {
                    evloop::spawn(async move {
                        let stream = TcpStream::connect(addr).await.expect("connect");
                        let reply = exchange(&stream, GET).await;
                        (reply.status, reply.body)
                    })
                })
                .collect();
            for client in clients {
                let (status, body) = client.await.expect("the client task ends");
                assert_eq!((status, &body[..]), (200, &b"ok\n"[..]));
            }
            assert_eq!(server.stats.connections_open(), 8);
        });
    });
}

#[test]
fn above_three_quarters_of_the_cap_idle_connections_get_one_second() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let Server { addr, stats, .. } = start(ServerConfig::default()).await;
            // Three quarters of 512 is 384: one more is pressure.
            let idle = open(addr, 385).await;
            sleep(Duration::from_millis(999)).await;
            assert!(idle.iter().all(is_open), "none is closed before 1 s");
            sleep(Duration::from_millis(2)).await;
            // The one idle longest went; with 384 left, the pressure is off
            // and the others keep the ordinary idle timeout.
            assert_closed(&idle[0], "connection 0").await;
            assert!(idle[1..].iter().all(is_open));
            assert_eq!(stats.idle_connections_closed(), 1);
            sleep(Duration::from_secs(10)).await;
            assert!(idle[1..].iter().all(is_open), "no pressure, no hurry");
        });
    });
}

#[test]
fn at_three_quarters_of_the_cap_the_idle_timeout_is_the_ordinary_one() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig {
                max_connections: 8,
                idle_timeout: Duration::from_secs(30),
                ..ServerConfig::default()
            };
            let Server { addr, .. } = start(config).await;
            let idle = open(addr, 6).await;
            sleep(Duration::from_secs(29)).await;
            assert!(idle.iter().all(is_open));
            sleep(Duration::from_secs(2)).await;
            for (i, stream) in idle.iter().enumerate() {
                assert_closed(stream, &format!("connection {i}")).await;
            }
        });
    });
}

#[test]
fn with_every_connection_busy_a_new_client_waits_for_room() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig {
                max_connections: 2,
                ..ServerConfig::default()
            };
            let server = start(config).await;
            let start = Instant::now();
            let busy = open(server.addr, 2).await;
            let slow = b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n";
            for stream in &busy {
                stream.write_all(slow).await.unwrap();
            }
            server.answer.slow_started(2).await;
            // Both are inside their ten seconds: the newcomer waits (in the
            // backlog, or just accepted) until one of them is done.
            let newcomer = TcpStream::connect(server.addr).await.expect("connect");
            let waiting = evloop::spawn(async move {
                let reply = exchange(&newcomer, GET).await;
                (reply.status, Instant::now())
            });
            for stream in &busy {
                let reply = exchange(stream, b"").await;
                assert_eq!((reply.status, &reply.body[..]), (200, &b"ok\n"[..]));
            }
            let (status, served_at) = waiting.await.unwrap();
            assert_eq!(status, 200);
            assert_eq!(served_at.duration_since(start), SLOW);
            // Room was made by closing one of the two, once it had answered
            // and gone idle.
            sleep(Duration::from_millis(1)).await;
            let open_now = busy.iter().filter(|s| is_open(s)).count();
            assert_eq!(open_now, 1);
            assert_eq!(server.stats.idle_connections_closed(), 1);
        });
    });
}

#[test]
fn http_1_1_without_host_gets_400_and_a_close() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let Server { addr, .. } = start(ServerConfig::default()).await;
            for (bad, why) in [
                (&b"GET / HTTP/1.1\r\n\r\n"[..], "without a Host"),
                (
                    &b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"[..],
                    "more than one Host",
                ),
                (
                    &b"GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n"[..],
                    "invalid Host",
                ),
            ] {
                let stream = TcpStream::connect(addr).await.unwrap();
                let reply = exchange(&stream, bad).await;
                assert_eq!(reply.status, 400, "{why}");
                assert!(reply.head.contains("Connection: close\r\n"), "{why}");
                let text = String::from_utf8_lossy(&reply.body);
                assert!(text.contains(why), "{why}: {text}");
                assert_closed(&stream, why).await;
            }
            // With a Host (even an empty one, which RFC 9112 allows), or
            // over HTTP/1.0 without one, the request is served.
            for good in [
                &b"GET / HTTP/1.1\r\nHost: example.test:8080\r\n\r\n"[..],
                b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
                b"GET / HTTP/1.0\r\n\r\n",
            ] {
                let stream = TcpStream::connect(addr).await.unwrap();
                let reply = exchange(&stream, good).await;
                assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(good));
            }
        });
    });
}

#[test]
fn an_idle_timeout_too_long_to_add_is_no_timeout() {
    watchdog(LIMIT, || {
        common::paused().block_on(async {
            let config = ServerConfig {
                idle_timeout: Duration::MAX,
                ..ServerConfig::default()
            };
            let Server { addr, stats, .. } = start(config).await;
            let stream = TcpStream::connect(addr).await.unwrap();
            sleep(Duration::from_secs(7 * 24 * 3600)).await;
            assert!(is_open(&stream), "a week of silence is fine");
            for _ in 0..2 {
                let reply = exchange(&stream, GET).await;
                assert_eq!(reply.status, 200);
            }
            assert_eq!(stats.requests_served(), 2);
        });
    });
}

#[test]
fn a_config_out_of_range_is_an_error_naming_the_field() {
    let cases = [
        (
            ServerConfig {
                max_connections: 0,
                ..ServerConfig::default()
            },
            "max_connections",
        ),
        (
            ServerConfig {
                pressure_idle_timeout: Duration::ZERO,
                ..ServerConfig::default()
            },
            "pressure_idle_timeout",
        ),
        (
            ServerConfig {
                head_limit: 0,
                ..ServerConfig::default()
            },
            "head_limit",
        ),
    ];
    for (config, field) in cases {
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains(field), "{err}");
        // `serve` refuses it at once, with the same error.
        let served = common::paused().block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let stats = Arc::new(ServerStats::default());
            serve(listener, Rc::new(Answer::default()), config, stats).await
        });
        let err = served.unwrap_err();
        assert!(err.to_string().contains(field), "{err}");
    }
    assert!(ServerConfig::default().validate().is_ok());
}
