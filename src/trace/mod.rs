//! Seeing the loop: what the runtime records while tracing, and three ways to
//! read it (a statistics table, a Chrome trace, an SVG timeline).

#[cfg(feature = "render")]
pub mod chrome;
mod output;
pub mod record;
pub mod stats;
#[cfg(feature = "render")]
pub mod svg;

pub use output::TraceArgs;
