//! The `main` of the `pipeline_*` examples: parse the flags, start the
//! embedded image host (or use `--base-url`), run one variant, print the
//! tutorial's lines.
//!
//! The flags are the demo's own ([`PipelineArgs`]: `--images`,
//! `--latency-ms`, `--base-url`, `--concurrency`, `--timeout-secs`, `--out`,
//! with the same ranges and defaults), plus the trace outputs
//! `--timeline FILE.svg` and `--trace FILE.json`. `--concurrency` defaults
//! to 4, and to 16 in the streaming variant; the variant writes into
//! `<out>/<variant>`, as in the demo. A bad flag is clap's usage error, with
//! exit status 2; `--help` lists them all.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use clap::builder::{NonEmptyStringValueParser, TypedValueParser};

use super::flags::{DEFAULT_STREAM_CONCURRENCY, PipelineArgs};
use super::host::ImageHost;
use super::job::{DEFAULT_CONCURRENCY, Job, Report};
use super::report::summary_lines;
use crate::trace::TraceArgs;

/// The flags of a `pipeline_*` example: the ones it shares with the demo,
/// and where to write the run's trace.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use evloop::pipeline::example::ExampleArgs;
///
/// let args = ExampleArgs::try_parse_from(["pipeline_async", "--images", "3", "--trace", "t.json"]).unwrap();
/// assert_eq!(args.pipeline.images, 3);
/// assert_eq!(args.trace().chrome().and_then(|p| p.to_str()), Some("t.json"));
///
/// let err = ExampleArgs::try_parse_from(["pipeline_async", "--timeout-secs", "0"]).unwrap_err();
/// assert_eq!(err.exit_code(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(about = "One variant of the image pipeline, on the embedded image host (or --base-url).")]
pub struct ExampleArgs {
    /// The flags the demo has too.
    #[command(flatten)]
    pub pipeline: PipelineArgs,

    /// Draw the run's timeline into this SVG file.
    #[arg(long, value_name = "FILE.svg", value_parser = file_name())]
    pub timeline: Option<PathBuf>,

    /// Write the run's Chrome trace (for Perfetto) into this JSON file.
    #[arg(long = "trace", value_name = "FILE.json", value_parser = file_name())]
    pub chrome: Option<PathBuf>,
}

impl ExampleArgs {
    /// The trace outputs asked for, as the runtime's [`TraceArgs`].
    ///
    /// # Examples
    ///
    /// ```
    /// use clap::Parser;
    /// use evloop::pipeline::example::ExampleArgs;
    ///
    /// let args = ExampleArgs::try_parse_from(["pipeline_sync"]).unwrap();
    /// assert!(!args.trace().wanted());
    /// let args = ExampleArgs::try_parse_from(["pipeline_sync", "--timeline", "t.svg"]).unwrap();
    /// assert!(args.trace().wanted());
    /// ```
    pub fn trace(&self) -> TraceArgs {
        let mut outputs = TraceArgs::new();
        if let Some(path) = &self.timeline {
            outputs = outputs.with_timeline(path);
        }
        if let Some(path) = &self.chrome {
            outputs = outputs.with_chrome(path);
        }
        outputs
    }
}

/// A file name flag: any path but the empty one.
fn file_name() -> impl TypedValueParser<Value = PathBuf> {
    NonEmptyStringValueParser::new().map(PathBuf::from)
}

/// The flags of this process; on a bad flag (or `--help`) clap's message is
/// printed and the exit code to return comes back instead (2 for a usage
/// error, 0 for help).
fn flags() -> Result<ExampleArgs, ExitCode> {
    ExampleArgs::try_parse().map_err(|e| {
        // Printing can fail only if stderr/stdout are closed: nobody to tell.
        let _ = e.print();
        ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
    })
}

fn setup(variant: &str, args: &ExampleArgs) -> Result<(Job, Option<ImageHost>), String> {
    let flags = &args.pipeline;
    let (host, base) = match &flags.base_url {
        Some(base) => (None, base.trim_end_matches('/').to_owned()),
        None => {
            let host = ImageHost::builder()
                .images(flags.images)
                .latency(flags.latency())
                .build()
                .map_err(|e| format!("cannot start the image host: {e}"))?;
            let base = host.base_url();
            (Some(host), base)
        }
    };
    let urls = (1..=flags.images).map(|k| format!("{base}/image_{k}.jpg"));
    let mut job = Job::new(urls, &flags.out.join(variant));
    job.concurrency = flags.concurrency_or(if variant == "streaming" {
        DEFAULT_STREAM_CONCURRENCY
    } else {
        DEFAULT_CONCURRENCY
    });
    job.request_timeout = flags.request_timeout();
    job.prepare().map_err(|e| e.to_string())?;
    Ok((job, host))
}

fn finish(report: &Report) -> ExitCode {
    print!("{}", summary_lines(report));
    if report.failures().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs a blocking variant (`pipeline_sync`).
pub fn main_blocking(variant: &str, run: fn(&Job) -> Report) -> ExitCode {
    let args = match flags() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match setup(variant, &args) {
        Ok((job, _host)) => finish(&run(&job)),
        // The host cannot start or the output folder cannot be made.
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an async variant on a new runtime (the other four).
pub fn main_async<F, Fut>(variant: &str, run: F) -> ExitCode
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    let args = match flags() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match setup(variant, &args) {
        Ok((job, _host)) => {
            let rt = match crate::Runtime::builder()
                .trace_output(args.trace().titled(format!("pipeline: {variant}")))
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot create a runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let report = rt.block_on(run(Arc::new(job)));
            finish(&report)
        }
        // The host cannot start or the output folder cannot be made.
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
