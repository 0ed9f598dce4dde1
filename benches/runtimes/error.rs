//! [`BenchError`]: what stopped one sample, one row or the whole run.

use std::fmt;
use std::io;

/// Something that stopped one sample, one row or the whole run.
#[derive(Debug)]
pub enum BenchError {
    /// A runtime could not be built.
    Build {
        runtime: &'static str,
        source: io::Error,
    },
    /// A task ended without its output (it panicked or was cancelled).
    Join {
        runtime: &'static str,
        detail: String,
    },
    /// A workload finished but did not do all of its work.
    Wrong {
        runtime: &'static str,
        detail: String,
    },
    /// A socket operation failed.
    Io {
        runtime: &'static str,
        detail: String,
    },
    /// Something of the machine could not be read or set (`/proc`, a limit).
    Machine { what: String, detail: String },
    /// The machine cannot give a row what it needs (file descriptors).
    Limit(String),
    /// A child process failed or said something unexpected.
    Child { command: String, detail: String },
    /// The command line asked for something impossible.
    Args(String),
    /// Some rows could not be measured (each one's error is in the table).
    Rows(usize),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Build { runtime, source } => {
                write!(f, "could not build the {runtime} runtime: {source}")
            }
            BenchError::Join { runtime, detail } => {
                write!(f, "a task on {runtime} gave no output: {detail}")
            }
            BenchError::Wrong { runtime, detail } => {
                write!(f, "the workload on {runtime} went wrong: {detail}")
            }
            BenchError::Io { runtime, detail } => write!(f, "{runtime}: socket error: {detail}"),
            BenchError::Machine { what, detail } => write!(f, "{what}: {detail}"),
            BenchError::Limit(message) | BenchError::Args(message) => f.write_str(message),
            BenchError::Child { command, detail } => {
                write!(f, "child process `{command}` failed: {detail}")
            }
            BenchError::Rows(count) => {
                write!(f, "{count} row(s) could not be measured; see the table")
            }
        }
    }
}

impl std::error::Error for BenchError {}

/// Fails with [`BenchError::Wrong`] unless a workload's count is the expected one.
pub fn expect_count(
    runtime: &'static str,
    what: &str,
    got: u64,
    want: u64,
) -> Result<(), BenchError> {
    if got == want {
        Ok(())
    } else {
        Err(BenchError::Wrong {
            runtime,
            detail: format!("{what}: expected {want}, counted {got}"),
        })
    }
}
