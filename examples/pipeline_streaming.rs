//! `cargo run --release --example pipeline_streaming`
//!
//! One way more than the tutorial: each image goes to the CPU pool the
//! moment it has landed, while other downloads are still in flight.
//! Downloads are bounded by a semaphore (`--concurrency`, default 32: enough
//! in flight that the cores never wait for an image), processing by the
//! pool's size (one thread per core). IO and CPU overlap, so the total comes
//! close to the bound: one latency plus the CPU work spread over the cores.

use std::sync::Arc;

use evloop::pipeline::{Job, Outcome, Report, Stopwatch, steps};
use evloop::sync::Semaphore;
use evloop::{join_all, spawn_cpu};

/// Download, then process at once; every image its own pipeline.
pub async fn run(job: Arc<Job>) -> Report {
    let client = steps::async_client(&job).expect("the job's root certificates are valid");
    let gate = Semaphore::new(job.concurrency);
    let clock = std::cell::RefCell::new(Stopwatch::start());
    let left = std::cell::Cell::new(job.items.len());
    let outcomes = join_all(job.items.iter().cloned().map(|item| {
        let (client, gate, job, clock, left) = (&client, &gate, job.clone(), &clock, &left);
        async move {
            let original = {
                let _permit = gate.acquire().await.expect("the semaphore is never closed");
                steps::download_async(client, &job, &item).await
            }; // the permit goes back here: the next download starts now
            left.set(left.get() - 1);
            if left.get() == 0 {
                clock.borrow_mut().downloads_done();
            }
            // Straight to the CPU pool; the loop goes on downloading.
            let processed = spawn_cpu(move || {
                let result = original.and_then(|path| steps::process(&job, &item, &path));
                Outcome { item, result }
            });
            processed.await.expect("a processing job does not panic")
        }
    }))
    .await;
    Report::new("streaming", clock.into_inner().finish(), outcomes)
}

#[allow(
    dead_code,
    reason = "the demo binary includes this file and calls `run`"
)]
fn main() -> std::process::ExitCode {
    evloop::pipeline::example::main_async("streaming", run)
}
