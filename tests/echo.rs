//! Sockets moving data: an echo server with 1,000 clients on one loop, a
//! 1 MiB burst read through a 4 KiB buffer, a reader and a writer sharing one
//! socket, and the `echo_server` example serving real clients.
//!
//! Everything runs on loopback, under a watchdog: a hang fails the test with
//! a message instead of stalling the suite.

mod common;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::net::Shutdown;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::testing::readiness_counters;

use common::watchdog;

// The example's `main` and argument parsing are not used here.
#[allow(dead_code)]
#[path = "../examples/echo_server.rs"]
mod echo_server;

const WATCHDOG: Duration = Duration::from_secs(60);

/// The soft limit on open files of this process, if `/proc` says.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A connected pair on loopback: (evloop side, evloop side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connecting = evloop::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (connecting.await.unwrap(), server)
}

/// Bytes that are not all alike, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Counts arrivals down to zero; [`Countdown::wait`] completes from then on.
#[derive(Clone)]
struct Countdown(Rc<RefCell<(usize, Vec<Waker>)>>);

impl Countdown {
    fn new(count: usize) -> Countdown {
        Countdown(Rc::new(RefCell::new((count, Vec::new()))))
    }

    fn arrive(&self) {
        let wakers = {
            let mut state = self.0.borrow_mut();
            state.0 -= 1;
            if state.0 == 0 {
                std::mem::take(&mut state.1)
            } else {
                Vec::new()
            }
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = self.0.borrow_mut();
            if state.0 == 0 {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Connections opened per wave: below the listen backlog of 128 that
/// `TcpListener::bind` gets from mio. A burst of connects past the backlog
/// overflows the kernel's accept queue, and Linux then drops or resets
/// connections before the server ever sees them: clients then read
/// `ConnectionReset` though the server did nothing wrong.
const WAVE: usize = 100;

#[test]
fn echo_server_serves_1000_concurrent_connections() {
    // Each connection costs two descriptors in this process (client and
    // server side). With a low `ulimit -n` the test scales down rather than
    // failing on EMFILE; 1,000 connections need a soft limit of about 2,100.
    let wanted = 1000;
    let clients = match open_files_limit() {
        Some(limit) if limit < 2 * wanted + 100 => {
            let fit = limit.saturating_sub(100) / 2;
            eprintln!("note: open-files limit {limit}: running {fit} connections, not {wanted}");
            fit.max(1)
        }
        _ => wanted,
    };
    let (peak_open, served) = watchdog(WATCHDOG, move || {
        evloop::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // (open now, most open at once, closed cleanly)
            let counts = Rc::new(Cell::new((0usize, 0usize, 0usize)));
            let server_counts = counts.clone();
            // The server: accept forever, a task per connection.
            let server = evloop::spawn(async move {
                loop {
                    let (conn, _) = listener.accept().await.unwrap();
                    let counts = server_counts.clone();
                    let (open, peak, served) = counts.get();
                    counts.set((open + 1, peak.max(open + 1), served));
                    evloop::spawn(async move {
                        let mut buf = [0u8; 256];
                        loop {
                            let n = conn.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            conn.write_all(&buf[..n]).await.unwrap();
                        }
                        let (open, peak, served) = counts.get();
                        counts.set((open - 1, peak, served + 1));
                    });
                }
            });
            // The clients: every one stays connected until all have had
            // their echo, so all of them are open at the same time.
            let all_echoed = Countdown::new(clients);
            let mut tasks = Vec::with_capacity(clients);
            let mut first = 0;
            while first < clients {
                let wave = WAVE.min(clients - first);
                let connected = Countdown::new(wave);
                for i in first..first + wave {
                    let connected = connected.clone();
                    let all_echoed = all_echoed.clone();
                    tasks.push(evloop::spawn(async move {
                        let conn = TcpStream::connect(addr).await.unwrap();
                        connected.arrive();
                        let message = format!("hello from client {i}");
                        conn.write_all(message.as_bytes()).await.unwrap();
                        let mut back = vec![0u8; message.len()];
                        conn.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, message.as_bytes(), "client {i} got another echo");
                        all_echoed.arrive();
                        all_echoed.wait().await;
                        conn.shutdown(Shutdown::Write).unwrap();
                        let mut rest = [0u8; 16];
                        assert_eq!(
                            conn.read(&mut rest).await.unwrap(),
                            0,
                            "client {i}: data after the echo"
                        );
                    }));
                }
                connected.wait().await;
                first += wave;
            }
            for (i, result) in evloop::join_all(tasks).await.into_iter().enumerate() {
                assert!(result.is_ok(), "client {i} failed: {result:?}");
            }
            // A client sees EOF once its server task has dropped the
            // connection; let the last server tasks count themselves.
            while counts.get().2 < clients {
                evloop::yield_now().await;
            }
            server.abort();
            let (_, peak, served) = counts.get();
            (peak, served)
        })
    });
    assert_eq!(peak_open, clients, "not all connections were open at once");
    assert_eq!(served, clients);
}

#[test]
fn burst_read_pends_only_after_would_block() {
    const TOTAL: usize = 1 << 20;
    const BUF: usize = 4 << 10;
    let (received, reader_counters, writer_counters) = watchdog(WATCHDOG, || {
        evloop::run(async {
            let (reader, writer) = pair().await;
            let sent = pattern(TOTAL);
            let writing = evloop::spawn(async move {
                writer.write_all(&sent).await.unwrap();
                writer.shutdown(Shutdown::Write).unwrap();
                readiness_counters(&writer)
            });
            let mut received = Vec::with_capacity(TOTAL);
            let mut buf = [0u8; BUF];
            loop {
                match reader.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => {
                        assert!(n <= BUF);
                        received.extend_from_slice(&buf[..n]);
                    }
                }
            }
            (
                received,
                readiness_counters(&reader),
                writing.await.unwrap(),
            )
        })
    });
    assert_eq!(received.len(), TOTAL);
    assert!(received == pattern(TOTAL), "the data arrived changed");
    // Every Pending came after a syscall said WouldBlock: no task waited
    // on a socket that might still have had data.
    for (side, (would_block, pendings)) in
        [("reader", reader_counters), ("writer", writer_counters)]
    {
        assert!(
            pendings <= would_block,
            "{side}: {pendings} Pendings but only {would_block} WouldBlocks"
        );
    }
    // The reader had to wait at least once: 1 MiB does not arrive at once
    // while the writer shares the loop with it.
    assert!(
        reader_counters.1 >= 1,
        "reader never waited: {reader_counters:?}"
    );
}

#[test]
fn reader_and_writer_share_one_socket() {
    // The peer echoes from a plain thread. 4 MiB is far more than the socket
    // buffers hold, so the writer blocks until the reader drains the echo,
    // and the reader waits for what the writer has not sent yet: if either
    // task's wake-up went to the other, both would stall (and the watchdog
    // would fire).
    const TOTAL: usize = 4 << 20;
    let received = watchdog(WATCHDOG, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 16 << 10];
            loop {
                let n = conn.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                conn.write_all(&buf[..n]).unwrap();
            }
        });
        let received = evloop::run(async move {
            let stream = Rc::new(TcpStream::connect(addr).await.unwrap());
            let writer = stream.clone();
            let writing = evloop::spawn(async move {
                writer.write_all(&pattern(TOTAL)).await.unwrap();
                writer.shutdown(Shutdown::Write).unwrap();
            });
            let reader = stream.clone();
            let reading = evloop::spawn(async move {
                let mut got = Vec::with_capacity(TOTAL);
                let mut buf = [0u8; 8 << 10];
                loop {
                    match reader.read(&mut buf).await.unwrap() {
                        0 => break got,
                        n => got.extend_from_slice(&buf[..n]),
                    }
                }
            });
            writing.await.unwrap();
            let got = reading.await.unwrap();
            let (would_block, pendings) = readiness_counters(&stream);
            assert!(
                pendings <= would_block,
                "{pendings} Pendings, {would_block} WouldBlocks"
            );
            got
        });
        echo.join().unwrap();
        received
    });
    assert_eq!(received.len(), TOTAL);
    assert!(received == pattern(TOTAL), "the echo came back changed");
}

#[test]
fn echo_server_example_serves_clients_concurrently() {
    let echoes = watchdog(WATCHDOG, || {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = evloop::spawn(echo_server::serve(listener));
            // Two clients connected at once: the second is served while the
            // first stays open, so the server does not serve one at a time.
            let first = TcpStream::connect(addr).await.unwrap();
            let second = TcpStream::connect(addr).await.unwrap();
            let mut echoes = Vec::new();
            for (conn, text) in [(&second, "second\n"), (&first, "first\n")] {
                conn.write_all(text.as_bytes()).await.unwrap();
                let mut buf = vec![0u8; text.len()];
                conn.read_exact(&mut buf).await.unwrap();
                echoes.push(String::from_utf8(buf).unwrap());
            }
            // A client that resets its connection ends its own task only:
            // closing with the echo still unread makes Linux send a reset.
            // (Reading one byte proves the echo has arrived.)
            first.write_all(b"unread\n").await.unwrap();
            first.read_exact(&mut [0u8; 1]).await.unwrap();
            drop(first);
            drop(second);
            let third = TcpStream::connect(addr).await.unwrap();
            third.write_all(b"third\n").await.unwrap();
            let mut buf = [0u8; 6];
            third.read_exact(&mut buf).await.unwrap();
            echoes.push(String::from_utf8(buf.to_vec()).unwrap());
            assert!(!server.is_finished(), "the server stopped");
            server.abort();
            echoes
        })
    });
    assert_eq!(echoes, ["second\n", "first\n", "third\n"]);
}
