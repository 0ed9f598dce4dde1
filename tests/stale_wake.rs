//! A read future dropped while it waits (by `time::timeout` or `select`)
//! leaves no waker behind: data arriving later does not poll its task.
//!
//! Each test runs a *subject* task, whose read is dropped midway and which
//! then waits on something unrelated forever, beside a *control* task whose
//! read stays. Both peers send data at the same moment; the control's wake-up
//! proves the reactor saw the data, and the subject's poll count, unchanged,
//! proves that it did not hear of it.

mod common;

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use evloop::time::{sleep, timeout};
use evloop::{Either, select};

use common::{Counters, connected_to_std_peer, watchdog};

const WATCHDOG: Duration = Duration::from_secs(30);

/// How the subject's read is dropped midway.
#[derive(Clone, Copy, Debug)]
enum DropBy {
    Timeout,
    Select,
}

fn dropped_read_leaves_no_stale_wake(how: DropBy) {
    watchdog(WATCHDOG, move || {
        evloop::run(async move {
            let (subject_stream, mut subject_peer) = connected_to_std_peer().await;
            let (control_stream, mut control_peer) = connected_to_std_peer().await;
            let subject_stream = Rc::new(subject_stream);

            // The subject: a read that waits, then is dropped; then a wait on
            // something that never comes.
            let parked = Rc::new(Cell::new(false));
            let subject_polls = Counters::new();
            let subject = subject_polls.probe({
                let stream = subject_stream.clone();
                let parked = parked.clone();
                async move {
                    let mut buf = [0u8; 8];
                    let limit = Duration::from_millis(20);
                    match how {
                        DropBy::Timeout => {
                            let read = timeout(limit, stream.read(&mut buf)).await;
                            assert!(read.is_err(), "the silent peer sent {read:?}");
                        }
                        DropBy::Select => {
                            let read = select(stream.read(&mut buf), sleep(limit)).await;
                            assert!(matches!(read, Either::Right(())), "{read:?}");
                        }
                    }
                    parked.set(true);
                    std::future::pending::<()>().await;
                }
            });
            let subject = evloop::spawn(subject);

            // The control: a read that stays.
            let control_polls = Counters::new();
            let control = control_polls.probe(async move {
                let mut buf = [0u8; 8];
                let n = control_stream.read(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            let control = evloop::spawn(control);

            while !parked.get() {
                sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(control_polls.polls(), 1, "the control waits after one poll");
            let polls_before = subject_polls.polls();

            // Data for both, in the same instant.
            subject_peer.write_all(b"late").unwrap();
            control_peer.write_all(b"now").unwrap();
            assert_eq!(control.await.unwrap(), b"now");
            assert_eq!(control_polls.polls(), 2, "one wake-up, one more poll");
            // Give a late, stale wake-up every chance to show.
            sleep(Duration::from_millis(20)).await;
            assert_eq!(
                subject_polls.polls(),
                polls_before,
                "{how:?}: the dropped read's waker woke its task"
            );

            // Nothing was lost either: the next read takes the data at once.
            let mut buf = [0u8; 8];
            let n = subject_stream.try_read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"late");
            subject.abort();
        });
    });
}

#[test]
fn a_read_dropped_by_timeout_leaves_no_stale_wake() {
    dropped_read_leaves_no_stale_wake(DropBy::Timeout);
}

#[test]
fn a_read_dropped_by_select_leaves_no_stale_wake() {
    dropped_read_leaves_no_stale_wake(DropBy::Select);
}

#[test]
fn a_dropped_write_leaves_the_reader_its_wake_up() {
    // Read and write wait in separate waker slots: cancelling a blocked
    // write must not forget the waiting reader of the same socket.
    watchdog(WATCHDOG, || {
        evloop::run(async {
            let (stream, mut peer) = connected_to_std_peer().await;
            let stream = Rc::new(stream);
            let reader = stream.clone();
            let read_polls = Counters::new();
            let reading = read_polls.probe(async move {
                let mut buf = [0u8; 8];
                let n = reader.read(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            let reading = evloop::spawn(reading);
            evloop::yield_now().await;
            assert_eq!(read_polls.polls(), 1);
            // A write that cannot finish (nobody reads the peer), dropped.
            let huge = vec![0u8; 64 << 20];
            let write = timeout(Duration::from_millis(20), stream.write_all(&huge)).await;
            assert!(write.is_err(), "64 MiB cannot fit in socket buffers");
            peer.write_all(b"still").unwrap();
            assert_eq!(reading.await.unwrap(), b"still");
        });
    });
}
