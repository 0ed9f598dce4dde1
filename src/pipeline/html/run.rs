//! The model the page is drawn from: one run of the pipeline, its variants'
//! [`Report`]s (the same values the terminal table and `--json` print) and
//! their trace [`Record`]s (the same values the SVG timelines draw), with
//! the header's facts about the machine and the command.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::pipeline::Report;
use crate::trace::record::Record;

/// One run of the pipeline, as the page shows it.
///
/// It borrows what the run produced, so the page is drawn from the very
/// values the other views print.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::html::{Run, RunInfo, VariantRun};
/// use evloop::pipeline::{Report, Timings};
///
/// let report = Report::new("async", Timings::default(), vec![]);
/// let run = Run {
///     info: RunInfo::of_this_process("a test", 0, Duration::ZERO),
///     variants: vec![VariantRun { report: &report, record: None, peak_rss_mib: None }],
///     bound: None,
/// };
/// assert_eq!(run.variants[0].report.variant, "async");
/// ```
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The header: when, where, what was asked for.
    pub info: RunInfo,
    /// Every variant that ran, in the order they ran.
    pub variants: Vec<VariantRun<'a>>,
    /// The lower bound on a run's total for this workload
    /// ([`report::bound`](crate::pipeline::report::bound)), if the CPU work
    /// was measured.
    pub bound: Option<Duration>,
}

/// One variant's results.
#[derive(Debug, Clone, Copy)]
pub struct VariantRun<'a> {
    /// Its timings and every image's outcome.
    pub report: &'a Report,
    /// Its trace, if it was recorded (`--no-trace` leaves none).
    pub record: Option<&'a Record>,
    /// Its peak resident memory in MiB, where known.
    pub peak_rss_mib: Option<f64>,
}

/// The facts in the page's header.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// When the run started.
    pub date: SystemTime,
    /// Logical cores of the machine.
    pub cores: usize,
    /// The operating system (`linux x86_64, Debian GNU/Linux 12 (bookworm)`).
    pub os: String,
    /// The command line, quoted so it can be pasted into a shell.
    pub command_line: String,
    /// Where the images came from (the image host and its URL, or the file
    /// of URLs).
    pub source: String,
    /// The URLs themselves when they came from a file (`--urls`), listed
    /// under the header; empty when an image host's URLs follow a pattern.
    pub urls: Vec<String>,
    /// How many images each variant fetched.
    pub images: usize,
    /// The network latency the bound assumes (the embedded host's delay).
    pub latency: Duration,
}

impl RunInfo {
    /// The header of a run this process starts now: the time, this
    /// machine's cores and operating system, this process's command line.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::pipeline::html::RunInfo;
    ///
    /// let info = RunInfo::of_this_process("embedded image host", 12, Duration::from_millis(300));
    /// assert!(info.cores >= 1);
    /// assert!(info.os.starts_with(std::env::consts::OS));
    /// assert!(!info.command_line.is_empty());
    /// ```
    pub fn of_this_process(source: impl Into<String>, images: usize, latency: Duration) -> RunInfo {
        RunInfo {
            date: SystemTime::now(),
            cores: num_cpus::get(),
            os: operating_system(),
            command_line: command_line(
                std::env::args_os().map(|a| a.to_string_lossy().into_owned()),
            ),
            source: source.into(),
            urls: Vec::new(),
            images,
            latency,
        }
    }
}

/// `linux x86_64`, and the distribution's name where `/etc/os-release`
/// gives one.
fn operating_system() -> String {
    let mut os = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim().trim_matches('"').to_owned())
        })
        .filter(|name| !name.is_empty());
    if let Some(name) = pretty {
        os.push_str(", ");
        os.push_str(&name);
    }
    os
}

/// The arguments joined by spaces, each quoted for a POSIX shell where it
/// needs it.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::html::command_line;
///
/// let line = command_line(["evloop", "--urls", "my list.txt", "it's"].map(String::from));
/// assert_eq!(line, r#"evloop --urls 'my list.txt' 'it'\''s'"#);
/// ```
pub fn command_line(args: impl IntoIterator<Item = String>) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c);
    args.into_iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(plain) {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A moment as `YYYY-MM-DD HH:MM:SS UTC` (a moment before 1970 as 1970).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use evloop::pipeline::html::utc;
///
/// assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
/// assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29 00:00:00 UTC");
/// assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(1_798_761_599)), "2026-12-31 23:59:59 UTC");
/// ```
pub fn utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01: the calendar
/// counted in 400-year eras of 146 097 days, each year starting on
/// 1 March so the leap day falls at its end.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097; // day of the era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year from 1 March
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = era * 400 + yoe + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(365), (1971, 1, 1));
        // 2000 is a leap year (divisible by 400), 2100 is not.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
    }

    #[test]
    fn empty_arguments_are_quoted() {
        assert_eq!(command_line(["a", ""].map(String::from)), "a ''");
    }
}
