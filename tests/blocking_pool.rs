//! The blocking pool (`spawn_blocking`): many jobs without stalling the
//! loop, panics caught and handed over, a finished job waking a parked loop,
//! the thread cap, and idle threads going away.
//!
//! Pool threads are real threads and `std::thread::sleep` on them is real
//! time, so these tests use the real clock where they must, and then assert
//! only lower bounds (at least so many ticks) or orderings, never durations.

mod common;

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::{self, ThreadId};
use std::time::Duration;

use evloop::offload::{PoolKind, stats};
use evloop::time::{Instant, MissedTickBehavior, interval, sleep};
use evloop::{Either, Runtime, select, spawn_blocking};

use common::{Counters, Gate, report_exit, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

#[test]
fn two_hundred_blocking_jobs_do_not_stop_an_interval() {
    const JOBS: usize = 200;
    const JOB_TIME: Duration = Duration::from_millis(200);
    const PERIOD: Duration = Duration::from_millis(10);
    let (ticks_while_busy, results) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().build().unwrap();
        rt.block_on(async {
            let done = Arc::new(AtomicUsize::new(0));
            let jobs: Vec<_> = (0..JOBS)
                .map(|i| {
                    let done = done.clone();
                    spawn_blocking(move || {
                        thread::sleep(JOB_TIME);
                        done.fetch_add(1, SeqCst);
                        i
                    })
                })
                .collect();
            // The interval ticks on the loop while the jobs sleep on the pool.
            let ticks = Rc::new(Cell::new(0u32));
            let ticker = {
                let (ticks, done) = (ticks.clone(), done.clone());
                evloop::spawn(async move {
                    let mut every = interval(PERIOD);
                    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    loop {
                        every.tick().await;
                        if done.load(SeqCst) < JOBS {
                            ticks.set(ticks.get() + 1);
                        }
                    }
                })
            };
            let results: Vec<usize> = evloop::join_all(jobs)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            ticker.abort();
            (ticks.get(), results)
        })
    });
    assert_eq!(results, (0..JOBS).collect::<Vec<_>>());
    // Every job sleeps 200 ms, so the jobs were running for at least that
    // long; a loop that kept turning ticked about 20 times meanwhile. A
    // quarter of that is the (generous) lower bound.
    let at_least = (JOB_TIME.as_millis() / PERIOD.as_millis() / 4) as u32;
    assert!(
        ticks_while_busy >= at_least,
        "only {ticks_while_busy} ticks while the jobs ran (expected at least {at_least})"
    );
}

#[test]
fn a_panicking_job_is_a_join_error_with_its_payload_and_the_thread_survives() {
    let (before, after, threads) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let before = spawn_blocking(|| thread::current().id()).await.unwrap();

            // A formatted message: the payload is a `String`.
            let job = std::hint::black_box(7);
            let err = spawn_blocking(move || -> u32 { panic!("job {job} failed") })
                .await
                .unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(err.name(), Some("spawn_blocking"));
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("job 7 failed")
            );

            // Any payload at all travels unchanged.
            let err = spawn_blocking(|| std::panic::panic_any(vec![1u8, 2, 3]))
                .await
                .unwrap_err();
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<Vec<u8>>(), Some(&vec![1, 2, 3]));

            // The one thread of the pool caught both panics and goes on.
            let after = spawn_blocking(|| thread::current().id()).await.unwrap();
            (before, after, stats(PoolKind::Blocking).threads)
        })
    });
    assert_eq!(before, after, "the panics cost the pool its thread");
    assert_eq!(threads, 1);
}

#[test]
fn a_job_finishing_while_the_loop_is_parked_wakes_it() {
    // Nothing else is scheduled and no timer is set: the loop parks in the
    // OS poller with no timeout, and only the job's wake-up (through the
    // cross-thread waker) can bring it back.
    let polls = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().build().unwrap();
        rt.block_on(async {
            let counters = Counters::new();
            let job = counters.probe(spawn_blocking(|| {
                thread::sleep(Duration::from_millis(50));
                "done"
            }));
            assert_eq!(job.await.unwrap(), "done");
            counters.polls()
        })
    });
    // Once waiting, once done: the loop did not spin while it waited.
    assert_eq!(polls, 2);
}

#[test]
fn the_paused_clock_waits_for_a_running_job() {
    // Under the paused clock, time jumps to the next deadline when nothing
    // can happen; a job in flight can happen, so the hour-long sleep must
    // not win the race against a job that takes 50 ms of real time.
    let (winner, elapsed) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().paused_clock(true).build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let job = spawn_blocking(|| {
                thread::sleep(Duration::from_millis(50));
                42
            });
            let winner = select(job, sleep(Duration::from_secs(3600))).await;
            (winner, start.elapsed())
        })
    });
    assert!(matches!(winner, Either::Left(Ok(42))), "{winner:?}");
    assert_eq!(
        elapsed,
        Duration::ZERO,
        "virtual time moved while the job ran"
    );
}

#[test]
fn the_thread_cap_queues_jobs_behind_it() {
    const CAP: usize = 2;
    const JOBS: usize = 6;
    let (seen, max_running, results) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder()
            .max_blocking_threads(CAP)
            .build()
            .unwrap();
        rt.block_on(async {
            let gate = Gate::default();
            let running = Arc::new(AtomicUsize::new(0));
            let max_running = Arc::new(AtomicUsize::new(0));
            let jobs: Vec<_> = (0..JOBS)
                .map(|i| {
                    let (gate, running, max_running) =
                        (gate.clone(), running.clone(), max_running.clone());
                    spawn_blocking(move || {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        max_running.fetch_max(now, SeqCst);
                        gate.wait_blocking();
                        running.fetch_sub(1, SeqCst);
                        i
                    })
                })
                .collect();
            while running.load(SeqCst) < CAP {
                sleep(Duration::from_millis(1)).await;
            }
            // Give a third thread every chance to (wrongly) start.
            sleep(Duration::from_millis(30)).await;
            let seen = stats(PoolKind::Blocking);
            gate.open();
            let results: Vec<usize> = evloop::join_all(jobs)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            (seen, max_running.load(SeqCst), results)
        })
    });
    assert!(seen.threads <= CAP, "{seen:?}");
    assert_eq!(seen.busy, CAP, "{seen:?}");
    assert_eq!(seen.queued, JOBS - CAP, "{seen:?}");
    assert_eq!(max_running, CAP);
    assert_eq!(results, (0..JOBS).collect::<Vec<_>>());
}

#[test]
fn idle_threads_exit_after_the_idle_timeout() {
    const THREADS: usize = 3;
    watchdog(WATCHDOG, || {
        let (exits, exited) = mpsc::channel();
        let rt = Runtime::builder()
            .blocking_idle_timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        rt.block_on(async {
            // Three jobs that wait for one another need three threads.
            let all_here = Arc::new(Barrier::new(THREADS));
            let jobs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (all_here, exits) = (all_here.clone(), exits.clone());
                    spawn_blocking(move || {
                        report_exit(&exits);
                        all_here.wait();
                        thread::current().id()
                    })
                })
                .collect();
            let ids: HashSet<ThreadId> = evloop::join_all(jobs)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(ids.len(), THREADS);
            assert_eq!(stats(PoolKind::Blocking).threads, THREADS);

            // Idle, they leave: the count drops to zero and each thread ends.
            while stats(PoolKind::Blocking).threads > 0 {
                sleep(Duration::from_millis(10)).await;
            }
            let mut gone = HashSet::new();
            while gone.len() < THREADS {
                match exited.try_recv() {
                    Ok(id) => {
                        gone.insert(id);
                    }
                    Err(_) => sleep(Duration::from_millis(10)).await,
                }
            }
            assert_eq!(gone, ids);

            // The pool is not broken: a new job gets a new thread.
            let id = spawn_blocking(|| thread::current().id()).await.unwrap();
            assert!(!ids.contains(&id));
            assert_eq!(stats(PoolKind::Blocking).threads, 1);
        });
    });
}

#[test]
fn a_burst_of_jobs_does_not_queue_behind_one_idle_thread() {
    // One thread is left idle by a first job. Then two jobs that can only
    // finish together (each waits for the other at a barrier) arrive back to
    // back: the pool must start a second thread for the second job rather
    // than count the one idle thread for both.
    watchdog(Duration::from_secs(20), || {
        let rt = Runtime::builder().build().unwrap();
        rt.block_on(async {
            spawn_blocking(|| ()).await.unwrap();
            // Let the first thread settle into waiting for work.
            sleep(Duration::from_millis(20)).await;
            assert_eq!(stats(PoolKind::Blocking).threads, 1);
            let both = Arc::new(Barrier::new(2));
            let jobs: Vec<_> = (0..2)
                .map(|_| {
                    let both = both.clone();
                    spawn_blocking(move || {
                        both.wait();
                    })
                })
                .collect();
            for result in evloop::join_all(jobs).await {
                result.unwrap();
            }
            assert_eq!(stats(PoolKind::Blocking).threads, 2);
        });
    });
}

#[test]
#[should_panic(expected = "outside a runtime")]
fn spawn_blocking_outside_a_runtime_panics_with_a_message() {
    // Panics before any handle exists; `drop` would detach one otherwise.
    drop(spawn_blocking(|| 1));
}
