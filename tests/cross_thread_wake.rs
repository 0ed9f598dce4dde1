//! Wakes that come from other threads (invariant 2), and wakers whose last
//! reference dies on another thread while the future itself is still dropped
//! on the loop thread (invariant 1).
//!
//! Scenario: a task parks on a [`Gate`](common::Gate) (or hands its waker to a
//! std thread); the thread waits until the task is pending, sleeps a little so
//! the loop is parked in the OS poller, then wakes it. The loop must wake up
//! and finish; the watchdog fails the test if the wake is lost.

mod common;

use std::future::poll_fn;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use common::{Counters, DropCount, Gate, LIMIT, watchdog};

/// How long the waking thread waits so that the loop is parked when the wake
/// arrives. Only lets the scenario reach the parked state; nothing is timed.
const LET_IT_PARK: Duration = Duration::from_millis(20);

/// Opens `gate` from a new thread once a waiter is pending on it.
fn open_from_thread(gate: &Gate) -> thread::JoinHandle<()> {
    let gate = gate.clone();
    thread::spawn(move || {
        while !gate.has_waiter() {
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(LET_IT_PARK);
        gate.open();
    })
}

fn wake_a_parked_task(rt: evloop::Runtime) {
    let loop_thread = thread::current().id();
    let counters = Counters::new();
    let gate = Gate::new();
    let handle = rt.spawn(counters.probe(gate.wait()));
    counters.assert("spawn", 0, 0, 0);

    let opener = open_from_thread(&gate);
    rt.block_on(handle).expect("the task completes");
    counters.assert("the task completed", 2, 1, 1);
    assert_eq!(counters.drop_threads(), [loop_thread]);
    assert_eq!(counters.overlaps(), 0);
    opener.join().expect("the opener thread does not panic");
}

#[test]
fn a_wake_from_another_thread_unparks_the_real_clock_loop() {
    watchdog(LIMIT, || wake_a_parked_task(common::real()));
}

#[test]
fn a_wake_from_another_thread_unparks_the_paused_clock_loop() {
    // No timer is armed, so the paused clock cannot move: the loop must park
    // and wait for the other thread.
    watchdog(LIMIT, || wake_a_parked_task(common::paused()));
}

#[test]
fn a_wake_of_the_main_future_from_another_thread_unparks_the_loop() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let gate = Gate::new();
        let opener = open_from_thread(&gate);
        rt.block_on(counters.probe(gate.wait()));
        counters.assert("block_on returned", 2, 1, 1);
        opener.join().expect("the opener thread does not panic");
    });
}

#[test]
fn a_hundred_park_and_wake_rounds_from_another_thread_lose_nothing() {
    const ROUNDS: usize = 100;
    watchdog(LIMIT, || {
        let rt = common::real();
        let gates: Vec<Gate> = (0..ROUNDS).map(|_| Gate::new()).collect();
        let counters = Counters::new();
        let waits: Vec<_> = gates.iter().map(Gate::wait).collect();
        let task = rt.spawn(counters.probe(async move {
            for wait in waits {
                wait.await;
            }
        }));
        let opener = thread::spawn(move || {
            for gate in gates {
                while !gate.has_waiter() {
                    thread::sleep(Duration::from_micros(100));
                }
                gate.open();
            }
        });
        rt.block_on(task).expect("the task completes");
        counters.assert("every round", ROUNDS + 1, ROUNDS, 1);
        opener.join().expect("the opener thread does not panic");
    });
}

#[test]
fn many_threads_waking_one_task_at_once_lose_no_wake() {
    const THREADS: usize = 8;
    const WAKES: usize = 1_000;
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let task = {
            let slot = slot.clone();
            let woken = woken.clone();
            rt.spawn(counters.probe(poll_fn(move |cx| {
                *slot.lock().unwrap() = Some(cx.waker().clone());
                // Done once every thread finished all its wakes.
                if woken.load(std::sync::atomic::Ordering::SeqCst) == THREADS * WAKES {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })))
        };
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let slot = slot.clone();
                let woken = woken.clone();
                thread::spawn(move || {
                    for _ in 0..WAKES {
                        let waker = loop {
                            if let Some(w) = slot.lock().unwrap().clone() {
                                break w;
                            }
                            thread::yield_now();
                        };
                        woken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        waker.wake();
                    }
                })
            })
            .collect();
        rt.block_on(task).expect("the task completes");
        for t in threads {
            t.join().expect("a waking thread does not panic");
        }
        // Wakes coalesce (a task is queued at most once), so the polls are
        // between 2 and one per wake plus the first.
        let polls = counters.polls();
        assert!(
            (2..=THREADS * WAKES + 1).contains(&polls),
            "polls = {polls}"
        );
        assert_eq!(counters.wakes(), THREADS * WAKES);
        assert_eq!(counters.drops(), 1);
        assert_eq!(counters.overlaps(), 0);
        drop(slot);
    });
}

/// A future that hands its waker to `tx` at the first poll and completes at
/// the second, with an output whose drops are counted.
fn hand_out_waker(
    tx: mpsc::Sender<Waker>,
    outputs: DropCount,
) -> impl std::future::Future<Output = common::Token> {
    let mut polled = false;
    poll_fn(move |cx| {
        if polled {
            Poll::Ready(outputs.token(7))
        } else {
            polled = true;
            tx.send(cx.waker().clone())
                .expect("the waker thread is alive");
            Poll::Pending
        }
    })
}

#[test]
fn the_last_waker_dropped_on_another_thread_leaves_the_drop_on_the_loop_thread() {
    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let rt = common::real();
        let counters = Counters::new();
        let outputs = DropCount::new();
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let waker = waker_rx.recv().expect("the task sends its waker");
            let spare = waker.clone();
            waker.wake_by_ref();
            // Keep both until the task is gone, then drop them here: the last
            // references to the task die on this thread.
            release_rx.recv().expect("the test releases the waker");
            spare.wake(); // the task completed: a no-op
            drop(waker);
            thread::current().id()
        });

        let handle = rt.spawn(counters.probe(hand_out_waker(waker_tx, outputs.clone())));
        let output = rt.block_on(handle).expect("the task completes");
        assert_eq!(output.value, 7);
        counters.assert("the task completed", 2, 1, 1);
        assert_eq!(counters.drop_threads(), [loop_thread]);
        drop(output);
        assert_eq!(outputs.get(), 1);

        release_tx
            .send(())
            .expect("the holder waits for the release");
        let holder_thread = holder.join().expect("the holder does not panic");
        assert_ne!(holder_thread, loop_thread);
        // Nothing of the future ran again on the holder thread.
        counters.assert("the last waker dropped elsewhere", 2, 2, 1);
        assert_eq!(outputs.get(), 1);
    });
}

#[test]
fn a_detached_task_cancelled_at_shutdown_is_dropped_on_the_loop_thread_even_if_a_thread_holds_its_waker()
 {
    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let rt = common::real();
        let counters = Counters::new();
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let waker = waker_rx.recv().expect("the task sends its waker");
            release_rx.recv().expect("the test releases the waker");
            waker.wake(); // the task was cancelled: a no-op, then the last reference goes
        });

        // The task never completes: it hands out its waker and stays pending.
        let handle = rt.spawn(counters.probe(poll_fn(move |cx| {
            // The receiver lives until the runtime is gone; a second poll
            // (there is none) would find the channel still open.
            let _ = waker_tx.send(cx.waker().clone());
            Poll::<()>::Pending
        })));
        drop(handle); // detached
        rt.block_on(common::yield_until(|| counters.polls() == 1));
        counters.assert("the task is pending", 1, 0, 0);

        drop(rt);
        counters.assert("runtime dropped", 1, 0, 1);
        assert_eq!(counters.drop_threads(), [loop_thread]);

        release_tx
            .send(())
            .expect("the holder waits for the release");
        holder.join().expect("the holder does not panic");
        counters.assert("the last waker woken and dropped elsewhere", 1, 1, 1);
    });
}
