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
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use pool::Pool;
pub use pool::PoolStats;

use crate::runtime::handle::{self, Extension, Handle, JobInFlight};
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
    let job_slot = slot.clone();
    let job = Box::new(move || {
        let _in_flight = in_flight;
        let thread = || thread::current().name().unwrap_or("pool thread").to_owned();
        if matches!(*lock(&job_slot), Slot::Abandoned) {
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
            let mut s = lock(&job_slot);
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
    });
    let waiter = Waiter { slot };
    let handle = task::Builder::new().name(name).spawn(waiter.wait());
    match kind {
        PoolKind::Blocking => pools.blocking.submit(job),
        PoolKind::Cpu => pools.cpu.submit(job),
    }
    handle
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
