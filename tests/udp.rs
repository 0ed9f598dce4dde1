//! Behaviour of `evloop::net::UdpSocket`: 1,000 datagrams echoed (the
//! `udp_echo` example, with a timeout for lost ones), a receive dropped
//! mid-wait loses nothing and leaves the socket usable, a datagram longer
//! than the buffer is cut as the OS cuts it, a closed port's ICMP answer
//! surfaces on the next receive of a connected socket, many tasks share one
//! socket without losing a wake, and every `Pending` on the socket follows a
//! `WouldBlock`.
//!
//! Loopback only, under a watchdog. Where time is asserted it is the paused
//! clock's: the loop lets time jump only when the reactor has nothing to
//! report, so datagrams on loopback arrive before any timeout fires.

mod common;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::{LIMIT, paused, real, watchdog, yield_until};
use evloop::net::UdpSocket;
use evloop::time::{Instant, timeout};
use evloop::{spawn, yield_now};

// The example's `main` and option parsing are not used here.
#[allow(dead_code)]
#[path = "../examples/udp_echo.rs"]
mod udp_echo;

/// A loopback UDP port nobody listens on (bound, then released).
fn closed_port() -> SocketAddr {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A blocking std socket the test drives from outside the loop.
fn std_peer() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// Bytes that are not all alike, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn an_echo_of_1000_datagrams_brings_every_one_back() {
    let tally = watchdog(Duration::from_secs(60), || {
        real().block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().unwrap();
            spawn(udp_echo::serve(server));
            // A generous timeout per datagram: on loopback, with at most 64
            // in flight, none is lost; the timeout only turns a loss into a
            // count instead of a hang.
            udp_echo::run_client(addr, 1_000, 64, Duration::from_secs(10))
                .await
                .unwrap()
        })
    });
    assert_eq!(
        tally,
        udp_echo::Tally {
            sent: 1_000,
            answered: 1_000,
            lost: 0,
            late: 0
        }
    );
}

/// A server that never answers: every datagram is counted lost after its
/// timeout (virtual time), and nothing hangs.
#[test]
fn the_echo_client_counts_unanswered_datagrams_as_lost_after_their_timeout() {
    let (tally, took) = watchdog(LIMIT, || {
        paused().block_on(async {
            let silent = std_peer(); // bound, never read
            let start = Instant::now();
            let tally =
                udp_echo::run_client(silent.local_addr().unwrap(), 10, 5, Duration::from_secs(2))
                    .await
                    .unwrap();
            (tally, start.elapsed())
        })
    });
    assert_eq!(
        tally,
        udp_echo::Tally {
            sent: 10,
            answered: 0,
            lost: 10,
            late: 0
        }
    );
    // Two windows of five, each waiting out its 2 s timeout.
    assert_eq!(took, Duration::from_secs(4));
}

/// A closed server port: the OS's refusals (on sends and receives) end no
/// run; every datagram is counted lost.
#[test]
fn the_echo_client_survives_a_closed_server_port() {
    let tally = watchdog(LIMIT, || {
        paused().block_on(async {
            udp_echo::run_client(closed_port(), 10, 5, Duration::from_secs(2))
                .await
                .unwrap()
        })
    });
    assert_eq!((tally.sent, tally.answered, tally.lost), (10, 0, 10));
}

#[test]
fn a_receive_dropped_mid_wait_leaves_the_socket_usable() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let peer = std_peer();
            let mut buf = [0u8; 16];

            let start = Instant::now();
            let waited = timeout(Duration::from_secs(5), socket.recv_from(&mut buf)).await;
            assert!(waited.is_err(), "nothing was sent, got {waited:?}");
            assert_eq!(start.elapsed(), Duration::from_secs(5));

            // The dropped receive took nothing and left no waker behind: the
            // next one gets the next datagram.
            peer.send_to(b"late", addr).unwrap();
            let (n, from) = timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
                .await
                .expect("a datagram was sent")
                .unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"late"[..], peer.local_addr().unwrap())
            );

            // And sending still works.
            socket.send_to(b"back", from).await.unwrap();
            let mut back = [0u8; 4];
            assert_eq!(peer.recv(&mut back).unwrap(), 4);
            assert_eq!(&back, b"back");
        });
    });
}

/// A receive dropped while it was first in line hands its turn on: the one
/// behind it gets the datagram.
#[test]
fn a_receive_dropped_first_in_line_hands_its_turn_on() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let first = {
                let socket = socket.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    socket.recv_from(&mut buf).await.map(|(n, _)| n)
                })
            };
            let second = {
                let socket = socket.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                })
            };
            yield_now().await; // both wait: the first on the socket, the second in line
            first.abort();
            assert!(first.await.expect_err("aborted").is_cancelled());
            std_peer().send_to(b"for you", addr).unwrap();
            let got = timeout(Duration::from_secs(5), second)
                .await
                .expect("the second receive got its turn")
                .unwrap();
            assert_eq!(got, b"for you");
        });
    });
}

/// On Unix the OS cuts a datagram to the buffer, returns the buffer's
/// length, and discards the rest: the next receive gets the next datagram.
/// (Windows reports `WSAEMSGSIZE` instead; not covered here.)
#[cfg(unix)]
#[test]
fn a_large_datagram_is_truncated_as_the_os_does() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            const BIG: usize = 2_000;
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let peer = std_peer();
            peer.send_to(&pattern(BIG), addr).unwrap();
            peer.send_to(b"next", addr).unwrap();

            // Peeking with a small buffer cuts the copy, not the datagram.
            let mut small = [0u8; 100];
            let (n, _) = socket.peek_from(&mut small).await.unwrap();
            assert_eq!(n, small.len());
            let mut whole = vec![0u8; 4_096];
            let (n, _) = socket.peek_from(&mut whole).await.unwrap();
            assert_eq!(n, BIG, "the peeked datagram is still whole");

            // Receiving with a small buffer cuts the datagram for good.
            let (n, from) = socket.recv_from(&mut small).await.unwrap();
            assert_eq!(n, small.len());
            assert_eq!(from, peer.local_addr().unwrap());
            assert_eq!(&small[..], &pattern(BIG)[..100]);
            let (n, _) = socket.recv_from(&mut whole).await.unwrap();
            assert_eq!(&whole[..n], b"next", "the rest of the big one is gone");
        });
    });
}

/// A connected socket sends to a closed port; the OS answers with ICMP
/// "port unreachable", and the next receive reports it as
/// `ConnectionRefused`, once. It wakes a receive that was already waiting,
/// too. Then the socket carries on.
#[cfg(unix)]
#[test]
fn a_closed_port_surfaces_as_an_error_on_the_next_receive() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            socket.connect(closed_port()).await.unwrap();
            let mut buf = [0u8; 16];

            // Send first, then receive: the error is waiting for us.
            socket.send(b"anyone?").await.unwrap();
            let err = timeout(Duration::from_secs(5), socket.recv(&mut buf))
                .await
                .expect("the error comes at once, not after the timeout")
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            assert!(err.raw_os_error().is_some(), "the OS's own error: {err:?}");

            // Reported once: now there is simply nothing to receive.
            assert!(socket.take_error().unwrap().is_none());
            let start = Instant::now();
            assert!(
                timeout(Duration::from_secs(1), socket.recv(&mut buf))
                    .await
                    .is_err()
            );
            assert_eq!(start.elapsed(), Duration::from_secs(1));

            // Receive first, then send: the ICMP answer wakes the waiting receive.
            let receiving = {
                let socket = socket.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    socket.recv(&mut buf).await
                })
            };
            yield_now().await; // it waits
            socket.send(b"still there?").await.unwrap();
            let err = timeout(Duration::from_secs(5), receiving)
                .await
                .expect("woken by the error")
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");

            // Connected to a live peer, the same socket works.
            let peer = std_peer();
            socket.connect(peer.local_addr().unwrap()).await.unwrap();
            socket.send(b"hello").await.unwrap();
            let mut got = [0u8; 5];
            let (n, from) = peer.recv_from(&mut got).unwrap();
            assert_eq!(
                (&got[..n], from),
                (&b"hello"[..], socket.local_addr().unwrap())
            );
            peer.send_to(b"hi", from).unwrap();
            assert_eq!(socket.recv(&mut buf).await.unwrap(), 2);
        });
    });
}

/// Twenty tasks receive on one socket at once; twenty datagrams arrive. Each
/// task gets exactly one: they take turns in arrival order, and no waiting
/// task is forgotten (the reactor keeps one waker per direction, so without
/// the line, nineteen of them would never be woken).
#[test]
fn many_tasks_receiving_on_one_socket_each_get_a_datagram() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            const TASKS: usize = 20;
            let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let got = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..TASKS)
                .map(|task| {
                    let (socket, got) = (socket.clone(), got.clone());
                    spawn(async move {
                        let mut buf = [0u8; 8];
                        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                        got.borrow_mut().push((task, buf[..n].to_vec()));
                    })
                })
                .collect();
            yield_now().await; // all twenty wait
            assert!(got.borrow().is_empty());
            let peer = std_peer();
            for i in 0..TASKS {
                peer.send_to(&[i as u8], addr).unwrap();
            }
            for handle in handles {
                timeout(Duration::from_secs(5), handle)
                    .await
                    .expect("every receiver was woken")
                    .unwrap();
            }
            // First come, first served: task i got datagram i.
            let expected: Vec<_> = (0..TASKS).map(|i| (i, vec![i as u8])).collect();
            assert_eq!(*got.borrow(), expected);
        });
    });
}

/// One task sends while another receives, through one shared socket.
#[test]
fn a_sending_task_and_a_receiving_task_share_one_socket() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            const COUNT: u32 = 100;
            let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let echo = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.connect(echo.local_addr().unwrap()).await.unwrap();
            spawn(udp_echo::serve(echo));
            let receiver = {
                let socket = socket.clone();
                spawn(async move {
                    let mut sum = 0u32;
                    let mut buf = [0u8; 4];
                    for _ in 0..COUNT {
                        socket.recv(&mut buf).await.unwrap();
                        sum += u32::from_be_bytes(buf);
                    }
                    sum
                })
            };
            let sender = {
                let socket = socket.clone();
                spawn(async move {
                    for i in 0..COUNT {
                        socket.send(&i.to_be_bytes()).await.unwrap();
                        yield_now().await; // let the echo keep up
                    }
                })
            };
            sender.await.unwrap();
            let sum = timeout(Duration::from_secs(5), receiver)
                .await
                .expect("every echo came back")
                .unwrap();
            assert_eq!(sum, (0..COUNT).sum::<u32>());
        });
    });
}

#[test]
fn peek_leaves_the_datagram_for_the_next_receive() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let peer = std_peer();
            socket.connect(peer.local_addr().unwrap()).await.unwrap();
            peer.send_to(b"once", socket.local_addr().unwrap()).unwrap();
            let mut buf = [0u8; 8];
            assert_eq!(socket.peek(&mut buf).await.unwrap(), 4);
            assert_eq!(socket.peek(&mut buf).await.unwrap(), 4);
            assert_eq!(socket.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(&buf[..4], b"once");
            assert!(
                timeout(Duration::from_secs(1), socket.recv(&mut buf))
                    .await
                    .is_err(),
                "the peeks did not copy it"
            );
        });
    });
}

#[test]
fn an_empty_datagram_is_a_zero_length_receive_not_an_end() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            socket.send_to(b"", addr).await.unwrap();
            socket.send_to(b"after", addr).await.unwrap();
            let mut buf = [0u8; 8];
            assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (0, addr));
            assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (5, addr));
        });
    });
}

/// Readiness as for TCP: the socket returns `Pending` only after the kernel
/// said `WouldBlock`; with data waiting, a receive completes without one.
#[test]
fn every_pending_on_the_socket_follows_a_would_block() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let peer = std_peer();
            let mut buf = [0u8; 8];

            peer.send_to(b"ready", addr).unwrap();
            socket.recv_from(&mut buf).await.unwrap();
            assert_eq!(socket.readiness_counters(), (0, 0), "data waiting: no wait");

            let waiting = {
                let socket = socket.clone();
                spawn(async move {
                    let mut buf = [0u8; 8];
                    socket.recv_from(&mut buf).await.unwrap().0
                })
            };
            yield_until(|| socket.readiness_counters().1 == 1).await;
            assert_eq!(
                socket.readiness_counters(),
                (1, 1),
                "one WouldBlock, one Pending"
            );
            peer.send_to(b"woken", addr).unwrap();
            assert_eq!(waiting.await.unwrap(), 5);
            let (would_block, pendings) = socket.readiness_counters();
            assert!(
                pendings <= would_block,
                "{pendings} Pendings, {would_block} WouldBlocks"
            );
        });
    });
}

#[test]
fn binding_a_taken_port_is_an_error_naming_the_address() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let taken = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = taken.local_addr().unwrap();
            let err = UdpSocket::bind(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse);
            assert!(
                err.to_string().contains(&addr.to_string()),
                "message: {err}"
            );
        });
    });
}

#[test]
fn send_on_an_unconnected_socket_is_an_error_not_a_hang() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let sent = timeout(Duration::from_secs(1), socket.send(b"where to?")).await;
            assert!(sent.expect("fails at once").is_err());
            assert_eq!(
                socket.peer_addr().unwrap_err().kind(),
                ErrorKind::NotConnected
            );
        });
    });
}

/// Socket options that mio exposes read back what was set.
#[test]
fn options_read_back_what_was_set() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.set_broadcast(true).unwrap();
            assert!(socket.broadcast().unwrap());
            socket.set_ttl(9).unwrap();
            assert_eq!(socket.ttl().unwrap(), 9);
            socket.set_multicast_ttl_v4(3).unwrap();
            assert_eq!(socket.multicast_ttl_v4().unwrap(), 3);
            socket.set_multicast_loop_v4(false).unwrap();
            assert!(!socket.multicast_loop_v4().unwrap());
            assert!(socket.take_error().unwrap().is_none());
        });
    });
}
