//! The idle-task rows: what a parked task costs in memory, and how long it
//! takes to spawn many of them (`idle-memory` at 100,000 tasks, `idle-1m` at
//! 1,000,000).
//!
//! Meaningful only as the first thing a fresh process does: a heap that an
//! earlier run has grown hands out memory it already holds, and the RSS does
//! not move. So these rows always run in a fresh child process, without a
//! warm-up run.

use std::time::Duration;

/// How long an idle task sleeps: far longer than the measurement.
pub const IDLE_NAP: Duration = Duration::from_secs(3_600);

/// The idle-task workload, written once and compiled against each runtime
/// (see [`task_workloads!`] for how the names resolve).
macro_rules! memory_workloads {
    () => {
        /// Tasks of [`idle_memory`] that have been polled once.
        static PARKED: AtomicUsize = AtomicUsize::new(0);

        /// Parks `n` tasks on a long sleep; reports the growth of the
        /// resident set per task, in bytes, and the time from the first
        /// spawn until every task has been polled once (spawned, queued,
        /// polled, its timer armed).
        pub fn idle_memory(n: usize) -> Result<Sample, BenchError> {
            PARKED.store(0, Ordering::Relaxed);
            block_on(async move {
                let before = resident_bytes()?;
                let start = Instant::now();
                for _ in 0..n {
                    detach(spawn(async {
                        // Counting before the sleep's first poll is enough: the
                        // loop is single-threaded, so when the measuring task
                        // sees all `n` counted, every sleep has been polled too.
                        PARKED.fetch_add(1, Ordering::Relaxed);
                        sleep(IDLE_NAP).await;
                    }));
                }
                while PARKED.load(Ordering::Relaxed) < n {
                    yield_now().await;
                }
                let took = start.elapsed();
                let after = resident_bytes()?;
                Ok(vec![
                    after.saturating_sub(before) as f64 / n as f64,
                    took.as_secs_f64(),
                ])
            })
        }
    };
}
