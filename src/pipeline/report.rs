//! Printing results: the tutorial's three summary lines for one variant, the
//! side-by-side table of every variant, and the same as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use super::job::Report;

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
        report.outcomes.len() - failed_downloads(report),
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
    out
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
/// evenly over the cores.
pub fn bound(latency: Duration, cpu_work: Duration, cores: usize) -> Duration {
    latency + cpu_work / cores.max(1) as u32
}

/// The side-by-side table: per variant the download, process and total
/// times, their shares, the speed-up over `sync`, and failures; then the
/// bound.
pub fn table(reports: &[Report], bound: Option<Duration>) -> String {
    let sync_total = reports
        .iter()
        .find(|r| r.variant == "sync")
        .map(|r| r.timings.total.as_secs_f64());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>10} {:>10} {:>9} {:>7} {:>7} {:>8} {:>6} {:>8}",
        "variant", "download", "process", "total", "dl %", "proc %", "speed-up", "ok", "failed"
    );
    for r in reports {
        let t = r.timings;
        let total = t.total.as_secs_f64().max(f64::EPSILON);
        let speedup = match sync_total {
            Some(s) => format!("{:.1}x", s / total),
            None => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<10} {:>9.2}s {:>9.2}s {:>8.2}s {:>6.1}% {:>6.1}% {:>8} {:>6} {:>8}",
            r.variant,
            t.download.as_secs_f64(),
            t.process.as_secs_f64(),
            t.total.as_secs_f64(),
            t.download.as_secs_f64() / total * 100.0,
            t.process.as_secs_f64() / total * 100.0,
            speedup,
            r.succeeded(),
            r.outcomes.len() - r.succeeded(),
        );
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

fn json_str(s: &str) -> String {
    crate::trace::chrome::json_string(s)
}

/// The same results as one JSON object, for scripts.
pub fn json(reports: &[Report], extra: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (k, v) in extra {
        let _ = write!(out, "{}:{},", json_str(k), v);
    }
    out.push_str("\"variants\":[");
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let t = r.timings;
        let _ = write!(
            out,
            "{{\"variant\":{},\"download_s\":{:.4},\"process_s\":{:.4},\"total_s\":{:.4},\"ok\":{},\"failed\":{},\"failures\":[",
            json_str(&r.variant),
            t.download.as_secs_f64(),
            t.process.as_secs_f64(),
            t.total.as_secs_f64(),
            r.succeeded(),
            r.outcomes.len() - r.succeeded()
        );
        for (j, f) in r.failures().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"index\":{},\"url\":{},\"stage\":{},\"reason\":{}}}",
                f.index,
                json_str(&f.url),
                json_str(&f.stage.to_string()),
                json_str(&f.reason)
            );
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}
