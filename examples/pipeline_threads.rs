//! `cargo run --release --example pipeline_threads`
//!
//! The tutorial's real_world_example_async1.py: asyncio without async
//! libraries. Each blocking download (ureq) runs on a thread of the blocking
//! pool (`spawn_blocking`, asyncio's `to_thread`), all started at once in a
//! `TaskGroup`; then each edge map runs the same way. You will see all twelve
//! downloads land together after about one latency (0.3 s), then the
//! processing, spread over the cores.
//!
//! Unlike Python's threads, Rust's run in parallel: there is no global
//! interpreter lock, so the processing here does use every core.
//!
//! Ctrl-C drops this future and its tasks, but not the pool threads' work:
//! a blocking download sees the job's cancel flag between two chunks of its
//! body and stops there (see `evloop::pipeline::cancel`).

use std::sync::Arc;

use evloop::pipeline::{Job, Outcome, Report, Stopwatch, steps};
use evloop::{TaskGroup, spawn_blocking};

/// Every download on its own pool thread, then every edge map.
pub async fn run(job: Arc<Job>) -> Report {
    let agent = steps::blocking_agent(&job);
    let mut clock = Stopwatch::start();
    // A task per image, each waiting on a pool thread that does the blocking
    // download. The group waits for all of them. (A failed image is a value,
    // not an `Err`, so one failure does not cancel the others.)
    let mut downloads = TaskGroup::<_, std::convert::Infallible>::new();
    for item in job.items.clone() {
        let (agent, job) = (agent.clone(), job.clone());
        downloads.spawn(async move {
            let joined = spawn_blocking(move || {
                let result = steps::download_blocking(&agent, &job, &item);
                (item, result)
            })
            .await;
            Ok(joined.expect("a download job does not panic"))
        });
    }
    let originals = downloads.join().await.expect("downloads are infallible");
    clock.downloads_done();
    // The edge detector goes to the blocking pool too, as the tutorial does.
    let mut processing = TaskGroup::<_, std::convert::Infallible>::new();
    for (item, original) in originals {
        let job = job.clone();
        processing.spawn(async move {
            let joined = spawn_blocking(move || {
                let result = original.and_then(|path| steps::process(&job, &item, &path));
                Outcome { item, result }
            })
            .await;
            Ok(joined.expect("a processing job does not panic"))
        });
    }
    let outcomes = processing.join().await.expect("processing is infallible");
    Report::new("threads", clock.finish(), outcomes)
}

#[allow(
    dead_code,
    reason = "the demo binary includes this file and calls `run`"
)]
fn main() -> std::process::ExitCode {
    evloop::pipeline::example::main_async("threads", run)
}
