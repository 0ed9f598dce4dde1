//! The flags the demo (`cargo run --release`) and the `pipeline_*` examples
//! share, defined once: the same flag has the same range, default and help
//! in both, and clap checks every number where it is parsed, so a value out
//! of range is a usage error (exit status 2) before anything runs.
//!
//! | flag | range | default |
//! | --- | --- | --- |
//! | `--images N` | 1..=[`MAX_IMAGES`] (1000) | [`DEFAULT_IMAGES`] (12) |
//! | `--latency-ms MS` | 0..=[`MAX_LATENCY`] in ms (3 600 000) | [`DEFAULT_LATENCY`] (300) |
//! | `--concurrency N` | 1..=[`MAX_CONCURRENCY`] (1000) | [`DEFAULT_CONCURRENCY`](super::job::DEFAULT_CONCURRENCY) (4); streaming: [`DEFAULT_STREAM_CONCURRENCY`] (32) |
//! | `--timeout-secs SECS` | 1..=[`MAX_TIMEOUT_SECS`] (3600) | [`DEFAULT_REQUEST_TIMEOUT`] (30) |
//! | `--base-url URL` | | the embedded host |
//! | `--out DIR` | | `output` |
//!
//! The ranges are written into the help text too; a test checks that they
//! agree with the constants.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::value_parser;

use super::host::{DEFAULT_IMAGES, DEFAULT_LATENCY, MAX_IMAGES, MAX_LATENCY};
use super::job::DEFAULT_REQUEST_TIMEOUT;

/// The most downloads at a time: more than the most images gains nothing.
pub const MAX_CONCURRENCY: usize = MAX_IMAGES as usize;

/// Downloads at a time in the streaming variant unless told otherwise:
/// enough in flight that the cores never wait for an image (Little's law:
/// latency × cores ÷ CPU time per image ≈ 0.3 s × 2 ÷ 0.027 s ≈ 22 on the
/// machine the demo was tuned on, so 32 with room to spare).
///
/// It was 16 while processing an image took about 40 ms. Once encoding
/// moved to jpeg-encoder (about 27 ms an image), 16 left the cores waiting
/// on 48 images: total ÷ the printed bound, fresh runs interleaved
/// (`evloop --quiet --no-trace --images 48 --variant streaming
/// --stream-concurrency K`, 2026-12-05, 2 cores), 16 gave 1.18 (median of
/// 5), and 32 gave 1.10 (median of 10); 24 and 48 gave 1.10 and 1.09, the
/// same within the noise. On 12 images every value from 12 up is the same.
pub const DEFAULT_STREAM_CONCURRENCY: usize = 32;

/// The longest per-request deadline accepted, in seconds (an hour). Zero is
/// refused: it would fail every download.
pub const MAX_TIMEOUT_SECS: u64 = 3600;

/// [`MAX_LATENCY`] in milliseconds, the unit of `--latency-ms`.
const MAX_LATENCY_MS: u64 = MAX_LATENCY.as_millis() as u64;

/// [`DEFAULT_LATENCY`] in milliseconds.
const DEFAULT_LATENCY_MS: u64 = DEFAULT_LATENCY.as_millis() as u64;

/// The flags of the demo and the pipeline examples: where the images come
/// from, how many, how fast, how many at a time, and where they go.
///
/// Both parsers flatten this struct (`#[command(flatten)]`).
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use evloop::pipeline::flags::PipelineArgs;
///
/// #[derive(Debug, Parser)]
/// struct Cli {
///     #[command(flatten)]
///     pipeline: PipelineArgs,
/// }
///
/// let cli = Cli::try_parse_from(["demo", "--images", "3"]).unwrap();
/// assert_eq!(cli.pipeline.images, 3);
/// assert_eq!(cli.pipeline.timeout_secs, 30);
///
/// // Out of range: a usage error that names the flag and the range.
/// let err = Cli::try_parse_from(["demo", "--images", "0"]).unwrap_err();
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().starts_with("error: invalid value '0' for '--images <N>'"));
/// assert!(err.to_string().contains("1..=1000"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PipelineArgs {
    /// How many images, 1..=1000 (the most the embedded host serves).
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_IMAGES,
        value_parser = value_parser!(u32).range(1..=i64::from(MAX_IMAGES)),
    )]
    pub images: u32,

    /// The embedded host's latency per request in milliseconds, 0..=3600000
    /// (with --base-url, the latency the demo's bound assumes).
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_LATENCY_MS,
        value_parser = value_parser!(u64).range(0..=MAX_LATENCY_MS),
    )]
    pub latency_ms: u64,

    /// Use another image host serving /image_1.jpg … (such as the Python
    /// tutorial's) instead of the embedded one.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Downloads at a time in the semaphore and streaming variants,
    /// 1..=1000 [default: 4; streaming: 32].
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_CONCURRENCY as u64),
    )]
    pub concurrency: Option<usize>,

    /// Per-request deadline in seconds (connect, head and body), 1..=3600.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs(),
        value_parser = value_parser!(u64).range(1..=MAX_TIMEOUT_SECS),
    )]
    pub timeout_secs: u64,

    /// Where originals, edge maps (and the demo's timelines) go: one folder
    /// per variant inside it.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
}

impl PipelineArgs {
    /// `--latency-ms` as a duration.
    ///
    /// # Examples
    ///
    /// ```
    /// # use clap::Parser;
    /// # use evloop::pipeline::flags::PipelineArgs;
    /// # #[derive(Parser)]
    /// # struct Cli { #[command(flatten)] pipeline: PipelineArgs }
    /// let cli = Cli::try_parse_from(["demo", "--latency-ms", "20"]).unwrap();
    /// assert_eq!(cli.pipeline.latency(), std::time::Duration::from_millis(20));
    /// ```
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// `--timeout-secs` as a duration: the job's
    /// [`request_timeout`](super::Job::request_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # use clap::Parser;
    /// # use evloop::pipeline::flags::PipelineArgs;
    /// # #[derive(Parser)]
    /// # struct Cli { #[command(flatten)] pipeline: PipelineArgs }
    /// let cli = Cli::try_parse_from(["demo"]).unwrap();
    /// assert_eq!(cli.pipeline.request_timeout(), evloop::pipeline::job::DEFAULT_REQUEST_TIMEOUT);
    /// ```
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// `--concurrency` if it was given, else `default` (the variant's own:
    /// [`DEFAULT_CONCURRENCY`](super::job::DEFAULT_CONCURRENCY) or
    /// [`DEFAULT_STREAM_CONCURRENCY`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use clap::Parser;
    /// # use evloop::pipeline::flags::{PipelineArgs, DEFAULT_STREAM_CONCURRENCY};
    /// # #[derive(Parser)]
    /// # struct Cli { #[command(flatten)] pipeline: PipelineArgs }
    /// let cli = Cli::try_parse_from(["demo"]).unwrap();
    /// assert_eq!(cli.pipeline.concurrency_or(DEFAULT_STREAM_CONCURRENCY), 32);
    /// let cli = Cli::try_parse_from(["demo", "--concurrency", "2"]).unwrap();
    /// assert_eq!(cli.pipeline.concurrency_or(DEFAULT_STREAM_CONCURRENCY), 2);
    /// ```
    pub fn concurrency_or(&self, default: usize) -> usize {
        self.concurrency.unwrap_or(default)
    }
}
