//! A peer that goes away while this side waits: a read waiting for data
//! and a write waiting for buffer space both wake, with the error that says
//! what happened (end of file on a close, `ConnectionReset` on a reset,
//! `BrokenPipe` or `ConnectionReset` for a write that can never complete).
//!
//! The peer is a plain std socket, so the test decides exactly when it
//! closes. Linux sends a reset (RST) instead of a close (FIN) when a socket is
//! closed with unread data in its receive buffer; the reset tests use that,
//! since std has no stable way to set `SO_LINGER` to zero.

mod common;

use std::io::{ErrorKind, Write};
use std::net::Shutdown;
use std::rc::Rc;
use std::time::Duration;

use evloop::net::TcpStream;
use evloop::time::sleep;

use common::{Counters, connected_to_std_peer, watchdog};

const WATCHDOG: Duration = Duration::from_secs(30);

/// More than any socket buffer holds: a write of this size must wait.
const HUGE: usize = 64 << 20;

/// Waits until every probed task has returned `Pending` and then stayed
/// unpolled across a pause: it is parked on the socket, not making progress.
async fn until_parked(views: &[&Counters]) {
    loop {
        let before: Vec<usize> = views.iter().map(|v| v.polls()).collect();
        sleep(Duration::from_millis(20)).await;
        let still = views
            .iter()
            .zip(&before)
            .all(|(v, &polls)| v.waiting() && v.polls() == polls);
        if still {
            return;
        }
    }
}

/// Spawns a task reading once from `stream`, and one writing `HUGE` bytes.
#[allow(clippy::type_complexity)]
fn spawn_reader_and_writer(
    stream: &Rc<TcpStream>,
) -> (
    (evloop::JoinHandle<std::io::Result<usize>>, Counters),
    (evloop::JoinHandle<std::io::Result<()>>, Counters),
) {
    let reader = stream.clone();
    let read_view = Counters::new();
    let reading = read_view.probe(async move {
        let mut buf = [0u8; 1024];
        reader.read(&mut buf).await
    });
    let writer = stream.clone();
    let write_view = Counters::new();
    let writing = write_view.probe(async move { writer.write_all(&vec![7u8; HUGE]).await });
    (
        (evloop::spawn(reading), read_view),
        (evloop::spawn(writing), write_view),
    )
}

fn is_write_failure(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset)
}

#[test]
fn peer_close_wakes_the_reader_with_eof_and_the_blocked_writer_with_an_error() {
    watchdog(WATCHDOG, || {
        evloop::run(async {
            let (stream, peer) = connected_to_std_peer().await;
            let stream = Rc::new(stream);
            let ((reading, read_view), (writing, write_view)) = spawn_reader_and_writer(&stream);
            until_parked(&[&read_view, &write_view]).await;

            // The peer closes its sending side (FIN): the reader wakes with
            // end of file; the writer is untouched (a half close).
            peer.shutdown(Shutdown::Write).unwrap();
            assert_eq!(reading.await.unwrap().unwrap(), 0);
            assert!(
                !writing.is_finished(),
                "a half close must not end the write"
            );

            // The peer closes entirely with our bytes unread, so Linux resets
            // the connection: the writer can never finish, and says so.
            drop(peer);
            let err = writing.await.unwrap().unwrap_err();
            assert!(is_write_failure(err.kind()), "write failed with {err:?}");
        });
    });
}

#[test]
fn peer_reset_wakes_the_waiting_reader_and_the_blocked_writer_with_errors() {
    watchdog(WATCHDOG, || {
        evloop::run(async {
            let (stream, peer) = connected_to_std_peer().await;
            let stream = Rc::new(stream);
            let ((reading, read_view), (writing, write_view)) = spawn_reader_and_writer(&stream);
            until_parked(&[&read_view, &write_view]).await;

            // Closed with our bytes unread: a reset, not a close.
            drop(peer);
            let read_err = reading.await.unwrap().unwrap_err();
            assert_eq!(
                read_err.kind(),
                ErrorKind::ConnectionReset,
                "read: {read_err:?}"
            );
            let write_err = writing.await.unwrap().unwrap_err();
            assert!(is_write_failure(write_err.kind()), "write: {write_err:?}");
        });
    });
}

#[test]
fn peer_reset_wakes_a_lone_waiting_reader() {
    watchdog(WATCHDOG, || {
        evloop::run(async {
            let (stream, peer) = connected_to_std_peer().await;
            // A few bytes the peer never reads, so its close is a reset.
            stream.write_all(b"never read").await.unwrap();
            let stream = Rc::new(stream);
            let reader = stream.clone();
            let view = Counters::new();
            let reading = view.probe(async move {
                let mut buf = [0u8; 16];
                reader.read(&mut buf).await
            });
            let reading = evloop::spawn(reading);
            until_parked(&[&view]).await;
            drop(peer);
            let err = reading.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "read: {err:?}");
        });
    });
}

#[test]
fn peer_close_midway_through_read_exact_is_unexpected_eof() {
    let err = watchdog(WATCHDOG, || {
        evloop::run(async {
            let (stream, mut peer) = connected_to_std_peer().await;
            let stream = Rc::new(stream);
            let reader = stream.clone();
            let view = Counters::new();
            let reading = view.probe(async move {
                let mut buf = [0u8; 10];
                reader.read_exact(&mut buf).await
            });
            let reading = evloop::spawn(reading);
            peer.write_all(b"abcd").unwrap();
            until_parked(&[&view]).await;
            drop(peer);
            reading.await.unwrap().unwrap_err()
        })
    });
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("4 of 10"), "message: {err}");
}

#[test]
fn the_loop_goes_on_after_a_connection_fails() {
    watchdog(WATCHDOG, || {
        evloop::run(async {
            let (broken, peer) = connected_to_std_peer().await;
            broken.write_all(b"unread").await.unwrap();
            drop(peer);
            let mut buf = [0u8; 4];
            // The reset is reported to the reader...
            let err = broken.read(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset);
            // ...and another connection on the same loop works as before.
            let (healthy, mut other) = connected_to_std_peer().await;
            other.write_all(b"fine").unwrap();
            healthy.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"fine");
        });
    });
}
