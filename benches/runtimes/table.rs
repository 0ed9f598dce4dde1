//! Printing a table: per runtime the median and (min-max) of the runs, the
//! ratio of evloop's median to the best peer's, and a verdict.
//!
//! The verdict on a line where less is better: `ahead` when evloop's median
//! is at least 3 % below the best peer's (ratio <= 0.97), `behind` when it
//! is at least 3 % above (ratio >= 1.03), `level` between. When evloop's
//! (min-max) range overlaps the best peer's, `ahead` and `behind` say so:
//! the runs alone do not settle the order. The target is a ratio at or below
//! 1.00. Lines that count what must never happen (a timer waking before its
//! deadline, a round trip that went missing) say `ok` or `FAIL` instead.

use crate::measure::Samples;
use crate::rows::{Contender, Unit, Workload};

/// Half-width of the band around 1.00 in which evloop and the best peer are
/// called level.
const LEVEL_BAND: f64 = 0.03;

/// Median, min and max of some samples.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let len = sorted.len();
        let median = match len {
            0 => return None,
            _ if len % 2 == 1 => sorted[len / 2],
            _ => (sorted[len / 2 - 1] + sorted[len / 2]) / 2.0,
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[len - 1],
        })
    }

    fn overlaps(&self, other: &Summary) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

/// Where evloop stands on one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ahead {
        overlap: bool,
    },
    Level,
    Behind {
        overlap: bool,
    },
    /// A must-be-zero count was zero in every evloop run.
    Ok,
    /// A must-be-zero count was not: the most in one run.
    Fail(f64),
    NoSamples,
}

impl Verdict {
    fn text(&self) -> String {
        let noise = |overlap: bool| if overlap { " (ranges overlap)" } else { "" };
        match self {
            Verdict::Ahead { overlap } => format!("ahead{}", noise(*overlap)),
            Verdict::Level => "level".to_string(),
            Verdict::Behind { overlap } => format!("behind{}", noise(*overlap)),
            Verdict::Ok => "ok".to_string(),
            Verdict::Fail(most) => format!("FAIL: up to {most} in a run"),
            Verdict::NoSamples => "no samples".to_string(),
        }
    }

    /// Misses the target: a median above the best peer's, or a failure.
    pub fn misses_target(&self, ratio: Option<f64>) -> bool {
        match self {
            Verdict::Fail(_) | Verdict::NoSamples => true,
            Verdict::Ok => false,
            _ => ratio.is_some_and(|r| r > 1.0),
        }
    }
}

/// evloop's median over the best peer's, which peer that is, and the verdict.
pub fn judge(
    summaries: &[Option<Summary>; 3],
    unit: Unit,
) -> (Option<(f64, &'static str)>, Verdict) {
    let Some(evloop) = summaries[0] else {
        return (None, Verdict::NoSamples);
    };
    if unit == Unit::MustBeZero {
        let verdict = if evloop.max == 0.0 {
            Verdict::Ok
        } else {
            Verdict::Fail(evloop.max)
        };
        return (None, verdict);
    }
    let best = Contender::ALL[1..]
        .iter()
        .zip(&summaries[1..])
        .filter_map(|(runtime, summary)| summary.map(|s| (runtime.name(), s)))
        .min_by(|a, b| a.1.median.total_cmp(&b.1.median));
    let Some((peer, best)) = best else {
        return (None, Verdict::NoSamples);
    };
    if best.median <= 0.0 {
        return (None, Verdict::NoSamples);
    }
    let ratio = evloop.median / best.median;
    let overlap = evloop.overlaps(&best);
    let verdict = if ratio <= 1.0 - LEVEL_BAND {
        Verdict::Ahead { overlap }
    } else if ratio >= 1.0 + LEVEL_BAND {
        Verdict::Behind { overlap }
    } else {
        Verdict::Level
    };
    (Some((ratio, peer)), verdict)
}

/// Column widths of the text table.
const W_ROW: usize = 28;
const W_CELL: usize = 24;
const W_RATIO: usize = 14;

/// Prints a table's title and column heads.
pub fn print_header(title: &str, markdown: bool) {
    println!();
    if markdown {
        println!("**{title}**");
        println!();
        println!("| workload | evloop | tokio | smol | evloop / best peer | verdict |");
        println!("| --- | --- | --- | --- | --- | --- |");
    } else {
        println!("{title}");
        println!(
            "{:<W_ROW$}{:<W_CELL$}{:<W_CELL$}{:<W_CELL$}{:<W_RATIO$}verdict",
            "workload / metric", "evloop", "tokio", "smol", "ev/best peer"
        );
        println!("{}", "-".repeat(W_ROW + 3 * W_CELL + W_RATIO + 20));
    }
}

/// One printed line of a row: what it said, for the closing summary.
#[derive(Debug)]
pub struct Judged {
    pub line: String,
    pub ratio: Option<f64>,
    pub verdict: Verdict,
}

/// Prints the lines of one row, one per metric, and returns their verdicts.
pub fn print_row(workload: &Workload, samples: &Samples, markdown: bool) -> Vec<Judged> {
    let mut judged = Vec::new();
    for (index, metric) in workload.metrics.iter().enumerate() {
        let summaries: [Option<Summary>; 3] = std::array::from_fn(|slot| {
            let values: Vec<f64> = samples.by_runtime[slot].iter().map(|s| s[index]).collect();
            Summary::of(&values)
        });
        let name = format!("{} {}", workload.key, metric.label);
        let cells: Vec<String> = summaries
            .iter()
            .map(|s| format_cell(*s, metric.unit))
            .collect();
        let (best, verdict) = judge(&summaries, metric.unit);
        let ratio_cell = match best {
            Some((ratio, peer)) => format!("{ratio:.2} ({peer})"),
            None => "-".to_string(),
        };
        let verdict_text = verdict.text();
        if markdown {
            println!(
                "| {name} | {} | {} | {} | {ratio_cell} | {verdict_text} |",
                cells[0], cells[1], cells[2]
            );
        } else {
            println!(
                "{name:<W_ROW$}{:<W_CELL$}{:<W_CELL$}{:<W_CELL$}{ratio_cell:<W_RATIO$}{verdict_text}",
                cells[0], cells[1], cells[2]
            );
        }
        judged.push(Judged {
            line: name,
            ratio: best.map(|(ratio, _)| ratio),
            verdict,
        });
    }
    judged
}

/// Prints a row that has no figures, with why.
pub fn print_note(workload: &Workload, note: &str, markdown: bool) {
    if markdown {
        println!("| {} | {note} | | | | |", workload.key);
    } else {
        println!("{:<W_ROW$}{note}", workload.key);
    }
}

/// `median (min-max) unit`, in a unit chosen for the median.
fn format_cell(summary: Option<Summary>, unit: Unit) -> String {
    let Some(s) = summary else {
        return "-".to_string();
    };
    match unit {
        Unit::Seconds => {
            let (scale, name) = if s.median >= 1.0 {
                (1.0, "s")
            } else if s.median >= 1e-3 {
                (1e3, "ms")
            } else {
                (1e6, "us")
            };
            format!(
                "{} ({}-{}) {name}",
                three_digits(s.median * scale),
                three_digits(s.min * scale),
                three_digits(s.max * scale)
            )
        }
        Unit::BytesPerTask => format!("{:.0} ({:.0}-{:.0}) B", s.median, s.min, s.max),
        Unit::MustBeZero => format!("{} ({}-{})", s.median, s.min, s.max),
    }
}

/// A number with about three significant digits.
fn three_digits(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Prints which lines miss the target (evloop's median above the best
/// peer's, or a must-be-zero count that was not).
pub fn print_summary(title: &str, judged: &[Judged]) {
    let missing: Vec<String> = judged
        .iter()
        .filter(|j| j.verdict.misses_target(j.ratio))
        .map(|j| match j.ratio {
            Some(ratio) => format!("{} ({ratio:.3})", j.line),
            None => format!("{} ({})", j.line, j.verdict.text()),
        })
        .collect();
    println!();
    if missing.is_empty() {
        println!(
            "{title}: evloop at or ahead of the best peer on all {} lines.",
            judged.len()
        );
    } else {
        println!(
            "{title}: evloop at or ahead of the best peer on {} of {} lines; above it on: {}.",
            judged.len() - missing.len(),
            judged.len(),
            missing.join(", ")
        );
    }
}
