//! The `main` of the `pipeline_*` examples: start the embedded image host
//! (or use `--base-url`), run one variant, print the tutorial's lines.
//!
//! Flags: `--images N` (12), `--latency-ms MS` (300), `--base-url URL`,
//! `--concurrency N` (4; 16 for streaming, see the demo's
//! `--stream-concurrency`), `--out DIR` (`output/<variant>`), and the trace
//! flags `--timeline FILE.svg` / `--trace FILE.json`.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::host::ImageHost;
use super::job::{Job, Report};
use super::report::summary_lines;
use crate::trace::TraceArgs;

/// What the examples' flags asked for.
#[derive(Debug)]
struct Flags {
    images: u32,
    latency: Duration,
    base_url: Option<String>,
    concurrency: usize,
    out: Option<PathBuf>,
    trace: TraceArgs,
}

fn parse(variant: &str) -> Result<Flags, String> {
    let (trace, rest) = TraceArgs::parse(std::env::args().skip(1))?;
    let mut flags = Flags {
        images: 12,
        latency: Duration::from_millis(300),
        base_url: None,
        concurrency: if variant == "streaming" { 16 } else { 4 },
        out: None,
        trace,
    };
    let mut args = rest.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a whole number: {v:?}"))
        };
        match flag.as_str() {
            "--images" => {
                flags.images = match number(value()?)? {
                    n @ 1..=10_000 => n as u32,
                    n => return Err(format!("--images: {n} is not in 1..=10000")),
                }
            }
            "--latency-ms" => flags.latency = Duration::from_millis(number(value()?)?),
            "--base-url" => flags.base_url = Some(value()?),
            "--concurrency" => {
                flags.concurrency = match number(value()?)? {
                    n @ 1..=1024 => n as usize,
                    n => return Err(format!("--concurrency: {n} is not in 1..=1024")),
                }
            }
            "--out" => flags.out = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    Ok(flags)
}

fn setup(variant: &str) -> Result<(Job, Flags, Option<ImageHost>), String> {
    let flags = parse(variant)?;
    let (host, base) = match &flags.base_url {
        Some(base) => (None, base.trim_end_matches('/').to_owned()),
        None => {
            let host = ImageHost::builder()
                .images(flags.images)
                .latency(flags.latency)
                .build()
                .map_err(|e| format!("cannot start the image host: {e}"))?;
            let base = host.base_url();
            (Some(host), base)
        }
    };
    let urls = (1..=flags.images).map(|k| format!("{base}/image_{k}.jpg"));
    let out = flags
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(variant));
    let mut job = Job::new(urls, &out);
    job.concurrency = flags.concurrency;
    job.prepare().map_err(|e| e.to_string())?;
    Ok((job, flags, host))
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
    match setup(variant) {
        Ok((job, _flags, _host)) => finish(&run(&job)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs an async variant on a new runtime (the other four).
pub fn main_async<F, Fut>(variant: &str, run: F) -> ExitCode
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    match setup(variant) {
        Ok((job, flags, _host)) => {
            let rt = match crate::Runtime::builder()
                .trace_output(flags.trace.titled(format!("pipeline: {variant}")))
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
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
