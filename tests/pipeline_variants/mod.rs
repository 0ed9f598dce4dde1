//! The five variants of the pipeline, run through the examples' own code
//! (`examples/pipeline_*.rs`, included here), for the tests that run each
//! of them the way the demo does. The test crate declares `mod common;`.

#![allow(dead_code)]

#[path = "../../examples/pipeline_sync.rs"]
mod pipeline_sync;

#[path = "../../examples/pipeline_threads.rs"]
mod pipeline_threads;

#[path = "../../examples/pipeline_async.rs"]
mod pipeline_async;

#[path = "../../examples/pipeline_semaphore.rs"]
mod pipeline_semaphore;

#[path = "../../examples/pipeline_streaming.rs"]
mod pipeline_streaming;

use std::sync::Arc;

use evloop::pipeline::{Job, Report};

/// The five variants, by the name each puts in its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Sync,
    Threads,
    Async,
    Semaphore,
    Streaming,
}

/// Every variant, in the demo's order.
pub const ALL: [Variant; 5] = [
    Variant::Sync,
    Variant::Threads,
    Variant::Async,
    Variant::Semaphore,
    Variant::Streaming,
];

impl Variant {
    /// The name in its report (and the demo's folder for it).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Sync => "sync",
            Variant::Threads => "threads",
            Variant::Async => "async",
            Variant::Semaphore => "semaphore",
            Variant::Streaming => "streaming",
        }
    }

    /// Runs the variant's own `run` (the async ones on a fresh real-clock
    /// runtime, as the demo does).
    pub fn run(self, job: Job) -> Report {
        let job = Arc::new(job);
        match self {
            Variant::Sync => pipeline_sync::run(&job),
            Variant::Threads => crate::common::real().block_on(pipeline_threads::run(job)),
            Variant::Async => crate::common::real().block_on(pipeline_async::run(job)),
            Variant::Semaphore => crate::common::real().block_on(pipeline_semaphore::run(job)),
            Variant::Streaming => crate::common::real().block_on(pipeline_streaming::run(job)),
        }
    }
}
