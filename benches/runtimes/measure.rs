//! Taking the samples of one row, warm or isolated, and the child process
//! that takes one isolated sample.
//!
//! - **Warm**: every run in this process, one round after another, the
//!   runtimes taking turns in each round (evloop, tokio, smol, evloop, ...),
//!   after `--warmup` discarded rounds. What a long-lived program sees: the
//!   allocator and the caches are warm, earlier rounds have grown the heap.
//! - **Isolated**: every measured run in a fresh child process (this binary
//!   again, `--child KEY RUNTIME`), which builds a runtime, runs the
//!   workload once to warm up, builds a fresh runtime, runs it again with
//!   the clock inside the root future, and prints one line. The runtimes
//!   take turns in the same way, so a busy moment of the machine falls on
//!   all three alike. What a short-lived program sees, and the table the
//!   targets are judged on.
//!
//! Rows marked `fresh_only` (idle memory, `tcp-10k`) run in a fresh child
//! without the warm-up run in both modes.

use std::process::Command;

use crate::error::BenchError;
use crate::options::Options;
use crate::rows::{Contender, Sample, Sizes, Workload, workloads};

/// The first argument that turns this binary into a child taking one sample.
pub const CHILD_FLAG: &str = "--child";
/// Prefix of the line on which a child reports its sample.
const CHILD_RESULT: &str = "EVLOOP_BENCH_RESULT";

/// The samples of one row, per runtime (in [`Contender::ALL`]'s order), in
/// measured order.
#[derive(Debug, Default)]
pub struct Samples {
    pub by_runtime: [Vec<Sample>; 3],
}

/// The warm table's samples of one row.
pub fn warm(workload: &Workload, options: &Options) -> Result<Samples, BenchError> {
    if workload.fresh_only {
        return isolated(workload, options);
    }
    let sizes = options.sizes();
    let mut samples = Samples::default();
    for round in 0..options.warmups + options.runs {
        for (slot, runtime) in Contender::ALL.into_iter().enumerate() {
            let sample = (workload.runner(runtime))(&sizes)?;
            if round >= options.warmups {
                samples.by_runtime[slot].push(sample);
            }
        }
    }
    Ok(samples)
}

/// The isolated table's samples of one row: one child process per run.
pub fn isolated(workload: &Workload, options: &Options) -> Result<Samples, BenchError> {
    let mut samples = Samples::default();
    for _ in 0..options.runs {
        for (slot, runtime) in Contender::ALL.into_iter().enumerate() {
            let sample = run_child(workload, runtime, options.quick)?;
            samples.by_runtime[slot].push(sample);
        }
    }
    Ok(samples)
}

/// Runs one sample in a fresh copy of this binary and reads its result line.
/// What the child wrote on stderr (a runtime's warning) is passed on.
fn run_child(workload: &Workload, runtime: Contender, quick: bool) -> Result<Sample, BenchError> {
    let mut args = vec![
        CHILD_FLAG.to_string(),
        workload.key.to_string(),
        runtime.name().to_string(),
    ];
    if quick {
        args.push("--quick".to_string());
    }
    let command = format!("runtimes {}", args.join(" "));
    let fail = |detail: String| BenchError::Child {
        command: command.clone(),
        detail,
    };
    let exe = std::env::current_exe()
        .map_err(|error| fail(format!("cannot find own binary: {error}")))?;
    let output = Command::new(&exe)
        .args(&args)
        .output()
        .map_err(|error| fail(format!("cannot start {}: {error}", exe.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(fail(format!("{}: {}", output.status, stderr.trim())));
    }
    for line in stderr.lines() {
        eprintln!("[{command}] {line}");
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(CHILD_RESULT))
        .ok_or_else(|| fail(format!("no {CHILD_RESULT} line in its output {stdout:?}")))?;
    let sample = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<Sample, _>>()
        .map_err(|_| fail(format!("unreadable result line {line:?}")))?;
    if sample.len() != workload.metrics.len() {
        return Err(fail(format!(
            "{} values where {} were expected",
            sample.len(),
            workload.metrics.len()
        )));
    }
    Ok(sample)
}

/// The child side of [`run_child`]: `KEY RUNTIME [--quick]`. Runs the
/// workload once to warm up (unless the row is `fresh_only`), then once
/// measured, each time on a fresh runtime, and prints the measured sample.
pub fn child_main(args: &[String]) -> Result<(), BenchError> {
    let usage = || {
        BenchError::Args(format!(
            "{CHILD_FLAG} expects <workload key> <evloop|tokio|smol> [--quick], got {args:?}"
        ))
    };
    let (key, runtime, quick) = match args {
        [key, runtime] => (key, runtime, false),
        [key, runtime, quick] if quick == "--quick" => (key, runtime, true),
        _ => return Err(usage()),
    };
    let runtime = Contender::from_name(runtime).ok_or_else(usage)?;
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    let workload = workloads(&sizes)
        .into_iter()
        .find(|w| w.key == key.as_str())
        .ok_or_else(usage)?;
    let run = workload.runner(runtime);
    if !workload.fresh_only {
        run(&sizes)?;
    }
    let sample = run(&sizes)?;
    let fields: Vec<String> = sample.iter().map(|v| v.to_string()).collect();
    println!("{CHILD_RESULT} {}", fields.join(" "));
    Ok(())
}
