//! Behaviour of `evloop::sync::mpsc`: back-pressure (a full channel makes
//! `send` wait, shown on the virtual clock), FIFO among waiting senders,
//! close semantics, many producers (tasks and threads), and cancelled sends
//! and receives that lose nothing and leave no ghost slot.
//!
//! Every test runs under a watchdog thread, so a lost wake-up fails the test
//! instead of hanging it. Time comes from the paused clock.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use common::{DropCount, LIMIT, counting_waker, paused, poll_with, watchdog};
use evloop::sync::Semaphore;
use evloop::sync::mpsc::{SendError, TryRecvError, TrySendError, channel};
use evloop::time::{Instant, sleep, timeout};
use evloop::{Either, Runtime, select, spawn, yield_now};
use futures_util::stream::{FusedStream, Stream, StreamExt};

/// Capacity 2, a consumer that takes one item per second after 3 s: the
/// first two sends finish at once, every later one waits for a free slot,
/// and the virtual clock shows exactly when.
#[test]
fn a_full_channel_makes_send_wait() {
    watchdog(LIMIT, || {
        let rt = paused();
        let (sent_at, received) = rt.block_on(async {
            let (tx, mut rx) = channel(2);
            let start = Instant::now();
            let consumer = spawn(async move {
                sleep(Duration::from_secs(3)).await;
                let mut received = Vec::new();
                while let Some(item) = rx.recv().await {
                    received.push(item);
                    sleep(Duration::from_secs(1)).await;
                }
                received
            });
            let mut sent_at = Vec::new();
            for item in 0..5 {
                tx.send(item).await.expect("the consumer is alive");
                sent_at.push(start.elapsed().as_secs());
                assert!(tx.len() <= tx.capacity(), "never more than the capacity");
            }
            drop(tx);
            (sent_at, consumer.await.expect("the consumer ran"))
        });
        // Items 0 and 1 fit; 2 waits for the pop at 3 s, 3 for 4 s, 4 for 5 s.
        assert_eq!(sent_at, [0, 0, 3, 4, 5]);
        assert_eq!(received, [0, 1, 2, 3, 4]);
    });
}

/// Senders waiting on a full channel get their slots in arrival order.
#[test]
fn waiting_senders_go_in_arrival_order() {
    watchdog(LIMIT, || {
        let rt = paused();
        let received = rt.block_on(async {
            let (tx, mut rx) = channel(1);
            tx.send("first").await.expect("fits");
            let mut senders = Vec::new();
            for name in ["a", "b", "c", "d"] {
                let tx = tx.clone();
                senders.push(spawn(async move { tx.send(name).await }));
                yield_now().await; // this one waits before the next starts
            }
            // A newcomer cannot jump the queue with try_send even when a
            // slot has just been freed for a waiter.
            assert_eq!(rx.recv().await, Some("first"));
            assert_eq!(tx.try_send("barger"), Err(TrySendError::Full("barger")));
            drop(tx);
            let mut received = Vec::new();
            while let Some(item) = rx.recv().await {
                received.push(item);
            }
            for sender in senders {
                sender.await.expect("ran").expect("sent");
            }
            received
        });
        assert_eq!(received, ["a", "b", "c", "d"]);
    });
}

/// `close`: waiting and later sends fail with their item back, queued items
/// are still received, then `recv` returns `None`.
#[test]
fn close_fails_senders_but_keeps_queued_items() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let (tx, mut rx) = channel(2);
            tx.send(1).await.expect("fits");
            tx.send(2).await.expect("fits");
            let waiting = {
                let tx = tx.clone();
                spawn(async move { tx.send(3).await })
            };
            yield_now().await; // it waits: the channel is full
            assert!(!tx.is_closed());
            rx.close();
            assert!(tx.is_closed());
            let err: SendError<i32> = waiting.await.expect("ran").expect_err("closed");
            assert_eq!(err.into_inner(), 3, "the item comes back");
            assert_eq!(tx.send(4).await.expect_err("closed").0, 4);
            assert_eq!(tx.try_send(5), Err(TrySendError::Closed(5)));
            assert_eq!(rx.len(), 2);
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(rx.recv().await, None, "closed and drained, senders or not");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    });
}

/// Dropping the receiver fails the senders and drops the queued items
/// exactly once.
#[test]
fn dropping_the_receiver_drops_queued_items_once() {
    watchdog(LIMIT, || {
        let drops = DropCount::new();
        let (tx, rx) = channel(3);
        for _ in 0..3 {
            tx.try_send(drops.token(0)).expect("fits");
        }
        assert_eq!(drops.get(), 0);
        drop(rx);
        assert_eq!(drops.get(), 3);
        assert!(tx.is_closed());
        let back = tx.try_send(drops.token(0)).expect_err("closed");
        assert_eq!(drops.get(), 3, "handed back, not dropped");
        drop(back);
        assert_eq!(drops.get(), 4);
    });
}

/// `recv` returns `None` only when every sender is gone and the queue is
/// empty; a parked `recv` wakes when the last sender drops.
#[test]
fn recv_ends_when_the_last_sender_goes() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let (tx, mut rx) = channel::<u8>(4);
            let tx2 = tx.clone();
            tx.send(1).await.expect("fits");
            drop(tx);
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "tx2 still lives");
            let waiting = spawn(async move { rx.recv().await });
            yield_now().await; // it parks
            drop(tx2);
            assert_eq!(waiting.await.expect("ran"), None);
        });
    });
}

/// Ten producer tasks and four producer threads, 100 items each, into a
/// channel of 4: everything arrives, each producer's items in order.
#[test]
fn many_producers_tasks_and_threads() {
    watchdog(LIMIT, || {
        const TASKS: usize = 10;
        const THREADS: usize = 4;
        const EACH: usize = 100;
        let rt = Runtime::new().expect("a runtime");
        let (tx, mut rx) = channel::<(usize, usize)>(4);
        let mut threads = Vec::new();
        for p in TASKS..TASKS + THREADS {
            let tx = tx.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..EACH {
                    tx.blocking_send((p, i)).expect("the receiver is alive");
                }
            }));
        }
        let next = rt.block_on(async move {
            for p in 0..TASKS {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..EACH {
                        tx.send((p, i)).await.expect("the receiver is alive");
                        if i % 7 == 0 {
                            yield_now().await;
                        }
                    }
                });
            }
            drop(tx);
            let mut next = vec![0; TASKS + THREADS];
            while let Some((p, i)) = rx.recv().await {
                assert_eq!(i, next[p], "producer {p}'s items arrive in order");
                next[p] += 1;
            }
            next
        });
        for thread in threads {
            thread.join().expect("the producer thread finished");
        }
        assert_eq!(next, vec![EACH; TASKS + THREADS]);
    });
}

/// A send that times out while waiting was not sent, and leaves no ghost
/// slot: afterwards the channel holds exactly `capacity` items again.
#[test]
fn a_cancelled_send_leaves_no_ghost_slot() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let (tx, mut rx) = channel(2);
            tx.send(1).await.expect("fits");
            tx.send(2).await.expect("fits");
            let gave_up = timeout(Duration::from_secs(1), tx.send(99)).await;
            assert!(gave_up.is_err(), "the channel was full");
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(tx.try_send(3), Ok(()), "the freed slot is free");
            assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)), "and only one");
            drop(tx);
            let mut rest = Vec::new();
            while let Some(item) = rx.recv().await {
                rest.push(item);
            }
            assert_eq!(rest, [2, 3], "the cancelled item was never sent");
        });
    });
}

/// A send handed a slot, then cancelled before it runs, passes the slot to
/// the next waiting sender (polled by hand, every wake counted).
#[test]
fn a_send_cancelled_after_its_wake_passes_the_slot_on() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).expect("fits");
        let (a_wakes, a_waker) = counting_waker();
        let (b_wakes, b_waker) = counting_waker();
        let mut a = tx.send(1);
        let mut b = tx.send(2);
        assert!(poll_with(&mut a, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // frees the slot: handed to A
        assert_eq!(a_wakes.wakes(), 1);
        assert_eq!(b_wakes.wakes(), 0);
        drop(a); // A gives up before it runs: B gets the slot
        assert_eq!(b_wakes.wakes(), 1);
        assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
        assert_eq!(rx.try_recv(), Ok(2), "A's item was not sent");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.try_send(3), Ok(()), "no slot was lost");
    });
}

/// A `recv` that loses a race (a `select` against a timer) takes nothing: the
/// item sent later is there for the next `recv`.
#[test]
fn a_cancelled_recv_loses_nothing() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let (tx, mut rx) = channel(1);
            match select(rx.recv(), sleep(Duration::from_secs(1))).await {
                Either::Left(item) => panic!("nothing was sent, got {item:?}"),
                Either::Right(()) => {}
            }
            tx.send("kept").await.expect("the receiver is alive");
            assert_eq!(rx.recv().await, Some("kept"));
        });
    });
}

/// A producer with random-ish pauses and a consumer that keeps timing out
/// its `recv`: every item arrives once, in order.
#[test]
fn recv_under_repeated_timeouts_loses_nothing() {
    watchdog(LIMIT, || {
        const ITEMS: u64 = 200;
        let rt = paused();
        let (received, timeouts) = rt.block_on(async {
            let (tx, mut rx) = channel(3);
            spawn(async move {
                let mut seed = 7u64;
                for i in 0..ITEMS {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    sleep(Duration::from_millis((seed >> 33) % 20)).await;
                    tx.send(i).await.expect("the receiver is alive");
                }
            });
            let received = Rc::new(RefCell::new(Vec::new()));
            let mut timeouts = 0;
            loop {
                match timeout(Duration::from_millis(7), rx.recv()).await {
                    Ok(Some(item)) => received.borrow_mut().push(item),
                    Ok(None) => break,
                    Err(_) => timeouts += 1,
                }
            }
            (received.take(), timeouts)
        });
        assert!(timeouts > 0, "some receives were cancelled");
        assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
    });
}

/// `len` and `capacity` report the state.
#[test]
fn len_and_capacity() {
    watchdog(LIMIT, || {
        let (tx, rx) = channel::<u8>(1);
        assert_eq!((tx.capacity(), rx.capacity()), (1, 1));
        assert!(tx.is_empty() && rx.is_empty());
        tx.try_send(1).expect("one slot");
        assert_eq!((tx.len(), rx.len()), (1, 1));
        assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
        assert_eq!(
            TrySendError::Full(2).to_string(),
            "channel: cannot send without waiting, the channel is full"
        );
        // A capacity no queue can reach is taken as the semaphore's maximum.
        let (huge, _rx) = channel::<u8>(usize::MAX);
        assert_eq!(huge.capacity(), Semaphore::MAX_PERMITS);
    });
}

/// A channel that can hold nothing is a bug at the call site: `channel(0)`
/// panics with a message that says so (it used to be taken as 1 in silence).
#[test]
#[should_panic(expected = "evloop::sync::mpsc::channel: the capacity must be at least 1, got 0")]
fn a_zero_capacity_panics() {
    let _ = channel::<u8>(0);
}

// ---- The receiver as a `futures_core::Stream` ----

/// The scenario: producer tasks and a producer thread, the receiver
/// read through futures-util's `map` and `collect`, which end once every
/// sender is gone.
#[test]
fn the_receiver_is_a_stream_that_ends_when_the_senders_drop() {
    watchdog(LIMIT, || {
        let rt = paused();
        let collected = rt.block_on(async {
            let (tx, rx) = channel::<u32>(2);
            for task in 0..3u32 {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..4 {
                        sleep(Duration::from_millis(10)).await;
                        tx.send(task * 100 + i)
                            .await
                            .expect("the receiver is alive");
                    }
                });
            }
            let from_thread = tx.clone();
            let thread = std::thread::spawn(move || {
                for i in 0..4 {
                    from_thread
                        .blocking_send(900 + i)
                        .expect("the receiver is alive");
                }
            });
            drop(tx);
            let start = Instant::now();
            let mut collected: Vec<u32> = rx.map(|n| n * 2).collect().await;
            // The three tasks send their last items at 40 ms.
            assert_eq!(start.elapsed(), Duration::from_millis(40));
            thread.join().expect("the thread sent everything");
            collected.sort_unstable();
            collected
        });
        let mut expected: Vec<u32> = [0u32, 100, 200, 900]
            .iter()
            .flat_map(|base| (0..4).map(move |i| (base + i) * 2))
            .collect();
        expected.sort_unstable();
        assert_eq!(collected, expected);
    });
}

/// `poll_next` by hand: Pending while empty with a sender alive, woken once
/// by a send and once by the last sender's drop; `size_hint` and
/// `is_terminated` track the state at every step.
#[test]
fn stream_polls_pend_wake_and_end() {
    watchdog(LIMIT, || {
        let (wakes, waker) = counting_waker();
        let (tx, mut rx) = channel::<u8>(2);
        assert_eq!(rx.size_hint(), (0, None));
        assert!(!rx.is_terminated());

        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Pending);
        assert_eq!(wakes.wakes(), 0, "nothing sent yet");

        tx.try_send(1).expect("fits");
        assert_eq!(wakes.wakes(), 1, "the send woke the stream");
        tx.try_send(2).expect("fits");
        assert_eq!(wakes.wakes(), 1, "no waker is stored once it was taken");
        assert_eq!(rx.size_hint(), (2, None));

        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(Some(1)));
        drop(tx);
        assert_eq!(wakes.wakes(), 1, "no poll was pending when the sender went");
        assert_eq!(rx.size_hint(), (1, Some(1)), "no more can come");
        assert!(!rx.is_terminated(), "one item is still queued");
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(Some(2)));
        assert_eq!(rx.size_hint(), (0, Some(0)));
        assert!(rx.is_terminated());
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(None));
        assert_eq!(
            poll_with(&mut rx.next(), &waker),
            Poll::Ready(None),
            "fused"
        );

        // A pending poll is woken by the last sender's drop.
        let (tx, mut rx) = channel::<u8>(1);
        let (wakes, waker) = counting_waker();
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Pending);
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(wakes.wakes(), 0, "a sender remains");
        drop(tx2);
        assert_eq!(wakes.wakes(), 1, "the last sender's drop woke it");
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(None));

        // Closing the receiver ends the stream once it is drained.
        let (tx, mut rx) = channel::<u8>(1);
        tx.try_send(5).expect("fits");
        rx.close();
        assert_eq!(rx.size_hint(), (1, Some(1)));
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(Some(5)));
        assert!(rx.is_terminated());
        assert_eq!(poll_with(&mut rx.next(), &waker), Poll::Ready(None));
    });
}

/// `next()` dropped midway (it lost a `select` against a timer) loses no
/// item: each one arrives once, in order.
#[test]
fn a_cancelled_next_loses_nothing() {
    watchdog(LIMIT, || {
        const ITEMS: u64 = 100;
        let rt = paused();
        let (received, lost_races) = rt.block_on(async {
            let (tx, mut rx) = channel(2);
            spawn(async move {
                for i in 0..ITEMS {
                    sleep(Duration::from_millis(if i % 3 == 0 { 9 } else { 1 })).await;
                    tx.send(i).await.expect("the receiver is alive");
                }
            });
            let mut received = Vec::new();
            let mut lost_races = 0;
            loop {
                match select(rx.next(), sleep(Duration::from_millis(5))).await {
                    Either::Left(Some(item)) => received.push(item),
                    Either::Left(None) => break,
                    Either::Right(()) => lost_races += 1,
                }
            }
            (received, lost_races)
        });
        assert!(lost_races > 0, "some `next()` futures were dropped midway");
        assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
    });
}
