//! Offloading: [`spawn_blocking`] for blocking calls and [`spawn_cpu`] for
//! CPU-bound work, each on its own pool of threads.
//!
//! The loop thread must never block (a blocking call stalls every task, as
//! the lesson of example5 shows). Work that blocks goes to threads:
//!
//! * [`spawn_blocking`] is asyncio's `to_thread`: a pool that grows on demand
//!   (up to 512 threads by default) and lets idle threads go after 10 s. For
//!   calls that *wait*: sync HTTP, file IO, `std::thread::sleep`.
//! * [`spawn_cpu`] is what the tutorial needs a `ProcessPoolExecutor` for: a
//!   fixed pool of one thread per CPU, so CPU work never oversubscribes the
//!   machine. Python needs processes because its global interpreter lock lets
//!   only one thread run Python code at a time; Rust threads run truly in
//!   parallel, so a thread pool is enough.
//!
//! Both return a [`JoinHandle`]: awaiting it yields the closure's value, or a
//! `JoinError` if the closure panicked (the pool keeps its threads).
//!
//! # At shutdown
//!
//! When the runtime is dropped, the tasks awaiting jobs are cancelled, so
//! every `JoinHandle` resolves (to a cancelled `JoinError` if the job had not
//! delivered). Jobs still queued are dropped without running. Jobs already
//! running cannot be interrupted: they finish on their thread, their results
//! are dropped, and the thread exits; idle threads exit at once. No pool
//! thread outlives the runtime by more than the job it is running.

mod pool;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;

use pool::Pool;
pub use pool::PoolStats;

use crate::runtime::handle::{self, Extension, Handle, JobInFlight, JobReport};
use crate::task::sync_prims::{Arc, Mutex, MutexGuard};
use crate::task::{self, JoinHandle};
pub use crate::trace::record::PoolKind;

/// Both pools of one runtime, created on first use.
#[derive(Debug)]
struct Pools {
    blocking: Pool,
    cpu: Pool,
}

impl Extension for Pools {
    fn shutdown(&self) {
        self.blocking.shutdown();
        self.cpu.shutdown();
    }
}

/// The pools of the loop `h`, made on first use with the runtime's settings.
fn pools_of(h: Handle<'_>) -> Rc<Pools> {
    h.extension(|h| Pools {
        blocking: Pool::new(
            PoolKind::Blocking,
            h.max_blocking_threads(),
            Some(h.blocking_idle_timeout()),
        ),
        cpu: Pool::new(PoolKind::Cpu, h.cpu_threads(), None),
    })
}

/// Runs a blocking closure on the blocking pool (asyncio's `to_thread`).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let out = evloop::run(async {
///     evloop::spawn_blocking(|| {
///         std::thread::sleep(Duration::from_millis(10)); // fine here: not the loop
///         "done"
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(out, "done");
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    submit(PoolKind::Blocking, "spawn_blocking", f)
}

/// Runs CPU-bound work on the CPU pool (one thread per CPU): what the
/// tutorial uses a `ProcessPoolExecutor` for.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let sum = evloop::run(async {
///     evloop::spawn_cpu(|| (1..=1000u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 500_500);
/// ```
#[track_caller]
pub fn spawn_cpu<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    submit(PoolKind::Cpu, "spawn_cpu", f)
}

/// The counts of the current runtime's pool (all zero before first use or
/// outside a runtime).
pub fn stats(kind: PoolKind) -> PoolStats {
    handle::with_current(|h| {
        let pools = pools_of(h);
        match kind {
            PoolKind::Blocking => pools.blocking.stats(),
            PoolKind::Cpu => pools.cpu.stats(),
        }
    })
    .unwrap_or_default()
}

/// Where a job's result travels from the pool thread to the awaiting task.
enum Slot<T> {
    Waiting(Option<Waker>),
    Done(thread::Result<T>),
    /// The awaiting task is gone: skip the job if it has not started.
    Abandoned,
    Taken,
}

#[track_caller]
fn submit<F, T>(kind: PoolKind, name: &'static str, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let Some((pools, report, in_flight)) =
        handle::with_current(|h| (pools_of(h), h.job_queued(kind, name), h.job_in_flight()))
    else {
        panic!(
            "evloop::{name} called outside a runtime, at {}: call it from inside evloop::run(...)",
            std::panic::Location::caller()
        );
    };
    let in_flight: JobInFlight = in_flight;
    let slot: Arc<Mutex<Slot<T>>> = Arc::new(Mutex::new(Slot::Waiting(None)));
    let job = job(slot.clone(), f, in_flight, report);
    let waiter = Waiter { slot };
    let handle = task::Builder::new().name(name).spawn(waiter.wait());
    match kind {
        PoolKind::Blocking => pools.blocking.submit(job),
        PoolKind::Cpu => pools.cpu.submit(job),
    }
    handle
}

/// The pool thread's half of a job: runs `f` unless the awaiting task is
/// gone, hands the result over through `slot`, and wakes the task.
///
/// `in_flight` counts the job as in flight (a [`JobInFlight`]; the loom
/// models pass their own counter): it is dropped on every path, whether the
/// job runs, is skipped, or is dropped unrun at shutdown, and before the wake,
/// so the loop sees the count fall when it runs the woken task.
fn job<T, F, G>(
    slot: Arc<Mutex<Slot<T>>>,
    f: F,
    in_flight: G,
    report: Option<JobReport>,
) -> pool::Job
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    G: Send + 'static,
{
    Box::new(move || {
        let _in_flight = in_flight;
        let thread = || thread::current().name().unwrap_or("pool thread").to_owned();
        if matches!(*lock(&slot), Slot::Abandoned) {
            if let Some(report) = report {
                report(thread(), None);
            }
            return;
        }
        let started = std::time::Instant::now();
        let result = catch_unwind(AssertUnwindSafe(f));
        if let Some(report) = report {
            report(thread(), Some((started, std::time::Instant::now())));
        }
        let waker = {
            let mut s = lock(&slot);
            match std::mem::replace(&mut *s, Slot::Taken) {
                Slot::Waiting(waker) => {
                    *s = Slot::Done(result);
                    waker
                }
                // Nobody wants the result any more: drop it here.
                _ => None,
            }
        };
        // Counted down before the wake, so the loop sees it when it runs.
        drop(_in_flight);
        if let Some(waker) = waker {
            waker.wake();
        }
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The task side of a job: waits for the slot, and abandons it if dropped.
struct Waiter<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Waiter<T> {
    async fn wait(self) -> T {
        let result = std::future::poll_fn(|cx| {
            let mut s = lock(&self.slot);
            match std::mem::replace(&mut *s, Slot::Taken) {
                Slot::Done(result) => Poll::Ready(result),
                Slot::Waiting(_) => {
                    *s = Slot::Waiting(Some(cx.waker().clone()));
                    Poll::Pending
                }
                other => {
                    *s = other;
                    unreachable!("a job's slot is only abandoned by its waiter")
                }
            }
        })
        .await;
        match result {
            Ok(value) => value,
            // Re-raise the job's panic inside the task: the JoinHandle then
            // reports it as a panic, with the original payload.
            Err(payload) => resume_unwind(payload),
        }
    }
}

impl<T> Drop for Waiter<T> {
    fn drop(&mut self) {
        let old = std::mem::replace(&mut *lock(&self.slot), Slot::Abandoned);
        drop(old);
    }
}

#[cfg(all(evloop_loom, test))]
mod loom_tests {
    //! The job hand-off under loom: the job finishing on a pool thread
    //! against the waiting task polling it, dropping it midway (an abort),
    //! or the job being dropped unrun (shutdown). The result is delivered
    //! or dropped exactly once, the job counts itself out of flight on every
    //! path, and the slot is freed (loom fails a model whose `Arc` leaks).
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::Ordering::{Relaxed, SeqCst};
    use std::task::{Context, Poll, Waker};

    use loom::future::block_on;
    use loom::thread;

    use super::{Slot, Waiter, job};
    use crate::task::sync_prims::{Arc, AtomicUsize, Mutex, model};

    /// Counts one job in flight until dropped, as `JobInFlight` does with
    /// the runtime's counter (which it cannot reach without a runtime).
    struct InFlight(Arc<AtomicUsize>);

    impl InFlight {
        fn new(count: &Arc<AtomicUsize>) -> InFlight {
            count.fetch_add(1, SeqCst);
            InFlight(count.clone())
        }
    }

    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }

    /// The job's result: counts how many were made and how many dropped
    /// (std's atomics: bookkeeping, not the protocol under test).
    #[derive(Clone, Default)]
    struct Results {
        made: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    struct Output(Results);

    impl Drop for Output {
        fn drop(&mut self) {
            self.0.dropped.fetch_add(1, Relaxed);
        }
    }

    impl Results {
        fn make(&self) -> Output {
            self.made.fetch_add(1, Relaxed);
            Output(self.clone())
        }
        fn made(&self) -> usize {
            self.made.load(Relaxed)
        }
        fn dropped(&self) -> usize {
            self.dropped.load(Relaxed)
        }
    }

    /// A job and its waiter, as `submit` makes them.
    fn job_and_waiter(
        in_flight: &Arc<AtomicUsize>,
        results: &Results,
    ) -> (super::pool::Job, Waiter<Output>) {
        let slot = Arc::new(Mutex::new(Slot::Waiting(None)));
        let results = results.clone();
        let run = job(
            slot.clone(),
            move || results.make(),
            InFlight::new(in_flight),
            None,
        );
        (run, Waiter { slot })
    }

    #[test]
    fn job_result_reaches_the_waiting_task() {
        model("job_result_reaches_the_waiting_task", || {
            let in_flight = Arc::new(AtomicUsize::new(0));
            let results = Results::default();
            let (run, waiter) = job_and_waiter(&in_flight, &results);
            let pool = thread::spawn(run);
            // The task awaits the job; loom's block_on blocks until the
            // slot's waker fires, so a lost wake is a deadlock.
            let output = block_on(waiter.wait());
            drop(output);
            pool.join().expect("the pool thread");
            assert_eq!((results.made(), results.dropped()), (1, 1));
            assert_eq!(in_flight.load(SeqCst), 0, "the job counted itself out");
        });
    }

    #[test]
    fn waiting_task_dropped_while_the_job_runs() {
        model("waiting_task_dropped_while_the_job_runs", || {
            let in_flight = Arc::new(AtomicUsize::new(0));
            let results = Results::default();
            let (run, waiter) = job_and_waiter(&in_flight, &results);
            let pool = thread::spawn(run);
            // The task polls once (storing its waker, or taking a result
            // already there), then is aborted: its future is dropped.
            {
                let mut wait = pin!(waiter.wait());
                let mut cx = Context::from_waker(Waker::noop());
                if let Poll::Ready(output) = wait.as_mut().poll(&mut cx) {
                    drop(output);
                }
            }
            pool.join().expect("the pool thread");
            // The job ran or was skipped; what it made was dropped once,
            // by the pool thread or by the task.
            assert!(results.made() <= 1);
            assert_eq!(results.dropped(), results.made());
            assert_eq!(in_flight.load(SeqCst), 0, "the job counted itself out");
        });
    }

    #[test]
    fn job_dropped_unrun_at_shutdown() {
        model("job_dropped_unrun_at_shutdown", || {
            let in_flight = Arc::new(AtomicUsize::new(0));
            let results = Results::default();
            let (run, waiter) = job_and_waiter(&in_flight, &results);
            // The pool's queue is emptied at shutdown while the loop cancels
            // the waiting task.
            let pool = thread::spawn(move || drop(run));
            drop(waiter.wait());
            pool.join().expect("the pool thread");
            assert_eq!(results.made(), 0);
            assert_eq!(in_flight.load(SeqCst), 0, "the job counted itself out");
        });
    }
}
