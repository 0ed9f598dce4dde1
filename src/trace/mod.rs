//! Seeing the loop: what the runtime records while tracing, and three ways to
//! read it (a statistics table, a Chrome trace, an SVG timeline).
//!
//! This module sits at the bottom of the house with the tasks: it imports
//! nothing else of evloop. The runtime fills a [`record::Record`] when
//! tracing is on (`Runtime::builder().trace(true)`, or `EVLOOP_TRACE=1`);
//! everything here only reads one:
//!
//! * [`record`]: the data model, plain data;
//! * [`stats`]: per-task busy, scheduled and idle time, wakes by source, an
//!   IO-bound or CPU-bound verdict, and the summary table;
//! * `svg` and `chrome` (with the `render` feature, on by default): the
//!   timeline picture and the Chrome trace JSON that Perfetto opens;
//! * [`TraceArgs`]: which of those a run should leave behind, and writing
//!   them (without `render`, asking for a picture is an error that says so).

#[cfg(feature = "render")]
pub mod chrome;
pub mod group;
mod output;
pub mod record;
pub mod stats;
#[cfg(feature = "render")]
pub mod svg;

pub use output::TraceArgs;
