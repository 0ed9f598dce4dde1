//! A [`Record`] as a Chrome trace (the JSON "Trace Event Format"), to open in
//! [Perfetto](https://ui.perfetto.dev) or `chrome://tracing`.
//!
//! The viewer shows one process, `evloop`, with one lane (a "thread" in the
//! format's words) per kind of actor:
//!
//! - the `loop` lane first: each time the loop thread was parked in the
//!   poller, and each jump of the paused clock;
//! - one lane per task, in spawn order, named `name #id`: each poll as a
//!   slice (slow polls get category `poll,slow`), each wake as an instant
//!   with its source in `args`;
//! - one lane per pool thread, named `<pool>: <thread>`: each job run as a
//!   slice, with its queue wait in `args`.
//!
//! Slices are complete events (`"ph":"X"`) with `ts` and `dur` in
//! microseconds (fractions keep the nanoseconds); lanes get their names and
//! order from metadata events (`thread_name`, `thread_sort_index`). The JSON
//! is written by hand, with std only.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::trace::chrome::chrome_trace_json;
//! use evloop::trace::record::{Record, Span, TaskRecord};
//!
//! let mut task = TaskRecord::new(1, Some("hello".into()), "main.rs:3", Duration::ZERO);
//! task.polls.push(Span::new(Duration::from_nanos(1_500), Duration::from_micros(3)));
//! let mut record = Record::new(Duration::from_millis(100));
//! record.tasks.push(task);
//!
//! let json = chrome_trace_json(&record);
//! assert!(json.starts_with("{\"traceEvents\":["));
//! assert!(json.contains("\"ph\":\"X\",\"ts\":1.5,\"dur\":1.5"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::record::{PoolKind, Record, WakeSource};
use super::stats::fixed;

/// The process id every event carries (there is one runtime per trace).
const PID: u32 = 1;
/// The loop thread's lane.
const LOOP_TID: u64 = 1;

/// The whole record as a Chrome trace JSON document:
/// `{"traceEvents":[...],"displayTimeUnit":"ms"}`, one event per line.
///
/// Lane ids (`tid`): 1 for the loop, then 2, 3, ... for the tasks in the
/// record's order, then the pool threads sorted by pool and name. Jobs that
/// never started have no slice. A poll, job or park still running at the end
/// of the recording has a slice up to the end.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::chrome::chrome_trace_json;
/// use evloop::trace::record::{Record, TaskRecord, Wake, WakeSource};
///
/// let mut task = TaskRecord::new(9, None, "main.rs:3", Duration::ZERO);
/// task.wakes.push(Wake::new(Duration::from_millis(2), WakeSource::Timer));
/// let mut record = Record::new(Duration::from_millis(100));
/// record.tasks.push(task);
///
/// let json = chrome_trace_json(&record);
/// assert!(json.contains("\"name\":\"thread_name\""));
/// assert!(json.contains("\"args\":{\"name\":\"task 9\"}"));
/// assert!(json.contains("\"ph\":\"i\",\"s\":\"t\",\"ts\":2000"));
/// ```
pub fn chrome_trace_json(record: &Record) -> String {
    let horizon = record.horizon();
    let mut events: Vec<String> = Vec::new();

    // Lanes: name and sort order, loop first.
    events.push(format!(
        "{{\"ph\":\"M\",\"pid\":{PID},\"name\":\"process_name\",\"args\":{{\"name\":\"evloop\"}}}}"
    ));
    let mut sort_index = 0u64;
    let mut lane = |events: &mut Vec<String>, tid: u64, name: &str| {
        events.push(format!(
            "{{\"ph\":\"M\",\"pid\":{PID},\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":{}}}}}",
            json_string(name)
        ));
        events.push(format!(
            "{{\"ph\":\"M\",\"pid\":{PID},\"tid\":{tid},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{sort_index}}}}}"
        ));
        sort_index += 1;
    };
    lane(&mut events, LOOP_TID, "loop");

    // The loop lane: parks and clock jumps.
    for park in &record.parks {
        events.push(complete(
            "parked",
            "park",
            LOOP_TID,
            park.start,
            park.duration(),
            &format!(
                "{{\"why\":{}}}",
                json_string("blocked in the poller, waiting for IO, a timer or a wake")
            ),
        ));
    }
    for jump in &record.clock_jumps {
        events.push(instant(
            "clock jump",
            "clock",
            LOOP_TID,
            jump.at,
            &format!(
                "{{\"to_us\":{},\"reason\":{}}}",
                micros(jump.to),
                json_string(&jump.reason)
            ),
        ));
    }

    // One lane per task.
    for (i, task) in record.tasks.iter().enumerate() {
        let tid = LOOP_TID + 1 + i as u64;
        let label = task.label();
        let lane_name = match &task.name {
            Some(name) => format!("{name} #{}", task.id),
            None => label.clone(),
        };
        lane(&mut events, tid, &lane_name);
        let total = task.polls.len();
        for (n, poll) in task.polls.iter().enumerate() {
            let slow = record.is_slow(poll);
            events.push(complete(
                &label,
                if slow { "poll,slow" } else { "poll" },
                tid,
                poll.start,
                poll.duration(),
                &format!(
                    "{{\"task\":{},\"poll\":\"{} of {}\",\"location\":{},\"slow\":{slow}}}",
                    task.id,
                    n + 1,
                    total,
                    json_string(&task.location)
                ),
            ));
        }
        for wake in &task.wakes {
            let mut args = format!("{{\"source\":{}", json_string(wake.source.kind()));
            match &wake.source {
                WakeSource::Io { socket } => {
                    let _ = write!(args, ",\"socket\":{}", json_string(socket));
                }
                WakeSource::Task { id } => {
                    let _ = write!(args, ",\"by_task\":{id}");
                }
                WakeSource::Thread { name } => {
                    let _ = write!(args, ",\"by_thread\":{}", json_string(name));
                }
                WakeSource::Timer | WakeSource::SelfWake | WakeSource::Spawn => {}
            }
            args.push('}');
            events.push(instant(
                &format!("wake ({})", wake.source),
                "wake",
                tid,
                wake.at,
                &args,
            ));
        }
        if let Some((at, how)) = &task.ended {
            events.push(instant(
                &format!("end ({how})"),
                "end",
                tid,
                *at,
                &format!("{{\"end\":{}}}", json_string(&how.to_string())),
            ));
        }
    }

    // One lane per pool thread, sorted by pool then name.
    let mut threads: BTreeMap<(PoolKind, &str), u64> = BTreeMap::new();
    for job in &record.jobs {
        if job.started.is_some() {
            threads.insert((job.pool, job.thread.as_str()), 0);
        }
    }
    let first_thread_tid = LOOP_TID + 1 + record.tasks.len() as u64;
    for (i, ((pool, name), tid)) in threads.iter_mut().enumerate() {
        *tid = first_thread_tid + i as u64;
        lane(&mut events, *tid, &format!("{pool}: {name}"));
    }
    for job in &record.jobs {
        let Some(run) = job.run(horizon) else {
            continue;
        };
        let tid = threads[&(job.pool, job.thread.as_str())];
        let cat = match job.pool {
            PoolKind::Blocking => "job,blocking",
            PoolKind::Cpu => "job,cpu",
        };
        events.push(complete(
            &job.label(),
            cat,
            tid,
            run.start,
            run.duration(),
            &format!(
                "{{\"pool\":\"{}\",\"queued_us\":{},\"waited_us\":{},\"finished\":{}}}",
                job.pool,
                micros(job.queued),
                micros(run.start.saturating_sub(job.queued)),
                job.finished.is_some()
            ),
        ));
    }

    let mut out = String::from("{\"traceEvents\":[\n");
    out.push_str(&events.join(",\n"));
    out.push_str("\n],\"displayTimeUnit\":\"ms\"}\n");
    out
}

/// A complete event (`ph: X`): a slice with a start and a duration.
fn complete(name: &str, cat: &str, tid: u64, start: Duration, dur: Duration, args: &str) -> String {
    format!(
        "{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{PID},\"tid\":{tid},\"args\":{args}}}",
        json_string(name),
        json_string(cat),
        micros(start),
        micros(dur),
    )
}

/// An instant event on one lane (`ph: i`, scope `t`).
fn instant(name: &str, cat: &str, tid: u64, at: Duration, args: &str) -> String {
    format!(
        "{{\"name\":{},\"cat\":{},\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":{PID},\"tid\":{tid},\"args\":{args}}}",
        json_string(name),
        json_string(cat),
        micros(at),
    )
}

/// A time in microseconds as a JSON number, fraction only where needed.
fn micros(d: Duration) -> String {
    fixed(d.as_nanos(), 3)
}

/// `s` as a JSON string literal: quotes, backslashes and control characters
/// escaped; everything else, non-ASCII included, stays as UTF-8.
///
/// # Examples
///
/// ```
/// use evloop::trace::chrome::json_string;
///
/// assert_eq!(json_string("a \"b\"\\\n"), r#""a \"b\"\\\n""#);
/// assert_eq!(json_string("\u{1}é"), "\"\\u0001é\"");
/// ```
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_keeps_nanoseconds() {
        assert_eq!(micros(Duration::from_nanos(1)), "0.001");
        assert_eq!(micros(Duration::from_nanos(1_000)), "1");
        assert_eq!(micros(Duration::from_nanos(1_234_560)), "1234.56");
    }

    #[test]
    fn json_string_escapes_controls() {
        assert_eq!(json_string("\u{1f}\u{7f}"), "\"\\u001f\u{7f}\"");
        assert_eq!(json_string("ünï ✓"), "\"ünï ✓\"");
    }
}
