//! What the loop records when tracing is on, checked on real runs: the
//! lessons under the paused clock (their timelines are exact), the source of
//! each kind of wake, the Chrome trace and the SVG timeline of a real
//! recording, and the lost wake-up report.
//!
//! The renderers on hand-built records are tested in `tests/trace_render.rs`;
//! allocation with tracing off in `tests/trace_off_alloc.rs`.

mod common;

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use common::{SlowPolls, paused_collecting};
use evloop::Runtime;
use evloop::runtime::SlowPoll;
use evloop::sync::mpsc::channel;
use evloop::sync::oneshot;
use evloop::time::sleep;
#[cfg(feature = "render")]
use evloop::trace::chrome::chrome_trace_json;
use evloop::trace::record::{Record, Span, TaskEnd, TaskRecord, WakeSource};
use evloop::trace::stats::{Verdict, task_stats};
#[cfg(feature = "render")]
use evloop::trace::svg::{SvgOptions, stacked_svg, timeline_svg};

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example2.rs"]
mod example2;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example3.rs"]
mod example3;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example5.rs"]
mod example5;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example7.rs"]
mod example7;

const SECS: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

/// The id under which the main future of `block_on` is recorded.
const MAIN: u64 = 0;

/// A traced runtime on the paused clock, collecting slow-poll warnings.
fn traced() -> (Runtime, SlowPolls) {
    paused_collecting(Runtime::builder().trace(true))
}

/// Runs `future` on a fresh traced runtime; returns its output and the record.
fn record_of<F: Future>(future: F) -> (F::Output, Record, Vec<SlowPoll>) {
    let (rt, warnings) = traced();
    let out = rt.block_on(future);
    let record = rt.trace_record().expect("tracing is on");
    let warnings = warnings.borrow().clone();
    (out, record, warnings)
}

/// The tasks of the record other than the main future.
fn spawned(record: &Record) -> Vec<&TaskRecord> {
    record.tasks.iter().filter(|t| t.id != MAIN).collect()
}

fn main_task(record: &Record) -> &TaskRecord {
    record
        .task(MAIN)
        .expect("the main future is recorded as task 0")
}

/// `spans` sorted and merged where they touch or overlap.
fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|s| s.end > s.start);
    spans.sort();
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// When the task was idle: its lifetime less its polls and its scheduled
/// spans (the grey of its timeline row).
fn idle_spans(task: &TaskRecord, end: Duration) -> Vec<Span> {
    let life = task.lifetime(end);
    let mut taken = task.polls.clone();
    taken.extend(task.scheduled_spans(end));
    let mut out = Vec::new();
    let mut from = life.start;
    for s in union(taken) {
        if s.start > from {
            out.push(Span::new(from, s.start.min(life.end)));
        }
        from = from.max(s.end);
    }
    if life.end > from {
        out.push(Span::new(from, life.end));
    }
    out.retain(|s| s.end > s.start);
    out
}

/// How long two sets of spans overlap.
fn overlap(a: &[Span], b: &[Span]) -> Duration {
    let mut total = Duration::ZERO;
    for x in a {
        for y in b {
            let (start, end) = (x.start.max(y.start), x.end.min(y.end));
            if end > start {
                total += end - start;
            }
        }
    }
    total
}

/// The sources of a task's wakes, in order.
fn sources(task: &TaskRecord) -> Vec<WakeSource> {
    task.wakes.iter().map(|w| w.source.clone()).collect()
}

// ---------------------------------------------------------------------------
// The lessons, traced
// ---------------------------------------------------------------------------

#[test]
fn example3_the_two_tasks_are_idle_at_the_same_time_for_two_seconds() {
    example3::take_transcript();
    let (out, record, warnings) = record_of(example3::main_task());
    example3::take_transcript();
    assert_eq!(out, ["Result of 1", "Result of 2"]);
    assert!(warnings.is_empty(), "nothing blocks: {warnings:?}");

    assert_eq!(record.end, SECS(2));
    assert_eq!(
        main_task(&record).lifetime(record.end),
        Span::new(SECS(0), SECS(2))
    );
    let tasks = spawned(&record);
    assert_eq!(tasks.len(), 2, "two spawned tasks");
    // Each is polled at its spawn (starts its sleep) and when its timer fires.
    for (task, secs) in tasks.iter().zip([1, 2]) {
        let starts: Vec<Duration> = task.polls.iter().map(|p| p.start).collect();
        assert_eq!(starts, [SECS(0), SECS(secs)], "{}", task.label());
        assert_eq!(sources(task), [WakeSource::Spawn, WakeSource::Timer]);
        assert_eq!(task.wakes[1].at, SECS(secs));
        assert_eq!(task.lifetime(record.end), Span::new(SECS(0), SECS(secs)));
    }
    // The picture of concurrency: both rows grey over the same second.
    let a = idle_spans(tasks[0], record.end);
    let b = idle_spans(tasks[1], record.end);
    assert_eq!(a, [Span::new(SECS(0), SECS(1))]);
    assert_eq!(b, [Span::new(SECS(0), SECS(2))]);
    assert_eq!(overlap(&a, &b), SECS(1));
    // The paused clock jumped twice, to each deadline, and nothing was busy.
    let jumps: Vec<(Duration, Duration)> =
        record.clock_jumps.iter().map(|j| (j.at, j.to)).collect();
    assert_eq!(jumps, [(SECS(0), SECS(1)), (SECS(1), SECS(2))]);
    for s in task_stats(&record) {
        assert_eq!(s.busy, Duration::ZERO, "{}", s.label);
        assert_eq!(s.verdict, Verdict::IoBound, "{}", s.label);
    }
}

#[test]
fn example2_the_waits_run_back_to_back_inside_the_main_task() {
    example2::take_transcript();
    let (out, record, warnings) = record_of(example2::main_task());
    example2::take_transcript();
    assert_eq!(out, ["Result of 1", "Result of 2"]);
    assert!(warnings.is_empty());

    // Awaiting futures spawns nothing: the main future is the only task.
    assert!(spawned(&record).is_empty(), "{:?}", record.tasks);
    let main = main_task(&record);
    assert_eq!(main.lifetime(record.end), Span::new(SECS(0), SECS(3)));
    assert_eq!(record.end, SECS(3));
    // Polled at the start, when the 1 s sleep ends, when the 2 s sleep ends:
    let starts: Vec<Duration> = main.polls.iter().map(|p| p.start).collect();
    assert_eq!(starts, [SECS(0), SECS(1), SECS(3)]);
    // Each poll takes no virtual time, so its row is grey from 0 to 3 s with
    // a blue tick at 1 s: the 1 s wait, then the 2 s wait, back to back.
    assert_eq!(idle_spans(main, record.end), [Span::new(SECS(0), SECS(3))]);
    let stats = &task_stats(&record)[0];
    assert_eq!((stats.busy, stats.idle), (Duration::ZERO, SECS(3)));
    let jumps: Vec<(Duration, Duration)> =
        record.clock_jumps.iter().map(|j| (j.at, j.to)).collect();
    assert_eq!(jumps, [(SECS(0), SECS(1)), (SECS(1), SECS(3))]);
    // No two rows other than main are ever idle together (there are none).
    let others = spawned(&record);
    for (i, a) in others.iter().enumerate() {
        for b in &others[i + 1..] {
            let (ia, ib) = (idle_spans(a, record.end), idle_spans(b, record.end));
            assert_eq!(overlap(&ia, &ib), Duration::ZERO);
        }
    }
}

#[test]
fn example5_shows_a_one_second_blocking_poll_and_warns_about_it() {
    example5::take_transcript();
    let (out, record, warnings) = record_of(example5::main_task());
    example5::take_transcript();
    assert_eq!(out, ["Result of 1", "Result of 2"]);
    assert_eq!(record.end, SECS(3));

    let fetch1 = spawned(&record)
        .into_iter()
        .find(|t| t.name.as_deref() == Some("fetch_data(1)"))
        .expect("the named task is recorded");
    // One single poll, exactly the blocking second, and it counts as slow.
    assert_eq!(fetch1.polls, [Span::new(SECS(0), SECS(1))]);
    assert!(record.is_slow(&fetch1.polls[0]));
    let fetch2 = spawned(&record)
        .into_iter()
        .find(|t| t.name.as_deref() == Some("fetch_data(2)"))
        .expect("the named task is recorded");
    assert_eq!(fetch2.polls, [Span::new(SECS(1), SECS(3))]);
    // Fetch 2 was ready from its spawn but waited for fetch 1 to let go of
    // the loop: a second of orange in its row, and no idle time at all.
    assert_eq!(
        fetch2.scheduled_spans(record.end),
        [Span::new(SECS(0), SECS(1))]
    );
    assert!(idle_spans(fetch2, record.end).is_empty());
    assert!(idle_spans(fetch1, record.end).is_empty());
    // The two busy spans follow each other; they never overlap.
    assert_eq!(overlap(&fetch1.polls, &fetch2.polls), Duration::ZERO);

    let stats = task_stats(&record);
    for name in ["fetch_data(1)", "fetch_data(2)"] {
        let s = stats
            .iter()
            .find(|s| s.label == name)
            .expect("a row per task");
        assert_eq!((s.verdict, s.slow_polls), (Verdict::Blocking, 1), "{name}");
    }

    // The warning names the same task, with the same second.
    let first = &warnings[0];
    assert_eq!(first.task.map(|id| id.as_u64()), Some(fetch1.id));
    assert_eq!(first.name.as_deref(), Some("fetch_data(1)"));
    assert_eq!(first.duration, SECS(1));
    assert!(first.to_string().contains("fetch_data(1)"), "{first}");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
}

// ---------------------------------------------------------------------------
// Wake sources
// ---------------------------------------------------------------------------

#[test]
fn a_timer_wake_is_recorded_as_timer_at_its_deadline() {
    let (id, record, _) = record_of(async {
        let handle = evloop::spawn(sleep(MS(250)));
        let id = handle.id().as_u64();
        handle.await.expect("the sleeper finishes");
        id
    });
    let task = record.task(id).expect("the sleeper is recorded");
    assert_eq!(sources(task), [WakeSource::Spawn, WakeSource::Timer]);
    assert_eq!(task.wakes[1].at, MS(250));
}

#[test]
fn a_socket_wake_is_recorded_as_io_naming_the_socket() {
    let (out, record, _) = record_of(async {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind on loopback");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let client = evloop::net::TcpStream::connect(addr)
            .await
            .expect("connect on loopback");
        let (server, peer) = listener.accept().await.expect("accept on loopback");
        let reader = evloop::spawn(async move {
            let mut buf = [0u8; 16];
            let n = server.read(&mut buf).await.expect("read from the client");
            buf[..n].to_vec()
        });
        let id = reader.id().as_u64();
        // Let the reader run until its read finds nothing and parks it.
        evloop::yield_now().await;
        evloop::yield_now().await;
        client
            .write_all(b"hello")
            .await
            .expect("write to the server");
        let got = reader.await.expect("the reader finishes");
        (id, got, addr, peer)
    });
    let (id, got, addr, peer) = out;
    assert_eq!(got, b"hello");
    let task = record.task(id).expect("the reader is recorded");
    let io: Vec<&String> = task
        .wakes
        .iter()
        .filter_map(|w| match &w.source {
            WakeSource::Io { socket } => Some(socket),
            _ => None,
        })
        .collect();
    assert_eq!(io.len(), 1, "one IO wake: {:?}", task.wakes);
    // The server side of the connection: its own address and the client's.
    assert!(io[0].contains(&addr.to_string()), "{}", io[0]);
    assert!(io[0].contains(&peer.to_string()), "{}", io[0]);
    assert_eq!(sources(task).first(), Some(&WakeSource::Spawn));
}

#[test]
fn a_oneshot_sent_from_a_thread_is_recorded_with_the_thread_name() {
    const THREAD: &str = "trace-test-sender";
    let (id, record, _) = record_of(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let waiter = evloop::spawn(rx);
        let id = waiter.id().as_u64();
        // The waiter runs in this tick and stores its waker in the channel.
        evloop::yield_now().await;
        let sender = std::thread::Builder::new()
            .name(THREAD.to_owned())
            .spawn(move || tx.send(7))
            .expect("a thread can be spawned");
        let got = waiter.await.expect("the waiter finishes");
        assert_eq!(got.ok(), Some(7));
        assert!(sender.join().expect("the sender does not panic").is_ok());
        id
    });
    let task = record.task(id).expect("the waiter is recorded");
    assert_eq!(
        sources(task),
        [
            WakeSource::Spawn,
            WakeSource::Thread {
                name: THREAD.to_owned()
            }
        ]
    );
}

#[test]
fn a_task_that_wakes_itself_is_recorded_as_self_wake() {
    let (id, record, _) = record_of(async {
        let mut woke = false;
        let handle = evloop::spawn(poll_fn(move |cx| {
            if woke {
                return Poll::Ready(());
            }
            woke = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }));
        let id = handle.id().as_u64();
        handle.await.expect("the task finishes");
        id
    });
    let task = record.task(id).expect("the task is recorded");
    assert_eq!(sources(task), [WakeSource::Spawn, WakeSource::SelfWake]);
    assert_eq!(task.polls.len(), 2);
}

#[test]
fn yield_now_is_recorded_as_self_wake() {
    let (id, record, _) = record_of(async {
        let handle = evloop::spawn(async {
            evloop::yield_now().await;
            evloop::yield_now().await;
        });
        let id = handle.id().as_u64();
        handle.await.expect("the task finishes");
        id
    });
    let task = record.task(id).expect("the task is recorded");
    assert_eq!(
        sources(task),
        [
            WakeSource::Spawn,
            WakeSource::SelfWake,
            WakeSource::SelfWake
        ]
    );
}

#[test]
fn a_channel_send_is_recorded_as_a_wake_by_the_sending_task() {
    let (ids, record, _) = record_of(async {
        let (tx, mut rx) = channel::<u32>(1);
        let receiver = evloop::spawn(async move { rx.recv().await });
        let sender = evloop::spawn(async move {
            sleep(MS(10)).await;
            tx.send(5).await.expect("the receiver is alive");
        });
        let ids = (receiver.id().as_u64(), sender.id().as_u64());
        sender.await.expect("the sender finishes");
        assert_eq!(receiver.await.expect("the receiver finishes"), Some(5));
        ids
    });
    let (receiver, sender) = ids;
    let task = record.task(receiver).expect("the receiver is recorded");
    assert_eq!(
        sources(task),
        [WakeSource::Spawn, WakeSource::Task { id: sender }]
    );
    assert_eq!(task.wakes[1].at, MS(10));
}

#[test]
fn a_join_handle_awaited_by_a_task_is_woken_by_the_finishing_task() {
    let (ids, record, _) = record_of(async {
        let inner = evloop::spawn(sleep(MS(5)));
        let inner_id = inner.id().as_u64();
        let outer = evloop::spawn(inner);
        let outer_id = outer.id().as_u64();
        outer
            .await
            .expect("outer finishes")
            .expect("inner finishes");
        (inner_id, outer_id)
    });
    let (inner, outer) = ids;
    let task = record.task(outer).expect("the outer task is recorded");
    assert_eq!(
        sources(task),
        [WakeSource::Spawn, WakeSource::Task { id: inner }]
    );
}

/// The main future's wakes are not recorded: its waker (`MainWaker` in
/// `src/runtime/core.rs`) sets a flag and never passes through the
/// recorder, so task 0 shows only its spawn, and its row has no scheduled
/// time. Here main awaits a sleep (a timer wake) and a spawned task (a wake
/// by that task).
#[test]
fn the_main_futures_wakes_are_recorded_with_their_sources() {
    let (id, record, _) = record_of(async {
        sleep(MS(10)).await;
        let handle = evloop::spawn(sleep(MS(10)));
        let id = handle.id().as_u64();
        handle.await.expect("the task finishes");
        id
    });
    let main = main_task(&record);
    assert_eq!(main.polls.len(), 3);
    assert_eq!(
        sources(main),
        [
            WakeSource::Spawn,
            WakeSource::Timer,
            WakeSource::Task { id }
        ],
        "the main future's wakes"
    );
}

// ---------------------------------------------------------------------------
// Renderers on a real recording
// ---------------------------------------------------------------------------

#[cfg(feature = "render")]
fn example3_record() -> Record {
    example3::take_transcript();
    let (_, record, _) = record_of(example3::main_task());
    example3::take_transcript();
    record
}

#[cfg(feature = "render")]
#[test]
fn the_chrome_trace_of_a_run_has_what_perfetto_needs() {
    let record = example3_record();
    let json = chrome_trace_json(&record);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("the trace is valid JSON");
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");

    // Every lane used by a slice or an instant is named by metadata.
    let mut named = std::collections::BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
    {
        let tid = e["tid"].as_u64().expect("a numeric tid");
        let name = e["args"]["name"].as_str().expect("a lane name").to_owned();
        named.insert(tid, name);
    }
    assert!(named.values().any(|n| n == "loop"), "{named:?}");
    assert!(
        named.values().any(|n| n.starts_with("main (block_on)")),
        "{named:?}"
    );
    assert_eq!(
        named.len(),
        1 + record.tasks.len(),
        "the loop and a lane per task"
    );

    let slices: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let polls: usize = record.tasks.iter().map(|t| t.polls.len()).sum();
    assert_eq!(
        slices.len(),
        polls,
        "one slice per poll (the paused clock never parks)"
    );
    for e in events.iter().filter(|e| e["ph"] != "M") {
        for field in ["ts", "pid", "tid", "name"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
        assert!(e["ts"].is_number() && e["pid"].is_number());
        let tid = e["tid"].as_u64().expect("a numeric tid");
        assert!(
            named.contains_key(&tid),
            "lane {tid} has no thread_name: {e}"
        );
        if e["ph"] == "X" {
            assert!(e["dur"].as_f64().is_some_and(|d| d >= 0.0), "{e}");
        }
    }
    // The timer wakes are there as instants at their virtual times, in µs.
    let timer_wakes: Vec<f64> = events
        .iter()
        .filter(|e| e["ph"] == "i" && e.to_string().contains("timer"))
        .filter_map(|e| e["ts"].as_f64())
        .collect();
    assert!(timer_wakes.contains(&1_000_000.0), "{timer_wakes:?}");
    assert!(timer_wakes.contains(&2_000_000.0), "{timer_wakes:?}");
}

#[cfg(feature = "render")]
#[test]
fn the_svg_timeline_of_a_run_is_xml_with_one_row_per_task() {
    let record = example3_record();
    let svg = timeline_svg(&record, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).expect("the timeline is well-formed XML");
    let rows: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("row task-row"))
        .collect();
    let mut ids: Vec<u64> = rows
        .iter()
        .map(|n| {
            n.attribute("data-task")
                .and_then(|v| v.parse().ok())
                .expect("a task row names its task")
        })
        .collect();
    let mut want: Vec<u64> = record.tasks.iter().map(|t| t.id).collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want, "one row per task, main included");
    let loops = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("row loop-row"))
        .count();
    assert_eq!(loops, 1);
}

// ---------------------------------------------------------------------------
// Lost wake-ups
// ---------------------------------------------------------------------------

#[test]
fn a_task_pending_without_its_waker_is_reported_as_a_lost_wakeup() {
    let (rt, _) = traced();
    // Kept alive past `block_on`, so the waiting task's waker stays stored.
    let (tx, rx) = oneshot::channel::<()>();
    let (lost, waiting, sleeping) = rt.block_on(async move {
        let lost = evloop::task::Builder::new()
            .name("forgetful")
            .spawn(poll_fn(|_cx| Poll::<()>::Pending));
        let waiting = evloop::task::Builder::new().name("waiting").spawn(rx);
        let sleeping = evloop::spawn(sleep(SECS(3600)));
        // One tick: every task is polled once and returns Pending.
        evloop::yield_now().await;
        (lost.id(), waiting.id(), sleeping.id())
    });
    let reported = rt.lost_wakeups();
    let ids: Vec<_> = reported.iter().map(|l| l.id).collect();
    assert_eq!(
        ids,
        [lost],
        "only the task that dropped its waker: {reported:?}"
    );
    assert!(!ids.contains(&waiting) && !ids.contains(&sleeping));
    assert_eq!(reported[0].name.as_deref(), Some("forgetful"));
    let text = reported[0].to_string();
    assert!(
        text.contains("forgetful") && text.contains("trace.rs"),
        "{text}"
    );
    drop(tx);
}

#[test]
fn a_waker_kept_in_a_hand_written_future_is_not_a_lost_wakeup() {
    let (rt, _) = traced();
    let stored: Rc<RefCell<Option<Waker>>> = Rc::new(RefCell::new(None));
    let slot = stored.clone();
    rt.block_on(async move {
        evloop::spawn(poll_fn(move |cx| {
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        evloop::yield_now().await;
    });
    assert!(stored.borrow().is_some(), "the task ran and kept its waker");
    assert!(rt.lost_wakeups().is_empty(), "{:?}", rt.lost_wakeups());
    assert_eq!(rt.task_count(), 1);
}

// ---------------------------------------------------------------------------
// Recording itself
// ---------------------------------------------------------------------------

#[test]
fn with_tracing_off_there_is_no_record() {
    let rt = Runtime::builder()
        .paused_clock(true)
        .trace(false)
        .build()
        .expect("a runtime can be built");
    rt.block_on(sleep(MS(1)));
    assert!(rt.trace_record().is_none());
    assert!(
        rt.block_on(async { evloop::runtime::current_trace() })
            .is_none()
    );
}

#[test]
fn the_record_is_readable_from_inside_the_run() {
    let (summary, record, _) = record_of(async {
        let handle = evloop::task::Builder::new()
            .name("napper")
            .spawn(sleep(SECS(1)));
        handle.await.expect("the napper finishes");
        let now = evloop::runtime::current_trace().expect("tracing is on");
        assert_eq!(now.end, SECS(1));
        evloop::trace::stats::summary_table(&now)
    });
    assert!(
        summary.lines().any(|l| l.starts_with("napper")),
        "{summary}"
    );
    assert!(record.tasks.iter().any(|t| t.label() == "napper"));
}

#[test]
fn a_pool_job_is_recorded_with_its_thread() {
    let (n, record, _) = record_of(async {
        evloop::spawn_blocking(|| 6 * 7)
            .await
            .expect("the job runs")
    });
    assert_eq!(n, 42);
    assert_eq!(record.jobs.len(), 1, "{:?}", record.jobs);
    let job = &record.jobs[0];
    assert!(job.started.is_some() && job.finished.is_some(), "{job:?}");
    assert!(!job.thread.is_empty());
}

// ---------------------------------------------------------------------------
// The book's pictures
// ---------------------------------------------------------------------------

// Lesson 7's failures, as the chapter "gather and TaskGroup" draws them.

/// asyncio's `gather` over tasks, retold with lesson 7's jobs: each fetch is
/// a spawned task, and `try_join_all` waits on the handles. At fetch 1's
/// error it returns and drops the handles it holds, which detaches the
/// tasks: fetch 2 runs on to 2 s with nobody to await it. Meanwhile the main
/// task goes on with 2 s of other work.
async fn example7_orphans() -> Result<Vec<String>, example7::FetchError> {
    let handles = example7::JOBS.map(|job| {
        evloop::task::Builder::new()
            .name(format!("fetch {}", job.id))
            .spawn(example7::fetch_or_fail(job))
    });
    let outputs = handles.map(|handle| async move { handle.await.expect("no fetch panics") });
    let result = evloop::try_join_all(outputs).await;
    sleep(SECS(2)).await;
    result
}

/// Lesson 7's task group, followed by the same 2 s of other work as
/// [`example7_orphans`], so that the two pictures share their time axis.
async fn example7_group_then_work() -> Result<Vec<String>, evloop::GroupError<example7::FetchError>>
{
    let result = example7::task_group_with_failures().await;
    sleep(SECS(2)).await;
    result
}

/// How the task labelled `label` ended, and when.
fn ending(record: &Record, label: &str) -> (Duration, TaskEnd) {
    record
        .tasks
        .iter()
        .find(|t| t.label() == label)
        .and_then(|t| t.ended)
        .unwrap_or_else(|| panic!("{label} is recorded and ended: {:?}", record.tasks))
}

/// The three failure drills of lesson 7, each on a fresh traced runtime.
fn example7_failure_records() -> [Record; 3] {
    example7::take_transcript();
    let (_, join_all, _) = record_of(example7::join_all_with_failures());
    let (_, try_join_all, _) = record_of(example7::try_join_all_with_failures());
    let (_, group, _) = record_of(example7::task_group_with_failures());
    example7::take_transcript();
    [join_all, try_join_all, group]
}

/// The orphans of `gather`-like waiting, and the group that cancels instead.
fn example7_orphan_records() -> [Record; 2] {
    example7::take_transcript();
    let (_, orphans, _) = record_of(example7_orphans());
    let (_, group, _) = record_of(example7_group_then_work());
    example7::take_transcript();
    [orphans, group]
}

#[test]
fn example7_failure_drills_are_one_task_twice_then_a_group_of_three() {
    let [join_all, try_join_all, group] = example7_failure_records();
    // join_all and try_join_all poll the fetches inside the main task.
    assert_eq!((join_all.end, join_all.tasks.len()), (SECS(2), 1));
    assert_eq!((try_join_all.end, try_join_all.tasks.len()), (SECS(1), 1));
    // The group spawns three tasks; at 1 s two fail and the third is cancelled.
    assert_eq!((group.end, spawned(&group).len()), (SECS(1), 3));
    assert_eq!(ending(&group, "fetch 1"), (SECS(1), TaskEnd::Output));
    assert_eq!(ending(&group, "fetch 2"), (SECS(1), TaskEnd::Cancelled));
    assert_eq!(ending(&group, "fetch 3"), (SECS(1), TaskEnd::Output));
}

#[test]
fn example7_orphans_run_on_while_the_group_cancels() {
    let [orphans, group] = example7_orphan_records();
    assert_eq!(orphans.end, SECS(3));
    assert_eq!(group.end, SECS(3));
    // Detached by try_join_all, fetch 2 returns at 2 s; nobody reads it.
    assert_eq!(ending(&orphans, "fetch 2"), (SECS(2), TaskEnd::Output));
    assert_eq!(ending(&orphans, "fetch 1"), (SECS(1), TaskEnd::Output));
    // In the group it is cancelled the moment its siblings fail.
    assert_eq!(ending(&group, "fetch 2"), (SECS(1), TaskEnd::Cancelled));
}

#[cfg(feature = "render")]
/// The book's timelines under the paused clock: lessons 2, 3 and 5 as the
/// chapter "Seeing the loop" shows them, lesson 7's failures as the chapter
/// "gather and TaskGroup" shows them: (file name, SVG).
fn book_timelines() -> Vec<(&'static str, String)> {
    let options = |title: &str| SvgOptions {
        title: Some(title.to_owned()),
        ..SvgOptions::default()
    };
    let draw = |title: &str, record: &Record| timeline_svg(record, &options(title));
    example2::take_transcript();
    let (_, e2, _) = record_of(example2::main_task());
    example2::take_transcript();
    let e3 = example3_record();
    example5::take_transcript();
    let (_, e5, _) = record_of(example5::main_task());
    example5::take_transcript();
    let [join_all, try_join_all, group] = example7_failure_records();
    let [orphans, group_then_work] = example7_orphan_records();
    vec![
        (
            "example2.svg",
            draw(
                "example2: two futures awaited one by one (paused clock)",
                &e2,
            ),
        ),
        (
            "example3.svg",
            draw("example3: two spawned tasks (paused clock)", &e3),
        ),
        (
            "example5.svg",
            draw(
                "example5: a blocking sleep in each task (paused clock)",
                &e5,
            ),
        ),
        (
            "example7-failures.svg",
            stacked_svg(
                &[
                    ("join_all: every result, errors included", &join_all),
                    (
                        "try_join_all: the first error; the rest dropped",
                        &try_join_all,
                    ),
                    ("TaskGroup: two failures cancel fetch 2", &group),
                ],
                &options("example7: fetch 1 and 3 fail at 1 s, fetch 2 needs 2 s (paused clock)"),
            ),
        ),
        (
            "example7-orphans.svg",
            stacked_svg(
                &[
                    (
                        "try_join_all over spawned tasks: fetch 2 runs on, orphaned",
                        &orphans,
                    ),
                    (
                        "TaskGroup: fetch 2 is cancelled with the group",
                        &group_then_work,
                    ),
                ],
                &options("example7: after the first failure, main works 2 s more (paused clock)"),
            ),
        ),
    ]
}

#[cfg(feature = "render")]
/// Renders the book's paused-clock timelines, checks they parse, and checks
/// that the pictures committed in `book/src/img/` are exactly what the code
/// draws today. To redraw them after a change to the drawing or to a lesson:
///
/// ```text
/// EVLOOP_WRITE_BOOK_IMAGES=book/src/img cargo test --test trace the_book_timelines_render
/// ```
///
/// (the variable names the folder the pictures are written to; with it set,
/// the test writes instead of comparing). The real-clock pictures of the
/// book (`example3-real-time.svg`, `pipeline-*.svg`) are measurements, made
/// by the commands their chapters give, and are not compared.
///
/// Task ids are unique in the process, so the tests running beside this one
/// would shift the ids the pictures show; the test therefore runs itself
/// again, alone, in a process of its own, and draws there.
#[test]
fn the_book_timelines_render() {
    const ALONE: &str = "EVLOOP_BOOK_TIMELINES_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let this_test = std::env::current_exe().expect("the test binary knows its path");
        let run = std::process::Command::new(this_test)
            .args(["the_book_timelines_render", "--exact", "--test-threads=1"])
            .env(ALONE, "1")
            .output()
            .expect("the test binary runs again");
        assert!(
            run.status.success(),
            "the book's timelines, drawn alone:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        return;
    }
    let out = std::env::var_os("EVLOOP_WRITE_BOOK_IMAGES");
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/img");
    let mut stale = Vec::new();
    for (name, svg) in book_timelines() {
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let rows = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("row task-row"))
            .count();
        assert!(rows >= 1, "{name}: at least the main task's row");
        // Lesson 7's pictures cross out fetch 2 where the group cancels it,
        // and nothing else: the orphan and the failed fetches returned.
        let crossed: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("end-mark cancelled"))
            .filter_map(|mark| {
                mark.ancestors()
                    .find(|n| n.attribute("class") == Some("row task-row"))
            })
            .filter_map(|row| {
                row.descendants()
                    .find(|n| n.tag_name().name() == "text")
                    .and_then(|label| label.text())
            })
            .collect();
        let expected: &[&str] = if name.starts_with("example7") {
            &["fetch 2"]
        } else {
            &[]
        };
        assert_eq!(crossed, expected, "{name}");
        if let Some(dir) = &out {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("the image folder can be made");
            std::fs::write(dir.join(name), &svg).expect("the image can be written");
        } else if std::fs::read_to_string(committed.join(name))
            .ok()
            .as_deref()
            != Some(&svg)
        {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "book/src/img/{{{}}} differ from what the code draws today (or are missing); redraw \
         them with `EVLOOP_WRITE_BOOK_IMAGES=book/src/img cargo test --test trace \
         the_book_timelines_render` and look at the pictures before committing them",
        stale.join(",")
    );
}
