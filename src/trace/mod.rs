//! Seeing the loop: what the runtime records while tracing, and three ways to
//! read it (a statistics table, a Chrome trace, an SVG timeline).

pub mod chrome;
pub(crate) mod output;
pub mod record;
pub mod stats;
pub mod svg;

pub use output::{TraceArgs, current, summary};
