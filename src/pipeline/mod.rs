//! The image pipeline: the tutorial's real-world job, done five ways.
//!
//! Twelve 1920×1080 photos are downloaded, saved, run through a naive edge
//! detector and saved again. The pieces: [`host`] serves the photos that
//! [`synth`] draws, [`gallery`] drawing them in the background and the
//! asked one first (the embedded stand-in for the internet); [`decode`]
//! turns bytes into pixels with explicit limits; [`edge`] is the CPU-bound
//! part, faithful to the tutorial's per-pixel algorithm; [`grey_jpeg`]
//! encodes its edge maps; [`store`] writes
//! outputs atomically under names taken from the image's index, never from
//! a URL; [`steps`] downloads and processes one image; [`job`] says what a
//! run is given and what it returns; [`report`] prints the results and
//! [`html`] draws them, with the run's traces, as one web page;
//! [`flags`] are the command-line flags the demo and the examples share,
//! [`example`] is the examples' `main`, and [`cancel`] is how Ctrl-C stops
//! a run cleanly.
//!
//! The five variants themselves (sync, threads, async, semaphore,
//! streaming) live in `examples/pipeline_*.rs`, where a reader finds them:
//! each is one function that shows only its concurrency. The demo binary
//! (`cargo run --release`) and the tests include those files.

pub mod cancel;
pub mod decode;
pub mod edge;
pub mod example;
pub mod flags;
pub mod gallery;
pub mod grey_jpeg;
pub mod host;
pub mod html;
pub mod job;
pub mod photo_cache;
pub mod report;
pub mod steps;
pub mod store;
pub mod synth;

pub use job::{
    Interruption, Item, ItemError, Job, NoProgress, Outcome, Progress, Report, Stage, Stopwatch,
    Timings,
};
