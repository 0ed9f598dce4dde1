//! Behaviour of `evloop::sync::oneshot`: a value sent from a std thread
//! wakes a parked loop, a sender dropped without sending is an error for the
//! receiver, a send to a gone receiver gives the value back, and a value is
//! never lost by a cancelled wait nor dropped twice.
//!
//! Every test runs under a watchdog thread, so a lost wake-up fails the test
//! instead of hanging it.

mod common;

use std::time::Duration;

use common::{Counters, DropCount, LIMIT, watchdog};
use evloop::Runtime;
use evloop::sync::oneshot::{self, RecvError, TryRecvError};
use evloop::time::timeout;

/// The loop parks (no task ready, no timer) until a std thread sends; the
/// send wakes it, and the receiver is polled exactly twice: once to find
/// nothing, once to take the value.
#[test]
fn a_send_from_a_thread_wakes_the_parked_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().expect("a runtime");
        let (tx, rx) = oneshot::channel();
        let counters = Counters::new();
        let thread = std::thread::spawn(move || {
            // Long enough that the loop is parked in the poller by then.
            std::thread::sleep(Duration::from_millis(50));
            tx.send(String::from("from a thread"))
                .expect("receiver alive");
        });
        let received = rt.block_on(counters.probe(rx));
        thread.join().expect("the sender thread finished");
        assert_eq!(received, Ok(String::from("from a thread")));
        assert_eq!(counters.polls(), 2, "one wait, one wake");
    });
}

/// A spawned task awaits the receiver while the main future waits on
/// something else; a thread's send still reaches the task.
#[test]
fn a_send_from_a_thread_reaches_a_spawned_task() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().expect("a runtime");
        let doubled = rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let task = evloop::spawn(async move { rx.await.map(|v| v * 2) });
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(21).expect("receiver alive");
            });
            task.await.expect("the task ran")
        });
        assert_eq!(doubled, Ok(42));
    });
}

/// Many threads, one oneshot each: every value arrives.
#[test]
fn many_threads_each_send_one_value() {
    watchdog(LIMIT, || {
        const THREADS: usize = 16;
        let rt = Runtime::new().expect("a runtime");
        let sum = rt.block_on(async {
            let mut receivers = Vec::new();
            for i in 0..THREADS {
                let (tx, rx) = oneshot::channel();
                receivers.push(rx);
                std::thread::spawn(move || tx.send(i).expect("receiver alive"));
            }
            let mut sum = 0;
            for rx in receivers {
                sum += rx.await.expect("sent");
            }
            sum
        });
        assert_eq!(sum, (0..THREADS).sum::<usize>());
    });
}

/// A sender dropped without sending: the waiting receiver wakes with
/// `RecvError`, on the loop or from a thread.
#[test]
fn the_receiver_errors_when_the_sender_is_dropped() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().expect("a runtime");
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u8>();
            let waiting = evloop::spawn(rx);
            evloop::yield_now().await; // the receiver is waiting now
            drop(tx);
            let err: RecvError = waiting.await.expect("ran").expect_err("sender dropped");
            assert_eq!(
                err.to_string(),
                "oneshot: the sender was dropped without sending a value"
            );

            let (tx, rx) = oneshot::channel::<u8>();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                drop(tx);
            });
            assert!(rx.await.is_err(), "dropped on a thread");
        });
    });
}

/// A send to a dropped or closed receiver fails and gives the value back,
/// and `is_closed` tells the sender beforehand.
#[test]
fn send_fails_when_the_receiver_is_gone() {
    watchdog(LIMIT, || {
        let (tx, rx) = oneshot::channel();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));

        let (tx, mut rx) = oneshot::channel();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send('x'), Err('x'));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert!(evloop::run(rx).is_err());
    });
}

/// A value sent before `close` can still be received.
#[test]
fn close_keeps_a_value_already_sent() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = oneshot::channel();
        tx.send(3).expect("receiver alive");
        rx.close();
        assert_eq!(evloop::run(rx), Ok(3));
    });
}

/// `try_recv` walks Empty -> value -> Closed.
#[test]
fn try_recv_states() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = oneshot::channel();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send("v").expect("receiver alive");
        assert_eq!(rx.try_recv(), Ok("v"));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

        let (tx, mut rx) = oneshot::channel::<()>();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A wait that times out loses nothing: awaiting `&mut rx` again later gets
/// the value sent meanwhile.
#[test]
fn a_cancelled_wait_loses_nothing() {
    watchdog(LIMIT, || {
        let rt = Runtime::builder()
            .paused_clock(true)
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let (tx, mut rx) = oneshot::channel();
            assert!(timeout(Duration::from_secs(1), &mut rx).await.is_err());
            tx.send(99).expect("the receiver is still alive");
            assert_eq!(timeout(Duration::from_secs(1), &mut rx).await, Ok(Ok(99)));
        });
    });
}

/// A value is dropped exactly once: received, or unreceived when the
/// receiver goes, or handed back by a failed send.
#[test]
fn values_are_dropped_exactly_once() {
    watchdog(LIMIT, || {
        let drops = DropCount::new();

        let (tx, rx) = oneshot::channel();
        tx.send(drops.token(0)).expect("receiver alive");
        assert_eq!(drops.get(), 0, "held in the slot");
        drop(rx);
        assert_eq!(drops.get(), 1, "dropped with the receiver");

        let (tx, rx) = oneshot::channel();
        tx.send(drops.token(0)).expect("receiver alive");
        let value = evloop::run(rx).expect("sent");
        assert_eq!(drops.get(), 1);
        drop(value);
        assert_eq!(drops.get(), 2);

        let (tx, rx) = oneshot::channel();
        drop(rx);
        let back = tx.send(drops.token(0)).expect_err("receiver gone");
        assert_eq!(drops.get(), 2, "handed back, not dropped");
        drop(back);
        assert_eq!(drops.get(), 3);
    });
}
