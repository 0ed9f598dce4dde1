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
//! is written by serde_json, one event per line.
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
use std::io;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::record::{PoolKind, Record, WakeSource};

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
    let mut events: Vec<Event> = Vec::new();

    // Lanes: name and sort order, loop first.
    events.push(Event::Meta(Meta {
        ph: "M",
        pid: PID,
        tid: None,
        name: "process_name",
        args: json!({ "name": "evloop" }),
    }));
    let mut sort_index = 0u64;
    let mut lane = |events: &mut Vec<Event>, tid: u64, name: &str| {
        events.push(Event::Meta(Meta {
            ph: "M",
            pid: PID,
            tid: Some(tid),
            name: "thread_name",
            args: json!({ "name": name }),
        }));
        events.push(Event::Meta(Meta {
            ph: "M",
            pid: PID,
            tid: Some(tid),
            name: "thread_sort_index",
            args: json!({ "sort_index": sort_index }),
        }));
        sort_index += 1;
    };
    lane(&mut events, LOOP_TID, "loop");

    // The loop lane: parks and clock jumps.
    for park in &record.parks {
        events.push(complete(
            "parked".into(),
            "park",
            LOOP_TID,
            park.start,
            park.duration(),
            json!({ "why": "blocked in the poller, waiting for IO, a timer or a wake" }),
        ));
    }
    for jump in &record.clock_jumps {
        events.push(instant(
            "clock jump".into(),
            "clock",
            LOOP_TID,
            jump.at,
            json!({ "to_us": Micros(jump.to), "reason": jump.reason }),
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
                label.clone(),
                if slow { "poll,slow" } else { "poll" },
                tid,
                poll.start,
                poll.duration(),
                json!({
                    "task": task.id,
                    "poll": format!("{} of {total}", n + 1),
                    "location": task.location,
                    "slow": slow,
                }),
            ));
        }
        for wake in &task.wakes {
            let mut args = json!({ "source": wake.source.kind() });
            match &wake.source {
                WakeSource::Io { socket } => args["socket"] = json!(socket),
                WakeSource::Task { id } => args["by_task"] = json!(id),
                WakeSource::Thread { name } => args["by_thread"] = json!(name),
                WakeSource::Timer | WakeSource::SelfWake | WakeSource::Spawn => {}
            }
            events.push(instant(
                format!("wake ({})", wake.source),
                "wake",
                tid,
                wake.at,
                args,
            ));
        }
        if let Some((at, how)) = &task.ended {
            events.push(instant(
                format!("end ({how})"),
                "end",
                tid,
                *at,
                json!({ "end": how.to_string() }),
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
            job.label(),
            cat,
            tid,
            run.start,
            run.duration(),
            json!({
                "pool": job.pool.to_string(),
                "queued_us": Micros(job.queued),
                "waited_us": Micros(run.start.saturating_sub(job.queued)),
                "finished": job.finished.is_some(),
            }),
        ));
    }

    let document = Document {
        trace_events: events,
        display_time_unit: "ms",
    };
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, OneEventPerLine::default());
    document
        .serialize(&mut serializer)
        .expect("strings, numbers and maps serialize into memory without fail");
    let mut out = String::from_utf8(out).expect("serde_json writes UTF-8");
    out.push('\n');
    out
}

/// The whole trace: `{"traceEvents":[...],"displayTimeUnit":"ms"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    trace_events: Vec<Event>,
    display_time_unit: &'static str,
}

/// One event: a lane's metadata, or a slice or an instant on a lane.
#[derive(Serialize)]
#[serde(untagged)]
enum Event {
    Meta(Meta),
    Span(Span),
}

/// A metadata event (`ph: M`): the process's name, a lane's name or order.
#[derive(Serialize)]
struct Meta {
    ph: &'static str,
    pid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    tid: Option<u64>,
    name: &'static str,
    args: Value,
}

/// A complete event (`ph: X`, with `dur`) or an instant (`ph: i`, with the
/// scope `s`).
#[derive(Serialize)]
struct Span {
    name: String,
    cat: &'static str,
    ph: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    ts: Micros,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<Micros>,
    pid: u32,
    tid: u64,
    args: Value,
}

/// A complete event (`ph: X`): a slice with a start and a duration.
fn complete(
    name: String,
    cat: &'static str,
    tid: u64,
    start: Duration,
    dur: Duration,
    args: Value,
) -> Event {
    Event::Span(Span {
        name,
        cat,
        ph: "X",
        s: None,
        ts: Micros(start),
        dur: Some(Micros(dur)),
        pid: PID,
        tid,
        args,
    })
}

/// An instant event on one lane (`ph: i`, scope `t`).
fn instant(name: String, cat: &'static str, tid: u64, at: Duration, args: Value) -> Event {
    Event::Span(Span {
        name,
        cat,
        ph: "i",
        s: Some("t"),
        ts: Micros(at),
        dur: None,
        pid: PID,
        tid,
        args,
    })
}

/// A time in microseconds as a JSON number: whole where it is whole, else
/// with the fraction that keeps the nanoseconds (exactly, for times below
/// 10^15 ns, about eleven days).
struct Micros(Duration);

impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let nanos = self.0.as_nanos();
        if nanos.is_multiple_of(1000)
            && let Ok(micros) = u64::try_from(nanos / 1000)
        {
            return serializer.serialize_u64(micros);
        }
        serializer.serialize_f64(nanos as f64 / 1000.0)
    }
}

/// Where the events' array sits: inside the document's object.
const EVENTS_DEPTH: usize = 2;

/// serde_json's compact output, with a line break before each element of an
/// array directly inside the document (the events) and before its closing
/// bracket: a trace reads, greps and diffs one event per line.
#[derive(Debug, Default)]
struct OneEventPerLine {
    /// How many arrays and objects are open.
    depth: usize,
}

impl serde_json::ser::Formatter for OneEventPerLine {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let events = self.depth == EVENTS_DEPTH;
        self.depth -= 1;
        writer.write_all(if events { b"\n]" } else { b"]" })
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        let separator: &[u8] = match (self.depth == EVENTS_DEPTH, first) {
            (true, true) => b"\n",
            (true, false) => b",\n",
            (false, true) => b"",
            (false, false) => b",",
        };
        writer.write_all(separator)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        writer.write_all(b"}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::TaskRecord;
    use super::*;

    fn micros(d: Duration) -> String {
        serde_json::to_string(&Micros(d)).expect("a number serializes")
    }

    #[test]
    fn micros_keeps_nanoseconds() {
        assert_eq!(micros(Duration::from_nanos(1)), "0.001");
        assert_eq!(micros(Duration::from_nanos(1_000)), "1");
        assert_eq!(micros(Duration::from_nanos(1_234_560)), "1234.56");
        // Eleven days, one nanosecond short of a whole microsecond.
        assert_eq!(
            micros(Duration::from_nanos(999_999_999_999_999)),
            "999999999999.999"
        );
    }

    #[test]
    fn one_event_per_line() {
        let mut record = Record::new(Duration::from_millis(1));
        record.tasks.push(TaskRecord::new(
            7,
            Some("a\nb".into()),
            "main.rs:1",
            Duration::ZERO,
        ));
        let json = chrome_trace_json(&record);
        let lines: Vec<&str> = json.lines().collect();
        assert_eq!(lines[0], "{\"traceEvents\":[");
        assert_eq!(lines[lines.len() - 1], "],\"displayTimeUnit\":\"ms\"}");
        // The process's name, then two lines per lane (the loop, task 7).
        assert_eq!(lines.len(), 2 + 1 + 2 * 2, "{json}");
        for line in &lines[1..lines.len() - 1] {
            let event = line.strip_suffix(',').unwrap_or(line);
            let value: Value = serde_json::from_str(event).expect("each line is one event");
            assert_eq!(value["pid"], PID, "{line}");
        }
        assert!(json.contains(r#""args":{"name":"a\nb #7"}"#), "{json}");
    }

    #[test]
    fn strings_are_escaped_and_utf8_stays() {
        let mut record = Record::new(Duration::from_millis(1));
        let name = "\u{1f}\u{7f} ünï ✓ \"q\" \\";
        record.tasks.push(TaskRecord::new(
            1,
            Some(name.into()),
            "main.rs:1",
            Duration::ZERO,
        ));
        let json = chrome_trace_json(&record);
        assert!(
            json.contains("\"\\u001f\u{7f} ünï ✓ \\\"q\\\" \\\\ #1\""),
            "{json}"
        );
    }
}
