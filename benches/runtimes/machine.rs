//! What the bench reads from and asks of the machine: the resident set, the
//! CPU clocks, the file-descriptor limit, the listen backlog's cap, and the
//! lines that say where a table was measured.
//!
//! Linux only (`/proc`); the clocks and limits go through rustix, so no
//! `unsafe` is needed here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use rustix::time::{ClockId, clock_gettime};

use crate::error::BenchError;

/// Where the resident set size is read from.
const STATUS_PATH: &str = "/proc/self/status";
/// Where the kernel's cap on a listen backlog is read from.
const SOMAXCONN_PATH: &str = "/proc/sys/net/core/somaxconn";

/// The resident set size of this process, in bytes.
///
/// Read from the `VmRSS` line of `/proc/self/status`, which gives the same
/// number as the second field of `/proc/self/statm` but already in kB, so the
/// page size need not be known.
pub fn resident_bytes() -> Result<u64, BenchError> {
    let machine_error = |detail: String| BenchError::Machine {
        what: format!("reading the RSS from {STATUS_PATH}"),
        detail,
    };
    let status = std::fs::read_to_string(STATUS_PATH).map_err(|e| machine_error(e.to_string()))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or_else(|| machine_error("no VmRSS line".to_string()))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|_| machine_error(format!("unreadable line {line:?}")))?;
    Ok(kib * 1024)
}

/// The CPU time used so far by the calling thread and by the whole process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub thread: Duration,
    pub process: Duration,
}

impl CpuTimes {
    /// Reads both clocks (`CLOCK_THREAD_CPUTIME_ID`, `CLOCK_PROCESS_CPUTIME_ID`),
    /// to the nanosecond, unlike the 10 ms ticks of `/proc/thread-self/stat`.
    pub fn now() -> CpuTimes {
        let read = |id| {
            let t = clock_gettime(id);
            Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
        };
        CpuTimes {
            thread: read(ClockId::ThreadCPUTime),
            process: read(ClockId::ProcessCPUTime),
        }
    }

    /// The CPU time spent between `earlier` and `self`.
    pub fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            thread: self.thread.saturating_sub(earlier.thread),
            process: self.process.saturating_sub(earlier.process),
        }
    }
}

/// The file-descriptor limit of this process after [`raise_fd_limit`].
#[derive(Debug, Clone, Copy)]
pub struct FdLimit {
    /// The soft limit: what `open`, `socket` and `accept` are held to.
    pub soft: Option<u64>,
    /// The hard limit: how far the soft one may be raised without privilege.
    pub hard: Option<u64>,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one (the default soft limit,
/// often 1,024, is far below what 10,000 sockets need) and returns both.
/// `None` stands for unlimited.
pub fn raise_fd_limit() -> FdLimit {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        // Failing to raise leaves the old limit, which `ensure_fds` then reports.
        let _ = setrlimit(Resource::Nofile, raised);
    }
    let now = getrlimit(Resource::Nofile);
    FdLimit {
        soft: now.current,
        hard: now.maximum,
    }
}

/// Fails with a message that says what to do unless this process may hold
/// `needed` file descriptors (`who` says what needs them).
pub fn ensure_fds(needed: u64, who: &str) -> Result<(), BenchError> {
    let limit = raise_fd_limit();
    match limit.soft {
        Some(soft) if soft < needed => Err(BenchError::Limit(format!(
            "{who} needs {needed} file descriptors, but RLIMIT_NOFILE allows {soft} (hard limit {}); \
             raise the hard limit (`ulimit -Hn`, or /etc/security/limits.conf) or run `-- --quick`",
            limit
                .hard
                .map_or("unlimited".to_string(), |h| h.to_string())
        ))),
        _ => Ok(()),
    }
}

/// The kernel's cap on any listen backlog (`net.core.somaxconn`), if readable.
pub fn somaxconn() -> Option<u64> {
    std::fs::read_to_string(SOMAXCONN_PATH)
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The 1-minute load average: how busy the machine was (above the number of
/// cores, every runtime waited for a CPU some of the time).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One line naming the machine: CPU model, cores, kernel.
pub fn describe() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| format!("Linux {}", release.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    format!("{cpu}, {cores} core(s) available, {kernel}")
}

/// Today's date in UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (the proleptic Gregorian
    // calendar counted in 400-year eras of 146,097 days, starting in March).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
