//! The command line: which tables, which rows, how many runs, what size.

use crate::error::BenchError;
use crate::rows::{Sizes, Workload};

/// Runs per runtime and row when neither `--runs` nor `EVLOOP_BENCH_RUNS` says.
pub const DEFAULT_RUNS: usize = 5;
/// Warm-up rounds of the warm table, run and discarded before the measured ones.
pub const DEFAULT_WARMUPS: usize = 1;
/// Environment variable that sets the number of runs.
pub const RUNS_ENV: &str = "EVLOOP_BENCH_RUNS";

/// Which tables to measure and print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// The warm table, then the isolated one (the default).
    Both,
    /// Only the warm table: every run in this one process.
    Warm,
    /// Only the isolated table: every run in a fresh process.
    Isolated,
}

/// What the command line and the environment asked for.
#[derive(Debug)]
pub struct Options {
    /// Keep only rows whose key contains one of these (all rows when empty).
    pub filters: Vec<String>,
    pub tables: Tables,
    /// Measured runs per runtime and row, in either table.
    pub runs: usize,
    /// Discarded rounds before the warm table's measured ones.
    pub warmups: usize,
    /// Small sizes (see [`Sizes::quick`]).
    pub quick: bool,
    /// Print the tables as Markdown.
    pub markdown: bool,
    /// Print the rows instead of running them.
    pub list: bool,
    pub help: bool,
    /// The arguments that matter, as given, to print the command back.
    shown_args: Vec<String>,
}

impl Options {
    /// Reads the arguments (without the program name) and `EVLOOP_BENCH_RUNS`.
    ///
    /// `cargo bench` passes `--bench`; without it (`cargo test --benches`, or
    /// the binary run by hand) the run is a quick one unless `--full` says
    /// otherwise.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        runs_env: Option<String>,
    ) -> Result<Options, BenchError> {
        let mut options = Options {
            filters: Vec::new(),
            tables: Tables::Both,
            runs: DEFAULT_RUNS,
            warmups: DEFAULT_WARMUPS,
            quick: false,
            markdown: false,
            list: false,
            help: false,
            shown_args: Vec::new(),
        };
        if let Some(value) = runs_env {
            options.runs = parse_count(RUNS_ENV, &value, 1)?;
        }
        let mut benching = false;
        let mut full = false;
        let mut runs_given = false;
        let mut warmups_given = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_string(), Some(value.to_string()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| BenchError::Args(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "--bench" => {
                    benching = true;
                    continue;
                }
                "--runs" | "--rounds" => {
                    let given = value(&flag)?;
                    options.runs = parse_count(&flag, &given, 1)?;
                    runs_given = true;
                    options.shown_args.push(format!("--runs {given}"));
                    continue;
                }
                "--warmup" => {
                    let given = value("--warmup")?;
                    options.warmups = parse_count("--warmup", &given, 0)?;
                    warmups_given = true;
                    options.shown_args.push(format!("--warmup {given}"));
                    continue;
                }
                "--warm" => options.tables = Tables::Warm,
                "--isolated" => options.tables = Tables::Isolated,
                "--quick" => options.quick = true,
                "--full" => full = true,
                "--markdown" => options.markdown = true,
                "--list" => options.list = true,
                "--help" | "-h" => options.help = true,
                other if other.starts_with('-') => {
                    return Err(BenchError::Args(format!(
                        "unknown option {other:?}; `cargo bench --bench runtimes -- --help` lists them"
                    )));
                }
                _ => options.filters.push(arg.clone()),
            }
            options.shown_args.push(arg);
        }
        if !benching && !full {
            options.quick = true;
        }
        if options.quick {
            if !runs_given {
                options.runs = 1;
            }
            if !warmups_given {
                options.warmups = 0;
            }
        }
        Ok(options)
    }

    /// The workload sizes asked for.
    pub fn sizes(&self) -> Sizes {
        if self.quick {
            Sizes::quick()
        } else {
            Sizes::full()
        }
    }

    pub fn selects(&self, workload: &Workload) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|f| workload.key.contains(f.as_str()))
    }

    /// The command that reproduces this run.
    pub fn command(&self) -> String {
        let mut command = "cargo bench --bench runtimes".to_string();
        if !self.shown_args.is_empty() {
            command.push_str(" -- ");
            command.push_str(&self.shown_args.join(" "));
        }
        command
    }
}

/// Parses a whole number of at least `min` for the option or variable `name`.
fn parse_count(name: &str, value: &str, min: usize) -> Result<usize, BenchError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(BenchError::Args(format!(
            "{name} must be a whole number of at least {min}, not {value:?}"
        ))),
    }
}

pub fn print_help() {
    println!(
        "usage: cargo bench --bench runtimes -- [FILTER...] [--warm | --isolated] [--runs N] \
         [--warmup N] [--quick | --full] [--markdown] [--list]"
    );
    println!();
    println!("  FILTER      run only rows whose key contains it (several: any of them)");
    println!("  --warm      only the warm table (every run in this one process)");
    println!("  --isolated  only the isolated table (every run in a fresh process)");
    println!("              (neither: both tables, warm first)");
    println!(
        "  --runs N    measured runs per runtime and row (default {DEFAULT_RUNS}; also {RUNS_ENV}=N)"
    );
    println!("  --warmup N  warm table: discarded rounds first (default {DEFAULT_WARMUPS})");
    println!("  --quick     every row once at small sizes, no warm-up round (CI)");
    println!("  --full      full sizes even without `--bench` (the binary run by hand)");
    println!("  --markdown  print the tables as Markdown");
    println!("  --list      print the rows and exit");
}
