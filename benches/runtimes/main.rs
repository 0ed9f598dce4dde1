//! evloop beside tokio and smol: the same workloads on all three, measured
//! two ways, warm (every run in one process) and isolated (a fresh process
//! per measured run).
//!
//! ```text
//! cargo bench --bench runtimes                      # both tables, 5 runs per runtime and row
//! cargo bench --bench runtimes -- --isolated        # only the table the targets are judged on
//! cargo bench --bench runtimes -- --warm            # only the one-process table
//! cargo bench --bench runtimes -- spawn timers      # rows whose key contains "spawn" or "timers"
//! cargo bench --bench runtimes -- --runs 9          # more runs (also EVLOOP_BENCH_RUNS=9)
//! cargo bench --bench runtimes -- --quick           # every row once at small sizes: a smoke run (CI)
//! cargo bench --bench runtimes -- --markdown        # the tables as Markdown, for the README
//! cargo bench --bench runtimes -- --list            # the rows and what each one does
//! ```
//!
//! The whole default run takes about five minutes on two cores, most of it
//! the `tcp-10k` row (10 s per run).
//!
//! # How it measures
//!
//! Each row is one workload written once (in a macro of `tasks.rs`,
//! `timers.rs`, `memory.rs` or `net.rs`) and compiled three times, against
//! each runtime's own `spawn`, `yield_now`, `sleep` and sockets
//! (`contenders.rs`). Messages travel over `futures-channel`, which belongs
//! to no runtime, so the difference between columns is the executor, its
//! timers and its reactor. Every run builds a fresh runtime, starts a clock
//! inside the root future, runs the workload, stops the clock and checks
//! that the work was really done.
//!
//! The two tables differ in where a run happens (`measure.rs` says more):
//! the **warm** table runs everything in this process, after a discarded
//! warm-up round; the **isolated** table runs each measured run in a fresh
//! child process, this binary re-executed with the row and the runtime as
//! arguments, one warm-up run inside it first. In both, the runtimes take
//! turns (evloop, tokio, smol, evloop, ...), so a busy moment of a shared
//! machine falls on all three alike. The memory rows and `tcp-10k` always
//! run in a fresh process without a warm-up, and appear in the isolated
//! table only.
//!
//! Each line shows per runtime the median and the (min-max) range of the
//! runs, evloop's median over the best peer's, and a verdict (`table.rs`).
//!
//! # The scale rows
//!
//! `idle-1m` parks 1,000,000 tasks on a 1 h sleep: bytes per task and the
//! time to spawn them. `tcp-10k` serves 10,000 connections from a load
//! client in another process (`load_client.rs`, plain mio), each doing one
//! 64 B round trip a second for 10 s: the p99 round trip, and the CPU time
//! of the loop thread and of the whole server process. Every process raises
//! its soft file-descriptor limit to the hard one at start; `tcp-10k` needs
//! 10,064 descriptors in each of its two processes and says so if the limit
//! is lower.
//!
//! # Adding a row
//!
//! Write the workload as one function in the macro of its family (or a new
//! file with a new macro, expanded in each module of `contenders.rs`); when
//! the runtimes need different types, add a small adapter to each of the
//! three modules. Then add a [`rows::Workload`] to [`rows::workloads`], with
//! its size in [`rows::Sizes`] (full and quick).

use std::process::ExitCode;
use std::time::Instant;

#[macro_use]
mod tasks;
#[macro_use]
mod timers;
#[macro_use]
mod memory;
#[macro_use]
mod net;

mod contenders;
mod error;
mod load_client;
mod machine;
mod measure;
mod options;
mod rows;
mod table;

use error::BenchError;
use options::{Options, RUNS_ENV, Tables};
use rows::{Workload, workloads};

fn print_list(rows: &[Workload]) {
    for workload in rows {
        let fresh = if workload.fresh_only {
            " [fresh process only]"
        } else {
            ""
        };
        println!("{:<16}{}{fresh}", workload.key, workload.about);
    }
}

/// The load average now, and whether it was above the core count (runs
/// then waited for a CPU).
fn load_now() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match machine::load_average() {
        None => "? (unknown)".to_string(),
        Some(l) if l > cores as f64 => {
            format!("{l:.2} (above the core count: runs may have waited for a CPU)")
        }
        Some(l) => format!("{l:.2} (below the core count of {cores})"),
    }
}

/// Where and how the tables were measured, printed above them.
fn print_preamble(options: &Options) {
    let limit = machine::raise_fd_limit();
    let show = |n: Option<u64>| n.map_or("unlimited".to_string(), |n| n.to_string());
    let needed = options.sizes().load.connections as u64 + net::FD_MARGIN;
    let enough = match limit.soft {
        Some(soft) if soft < needed => format!("NOT ENOUGH for tcp-10k, which needs {needed}"),
        _ => format!("tcp-10k needs {needed} in each of its two processes"),
    };
    let load = load_now();
    let lines = [
        "evloop vs tokio (current_thread) vs smol (LocalExecutor)".to_string(),
        format!("command: {}", options.command()),
        format!("date: {} (UTC)", machine::today()),
        format!("machine: {}", machine::describe()),
        format!("load average at start: {load}"),
        format!(
            "file descriptors per process: {} (hard limit {}; {enough}); listen backlog capped at {} \
             (net.core.somaxconn)",
            show(limit.soft),
            show(limit.hard),
            show(machine::somaxconn())
        ),
    ];
    for line in lines {
        if options.markdown {
            println!("{line}  ");
        } else {
            println!("{line}");
        }
    }
    if options.quick {
        println!("QUICK RUN: small sizes, not for comparing.");
    }
}

/// Measures and prints one table; returns how many rows failed.
fn table(rows: &[Workload], options: &Options, isolated: bool) -> usize {
    let title = if isolated {
        format!(
            "ISOLATED: every run in a fresh process (one warm-up run inside it; none for \
             the fresh-only rows); median (min-max) of {} run(s), runtimes interleaved",
            options.runs
        )
    } else {
        format!(
            "WARM: every run in this process; median (min-max) of {} round(s) after {} \
             warm-up round(s), runtimes interleaved",
            options.runs, options.warmups
        )
    };
    table::print_header(&title, options.markdown);
    let mut judged = Vec::new();
    let mut failures = 0;
    for workload in rows {
        if !isolated && workload.fresh_only && options.tables == Tables::Both {
            table::print_note(
                workload,
                "fresh process only: see the isolated table",
                options.markdown,
            );
            continue;
        }
        eprintln!("measuring {} ...", workload.key);
        let samples = if isolated {
            measure::isolated(workload, options)
        } else {
            measure::warm(workload, options)
        };
        match samples {
            Ok(samples) => judged.extend(table::print_row(workload, &samples, options.markdown)),
            Err(error) => {
                failures += 1;
                table::print_note(workload, &format!("error: {error}"), options.markdown);
            }
        }
    }
    table::print_summary(if isolated { "isolated" } else { "warm" }, &judged);
    failures
}

fn run(options: &Options) -> Result<(), BenchError> {
    let rows: Vec<Workload> = workloads(&options.sizes())
        .into_iter()
        .filter(|w| options.selects(w))
        .collect();
    if options.help {
        options::print_help();
        return Ok(());
    }
    if options.list {
        print_list(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        return Err(BenchError::Args(format!(
            "no row matches {:?}; `cargo bench --bench runtimes -- --list` shows the rows",
            options.filters
        )));
    }
    let started = Instant::now();
    print_preamble(options);
    let mut failures = 0;
    if options.tables != Tables::Isolated {
        failures += table(&rows, options, false);
    }
    if options.tables != Tables::Warm {
        failures += table(&rows, options, true);
    }
    println!();
    print_list(&rows);
    let load = load_now();
    println!(
        "Whole run: {:.0} s; load average at the end: {load}.",
        started.elapsed().as_secs_f64()
    );
    if failures > 0 {
        return Err(BenchError::Rows(failures));
    }
    Ok(())
}

fn main() -> ExitCode {
    // Every process of the bench (this one, each child, the load client)
    // may need many sockets: raise the soft limit to the hard one first.
    machine::raise_fd_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some(measure::CHILD_FLAG) => measure::child_main(&args[1..]),
        Some(net::LOAD_CLIENT_FLAG) => load_client::client_main(&args[1..]),
        _ => Options::parse(args, std::env::var(RUNS_ENV).ok()).and_then(|o| run(&o)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("runtimes bench: {error}");
            ExitCode::FAILURE
        }
    }
}
