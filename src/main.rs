//! The evloop demo: `cargo run --release`.
//!
//! Starts the embedded image host, then downloads and edge-detects twelve
//! photos five ways (sync, threads, async, semaphore, streaming), and prints
//! a table of where the time went, with timelines of each run drawn into
//! the output folder. `evloop tour` runs the sleep lessons instead.
//!
//! The variants are the examples' own code (`examples/pipeline_*.rs`,
//! included below), so the demo runs exactly what `cargo run --example
//! pipeline_async` runs.
//!
//! Ctrl-C stops the run cleanly (`evloop::pipeline::cancel`): the variant
//! running is interrupted, later ones are not started, temporary files are
//! removed, finished images stay, the table covers what finished (the
//! interrupted row marked so), and the demo exits with status 130. A second
//! Ctrl-C quits at once.

#[path = "../examples/pipeline_sync.rs"]
mod pipeline_sync;

#[path = "../examples/pipeline_threads.rs"]
mod pipeline_threads;

#[path = "../examples/pipeline_async.rs"]
mod pipeline_async;

#[path = "../examples/pipeline_semaphore.rs"]
mod pipeline_semaphore;

#[path = "../examples/pipeline_streaming.rs"]
mod pipeline_streaming;

#[path = "demo/progress.rs"]
mod progress;

#[path = "demo/tour.rs"]
mod tour;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use evloop::pipeline::cancel::{self, Cancel, CtrlCWatch, INTERRUPTED_EXIT_STATUS};
use evloop::pipeline::flags::{DEFAULT_STREAM_CONCURRENCY, MAX_CONCURRENCY, PipelineArgs};
use evloop::pipeline::host::{self, ImageHost};
use evloop::pipeline::html::{self, RunInfo, VariantRun};
use evloop::pipeline::job::DEFAULT_CONCURRENCY;
use evloop::pipeline::{Job, Report, report};
use evloop::trace::record::Record;
use evloop::trace::svg::{SvgOptions, stacked_svg, timeline_svg};
use evloop::{Runtime, atomic_file};

/// The five ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    /// ureq, one image after another, then one edge map after another.
    Sync,
    /// ureq inside spawn_blocking, in a TaskGroup (the tutorial's async1).
    Threads,
    /// evloop's client, evloop::fs, processing on spawn_cpu (async2).
    Async,
    /// The same, four downloads at a time (async3).
    Semaphore,
    /// Each image to the CPU pool the moment it lands.
    Streaming,
}

impl Variant {
    const ALL: [Variant; 5] = [
        Variant::Sync,
        Variant::Threads,
        Variant::Async,
        Variant::Semaphore,
        Variant::Streaming,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Sync => "sync",
            Variant::Threads => "threads",
            Variant::Async => "async",
            Variant::Semaphore => "semaphore",
            Variant::Streaming => "streaming",
        }
    }
}

/// Download and edge-detect photos five ways on evloop, and show where the
/// time went.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The flags the pipeline examples take too (same ranges and defaults).
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Run only this variant (repeatable). Default: all five.
    #[arg(long = "variant", value_enum)]
    variants: Vec<Variant>,
    /// Downloads at a time in the streaming variant, 1..=1000, instead of
    /// --concurrency [default: 32].
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_CONCURRENCY as u64),
    )]
    stream_concurrency: Option<usize>,
    /// Fetch these URLs instead (http:// or https://, one a line; # comments).
    #[arg(long, value_name = "FILE", conflicts_with = "base_url")]
    urls: Option<PathBuf>,
    /// Also trust this root certificate (PEM or DER) for https:// URLs, such
    /// as a local server's self-signed one.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Print the results as one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Do not record traces (no timelines).
    #[arg(long)]
    no_trace: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The tutorial's sleep lessons, on the real clock (about 30 s).
    Tour,
}

fn main() -> ExitCode {
    // The start, for the figure "start to first request" (`--json`).
    let started = Instant::now();
    let cli = Cli::parse();
    if let Some(Command::Tour) = cli.command {
        return tour::run();
    }
    match demo(&cli, started) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where the images come from.
struct Source {
    urls: Vec<String>,
    /// The embedded host, if it is the source; kept alive for the whole run.
    host: Option<ImageHost>,
    described: String,
}

fn source(cli: &Cli) -> Result<Source, String> {
    if let Some(file) = &cli.urls {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read --urls {}: {e}", file.display()))?;
        let mut urls = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            evloop::http::Url::parse(line)
                .map_err(|e| format!("{}:{}: {e}", file.display(), n + 1))?;
            urls.push(line.to_owned());
        }
        if urls.is_empty() {
            return Err(format!("{} lists no URLs", file.display()));
        }
        let described = format!("{} URLs from {}", urls.len(), file.display());
        return Ok(Source {
            urls,
            host: None,
            described,
        });
    }
    if let Some(base) = &cli.pipeline.base_url {
        let base = base.trim_end_matches('/').to_owned();
        let url = evloop::http::Url::parse(&format!("{base}/"))
            .map_err(|e| format!("--base-url: {e}"))?;
        reachable(&url)?;
        let urls = (1..=cli.pipeline.images)
            .map(|k| format!("{base}/image_{k}.jpg"))
            .collect();
        return Ok(Source {
            urls,
            host: None,
            described: format!("image host {base}"),
        });
    }
    // The host listens at once and draws its photos meanwhile; photos drawn
    // by an earlier run are read back from the output folder's cache.
    let host = ImageHost::builder()
        .images(cli.pipeline.images)
        .latency(cli.pipeline.latency())
        .cache_dir(cli.pipeline.out.join(host::CACHE_FOLDER))
        .build()
        .map_err(|e| format!("cannot start the embedded image host: {e}"))?;
    draw_first_if_many(&host, &cli.pipeline.out.join(host::CACHE_FOLDER), cli.quiet);
    let described = format!(
        "embedded image host {} ({} images of 1920x1080, {} ms latency)",
        host.base_url(),
        cli.pipeline.images,
        cli.pipeline.latency_ms
    );
    Ok(Source {
        urls: host.urls(),
        host: Some(host),
        described,
    })
}

/// Draws every photo before the first variant when more than
/// [`host::DRAW_FIRST_ABOVE`] are still to draw, saying so unless `quiet`:
/// a variant that asks for all of them at once would otherwise wait for
/// the drawing as well, past its requests' deadline on 1,000 images.
fn draw_first_if_many(host: &ImageHost, cache: &std::path::Path, quiet: bool) {
    let to_draw = host.photos_to_draw();
    if to_draw > host::DRAW_FIRST_ABOVE {
        if !quiet {
            eprintln!(
                "drawing {to_draw} photos for the image host first (once: they are kept in {})",
                cache.display()
            );
        }
        host.wait_until_drawn();
    }
}

/// Fails early, with one line, if the host cannot be reached at all.
fn reachable(url: &evloop::http::Url) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let addrs = url
        .authority()
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.authority()))?;
    let mut last = None;
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(format!(
        "cannot reach the image host {url}: {}",
        last.map(|e| e.to_string())
            .unwrap_or_else(|| "no address".into())
    ))
}

/// Creates the output folder if need be and checks that new files can be
/// made in it: a probe under an unpredictable name, created new (never
/// through a link planted in the folder), then removed.
fn writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    atomic_file::check_writable(dir).map_err(|e| format!("cannot write to {}: {e}", dir.display()))
}

/// Resets the kernel's peak-memory mark, so each variant's peak is its own.
/// (A file of the kernel's: opened for writing as it is, never created.)
fn reset_peak_rss() {
    use std::io::Write;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/clear_refs")
        .and_then(|mut f| f.write_all(b"5"));
}

/// Draws a picture into `path` (through [`atomic_file`]: a link planted at
/// `path` is replaced, never written through). On failure, says so on
/// stderr and returns false: the rest of the run goes on.
fn draw(path: &Path, svg: &str) -> bool {
    match atomic_file::write(path, svg.as_bytes()) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("error: cannot write a timeline: {e}");
            false
        }
    }
}

/// The peak resident memory since the last reset, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Reads `--ca-cert`: every certificate of a PEM file, or one DER file.
fn extra_roots(cli: &Cli) -> Result<Vec<Vec<u8>>, String> {
    let Some(path) = &cli.ca_cert else {
        return Ok(Vec::new());
    };
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read --ca-cert {}: {e}", path.display()))?;
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(vec![bytes]);
    }
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--ca-cert {}: not a PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--ca-cert {}: no certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

fn demo(cli: &Cli, started: Instant) -> Result<ExitCode, String> {
    // From here on the first Ctrl-C raises `cancel` instead of killing the
    // process; the run stops at the next check and reports what finished.
    let cancel = Cancel::new();
    let _watch =
        CtrlCWatch::start(cancel.clone()).map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    writable(&cli.pipeline.out)?;
    let roots = extra_roots(cli)?;
    let source = source(cli)?;
    let mut info = RunInfo::of_this_process(
        source.described.clone(),
        source.urls.len(),
        cli.pipeline.latency(),
    );
    if cli.urls.is_some() {
        info.urls = source.urls.clone();
    }
    let variants: Vec<Variant> = if cli.variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        Variant::ALL
            .into_iter()
            .filter(|v| cli.variants.contains(v))
            .collect()
    };
    let show_bars = !cli.quiet && !cli.json && std::io::stderr().is_terminal();
    let cores = num_cpus::get();
    if !cli.json {
        println!(
            "evloop demo: {} images from the {}",
            source.urls.len(),
            source.described
        );
        println!(
            "{} variants, {cores} cores, output in {}\n",
            variants.len(),
            cli.pipeline.out.display()
        );
    }

    let mut reports = Vec::new();
    let mut records: Vec<(String, Record)> = Vec::new();
    let mut peaks = Vec::new();
    let mut cpu_work = Vec::new();
    let mut drawn = Vec::new();
    let mut pictures_failed = 0;
    for variant in &variants {
        if cancel.is_cancelled() {
            break; // Ctrl-C: later variants are not started
        }
        let name = variant.name();
        let out = cli.pipeline.out.join(name);
        // A folder of the demo's own: a link planted in its place is refused.
        atomic_file::create_dir(&out).map_err(|e| e.to_string())?;
        let mut job = Job::new(source.urls.clone(), &out);
        job.concurrency = match variant {
            Variant::Streaming => cli
                .stream_concurrency
                .unwrap_or(cli.pipeline.concurrency_or(DEFAULT_STREAM_CONCURRENCY)),
            _ => cli.pipeline.concurrency_or(DEFAULT_CONCURRENCY),
        };
        job.request_timeout = cli.pipeline.request_timeout();
        job.extra_roots = roots.clone();
        job.cancel = cancel.clone();
        job.prepare().map_err(|e| e.to_string())?;
        let bars = Arc::new(progress::Bars::new(name, job.items.len(), show_bars));
        job.progress = bars.clone();
        let cpu = job.cpu_time.clone();
        reset_peak_rss();
        let (report, record) = run_variant(*variant, job, !cli.no_trace)?;
        bars.finish();
        peaks.push(peak_rss_mib());
        // An interrupted run did part of the work: it says nothing of the
        // whole job's (zero is left out below).
        cpu_work.push(match report.interrupted {
            Some(_) => Duration::ZERO,
            None => Duration::from_nanos(cpu.load(std::sync::atomic::Ordering::Relaxed)),
        });
        if !cli.json {
            match report.interrupted {
                None => println!(
                    "{name:<10} done in {:.2} s ({} ok, {} failed)",
                    report.timings.total.as_secs_f64(),
                    report.succeeded(),
                    report.outcomes.len() - report.succeeded()
                ),
                Some(i) => println!(
                    "{name:<10} interrupted after {:.2} s ({} of {} downloaded, {} processed, {} failed)",
                    report.timings.total.as_secs_f64(),
                    i.downloaded,
                    i.images,
                    report.succeeded(),
                    report.outcomes.len() - report.succeeded()
                ),
            }
            for failure in report.failures() {
                println!("  failed: {failure}");
            }
        }
        if let Some(record) = record {
            let path = out.join("timeline.svg");
            let options = SvgOptions {
                title: Some(format!("pipeline: {name}")),
                ..SvgOptions::default()
            };
            if draw(&path, &timeline_svg(&record, &options)) {
                drawn.push(path);
            } else {
                pictures_failed += 1;
            }
            records.push((name.to_owned(), record));
        }
        reports.push(report);
    }
    let interrupted = cancel.is_cancelled();

    // The CPU work of the whole job: the least CPU time any variant spent
    // processing (measured on each thread's CPU clock, so threads waiting
    // for a core do not count; cache contention still may).
    let work = cpu_work.iter().copied().filter(|d| !d.is_zero()).min();
    let bound = work.map(|w| report::bound(cli.pipeline.latency(), w, cores));
    let mut stacked_path = None;
    if records.len() > 1 {
        let sections: Vec<(&str, &Record)> = records.iter().map(|(n, r)| (n.as_str(), r)).collect();
        let options = SvgOptions {
            title: Some("every variant on one time axis".into()),
            ..SvgOptions::default()
        };
        let path = cli.pipeline.out.join("timelines.svg");
        if draw(&path, &stacked_svg(&sections, &options)) {
            stacked_path = Some(path);
        } else {
            pictures_failed += 1;
        }
    }

    // The run report: the same reports and records, as one page.
    let page = cli.pipeline.out.join("report.html");
    let run = html::Run {
        info,
        variants: reports
            .iter()
            .zip(&peaks)
            .map(|(report, peak)| VariantRun {
                report,
                record: records
                    .iter()
                    .find(|(name, _)| *name == report.variant)
                    .map(|(_, record)| record),
                peak_rss_mib: *peak,
            })
            .collect(),
        bound,
    };
    let page_written = match html::write(&page, &run) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("error: cannot write the report page: {e}");
            false
        }
    };

    if cli.json {
        let mut extra = vec![
            ("images", json!(source.urls.len())),
            ("cores", json!(cores)),
            ("latency_ms", json!(cli.pipeline.latency_ms)),
        ];
        if let Some(b) = bound {
            extra.push(("bound_s", json!(report::json_seconds(b))));
        }
        if let Some(host) = &source.host {
            // From the start of `main` to the first image request reaching
            // the embedded host (the photos are drawn meanwhile).
            let first = host
                .first_request_at()
                .map(|at| at.saturating_duration_since(started).as_secs_f64() * 1e3);
            extra.push((
                "start_to_first_request_ms",
                json!(first.map(|ms| (ms * 100.0).round() / 100.0)),
            ));
            extra.push(("photos_from_cache", json!(host.cache_hits())));
        }
        // Per variant, MiB to one decimal, or null where it is not known.
        let peaks_json: serde_json::Map<String, serde_json::Value> = variants
            .iter()
            .zip(&peaks)
            .map(|(v, p)| {
                (
                    v.name().to_owned(),
                    json!(p.map(|m| (m * 10.0).round() / 10.0)),
                )
            })
            .collect();
        extra.push(("peak_rss_mib", peaks_json.into()));
        if interrupted {
            extra.push(("interrupted", json!(true)));
        }
        println!("{}", report::json(&reports, &extra));
    } else {
        println!("\n{}", report::table(&reports, bound));
        if !drawn.is_empty() || stacked_path.is_some() {
            println!("timelines:");
            for path in &drawn {
                println!("  {}", path.display());
            }
            if let Some(p) = &stacked_path {
                println!("  {} (all variants, one time axis)", p.display());
            }
        }
        if page_written {
            println!("\nthe whole run on one page: open {}", page.display());
        }
    }
    if interrupted {
        // What was not finished is not a failure: the user stopped it.
        eprintln!("interrupted by Ctrl-C: the results above cover what finished");
        return Ok(ExitCode::from(INTERRUPTED_EXIT_STATUS));
    }
    let failures: usize = reports
        .iter()
        .map(|r| r.outcomes.len() - r.succeeded())
        .sum();
    if failures > 0 {
        eprintln!("{failures} image(s) failed");
    }
    if pictures_failed > 0 {
        eprintln!("{pictures_failed} timeline(s) could not be written");
    }
    if failures > 0 || pictures_failed > 0 || !page_written {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn runtime(trace: bool, slow_poll: bool) -> Result<Runtime, String> {
    let mut builder = Runtime::builder().trace(trace);
    if !slow_poll {
        builder = builder.slow_poll_threshold(None);
    }
    builder
        .build()
        .map_err(|e| format!("cannot create a runtime: {e}"))
}

fn run_variant(
    variant: Variant,
    job: Job,
    trace: bool,
) -> Result<(Report, Option<Record>), String> {
    let name = variant.name();
    // Each variant runs until it finishes or Ctrl-C interrupts it; then its
    // report covers what it finished (`cancel::run_variant`).
    let (report, record) = match variant {
        // The sync variant is plain blocking code; it runs inside one poll of
        // a traced runtime only so its timeline can be drawn (one long
        // blocking poll), with the slow-poll warning off for it. It sees
        // Ctrl-C through the job's flag, between images.
        Variant::Sync => {
            let rt = runtime(trace, false)?;
            let report = cancel::run_variant(&rt, job, name, |job: Arc<Job>| async move {
                pipeline_sync::run(&job)
            });
            (report, rt.trace_record())
        }
        Variant::Threads => {
            let rt = runtime(trace, true)?;
            let report = cancel::run_variant(&rt, job, name, pipeline_threads::run);
            (report, rt.trace_record())
        }
        Variant::Async => {
            let rt = runtime(trace, true)?;
            let report = cancel::run_variant(&rt, job, name, pipeline_async::run);
            (report, rt.trace_record())
        }
        Variant::Semaphore => {
            let rt = runtime(trace, true)?;
            let report = cancel::run_variant(&rt, job, name, pipeline_semaphore::run);
            (report, rt.trace_record())
        }
        Variant::Streaming => {
            let rt = runtime(trace, true)?;
            let report = cancel::run_variant(&rt, job, name, pipeline_streaming::run);
            (report, rt.trace_record())
        }
    };
    Ok((report, record))
}
