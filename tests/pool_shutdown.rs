//! What happens to offloaded jobs when the runtime goes away: every
//! `JoinHandle` resolves (cancelled), queued jobs never run, running jobs
//! finish on their threads (which cannot be interrupted) and their results are
//! dropped there, and then the threads exit, without waiting for any idle
//! timeout.

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, mpsc};
use std::task::Poll;
use std::thread::{self, ThreadId};
use std::time::Duration;

use evloop::offload::{PoolKind, stats};
use evloop::time::sleep;
use evloop::{JoinHandle, Runtime, spawn_blocking, spawn_cpu};

use common::{Gate, poll_once, report_exit, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

/// How long a test waits for a pool thread to exit before calling it a
/// leak: far longer than any job here, far shorter than the idle timeout.
const EXIT_LIMIT: Duration = Duration::from_secs(20);

/// Counts the drops of a job's result.
struct Output(Arc<AtomicUsize>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn dropping_the_runtime_cancels_queued_jobs_and_lets_running_ones_finish() {
    const RUNNING: usize = 2;
    const QUEUED: usize = 4;
    watchdog(WATCHDOG, || {
        let gate = Gate::default();
        let started = Arc::new(AtomicUsize::new(0));
        let queued_ran = Arc::new(AtomicUsize::new(0));
        let outputs_dropped = Arc::new(AtomicUsize::new(0));
        let (exits, exited) = mpsc::channel();
        let rt = Runtime::builder()
            .max_blocking_threads(RUNNING)
            .blocking_idle_timeout(Duration::from_secs(3600))
            .build()
            .unwrap();
        // The handles leave the runtime: they are awaited only after it is gone.
        let (running, queued) = rt.block_on(async {
            let running: Vec<JoinHandle<Output>> = (0..RUNNING)
                .map(|_| {
                    let (gate, started, exits) = (gate.clone(), started.clone(), exits.clone());
                    let dropped = outputs_dropped.clone();
                    spawn_blocking(move || {
                        report_exit(&exits);
                        started.fetch_add(1, SeqCst);
                        gate.wait_blocking();
                        Output(dropped)
                    })
                })
                .collect();
            let queued: Vec<JoinHandle<()>> = (0..QUEUED)
                .map(|_| {
                    let queued_ran = queued_ran.clone();
                    spawn_blocking(move || {
                        queued_ran.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            while started.load(SeqCst) < RUNNING {
                sleep(Duration::from_millis(1)).await;
            }
            let now = stats(PoolKind::Blocking);
            assert_eq!(
                (now.threads, now.busy, now.queued),
                (RUNNING, RUNNING, QUEUED)
            );
            (running, queued)
        });

        drop(rt);

        // Every handle has its answer at once, though two jobs still run.
        for mut handle in running {
            match poll_once(&mut handle) {
                Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e:?}"),
                Poll::Ready(Ok(_)) => panic!("a job blocked at the gate delivered"),
                Poll::Pending => panic!("a running job's handle did not resolve"),
            }
        }
        for mut handle in queued {
            match poll_once(&mut handle) {
                Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e:?}"),
                other => panic!("a queued job's handle: {other:?}"),
            }
        }

        // The running jobs finish; their threads then exit, long before the
        // hour-long idle timeout, and nothing that was queued ever runs.
        gate.open();
        for _ in 0..RUNNING {
            exited
                .recv_timeout(EXIT_LIMIT)
                .expect("a pool thread outlived the runtime and its job");
        }
        assert_eq!(
            queued_ran.load(SeqCst),
            0,
            "a queued job ran after shutdown"
        );
        assert_eq!(outputs_dropped.load(SeqCst), RUNNING, "results not dropped");
    });
}

#[test]
fn idle_pool_threads_exit_with_the_runtime() {
    const CPU: usize = 2;
    const BLOCKING: usize = 2;
    watchdog(WATCHDOG, || {
        let (exits, exited) = mpsc::channel();
        let rt = Runtime::builder()
            .cpu_threads(CPU)
            .blocking_idle_timeout(Duration::from_secs(3600))
            .build()
            .unwrap();
        rt.block_on(async {
            // Jobs that wait for each other occupy every thread, so every
            // thread reports its exit.
            let cpu_all = Arc::new(Barrier::new(CPU));
            let blocking_all = Arc::new(Barrier::new(BLOCKING));
            let mut jobs = Vec::new();
            for _ in 0..CPU {
                let (all, exits) = (cpu_all.clone(), exits.clone());
                jobs.push(spawn_cpu(move || {
                    report_exit(&exits);
                    all.wait();
                }));
            }
            for _ in 0..BLOCKING {
                let (all, exits) = (blocking_all.clone(), exits.clone());
                jobs.push(spawn_blocking(move || {
                    report_exit(&exits);
                    all.wait();
                }));
            }
            for result in evloop::join_all(jobs).await {
                result.unwrap();
            }
            assert_eq!(stats(PoolKind::Cpu).threads, CPU);
            assert_eq!(stats(PoolKind::Blocking).threads, BLOCKING);
        });
        drop(rt);
        let mut gone: Vec<ThreadId> = Vec::new();
        for _ in 0..CPU + BLOCKING {
            gone.push(
                exited
                    .recv_timeout(EXIT_LIMIT)
                    .expect("an idle pool thread outlived the runtime"),
            );
        }
        gone.sort_by_key(|id| format!("{id:?}"));
        gone.dedup();
        assert_eq!(gone.len(), CPU + BLOCKING);
    });
}

#[test]
#[allow(
    clippy::async_yields_async,
    reason = "the handle leaves the runtime on purpose, to be polled after it is gone"
)]
fn tasks_awaiting_jobs_are_cancelled_when_run_returns() {
    // `run` cancels what its future left behind, asyncio.run's way: a task
    // still awaiting a job is dropped, and the job's late result with it.
    let dropped = Arc::new(AtomicUsize::new(0));
    let gate = Gate::default();
    let mut handle = watchdog(WATCHDOG, {
        let (dropped, gate) = (dropped.clone(), gate.clone());
        move || {
            evloop::run(async move {
                let started = Arc::new(AtomicUsize::new(0));
                let job = spawn_blocking({
                    let started = started.clone();
                    move || {
                        started.fetch_add(1, SeqCst);
                        gate.wait_blocking();
                        Output(dropped)
                    }
                });
                let waiting = evloop::spawn(async move { job.await.is_ok() });
                // (A job that has not started when the runtime ends is
                // dropped unrun; this one is running.)
                while started.load(SeqCst) == 0 {
                    sleep(Duration::from_millis(1)).await;
                }
                waiting
            })
        }
    });
    assert!(matches!(poll_once(&mut handle), Poll::Ready(Err(e)) if e.is_cancelled()));
    gate.open();
    // The job ends and its result is dropped on the pool thread.
    let waited = Cell::new(Duration::ZERO);
    while dropped.load(SeqCst) == 0 {
        assert!(
            waited.get() < EXIT_LIMIT,
            "the job's result was never dropped"
        );
        thread::sleep(Duration::from_millis(5));
        waited.set(waited.get() + Duration::from_millis(5));
    }
}
