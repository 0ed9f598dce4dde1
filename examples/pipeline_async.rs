//! `cargo run --release --example pipeline_async`
//!
//! The tutorial's real_world_example_async2.py: one async HTTP client
//! (evloop's own, on the reactor), all twelve downloads at once, each body
//! saved with one job on the blocking pool; then every edge map on the CPU pool
//! (`spawn_cpu`, the tutorial's process pool), gathered. You will see the
//! downloads take about one latency, then the processing spread over the
//! cores.

use std::sync::Arc;

use evloop::pipeline::{Job, Outcome, Report, Stopwatch, steps};
use evloop::{join_all, spawn_cpu};

/// All downloads at once on the loop, then all edge maps on the CPU pool.
pub async fn run(job: Arc<Job>) -> Report {
    let client = steps::async_client(&job).expect("the job's root certificates are valid");
    let mut clock = Stopwatch::start();
    // Twelve futures, one per image, run concurrently inside this task
    // (`gather`): while one waits for its response, the others make progress.
    let originals = join_all(
        job.items
            .iter()
            .map(|item| steps::download_async(&client, &job, item)),
    )
    .await;
    clock.downloads_done();
    // CPU-bound work leaves the loop: one job per image on the CPU pool.
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
    Report::new("async", clock.finish(), outcomes)
}

#[allow(
    dead_code,
    reason = "the demo binary includes this file and calls `run`"
)]
fn main() -> std::process::ExitCode {
    evloop::pipeline::example::main_async("async", run)
}
