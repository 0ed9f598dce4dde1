//! One loop per core: the `per_core_echo` example's server, with two evloop
//! runtimes on two threads, each with its own `SO_REUSEPORT` listener on one
//! port, answers many connections correctly, and the kernel spreads those
//! connections over both listeners. The example's other two servers (one
//! loop, tokio's multi-threaded runtime) and its flags are checked too.
//!
//! Loopback only, under a watchdog: a hang fails the test instead of
//! stalling the suite.

mod common;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use common::watchdog;

// The example's `main` and its printing modes are not used here.
#[allow(dead_code)]
#[path = "../examples/per_core_echo.rs"]
mod per_core_echo;

use per_core_echo::{
    Contender, MAX_CONNECTIONS, MAX_THREADS, Mode, PerCoreServer, Service, TokioServer, busy_work,
    listener, parse_options, run_load,
};

/// Real time allowed for one test body on a busy machine, in a debug build.
const LIMIT: Duration = Duration::from_secs(60);

/// Connections the spreading test opens. Linux picks a listener of the
/// group by a hash of each connection's addresses and ports, so every
/// connection is a fair coin between two listeners: all 64 landing on one
/// of them happens once in 2^63 runs.
const CONNECTIONS: usize = 64;

/// No work per request; each connection yields after every request.
const SERVICE: Service = Service {
    work: 0,
    yield_every: 1,
};

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[test]
fn two_loops_echo_every_request_and_share_the_connections() {
    let (load, accepted) = watchdog(LIMIT, || {
        let server = PerCoreServer::start(2, any_port(), SERVICE).expect("the server starts");
        assert_eq!(
            server.accepted(),
            [0, 0],
            "nothing accepted before any client"
        );
        // Two client threads, 32 connections each, 20 checked round trips
        // per connection: `run_load` fails on any echo that differs.
        let load = run_load(server.addr(), CONNECTIONS, 20, 2).expect("every echo is right");
        (load, server.stop())
    });

    assert_eq!(load.requests, CONNECTIONS as u64 * 20);
    assert_eq!(load.latencies.len(), CONNECTIONS * 20);
    assert!(load.percentile(0.50) <= load.percentile(0.99));
    assert!(load.elapsed > Duration::ZERO);

    // Every connection was accepted exactly once, by one of the two loops...
    assert_eq!(accepted.len(), 2);
    assert_eq!(
        accepted.iter().sum::<u64>(),
        CONNECTIONS as u64,
        "{accepted:?}"
    );
    // ... and the kernel gave each listener some of them.
    if cfg!(target_os = "linux") {
        assert!(
            accepted.iter().all(|&n| n >= 1),
            "SO_REUSEPORT should spread {CONNECTIONS} connections over both listeners: {accepted:?}"
        );
    }
}

#[test]
fn a_stopped_per_core_server_closes_its_port() {
    let addr = watchdog(LIMIT, || {
        let server = PerCoreServer::start(2, any_port(), SERVICE).expect("the server starts");
        let addr = server.addr();
        let load = run_load(addr, 4, 3, 1).expect("the server answers");
        assert_eq!(load.requests, 12);
        assert_eq!(server.stop().iter().sum::<u64>(), 4);
        addr
    });
    // Both listeners are gone with their loops: nobody answers any more.
    let refused = std::net::TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn connections_that_never_yield_still_get_every_echo_right() {
    // `yield_every: 0`: a connection keeps its loop while its next request
    // is already there. Slower for the others, never wrong.
    let greedy = Service {
        work: 5,
        yield_every: 0,
    };
    for loops in [1, 2] {
        let (load, accepted) = watchdog(LIMIT, move || {
            let server =
                PerCoreServer::start(loops, any_port(), greedy).expect("the server starts");
            let load = run_load(server.addr(), 16, 25, 2).expect("every echo is right");
            (load, server.stop())
        });
        assert_eq!(load.requests, 16 * 25, "{loops} loop(s)");
        assert_eq!(accepted.len(), loops);
        assert_eq!(
            accepted.iter().sum::<u64>(),
            16,
            "{loops} loop(s): {accepted:?}"
        );
    }
}

#[test]
fn the_port_is_shared_only_with_listeners_that_ask() {
    // Two listeners with SO_REUSEPORT share a port...
    let first = listener(any_port(), true).unwrap();
    let addr = first.local_addr().unwrap();
    let second = listener(addr, true).unwrap();
    assert_eq!(second.local_addr().unwrap(), addr);
    // ... a listener without it cannot join them, and the error names the address.
    let refused = listener(addr, false).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::AddrInUse);
    assert!(refused.to_string().contains(&addr.to_string()), "{refused}");
    // And a listener without it keeps its port to itself.
    let alone = listener(any_port(), false).unwrap();
    let taken = listener(alone.local_addr().unwrap(), true).unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::AddrInUse);
}

#[test]
fn every_contender_of_compare_echoes_with_work() {
    let options = parse_options(
        [
            "compare",
            "--threads",
            "2",
            "--connections",
            "8",
            "--round-trips",
            "5",
            "--work",
            "3",
        ]
        .map(String::from),
    )
    .unwrap();
    assert_eq!((options.threads, options.work), (2, 3));
    for contender in [Contender::OneLoop, Contender::PerCore, Contender::Tokio] {
        let options = options.clone();
        let load = watchdog(LIMIT, move || contender.measure(&options))
            .unwrap_or_else(|e| panic!("{contender:?}: {e}"));
        assert_eq!(load.requests, 40, "{contender:?}");
        assert_eq!(load.latencies.len(), 40, "{contender:?}");
        // The process's CPU time includes the client threads' own.
        assert!(load.process_cpu >= load.client_cpu, "{contender:?}");
    }
}

#[test]
fn the_tokio_server_counts_what_it_accepts() {
    let accepted = watchdog(LIMIT, || {
        let server = TokioServer::start(2, any_port(), 0).expect("the runtime starts");
        let load = run_load(server.addr(), 10, 2, 2).expect("every echo is right");
        assert_eq!(load.requests, 20);
        server.stop()
    });
    assert_eq!(accepted, 10);
}

#[test]
fn a_client_without_a_server_names_the_connection() {
    let free = std::net::TcpListener::bind(any_port())
        .unwrap()
        .local_addr()
        .unwrap();
    let err = watchdog(LIMIT, move || run_load(free, 3, 1, 1).unwrap_err());
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(err.to_string().starts_with("client connection "), "{err}");
}

#[test]
fn work_depends_on_the_message_and_the_rounds() {
    assert_eq!(
        busy_work(b"abc", 0),
        0xcbf2_9ce4_8422_2325,
        "no rounds: the offset basis"
    );
    // FNV-1a of "a" is a published test vector.
    assert_eq!(busy_work(b"a", 1), 0xaf63_dc4c_8601_ec8c);
    assert_ne!(busy_work(b"abc", 2), busy_work(b"abd", 2));
    assert_ne!(busy_work(b"abc", 2), busy_work(b"abc", 3));
}

#[test]
fn flags_are_range_checked_per_mode() {
    let parse = |args: &[&str]| parse_options(args.iter().map(|a| a.to_string()));

    let defaults = parse(&[]).unwrap();
    assert_eq!(defaults.mode, Mode::Serve);
    assert_eq!(defaults.port, per_core_echo::DEFAULT_PORT);
    assert!(defaults.threads >= 1);
    assert_eq!(
        defaults.service(),
        Service {
            work: 0,
            yield_every: 1
        }
    );
    let greedy = parse(&["serve", "--yield-every", "0", "--work", "7"]).unwrap();
    assert_eq!(
        greedy.service(),
        Service {
            work: 7,
            yield_every: 0
        }
    );

    let client = parse(&["client", "--connections", "7", "--round-trips", "9"]).unwrap();
    assert_eq!(
        (client.mode, client.connections, client.round_trips),
        (Mode::Client, 7, 9)
    );
    let edge = parse(&["compare", "--threads", &MAX_THREADS.to_string()]).unwrap();
    assert_eq!(edge.threads, MAX_THREADS);

    let cases: &[(&[&str], &str)] = &[
        (
            &["--threads", "0"],
            "--threads \"0\": expected a number from 1 to 256",
        ),
        (
            &["--port", "70000"],
            "--port \"70000\": expected a number from 1 to 65535",
        ),
        (
            &["client", "--connections", "501"],
            "--connections \"501\": expected a number from 1 to 500",
        ),
        (&["client", "--round-trips"], "--round-trips needs a value"),
        (
            &["compare", "--runs", "x"],
            "--runs \"x\": expected a number from 1 to 20",
        ),
        (
            &["client", "--work", "5"],
            "\"--work\" is not an option of this mode",
        ),
        (
            &["serve", "--runs", "2"],
            "\"--runs\" is not an option of this mode",
        ),
        (
            &["client", "--yield-every", "2"],
            "\"--yield-every\" is not an option of this mode",
        ),
        (&["bench"], "unknown mode \"bench\""),
        (
            &[
                "compare",
                "--connections",
                "500",
                "--round-trips",
                "1000000",
            ],
            "--connections x --round-trips is 500000000: expected at most 10000000",
        ),
    ];
    for (args, expected) in cases {
        let message = parse(args).unwrap_err();
        assert!(message.starts_with(expected), "{args:?}: {message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
    assert_eq!(MAX_CONNECTIONS, 500);
}
