//! `cargo run --release --example pipeline_sync`
//!
//! The tutorial's real_world_example_sync1.py: download twelve photos one
//! after another, then edge-detect them one after another. You will see each
//! image arrive about 0.3 s after the previous one (the image host's
//! latency), then the processing, then the three timing lines: about 3.7 s
//! of downloading and well under a second of processing in release mode.
//!
//! Nothing here is concurrent: each request waits for the previous one, and
//! the CPU work uses one core. (Pass `--base-url URL` to use another image
//! host, `--images N` for another count.)

use evloop::pipeline::{Job, Outcome, Report, Stopwatch, steps};

/// One image after another, then one edge map after another.
pub fn run(job: &Job) -> Report {
    // One blocking HTTP client (ureq), one connection, reused.
    let agent = steps::blocking_agent(job);
    let mut clock = Stopwatch::start();
    // Download: each `download_blocking` returns only when the image is on
    // disk, so the next request starts only then. Ctrl-C raises the job's
    // flag from another thread (nothing else can reach this blocking loop):
    // it is checked between images, and the run stops there.
    let originals: Vec<_> = job
        .items
        .iter()
        .take_while(|_| !job.cancel.is_cancelled())
        .map(|item| steps::download_blocking(&agent, job, item))
        .collect();
    clock.downloads_done();
    // Process: decode, edge-detect, save; again one at a time, on this thread.
    let outcomes = job
        .items
        .iter()
        .zip(originals)
        .take_while(|_| !job.cancel.is_cancelled())
        .map(|(item, original)| Outcome {
            item: item.clone(),
            // A failed download stays failed; a good one gets processed.
            result: original.and_then(|path| steps::process(job, item, &path)),
        })
        .collect();
    Report::new("sync", clock.finish(), outcomes)
}

#[allow(
    dead_code,
    reason = "the demo binary includes this file and calls `run`"
)]
fn main() -> std::process::ExitCode {
    evloop::pipeline::example::main_blocking("sync", run)
}
