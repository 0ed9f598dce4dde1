//! The `main` of the `pipeline_*` examples: parse the flags, start the
//! embedded image host (or use `--base-url`), run one variant, print the
//! tutorial's lines.
//!
//! The flags are the demo's own ([`PipelineArgs`]: `--images`,
//! `--latency-ms`, `--base-url`, `--concurrency`, `--timeout-secs`, `--out`,
//! with the same ranges and defaults), plus the trace outputs
//! `--timeline FILE.svg` and `--trace FILE.json`, and the run report
//! `--report FILE.html` (the demo's `output/report.html`, for one
//! variant). `--concurrency` defaults to 4, and to 16 in the streaming
//! variant; the variant writes into `<out>/<variant>`, as in the demo. A
//! bad flag is clap's usage error, with exit status 2; `--help` lists them
//! all.
//!
//! Ctrl-C stops the run cleanly ([`cancel`](super::cancel)): what finished
//! stays, temporary files go, the summary lines (and the report, if asked
//! for) cover what finished and say it was interrupted, and the example
//! exits with status 130. A second Ctrl-C quits at once.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use clap::builder::{NonEmptyStringValueParser, TypedValueParser};

use super::cancel::{Cancel, CtrlCWatch, INTERRUPTED_EXIT_STATUS, run_variant};
use super::flags::{DEFAULT_STREAM_CONCURRENCY, PipelineArgs};
use super::host::{CACHE_FOLDER, DRAW_FIRST_ABOVE, ImageHost};
use super::html::{self, Run, RunInfo, VariantRun};
use super::job::{DEFAULT_CONCURRENCY, Job, Report};
use super::report::{self, summary_lines};
use crate::trace::TraceArgs;
use crate::trace::record::Record;

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

    /// Write the run report, one self-contained web page (the demo writes
    /// output/report.html), into this HTML file.
    #[arg(long, value_name = "FILE.html", value_parser = file_name())]
    pub report: Option<PathBuf>,
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

/// What a run is given: the job, the image host it downloads from (kept
/// alive for the run) and, for the report, where the images come from.
struct Setup {
    job: Job,
    _host: Option<ImageHost>,
    source: String,
}

fn setup(variant: &str, args: &ExampleArgs) -> Result<Setup, String> {
    let flags = &args.pipeline;
    let (host, base) = match &flags.base_url {
        Some(base) => (None, base.trim_end_matches('/').to_owned()),
        None => {
            // Photos drawn by an earlier run (of the demo or an example)
            // are read back from the output folder's cache.
            let host = ImageHost::builder()
                .images(flags.images)
                .latency(flags.latency())
                .cache_dir(flags.out.join(CACHE_FOLDER))
                .build()
                .map_err(|e| format!("cannot start the image host: {e}"))?;
            // Many photos still to draw: draw them before the variant, or
            // one that asks for all at once waits for the drawing too
            // (see DRAW_FIRST_ABOVE).
            let to_draw = host.photos_to_draw();
            if to_draw > DRAW_FIRST_ABOVE {
                eprintln!(
                    "drawing {to_draw} photos for the image host first (once: they are kept in {})",
                    flags.out.join(CACHE_FOLDER).display()
                );
                host.wait_until_drawn();
            }
            let base = host.base_url();
            (Some(host), base)
        }
    };
    let source = match &host {
        Some(_) => format!(
            "embedded image host {base} ({} images of 1920x1080, {} ms latency)",
            flags.images, flags.latency_ms
        ),
        None => format!("image host {base}"),
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
    Ok(Setup {
        job,
        _host: host,
        source,
    })
}

/// Prints the tutorial's lines and writes the report page if asked for;
/// failure if an image failed or the page could not be written.
fn finish(args: &ExampleArgs, setup: &Setup, report: &Report, record: Option<&Record>) -> ExitCode {
    print!("{}", summary_lines(report));
    let mut code = if report.failures().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    if let Some(path) = &args.report {
        let flags = &args.pipeline;
        let info =
            RunInfo::of_this_process(setup.source.clone(), setup.job.items.len(), flags.latency());
        let cpu = Duration::from_nanos(setup.job.cpu_time.load(Ordering::Relaxed));
        let run = Run {
            variants: vec![VariantRun {
                report,
                record,
                peak_rss_mib: None,
            }],
            bound: (!cpu.is_zero()).then(|| report::bound(flags.latency(), cpu, info.cores)),
            info,
        };
        match html::write(path, &run) {
            Ok(path) => println!("\nthe whole run on one page: open {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write the report page: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    code
}

/// A runtime that records a trace when `args` asks for one (a timeline, a
/// Chrome trace or the report) and writes the trace files when dropped.
fn runtime(variant: &str, args: &ExampleArgs, slow_poll: bool) -> Result<crate::Runtime, String> {
    let mut builder = crate::Runtime::builder()
        .trace(args.report.is_some())
        .trace_output(args.trace().titled(format!("pipeline: {variant}")));
    if !slow_poll {
        builder = builder.slow_poll_threshold(None);
    }
    builder
        .build()
        .map_err(|e| format!("cannot create a runtime: {e}"))
}

/// Runs a blocking variant with parsed flags: plain blocking code, inside
/// one poll of a traced runtime (slow-poll warning off) when a trace or the
/// report is asked for, so its timeline can be drawn, as the demo does.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use evloop::pipeline::example::{ExampleArgs, run_blocking};
/// use evloop::pipeline::{Job, Report, Timings};
///
/// let out = std::env::temp_dir().join(format!("evloop-doc-run-blocking-{}", std::process::id()));
/// let page = out.join("report.html");
/// let args = ExampleArgs::try_parse_from([
///     "pipeline_sync", "--base-url", "http://127.0.0.1:9", "--images", "1",
///     "--out", out.to_str().unwrap(), "--report", page.to_str().unwrap(),
/// ]).unwrap();
/// // A variant that does nothing, so nothing is fetched.
/// let nothing = |_: &Job| Report::new("sync", Timings::default(), vec![]);
/// assert_eq!(run_blocking("sync", &args, nothing), std::process::ExitCode::SUCCESS);
/// assert!(std::fs::read_to_string(&page)?.contains("<h2>sync</h2>"));
/// std::fs::remove_dir_all(&out)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn run_blocking(variant: &str, args: &ExampleArgs, run: fn(&Job) -> Report) -> ExitCode {
    run_interruptible(variant, args, false, move |job: Arc<Job>| async move {
        run(&job)
    })
}

/// Runs an async variant with parsed flags on a new runtime, which records
/// a trace when a timeline, a Chrome trace or the report is asked for.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use clap::Parser;
/// use evloop::pipeline::example::{ExampleArgs, run_async};
/// use evloop::pipeline::{Job, Report, Timings};
///
/// let out = std::env::temp_dir().join(format!("evloop-doc-run-async-{}", std::process::id()));
/// let page = out.join("report.html");
/// let args = ExampleArgs::try_parse_from([
///     "pipeline_async", "--base-url", "http://127.0.0.1:9", "--images", "1",
///     "--out", out.to_str().unwrap(), "--report", page.to_str().unwrap(),
/// ]).unwrap();
/// let nothing = |_: Arc<Job>| async { Report::new("async", Timings::default(), vec![]) };
/// assert_eq!(run_async("async", &args, nothing), std::process::ExitCode::SUCCESS);
/// let html = std::fs::read_to_string(&page)?;
/// assert!(html.contains("main (block_on)"), "the trace's tasks are on the page");
/// std::fs::remove_dir_all(&out)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn run_async<F, Fut>(variant: &str, args: &ExampleArgs, run: F) -> ExitCode
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    run_interruptible(variant, args, true, run)
}

/// Runs a variant on a new runtime (recording a trace when asked for), with
/// Ctrl-C watched: status 130 if it came, whatever else happened.
fn run_interruptible<F, Fut>(variant: &str, args: &ExampleArgs, slow_poll: bool, run: F) -> ExitCode
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    let cancel = Cancel::new();
    let result = CtrlCWatch::start(cancel.clone())
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))
        .and_then(|watch| {
            let mut setup = setup(variant, args)?;
            setup.job.cancel = cancel.clone();
            let rt = runtime(variant, args, slow_poll)?;
            // A clone shares the job's CPU-time counter, which `finish` reads.
            let report = run_variant(&rt, setup.job.clone(), variant, run);
            let record = rt.trace_record();
            let code = finish(args, &setup, &report, record.as_ref());
            // The trace files are written as the runtime goes.
            drop(rt);
            drop(watch);
            Ok(code)
        });
    match result {
        Ok(_) if cancel.is_cancelled() => ExitCode::from(INTERRUPTED_EXIT_STATUS),
        Ok(code) => code,
        // The host cannot start, the output folder cannot be made, or the
        // poller cannot be created.
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a blocking variant (`pipeline_sync`) with this process's flags.
pub fn main_blocking(variant: &str, run: fn(&Job) -> Report) -> ExitCode {
    match flags() {
        Ok(args) => run_blocking(variant, &args, run),
        Err(code) => code,
    }
}

/// Runs an async variant (the other four) with this process's flags.
pub fn main_async<F, Fut>(variant: &str, run: F) -> ExitCode
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    match flags() {
        Ok(args) => run_async(variant, &args, run),
        Err(code) => code,
    }
}
