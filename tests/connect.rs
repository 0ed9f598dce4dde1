//! Connecting, resolving, and giving up in time: a refused connect fails at
//! once with the address in its message, name lookups go to the blocking pool
//! only when there is a name to look up, and every socket operation can be
//! cut short by `time::timeout` without leaving the socket unusable.

mod common;

use std::io::{ErrorKind, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream, lookup_host};
use evloop::offload::{PoolKind, stats};
use evloop::time::{Instant, timeout};

use common::{paused, watchdog};

const WATCHDOG: Duration = Duration::from_secs(30);

/// A loopback port nobody listens on (bound, then released).
fn closed_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn connecting_to_a_closed_port_is_refused_and_names_the_address() {
    let addr = closed_port();
    let err = watchdog(WATCHDOG, move || {
        evloop::run(async move {
            // A generous limit: loopback refuses at once, so the limit only
            // separates "refused" from "hangs".
            let attempt = timeout(Duration::from_secs(20), TcpStream::connect(addr)).await;
            attempt
                .expect("a refused connect must not wait for the timeout")
                .unwrap_err()
        })
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains(&addr.to_string()),
        "message: {err}"
    );
}

#[test]
fn connect_tries_each_address_in_turn() {
    let (refused, working) = watchdog(WATCHDOG, || {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let good = listener.local_addr().unwrap();
            let bad = closed_port();
            let stream = TcpStream::connect(&[bad, good][..]).await.unwrap();
            let (accepted, _) = listener.accept().await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), good);
            assert_eq!(accepted.peer_addr().unwrap(), stream.local_addr().unwrap());
            // With only bad addresses, the error names the last one tried.
            let err = TcpStream::connect(&[bad][..]).await.unwrap_err();
            (err, stream.peer_addr().unwrap())
        })
    });
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(working.ip().is_loopback());
}

#[test]
fn a_read_on_a_silent_peer_times_out_and_the_stream_still_works() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let stream = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            let start = Instant::now();
            let mut buf = [0u8; 8];
            let silent = timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
            assert!(silent.is_err(), "read on a silent peer returned {silent:?}");
            assert_eq!(start.elapsed(), Duration::from_secs(5));
            // The dropped read lost nothing: the next one gets the data.
            peer.write_all(b"late").unwrap();
            let n = timeout(Duration::from_secs(5), stream.read(&mut buf))
                .await
                .expect("data was sent")
                .unwrap();
            assert_eq!(&buf[..n], b"late");
        });
    });
}

#[test]
fn accept_write_and_readiness_waits_time_out_too() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let limit = Duration::from_secs(1);
            // accept with nobody connecting
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            assert!(timeout(limit, listener.accept()).await.is_err());

            // write_all to a peer that never reads: the buffers fill, then
            // the write waits and the timeout ends it.
            let addr = listener.local_addr().unwrap();
            let stream = TcpStream::connect(addr).await.unwrap();
            let (peer, _) = listener.accept().await.unwrap();
            let huge = vec![0u8; 64 << 20];
            assert!(timeout(limit, stream.write_all(&huge)).await.is_err());

            // readable on a socket with nothing to read, once the reactor
            // knows it is empty (a WouldBlock told it so).
            // (The peer sends nothing, so `stream` has nothing to read.)
            let mut buf = [0u8; 4];
            assert_eq!(
                stream.try_read(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            assert!(timeout(limit, stream.readable()).await.is_err());
            drop(peer);

            // connect composes the same way (here it wins the race).
            let again = timeout(limit, TcpStream::connect(addr)).await;
            assert!(again.expect("loopback connects at once").is_ok());
        });
    });
}

#[test]
fn lookup_of_an_ip_literal_never_touches_the_blocking_pool() {
    let threads = watchdog(WATCHDOG, || {
        evloop::run(async {
            let v4 = lookup_host("127.0.0.1:80").await.unwrap();
            assert_eq!(v4, [SocketAddr::from(([127, 0, 0, 1], 80))]);
            let v6 = lookup_host("[::1]:443").await.unwrap();
            assert_eq!(v6[0].port(), 443);
            assert!(v6[0].ip().is_loopback());
            let pair = lookup_host((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
                .await
                .unwrap();
            assert_eq!(pair[0].port(), 8080);
            let str_pair = lookup_host(("127.0.0.1", 9)).await.unwrap();
            assert_eq!(str_pair[0].port(), 9);
            stats(PoolKind::Blocking)
        })
    });
    assert_eq!(
        threads.threads, 0,
        "a literal started pool threads: {threads:?}"
    );
}

#[test]
fn lookup_of_a_name_runs_on_the_blocking_pool() {
    let (addrs, pool) = watchdog(WATCHDOG, || {
        evloop::run(async {
            assert_eq!(stats(PoolKind::Blocking).threads, 0);
            // "localhost" comes from /etc/hosts: no network is involved.
            let addrs = lookup_host("localhost:80").await.unwrap();
            (addrs, stats(PoolKind::Blocking))
        })
    });
    assert!(!addrs.is_empty());
    assert!(
        addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80),
        "{addrs:?}"
    );
    // The thread that resolved the name is still there (idle), so the pool
    // was used.
    assert!(
        pool.threads >= 1,
        "no pool thread resolved the name: {pool:?}"
    );
}

#[test]
fn a_bad_address_string_is_an_error_naming_it_not_a_panic() {
    let err = watchdog(WATCHDOG, || {
        evloop::run(async { TcpStream::connect("localhost:notaport").await.unwrap_err() })
    });
    assert!(
        err.to_string().contains("localhost:notaport"),
        "message: {err}"
    );
}
