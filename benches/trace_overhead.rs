//! What tracing costs: the micro benchmarks of `benches/runtimes/` (spawn,
//! yield, ping-pong) on evloop with tracing off and on.
//!
//! ```text
//! cargo bench --bench trace_overhead                  # 7 rounds after 1 warm-up round
//! cargo bench --bench trace_overhead -- --rounds 3    # a quicker look
//! cargo bench --bench trace_overhead -- yield         # only rows whose key contains "yield"
//! cargo bench --bench trace_overhead -- --only off    # only the trace(false) column
//! ```
//!
//! # The columns
//!
//! - `default`: `Runtime::new()`, exactly what the evloop column of
//!   `benches/runtimes/` measures (tracing off unless `EVLOOP_TRACE` is set);
//! - `off`: `Runtime::builder().trace(false)`;
//! - `on`: `Runtime::builder().trace(true)`: every spawn, poll and wake is
//!   recorded.
//!
//! `default` and `off` run the same code, so their ratio shows the noise of
//! the machine, not a cost. What tracing-off costs against a build with no
//! hooks at all cannot be measured from one build: that needs the runtime
//! compiled without them (the book's chapter "Seeing the loop", section
//! "What it costs", gives the figures and how they were taken). `on / off`
//! is the price of recording.
//!
//! # How it measures
//!
//! Every sample builds a fresh runtime, starts the clock inside `block_on`,
//! runs the workload, stops the clock and checks the work was done (and,
//! with tracing on, that the record holds every task). The columns take turns
//! in every round (default, off, on, default, off, on, ...), so a slow moment
//! of the machine hurts all of them alike. The table shows each column's
//! median and (min–max) over the rounds, then the ratios of the medians.
//!
//! Run without `--bench` (as `cargo test --benches` does), the binary makes a
//! quick smoke run: one round, no warm-up, smaller workloads.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_channel::mpsc;
use futures_lite::StreamExt;

/// Tasks spawned and joined by the `spawn` row (as in `benches/runtimes/`).
const SPAWN_TASKS: u64 = 100_000;
/// Tasks in the `yield` row.
const YIELD_TASKS: u64 = 1_000;
/// Times each task of the `yield` row yields.
const YIELDS_PER_TASK: u64 = 1_000;
/// Pairs of tasks in the `ping-pong` row.
const PING_PONG_PAIRS: u32 = 1_000;
/// Messages each task of a pair sends to the other.
const PING_PONG_MESSAGES: u32 = 100;
/// Rounds measured unless `--rounds` says otherwise.
const DEFAULT_ROUNDS: usize = 7;
/// Warm-up rounds, run and thrown away.
const WARMUPS: usize = 1;
/// How much smaller the workloads are in a smoke run.
const SMOKE_SCALE: u64 = 100;

/// How a runtime of one column is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// `Runtime::new()`, as the harness of `benches/runtimes/` builds it.
    Default,
    /// Tracing explicitly off.
    Off,
    /// Tracing on.
    On,
}

impl Column {
    const ALL: [Column; 3] = [Column::Default, Column::Off, Column::On];

    fn name(self) -> &'static str {
        match self {
            Column::Default => "default",
            Column::Off => "off",
            Column::On => "on",
        }
    }

    fn runtime(self) -> Result<evloop::Runtime, String> {
        let built = match self {
            Column::Default => evloop::Runtime::new(),
            Column::Off => evloop::Runtime::builder().trace(false).build(),
            // Spawning 100,000 recorded tasks takes one long poll of the
            // main future; the record marks it, so the warning is silenced.
            Column::On => evloop::Runtime::builder()
                .trace(true)
                .on_slow_poll(|_| {})
                .build(),
        };
        built.map_err(|e| format!("building the {} runtime: {e}", self.name()))
    }
}

/// One row: a workload and its size.
#[derive(Debug, Clone, Copy)]
enum Workload {
    /// Spawns `n` trivial tasks, then awaits each handle in order.
    Spawn(u64),
    /// `tasks` tasks each yield `yields` times.
    Yield { tasks: u64, yields: u64 },
    /// `pairs` pairs of tasks send `messages` numbers back and forth.
    PingPong { pairs: u32, messages: u32 },
}

impl Workload {
    fn key(self) -> String {
        match self {
            Workload::Spawn(n) => format!("spawn {n}"),
            Workload::Yield { tasks, yields } => format!("yield {tasks}x{yields}"),
            Workload::PingPong { pairs, messages } => format!("ping-pong {pairs}x{messages}"),
        }
    }

    /// Tasks the workload spawns: the record must hold that many, plus main.
    fn tasks(self) -> u64 {
        match self {
            Workload::Spawn(n) => n,
            Workload::Yield { tasks, .. } => tasks,
            Workload::PingPong { pairs, .. } => 2 * u64::from(pairs),
        }
    }

    /// Runs once on a fresh runtime of `column`; returns the time taken.
    fn sample(self, column: Column) -> Result<Duration, String> {
        let rt = column.runtime()?;
        let took = match self {
            Workload::Spawn(n) => rt.block_on(spawn_join(n))?,
            Workload::Yield { tasks, yields } => rt.block_on(yield_many(tasks, yields))?,
            Workload::PingPong { pairs, messages } => rt.block_on(ping_pong(pairs, messages))?,
        };
        if column == Column::On {
            let record = rt.trace_record().ok_or("tracing on, yet no record")?;
            let want = self.tasks() + 1;
            if record.tasks.len() as u64 != want {
                return Err(format!(
                    "{}: the record holds {} tasks, not {want}",
                    self.key(),
                    record.tasks.len()
                ));
            }
        }
        Ok(took)
    }
}

/// Awaits a task's handle, turning a panic or cancellation into an error.
async fn join<T>(handle: evloop::JoinHandle<T>) -> Result<T, String> {
    handle.await.map_err(|e| format!("a task failed: {e}"))
}

fn check(what: &str, got: u64, want: u64) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, want {want}"))
    }
}

async fn spawn_join(n: u64) -> Result<Duration, String> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        handles.push(evloop::spawn(async move { black_box(i) }));
    }
    let mut sum = 0;
    for handle in handles {
        sum += join(handle).await?;
    }
    let took = start.elapsed();
    check("sum of task outputs", sum, n * (n - 1) / 2)?;
    Ok(took)
}

async fn yield_many(tasks: u64, yields: u64) -> Result<Duration, String> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(tasks as usize);
    for _ in 0..tasks {
        handles.push(evloop::spawn(async move {
            for _ in 0..yields {
                evloop::yield_now().await;
            }
            yields
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += join(handle).await?;
    }
    let took = start.elapsed();
    check("yields", total, tasks * yields)?;
    Ok(took)
}

async fn ping_pong(pairs: u32, messages: u32) -> Result<Duration, String> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(2 * pairs as usize);
    for _ in 0..pairs {
        let (to_echo, mut from_pinger) = mpsc::unbounded::<u32>();
        let (to_pinger, mut from_echo) = mpsc::unbounded::<u32>();
        handles.push(evloop::spawn(async move {
            let mut echoed = 0u64;
            for i in 0..messages {
                if to_echo.unbounded_send(i).is_err() {
                    break; // the echo task is gone; the count shows it
                }
                match from_echo.next().await {
                    Some(back) if back == i => echoed += 1,
                    _ => break,
                }
            }
            echoed
        }));
        handles.push(evloop::spawn(async move {
            let mut echoed = 0u64;
            // Ends when the pinger drops its sender.
            while let Some(message) = from_pinger.next().await {
                if to_pinger.unbounded_send(message).is_err() {
                    break;
                }
                echoed += 1;
            }
            echoed
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += join(handle).await?;
    }
    let took = start.elapsed();
    check(
        "messages",
        total,
        2 * u64::from(pairs) * u64::from(messages),
    )?;
    Ok(took)
}

/// What the command line asked for.
#[derive(Debug)]
struct Options {
    rounds: usize,
    warmups: usize,
    smoke: bool,
    filters: Vec<String>,
    columns: Vec<Column>,
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        rounds: DEFAULT_ROUNDS,
        warmups: WARMUPS,
        smoke: true,
        filters: Vec::new(),
        columns: Column::ALL.to_vec(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` passes `--bench`; `cargo test --benches` does not.
            "--bench" => options.smoke = false,
            "--rounds" => {
                let value = args.next().ok_or("--rounds needs a number")?;
                options.rounds =
                    value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        format!("--rounds wants a positive number, not {value:?}")
                    })?;
            }
            "--only" => {
                let value = args.next().ok_or("--only needs default, off or on")?;
                let column = Column::ALL
                    .into_iter()
                    .find(|c| c.name() == value)
                    .ok_or_else(|| format!("--only wants default, off or on, not {value:?}"))?;
                options.columns = vec![column];
            }
            // Flags that cargo's test harness protocol may pass: ignored.
            flag if flag.starts_with("--") => {}
            filter => options.filters.push(filter.to_owned()),
        }
    }
    if options.smoke {
        options.rounds = 1;
        options.warmups = 0;
    }
    Ok(options)
}

fn workloads(smoke: bool) -> Vec<Workload> {
    let scale = if smoke { SMOKE_SCALE } else { 1 };
    vec![
        Workload::Spawn(SPAWN_TASKS / scale),
        Workload::Yield {
            tasks: YIELD_TASKS / scale.min(10),
            yields: YIELDS_PER_TASK / scale.min(10),
        },
        Workload::PingPong {
            pairs: PING_PONG_PAIRS / scale as u32,
            messages: PING_PONG_MESSAGES,
        },
    ]
}

/// The median and the range of some samples, in seconds.
fn summarize(samples: &[Duration]) -> (f64, f64, f64) {
    let mut s: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

fn ms(seconds: f64) -> String {
    format!("{:.1}", seconds * 1e3)
}

fn run(options: &Options) -> Result<(), String> {
    let rows: Vec<Workload> = workloads(options.smoke)
        .into_iter()
        .filter(|w| {
            options.filters.is_empty() || options.filters.iter().any(|f| w.key().contains(f))
        })
        .collect();
    println!(
        "evloop tracing overhead: {} rounds after {} warm-up, columns take turns; median (min-max) in ms",
        options.rounds, options.warmups
    );
    let header: Vec<String> = options
        .columns
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    println!(
        "{:<20} {}  {:>12}  {:>8}",
        "row",
        header
            .iter()
            .map(|h| format!("{h:>24}"))
            .collect::<Vec<_>>()
            .join(" "),
        "off/default",
        "on/off"
    );
    for workload in rows {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); options.columns.len()];
        for round in 0..options.warmups + options.rounds {
            for (i, &column) in options.columns.iter().enumerate() {
                let took = workload.sample(column)?;
                if round >= options.warmups {
                    samples[i].push(took);
                }
            }
        }
        let summaries: Vec<(f64, f64, f64)> = samples.iter().map(|s| summarize(s)).collect();
        let cells: Vec<String> = summaries
            .iter()
            .map(|(m, lo, hi)| format!("{:>24}", format!("{} ({}-{})", ms(*m), ms(*lo), ms(*hi))))
            .collect();
        let median = |c: Column| {
            options
                .columns
                .iter()
                .position(|&x| x == c)
                .map(|i| summaries[i].0)
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
            _ => "-".to_owned(),
        };
        println!(
            "{:<20} {}  {:>12}  {:>8}",
            workload.key(),
            cells.join(" "),
            ratio(median(Column::Off), median(Column::Default)),
            ratio(median(Column::On), median(Column::Off)),
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let outcome = parse_options().and_then(|options| run(&options));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace_overhead: {e}");
            ExitCode::FAILURE
        }
    }
}
