//! The image pipeline: the tutorial's real-world job, done five ways.
//!
//! Twelve 1920×1080 photos are downloaded, saved, run through a naive edge
//! detector and saved again. The pieces: [`synth`] draws the photos the
//! embedded image host serves; [`decode`] turns bytes into pixels with
//! explicit limits; [`edge`] is the CPU-bound part, faithful to the
//! tutorial's per-pixel algorithm; [`store`] writes outputs atomically under
//! names taken from the image's index, never from a URL.

pub mod decode;
pub mod edge;
pub mod store;
pub mod synth;
