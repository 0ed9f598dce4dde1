//! Printing results: the tutorial's three summary lines for one variant, the
//! side-by-side table of every variant (its rows are [`Comparison`]s, which
//! the run report page shows too), and the same as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::job::{Interruption, Report, Timings};

/// The tutorial's summary lines for one run ("Downloaded 12 images in: …").
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::{Report, Timings};
///
/// let t = Timings {
///     download: Duration::from_millis(500),
///     process: Duration::from_millis(1500),
///     total: Duration::from_secs(2),
/// };
/// let text = evloop::pipeline::report::summary_lines(&Report::new("async", t, vec![]));
/// assert!(text.contains("in: 0.50 seconds. 25.00% of total time"));
/// ```
pub fn summary_lines(report: &Report) -> String {
    let t = report.timings;
    let total = t.total.as_secs_f64().max(f64::EPSILON);
    let ok = report.succeeded();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nDownloaded {} images in: {:.2} seconds. {:.2}% of total time",
        report.interrupted.map_or_else(
            || report.outcomes.len() - failed_downloads(report),
            |i| i.downloaded
        ),
        t.download.as_secs_f64(),
        t.download.as_secs_f64() / total * 100.0
    );
    let _ = writeln!(
        out,
        "Processed {ok} images in: {:.2} seconds. {:.2}% of total time",
        t.process.as_secs_f64(),
        t.process.as_secs_f64() / total * 100.0
    );
    let _ = writeln!(
        out,
        "\nTotal execution time: {:.2} seconds. 100.00% of total time",
        t.total.as_secs_f64()
    );
    for failure in report.failures() {
        let _ = writeln!(out, "failed: {failure}");
    }
    if let Some(i) = report.interrupted {
        let _ = writeln!(out, "interrupted: {}", interruption(i, ok));
    }
    out
}

/// How far an interrupted run got, in words: `7 of 12 downloaded, 5 processed`.
fn interruption(i: Interruption, processed: usize) -> String {
    format!(
        "{} of {} downloaded, {processed} processed",
        i.downloaded, i.images
    )
}

fn failed_downloads(report: &Report) -> usize {
    report
        .failures()
        .filter(|f| {
            matches!(
                f.stage,
                super::job::Stage::Download | super::job::Stage::Save
            )
        })
        .count()
}

/// The lower bound on a run's total time for this workload: one network
/// latency (every download must wait at least that) plus the CPU work spread
/// evenly over the cores (saturating at `Duration::MAX`).
pub fn bound(latency: Duration, cpu_work: Duration, cores: usize) -> Duration {
    let cores = u32::try_from(cores.max(1)).unwrap_or(u32::MAX);
    latency.saturating_add(cpu_work / cores)
}

/// One variant's row of the comparison: what the terminal's
/// [`table`] prints and the run report page
/// ([`html`](super::html)) shows, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The variant's name.
    pub variant: String,
    /// Its phase timings.
    pub timings: Timings,
    /// Download's share of the total, in percent.
    pub download_pct: f64,
    /// Processing's share of the total, in percent.
    pub process_pct: f64,
    /// `sync`'s total divided by this one's; `None` without a `sync` run,
    /// and where either run was interrupted.
    pub speedup: Option<f64>,
    /// Images that succeeded.
    pub ok: usize,
    /// Images that failed.
    pub failed: usize,
    /// `Some` if Ctrl-C stopped this run: `ok` and `failed` count what it
    /// finished.
    pub interrupted: Option<Interruption>,
}

/// The comparison rows of `reports`, in their order (a slice of reports,
/// or any iterator of references to them).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::{Report, Timings};
/// use evloop::pipeline::report::comparison;
///
/// let t = |total| Timings {
///     download: Duration::from_millis(total / 4),
///     process: Duration::from_millis(total - total / 4),
///     total: Duration::from_millis(total),
/// };
/// let rows = comparison(&[Report::new("sync", t(4000), vec![]), Report::new("async", t(800), vec![])]);
/// assert_eq!(rows[1].speedup, Some(5.0));
/// assert_eq!(rows[1].download_pct, 25.0);
/// ```
pub fn comparison<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<Comparison> {
    let reports: Vec<&Report> = reports.into_iter().collect();
    // A run cut short by Ctrl-C is no yardstick, and has no speed-up.
    let sync_total = reports
        .iter()
        .find(|r| r.variant == "sync" && r.interrupted.is_none())
        .map(|r| r.timings.total.as_secs_f64());
    reports
        .iter()
        .map(|r| {
            let t = r.timings;
            let total = t.total.as_secs_f64().max(f64::EPSILON);
            Comparison {
                variant: r.variant.clone(),
                timings: t,
                download_pct: t.download.as_secs_f64() / total * 100.0,
                process_pct: t.process.as_secs_f64() / total * 100.0,
                speedup: sync_total
                    .filter(|_| r.interrupted.is_none())
                    .map(|s| s / total),
                ok: r.succeeded(),
                failed: r.outcomes.len() - r.succeeded(),
                interrupted: r.interrupted,
            }
        })
        .collect()
}

/// The side-by-side table: per variant the download, process and total
/// times, their shares, the speed-up over `sync`, and failures; then the
/// bound. The row of a run that Ctrl-C stopped ends with `interrupted` and
/// how far it got; its times and counts are those of what it finished.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::{Interruption, Report, Timings};
/// use evloop::pipeline::report::table;
///
/// let mut stopped = Report::new("async", Timings::default(), vec![]);
/// stopped.interrupted = Some(Interruption { images: 12, downloaded: 7 });
/// let text = table(&[stopped], None);
/// let row = text.lines().find(|l| l.starts_with("async")).unwrap();
/// assert!(row.ends_with("interrupted: 7 of 12 downloaded, 0 processed"), "{row}");
/// ```
pub fn table(reports: &[Report], bound: Option<Duration>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>10} {:>10} {:>9} {:>7} {:>7} {:>8} {:>6} {:>8}",
        "variant", "download", "process", "total", "dl %", "proc %", "speed-up", "ok", "failed"
    );
    for row in comparison(reports) {
        let t = row.timings;
        let speedup = match row.speedup {
            Some(x) => format!("{x:.1}x"),
            None => "-".to_owned(),
        };
        let _ = write!(
            out,
            "{:<10} {:>9.2}s {:>9.2}s {:>8.2}s {:>6.1}% {:>6.1}% {:>8} {:>6} {:>8}",
            row.variant,
            t.download.as_secs_f64(),
            t.process.as_secs_f64(),
            t.total.as_secs_f64(),
            row.download_pct,
            row.process_pct,
            speedup,
            row.ok,
            row.failed,
        );
        match row.interrupted {
            Some(i) => {
                let _ = writeln!(out, "  interrupted: {}", interruption(i, row.ok));
            }
            None => out.push('\n'),
        }
    }
    if let Some(b) = bound {
        let _ = writeln!(
            out,
            "bound for this workload (one latency + the CPU work spread over the cores): {:.2}s",
            b.as_secs_f64()
        );
    }
    out
}

/// A duration in seconds rounded to 0.1 ms, as [`json`] gives times.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::report::json_seconds;
///
/// assert_eq!(json_seconds(Duration::from_micros(1_234_567)), 1.2346);
/// ```
pub fn json_seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 1e4
}

/// The same results as one JSON object, for scripts: the `extra` fields
/// first, in their order, then `"variants"`: per variant its times in
/// seconds (to 0.1 ms), how many images succeeded and failed, and each
/// failure with its index, URL, stage and reason, and for a run that
/// Ctrl-C stopped, `"interrupted": {"images": N, "downloaded": N}`
/// (absent otherwise). An `extra` field named
/// `variants` would be a second key of that name: do not pass one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::{Report, Timings};
/// use evloop::pipeline::report::json;
///
/// let t = Timings {
///     download: Duration::from_millis(500),
///     process: Duration::from_millis(1500),
///     total: Duration::from_secs(2),
/// };
/// let text = json(&[Report::new("async", t, vec![])], &[("images", 12.into())]);
/// assert_eq!(
///     text,
///     r#"{"images":12,"variants":[{"variant":"async","download_s":0.5,"process_s":1.5,"total_s":2.0,"ok":0,"failed":0,"failures":[]}]}"#
/// );
/// ```
pub fn json(reports: &[Report], extra: &[(&str, serde_json::Value)]) -> String {
    let document = JsonDocument {
        extra,
        variants: reports.iter().map(JsonVariant::of).collect(),
    };
    serde_json::to_string(&document).expect("strings, numbers and lists always serialize")
}

/// The object [`json`] prints: `extra` in order, then the variants.
struct JsonDocument<'a> {
    extra: &'a [(&'a str, serde_json::Value)],
    variants: Vec<JsonVariant<'a>>,
}

impl Serialize for JsonDocument<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.extra.len() + 1))?;
        for (key, value) in self.extra {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("variants", &self.variants)?;
        map.end()
    }
}

/// One variant's results in [`json`].
#[derive(Serialize)]
struct JsonVariant<'a> {
    variant: &'a str,
    download_s: f64,
    process_s: f64,
    total_s: f64,
    ok: usize,
    failed: usize,
    failures: Vec<JsonFailure<'a>>,
    /// Only in the object of a run that Ctrl-C stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<JsonInterruption>,
}

/// How far an interrupted run got, in [`json`].
#[derive(Serialize)]
struct JsonInterruption {
    images: usize,
    downloaded: usize,
}

impl<'a> JsonVariant<'a> {
    fn of(report: &'a Report) -> JsonVariant<'a> {
        let t = report.timings;
        JsonVariant {
            variant: &report.variant,
            download_s: json_seconds(t.download),
            process_s: json_seconds(t.process),
            total_s: json_seconds(t.total),
            ok: report.succeeded(),
            failed: report.outcomes.len() - report.succeeded(),
            failures: report
                .failures()
                .map(|f| JsonFailure {
                    index: f.index,
                    url: &f.url,
                    stage: f.stage.to_string(),
                    reason: &f.reason,
                })
                .collect(),
            interrupted: report.interrupted.map(|i| JsonInterruption {
                images: i.images,
                downloaded: i.downloaded,
            }),
        }
    }
}

/// One failed image in [`json`].
#[derive(Serialize)]
struct JsonFailure<'a> {
    index: usize,
    url: &'a str,
    stage: String,
    reason: &'a str,
}
