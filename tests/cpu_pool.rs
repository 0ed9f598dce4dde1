//! The CPU pool (`spawn_cpu`): a fixed number of threads (one per CPU by
//! default, `Builder::cpu_threads` to choose), never more jobs running at
//! once than threads, and all of them in parallel when there are enough.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread::{self, ThreadId};
use std::time::Duration;

use evloop::offload::{PoolKind, PoolStats, stats};
use evloop::time::sleep;
use evloop::{Runtime, spawn_cpu};

use common::{Gate, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `jobs` CPU jobs that wait at a gate on `rt`, whose CPU pool has
/// `threads` threads; returns the pool's counts while the jobs waited, the
/// most that ran at once, and the threads that ran them.
fn run_gated(rt: Runtime, threads: usize, jobs: usize) -> (PoolStats, usize, HashSet<ThreadId>) {
    rt.block_on(async {
        let gate = Gate::default();
        let running = Arc::new(AtomicUsize::new(0));
        let max_running = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                let (gate, running, max_running) =
                    (gate.clone(), running.clone(), max_running.clone());
                spawn_cpu(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    max_running.fetch_max(now, SeqCst);
                    gate.wait_blocking();
                    running.fetch_sub(1, SeqCst);
                    thread::current().id()
                })
            })
            .collect();
        while running.load(SeqCst) < threads.min(jobs) {
            sleep(Duration::from_millis(1)).await;
        }
        // Give an extra thread every chance to (wrongly) start a job.
        sleep(Duration::from_millis(30)).await;
        let seen = stats(PoolKind::Cpu);
        gate.open();
        let ids = evloop::join_all(handles)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        (seen, max_running.load(SeqCst), ids)
    })
}

#[test]
fn spawn_cpu_runs_at_most_cpu_threads_jobs_at_once() {
    const THREADS: usize = 2;
    const JOBS: usize = 8;
    let (seen, max_running, ids) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().cpu_threads(THREADS).build().unwrap();
        run_gated(rt, THREADS, JOBS)
    });
    assert_eq!(seen.threads, THREADS, "{seen:?}");
    assert_eq!(seen.busy, THREADS, "{seen:?}");
    assert_eq!(seen.queued, JOBS - THREADS, "{seen:?}");
    assert_eq!(max_running, THREADS);
    assert!(ids.len() <= THREADS, "{} threads ran CPU jobs", ids.len());
}

#[test]
fn one_cpu_thread_runs_jobs_one_at_a_time() {
    let (seen, max_running, ids) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().cpu_threads(1).build().unwrap();
        run_gated(rt, 1, 3)
    });
    assert_eq!(
        (seen.threads, seen.busy, seen.queued),
        (1, 1, 2),
        "{seen:?}"
    );
    assert_eq!(max_running, 1);
    assert_eq!(ids.len(), 1);
}

#[test]
fn cpu_jobs_run_in_parallel_up_to_the_thread_count() {
    // Three jobs that each wait for the other two at a barrier can only
    // finish if all three run at the same time.
    const THREADS: usize = 3;
    let ids = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().cpu_threads(THREADS).build().unwrap();
        rt.block_on(async {
            let all = Arc::new(Barrier::new(THREADS));
            let jobs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let all = all.clone();
                    spawn_cpu(move || {
                        all.wait();
                        thread::current().id()
                    })
                })
                .collect();
            evloop::join_all(jobs)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect::<HashSet<_>>()
        })
    });
    assert_eq!(ids.len(), THREADS);
}

#[test]
fn the_default_cpu_pool_has_one_thread_per_cpu() {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let (seen, max_running, _) = watchdog(WATCHDOG, move || {
        run_gated(Runtime::new().unwrap(), cpus, cpus + 2)
    });
    assert_eq!(seen.threads, cpus, "{seen:?}");
    assert_eq!(max_running, cpus);
}

#[test]
fn a_panicking_cpu_job_is_a_join_error_and_the_pool_keeps_its_threads() {
    let (payload, threads) = watchdog(WATCHDOG, || {
        let rt = Runtime::builder().cpu_threads(1).build().unwrap();
        rt.block_on(async {
            let n = std::hint::black_box(3);
            let err = spawn_cpu(move || -> u64 { panic!("bad input {n}") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.name(), Some("spawn_cpu"));
            let payload = err.into_panic().downcast::<String>().map(|s| *s);
            // The same single thread goes on with the next job.
            assert_eq!(spawn_cpu(|| 6 * 7).await.unwrap(), 42);
            (payload, stats(PoolKind::Cpu).threads)
        })
    });
    assert_eq!(payload.as_deref().ok(), Some("bad input 3"));
    assert_eq!(threads, 1);
}

#[test]
fn a_burst_of_cpu_jobs_does_not_queue_behind_one_idle_thread() {
    // A first job leaves one of the two threads idle; two jobs that can only
    // finish together then arrive back to back and need both threads.
    watchdog(Duration::from_secs(20), || {
        let rt = Runtime::builder().cpu_threads(2).build().unwrap();
        rt.block_on(async {
            spawn_cpu(|| ()).await.unwrap();
            sleep(Duration::from_millis(20)).await;
            assert_eq!(stats(PoolKind::Cpu).threads, 1);
            let both = Arc::new(Barrier::new(2));
            let jobs: Vec<_> = (0..2)
                .map(|_| {
                    let both = both.clone();
                    spawn_cpu(move || {
                        both.wait();
                    })
                })
                .collect();
            for result in evloop::join_all(jobs).await {
                result.unwrap();
            }
            assert_eq!(stats(PoolKind::Cpu).threads, 2);
        });
    });
}
