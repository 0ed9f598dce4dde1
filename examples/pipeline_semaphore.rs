//! `cargo run --release --example pipeline_semaphore`
//!
//! The tutorial's real_world_example_async3.py: as `pipeline_async`, but a
//! semaphore lets at most four downloads run at once (`--concurrency N`
//! changes it). With 0.3 s of latency per request, twelve images in groups
//! of four take about three latencies (0.9 s) to download. Over fewer
//! connections, too: the client keeps at most four alive and reuses them.

use std::sync::Arc;

use evloop::pipeline::{Job, Outcome, Report, Stopwatch, steps};
use evloop::sync::Semaphore;
use evloop::{join_all, spawn_cpu};

/// At most `job.concurrency` downloads at a time, then all edge maps.
pub async fn run(job: Arc<Job>) -> Report {
    let client = steps::async_client(&job).expect("the job's root certificates are valid");
    let gate = Semaphore::new(job.concurrency);
    let mut clock = Stopwatch::start();
    let originals = join_all(job.items.iter().map(|item| {
        let (client, gate, job) = (&client, &gate, &job);
        async move {
            // Wait for a permit; it is given back when `_permit` is dropped,
            // whichever way this download ends.
            let _permit = gate.acquire().await.expect("the semaphore is never closed");
            steps::download_async(client, job, item).await
        }
    }))
    .await;
    clock.downloads_done();
    let processing = job
        .items
        .iter()
        .cloned()
        .zip(originals)
        .map(|(item, original)| {
            let job = job.clone();
            spawn_cpu(move || {
                let result = original.and_then(|path| steps::process(&job, &item, &path));
                Outcome { item, result }
            })
        });
    let outcomes = join_all(processing)
        .await
        .into_iter()
        .map(|joined| joined.expect("a processing job does not panic"))
        .collect();
    Report::new("semaphore", clock.finish(), outcomes)
}

#[allow(
    dead_code,
    reason = "the demo binary includes this file and calls `run`"
)]
fn main() -> std::process::ExitCode {
    evloop::pipeline::example::main_async("semaphore", run)
}
