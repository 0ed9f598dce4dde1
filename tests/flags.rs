//! Every numeric flag is range-checked where it is parsed: the demo binary
//! refuses an out-of-range value with a usage error whose first line names
//! the flag, exits with status 2, and runs nothing; a value at the edge of a
//! range is accepted. The pipeline examples parse the same flags through the
//! same definition ([`PipelineArgs`]), with the same defaults and ranges.
//!
//! The demo runs as a child process under a watchdog; the examples' parser
//! is called directly (`try_parse_from`), since an example is not a binary a
//! test can start.

mod pipeline_common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use clap::error::ErrorKind;
use evloop::pipeline::example::ExampleArgs;
use evloop::pipeline::flags::{
    DEFAULT_STREAM_CONCURRENCY, MAX_CONCURRENCY, MAX_TIMEOUT_SECS, PipelineArgs,
};
use evloop::pipeline::host::{DEFAULT_IMAGES, DEFAULT_LATENCY, ImageHost, MAX_IMAGES, MAX_LATENCY};
use evloop::pipeline::job::{DEFAULT_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT};
use pipeline_common::TempDir;

/// How long one demo run may take in a debug build on a busy machine.
const DEMO_LIMIT: Duration = Duration::from_secs(120);

/// Runs the demo binary with `args`, killing it if it runs past the limit.
fn demo(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evloop"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo binary starts");
    let started = Instant::now();
    // A watchdog, not a timing assertion: a hung demo fails the test.
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if started.elapsed() > DEMO_LIMIT {
            let _ = child.kill();
            panic!(
                "watchdog: `evloop {}` ran past {DEMO_LIMIT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the child's output")
}

/// A host of one small picture, so that a demo that wrongly accepts a flag
/// runs (and shows what goes wrong) quickly instead of drawing full-size ones.
fn small_host() -> ImageHost {
    ImageHost::builder()
        .images(1)
        .size(32, 24)
        .latency(Duration::ZERO)
        .build()
        .expect("the image host starts")
}

/// The first line of the demo's stderr after it refused `bad` (a flag and its
/// value): status 2, the flag named on the first line, no panic, nothing run.
fn refused(host: &ImageHost, bad: &[&str]) -> String {
    let dir = TempDir::new("flags");
    let out = dir.path().join("out");
    let base = host.base_url();
    let mut args: Vec<&str> = bad.to_vec();
    args.extend([
        "--out",
        out.to_str().expect("a UTF-8 path"),
        "--base-url",
        &base,
        "--variant",
        "sync",
        "--quiet",
        "--no-trace",
    ]);
    let output = demo(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{bad:?} must be a usage error:\n{stderr}"
    );
    let first = stderr.lines().next().unwrap_or_default().to_owned();
    let flag = bad[0].split('=').next().expect("a flag");
    assert!(first.starts_with("error: "), "{bad:?}: {stderr}");
    assert!(
        first.contains(flag),
        "{bad:?}: the first line names {flag}:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{bad:?}: {stderr}"
    );
    // Refused while parsing: nothing printed, nothing written.
    assert!(
        output.stdout.is_empty(),
        "{bad:?}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!out.exists(), "{bad:?}: the demo created {}", out.display());
    first
}

#[test]
fn the_demo_refuses_a_timeout_that_would_overflow_a_deadline() {
    let host = small_host();
    let line = refused(&host, &["--timeout-secs", "18446744073709551615"]);
    assert!(line.contains("18446744073709551615"), "{line}");
    assert!(line.contains(&format!("1..={MAX_TIMEOUT_SECS}")), "{line}");
}

#[test]
fn the_demo_refuses_a_zero_timeout() {
    let host = small_host();
    refused(&host, &["--timeout-secs", "0"]);
    refused(
        &host,
        &["--timeout-secs", &(MAX_TIMEOUT_SECS + 1).to_string()],
    );
}

#[test]
fn the_demo_refuses_more_images_than_the_host_holds() {
    let host = small_host();
    let line = refused(&host, &["--images", "10000"]);
    assert!(line.contains(&format!("1..={MAX_IMAGES}")), "{line}");
    refused(&host, &["--images", &(MAX_IMAGES + 1).to_string()]);
    refused(&host, &["--images", "0"]);
    refused(&host, &["--images=-1"]);
    refused(&host, &["--images", "twelve"]);
    refused(&host, &["--images", "99999999999999999999"]);
}

#[test]
fn the_demo_refuses_out_of_range_latency_and_concurrency() {
    let host = small_host();
    let max_latency_ms = MAX_LATENCY.as_millis() as u64;
    refused(&host, &["--latency-ms", &(max_latency_ms + 1).to_string()]);
    refused(&host, &["--latency-ms", "18446744073709551615"]);
    refused(&host, &["--latency-ms=-1"]);
    for flag in ["--concurrency", "--stream-concurrency"] {
        refused(&host, &[flag, "0"]);
        refused(&host, &[flag, &(MAX_CONCURRENCY + 1).to_string()]);
        refused(&host, &[flag, "18446744073709551615"]);
    }
}

#[test]
fn the_demo_accepts_every_flag_at_the_edge_of_its_range() {
    let host = small_host();
    let dir = TempDir::new("flags-edges");
    let out = dir.path().join("out");
    let base = host.base_url();
    let max_concurrency = MAX_CONCURRENCY.to_string();
    let max_timeout = MAX_TIMEOUT_SECS.to_string();
    let output = demo(&[
        "--images",
        "1",
        "--latency-ms",
        "0",
        "--timeout-secs",
        &max_timeout,
        "--concurrency",
        &max_concurrency,
        "--stream-concurrency",
        "1",
        "--variant",
        "sync",
        "--variant",
        "threads",
        "--variant",
        "streaming",
        "--quiet",
        "--no-trace",
        "--out",
        out.to_str().expect("a UTF-8 path"),
        "--base-url",
        &base,
    ]);
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for variant in ["sync", "threads", "streaming"] {
        let edges = out
            .join(variant)
            .join("processed_images")
            .join("image_1.jpg");
        assert!(edges.is_file(), "{} is missing", edges.display());
    }
}

#[test]
fn the_demo_help_shows_every_range_and_default() {
    let output = demo(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    let max_latency_ms = MAX_LATENCY.as_millis();
    for wanted in [
        format!("1..={MAX_IMAGES}"),
        format!("[default: {DEFAULT_IMAGES}]"),
        format!("0..={max_latency_ms}"),
        format!("[default: {}]", DEFAULT_LATENCY.as_millis()),
        format!("1..={MAX_CONCURRENCY}"),
        format!("[default: {DEFAULT_STREAM_CONCURRENCY}]"),
        format!("1..={MAX_TIMEOUT_SECS}"),
        format!("[default: {}]", DEFAULT_REQUEST_TIMEOUT.as_secs()),
    ] {
        assert!(help.contains(&wanted), "no {wanted:?} in:\n{help}");
    }
}

// ------------------------------------------------------------ the examples

fn example(args: &[&str]) -> Result<ExampleArgs, clap::Error> {
    ExampleArgs::try_parse_from(std::iter::once("pipeline_async").chain(args.iter().copied()))
}

#[test]
fn the_examples_default_to_the_demos_values() {
    let args = example(&[]).expect("no flags is fine");
    let p = &args.pipeline;
    assert_eq!(p.images, DEFAULT_IMAGES);
    assert_eq!(p.latency(), DEFAULT_LATENCY);
    assert_eq!(p.request_timeout(), DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(p.base_url, None);
    assert_eq!(p.out, PathBuf::from("output"));
    assert_eq!(p.concurrency, None);
    assert_eq!(p.concurrency_or(DEFAULT_CONCURRENCY), DEFAULT_CONCURRENCY);
    assert!(!args.trace().wanted());
    // The demo shows the same defaults: it flattens the same struct.
    let help = String::from_utf8_lossy(&demo(&["--help"]).stdout).into_owned();
    for flag in [
        "--images",
        "--latency-ms",
        "--timeout-secs",
        "--concurrency",
        "--out",
    ] {
        let demo_line = help_line(&help, flag);
        let example_line = help_line(&example_help(), flag);
        assert_eq!(demo_line, example_line, "{flag}");
    }
}

/// The examples' `--help` text.
fn example_help() -> String {
    match example(&["--help"]) {
        Err(e) if e.kind() == ErrorKind::DisplayHelp => e.to_string(),
        other => panic!("--help must show the help: {other:?}"),
    }
}

/// The help of `flag`: its line and the indented lines after it.
fn help_line(help: &str, flag: &str) -> String {
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(flag));
    let mut out = lines
        .next()
        .unwrap_or_else(|| panic!("no {flag} in:\n{help}"))
        .to_owned();
    for l in lines.take_while(|l| !l.trim_start().starts_with('-') && !l.trim().is_empty()) {
        out.push_str(l);
    }
    out
}

#[test]
fn the_examples_take_every_flag() {
    let args = example(&[
        "--images",
        "3",
        "--latency-ms",
        "0",
        "--timeout-secs",
        "5",
        "--concurrency",
        "2",
        "--base-url",
        "http://127.0.0.1:8765",
        "--out",
        "elsewhere",
        "--timeline",
        "t.svg",
        "--trace=t.json",
    ])
    .expect("good flags");
    let p = &args.pipeline;
    assert_eq!(p.images, 3);
    assert_eq!(p.latency(), Duration::ZERO);
    assert_eq!(p.request_timeout(), Duration::from_secs(5));
    assert_eq!(p.concurrency_or(DEFAULT_STREAM_CONCURRENCY), 2);
    assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:8765"));
    assert_eq!(p.out, PathBuf::from("elsewhere"));
    let trace = args.trace();
    assert_eq!(trace.timeline(), Some(std::path::Path::new("t.svg")));
    assert_eq!(trace.chrome(), Some(std::path::Path::new("t.json")));
}

#[test]
fn the_examples_refuse_what_the_demo_refuses() {
    let max_latency_ms = MAX_LATENCY.as_millis() as u64;
    let cases: Vec<[String; 2]> = vec![
        ["--images".into(), "0".into()],
        ["--images".into(), (MAX_IMAGES + 1).to_string()],
        ["--images".into(), "10000".into()],
        ["--latency-ms".into(), (max_latency_ms + 1).to_string()],
        ["--timeout-secs".into(), "0".into()],
        ["--timeout-secs".into(), "18446744073709551615".into()],
        ["--timeout-secs".into(), (MAX_TIMEOUT_SECS + 1).to_string()],
        ["--concurrency".into(), "0".into()],
        ["--concurrency".into(), (MAX_CONCURRENCY + 1).to_string()],
    ];
    for [flag, value] in &cases {
        let err = example(&[flag, value]).expect_err("out of range");
        assert_eq!(
            err.kind(),
            ErrorKind::ValueValidation,
            "{flag} {value}: {err}"
        );
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "{first}");
        assert!(
            first.contains(flag.as_str()) && first.contains(value.as_str()),
            "{first}"
        );
    }
    // A trace flag needs a file name.
    for flag in ["--timeline", "--trace"] {
        let err = example(&[flag, ""]).expect_err("an empty file name");
        assert!(err.to_string().contains(flag), "{err}");
        let err = example(&[flag]).expect_err("no file name");
        assert!(err.to_string().contains(flag), "{err}");
    }
    // A flag of the demo alone is not an example's.
    let err = example(&["--json"]).expect_err("not an example flag");
    assert_eq!(err.kind(), ErrorKind::UnknownArgument);
}

#[test]
fn the_shared_flags_accept_the_edges_of_their_ranges() {
    #[derive(Debug, Parser)]
    struct Only {
        #[command(flatten)]
        pipeline: PipelineArgs,
    }
    let max_latency_ms = MAX_LATENCY.as_millis().to_string();
    let parsed = Only::try_parse_from([
        "t",
        "--images",
        &MAX_IMAGES.to_string(),
        "--latency-ms",
        &max_latency_ms,
        "--timeout-secs",
        &MAX_TIMEOUT_SECS.to_string(),
        "--concurrency",
        &MAX_CONCURRENCY.to_string(),
    ])
    .expect("the upper edges");
    assert_eq!(parsed.pipeline.images, MAX_IMAGES);
    assert_eq!(parsed.pipeline.latency(), MAX_LATENCY);
    assert_eq!(
        parsed.pipeline.request_timeout(),
        Duration::from_secs(MAX_TIMEOUT_SECS)
    );
    assert_eq!(parsed.pipeline.concurrency_or(4), MAX_CONCURRENCY);
    let parsed = Only::try_parse_from([
        "t",
        "--images",
        "1",
        "--latency-ms",
        "0",
        "--timeout-secs",
        "1",
        "--concurrency",
        "1",
    ])
    .expect("the lower edges");
    assert_eq!(parsed.pipeline.images, 1);
    assert_eq!(parsed.pipeline.request_timeout(), Duration::from_secs(1));
    assert_eq!(parsed.pipeline.concurrency_or(4), 1);
}
