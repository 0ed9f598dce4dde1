//! The trace renderers on hand-built records: statistics and their verdicts,
//! the Chrome trace JSON (parsed back with serde_json), and the SVG timeline
//! (parsed back with roxmltree), small and with 200 tasks.

use std::time::Duration;

use evloop::trace::chrome::chrome_trace_json;
use evloop::trace::record::{
    ClockJump, JobRecord, Park, PoolKind, Record, Span, TaskEnd, TaskRecord, Wake, WakeSource,
};
use evloop::trace::stats::{Verdict, summary_table, task_stats};
use evloop::trace::svg::{SvgOptions, stacked_svg, timeline_svg};
use serde_json::Value;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// asyncio's example3: two tasks spawned together, one sleeping 1 s and one
/// 2 s; each is polled once to start its sleep and once when its timer fires.
fn example3() -> Record {
    let mut record = Record::new(ms(100));
    for (id, secs) in [(1u64, 1u64), (2, 2)] {
        let mut t = TaskRecord::new(
            id,
            Some(format!("say_after {secs}")),
            "/src/evloop/examples/example3.rs:21",
            Duration::ZERO,
        );
        let first = us(10 * id);
        t.polls.push(Span::new(first, first + us(8)));
        let fire = Duration::from_secs(secs);
        t.wakes.push(Wake::new(fire, WakeSource::Timer));
        t.polls.push(Span::new(fire + us(5), fire + us(12)));
        t.ended = Some((fire + us(12), TaskEnd::Output));
        record.tasks.push(t);
    }
    record.parks.push(Park::new(us(40), Duration::from_secs(1)));
    record.parks.push(Park::new(
        Duration::from_secs(1) + us(20),
        Duration::from_secs(2),
    ));
    record.end = Duration::from_secs(2) + us(20);
    record
}

/// One task whose only poll takes a whole second: it blocks the loop.
fn blocking() -> Record {
    let mut record = Record::new(ms(100));
    let mut t = TaskRecord::new(5, Some("sleepy".into()), "examples/example5.rs:9", ms(0));
    t.polls.push(Span::new(ms(0), ms(1000)));
    t.ended = Some((ms(1000), TaskEnd::Output));
    record.tasks.push(t);
    record.end = ms(1000);
    record
}

/// 200 downloads (`download 0` .. `download 199`) spawned from one place, each
/// polled a few times with IO wakes, plus CPU pool jobs on two threads.
fn two_hundred(distinct: bool) -> Record {
    let mut record = Record::new(ms(100));
    for i in 0..200u64 {
        let (name, location) = if distinct {
            (format!("job{}x", i), format!("src/gen/file{i}.rs:{i}"))
        } else {
            (
                format!("download {i}"),
                "src/pipeline/fetch.rs:40".to_string(),
            )
        };
        let start = ms(i * 5);
        let mut t = TaskRecord::new(i + 1, Some(name), location, start);
        t.polls.push(Span::new(start + us(3), start + us(40)));
        for k in 1..4u64 {
            let at = start + ms(100 * k + i % 7);
            t.wakes.push(Wake::new(
                at,
                WakeSource::Io {
                    socket: "127.0.0.1:8080".into(),
                },
            ));
            t.polls.push(Span::new(at + us(50), at + us(150)));
        }
        let end = start + ms(301 + i % 7);
        t.ended = Some((end, TaskEnd::Output));
        record.tasks.push(t);
        record.jobs.push(JobRecord {
            pool: PoolKind::Cpu,
            thread: format!("evloop-cpu-{}", i % 2),
            name: Some(format!("edges {i}")),
            queued: end,
            started: Some(end + ms(1)),
            finished: Some(end + ms(20)),
        });
    }
    record.end = ms(1400);
    record
}

// ---------------------------------------------------------------- stats

#[test]
fn example3_tasks_are_io_bound_and_idle_for_their_sleep() {
    let stats = task_stats(&example3());
    assert_eq!(stats.len(), 2);
    for (s, secs) in stats.iter().zip([1u64, 2]) {
        assert_eq!(s.polls, 2);
        assert_eq!(s.busy, us(15), "8 µs + 7 µs of polling");
        assert!(s.busy < ms(1));
        assert_eq!(s.wakes.timer, 1);
        assert_eq!(s.wakes.total(), 1);
        assert_eq!(s.longest_poll, us(8));
        // Ready from spawn (0) to the first poll, and from the timer to the second.
        assert_eq!(s.scheduled, us(10 * s.id) + us(5));
        let life = Duration::from_secs(secs) + us(12);
        assert_eq!(s.lifetime, life);
        assert_eq!(s.busy + s.scheduled + s.idle, life);
        let wanted = Duration::from_secs(secs);
        assert!(s.idle > wanted - ms(1) && s.idle < wanted, "{:?}", s.idle);
        assert_eq!(s.verdict, Verdict::IoBound);
        assert_eq!(s.ended, Some(TaskEnd::Output));
    }
}

#[test]
fn a_one_second_poll_is_blocking() {
    let stats = task_stats(&blocking());
    assert_eq!(stats[0].verdict, Verdict::Blocking);
    assert_eq!(stats[0].slow_polls, 1);
    assert_eq!(stats[0].longest_poll, ms(1000));
}

#[test]
fn verdict_boundaries() {
    // Busy exactly half the lifetime: not CPU-bound. A hair more: CPU-bound.
    let mut record = Record::new(ms(100));
    let mut half = TaskRecord::new(1, None, "a.rs:1", ms(0));
    half.polls.push(Span::new(ms(0), ms(50)));
    half.ended = Some((ms(100), TaskEnd::Output));
    let mut more = half.clone();
    more.id = 2;
    more.polls
        .push(Span::new(ms(60), ms(60) + Duration::from_nanos(1)));
    // A poll of exactly the threshold is not slow.
    let mut at_threshold = TaskRecord::new(3, None, "a.rs:1", ms(0));
    at_threshold.polls.push(Span::new(ms(0), ms(100)));
    at_threshold.ended = Some((ms(1000), TaskEnd::Output));
    // Never polled, zero lifetime.
    let mut empty = TaskRecord::new(4, None, "a.rs:1", ms(5));
    empty.ended = Some((ms(5), TaskEnd::Cancelled));
    record.tasks = vec![half, more, at_threshold, empty];
    record.end = ms(1000);
    let v: Vec<Verdict> = task_stats(&record).iter().map(|s| s.verdict).collect();
    assert_eq!(
        v,
        [
            Verdict::IoBound,
            Verdict::CpuBound,
            Verdict::IoBound,
            Verdict::IoBound
        ]
    );

    // A zero threshold switches the slow-poll rule off.
    let mut off = blocking();
    off.slow_poll_threshold = Duration::ZERO;
    assert_eq!(task_stats(&off)[0].verdict, Verdict::CpuBound);
}

#[test]
fn untidy_records_do_not_panic() {
    let mut record = Record::new(ms(1));
    let mut t = TaskRecord::new(1, None, "", ms(10));
    t.polls.push(Span::new(ms(9), ms(3))); // backwards
    t.polls.push(Span::new(ms(50), ms(60))); // past the end
    t.wakes.push(Wake::new(ms(70), WakeSource::SelfWake));
    t.ended = Some((ms(5), TaskEnd::Panic)); // before the spawn
    record.tasks.push(t);
    record.parks.push(Park::new(ms(4), ms(2)));
    record.jobs.push(JobRecord {
        pool: PoolKind::Blocking,
        thread: String::new(),
        name: None,
        queued: ms(3),
        started: None,
        finished: Some(ms(1)),
    });
    record.end = ms(1);
    let s = task_stats(&record);
    assert_eq!(s[0].lifetime, Duration::ZERO);
    assert_eq!(s[0].idle, Duration::ZERO);
    let _ = summary_table(&record);
    let json: Value = serde_json::from_str(&chrome_trace_json(&record)).unwrap();
    assert!(json["traceEvents"].is_array());
    roxmltree::Document::parse(&timeline_svg(&record, &SvgOptions::default())).unwrap();
    roxmltree::Document::parse(&timeline_svg(&Record::default(), &SvgOptions::default())).unwrap();
}

#[test]
fn summary_table_has_a_row_per_task_and_pool_and_loop_lines() {
    let mut record = example3();
    record.jobs.push(JobRecord {
        pool: PoolKind::Blocking,
        thread: "evloop-blocking-0".into(),
        name: None,
        queued: ms(1),
        started: Some(ms(2)),
        finished: Some(ms(502)),
    });
    let table = summary_table(&record);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("task"), "{table}");
    assert!(lines[0].contains("scheduled") && lines[0].contains("verdict"));
    let row = lines
        .iter()
        .find(|l| l.starts_with("say_after 2"))
        .expect("a row for say_after 2");
    assert!(row.contains("15 µs"), "{row}");
    assert!(row.contains("2 s"), "{row}");
    assert!(row.contains("1 (timer 1)"), "{row}");
    assert!(row.ends_with("IO-bound"), "{row}");
    // Columns line up: every task row is as long as the header's rule.
    let column = |line: &str, word: &str| line.find(word).map(|b| line[..b].chars().count());
    let header_verdict = column(lines[0], "verdict");
    for l in lines.iter().filter(|l| l.starts_with("say_after")) {
        assert_eq!(column(l, "IO-bound"), header_verdict, "{table}");
    }
    assert!(
        table.contains("blocking pool: 1 jobs on 1 threads"),
        "{table}"
    );
    assert!(
        table.contains("evloop-blocking-0     1 jobs  busy 500 ms"),
        "{table}"
    );
    assert!(table.contains("loop: parked 2 s of 2 s"), "{table}");
}

// ---------------------------------------------------------------- chrome

fn events(record: &Record) -> Vec<Value> {
    let json: Value = serde_json::from_str(&chrome_trace_json(record)).expect("valid JSON");
    assert_eq!(json["displayTimeUnit"], "ms");
    json["traceEvents"].as_array().expect("an array").clone()
}

#[test]
fn chrome_complete_events_have_every_field() {
    let mut record = example3();
    record.jobs.push(JobRecord {
        pool: PoolKind::Cpu,
        thread: "evloop-cpu-0".into(),
        name: Some("edges".into()),
        queued: ms(1),
        started: Some(ms(2)),
        finished: Some(ms(3)),
    });
    let events = events(&record);
    let complete: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    // 4 polls, 2 parks, 1 job.
    assert_eq!(complete.len(), 7);
    for e in &complete {
        assert!(e["ts"].is_number() && e["dur"].is_number(), "{e}");
        assert!(e["pid"].is_number() && e["tid"].is_number(), "{e}");
        assert!(e["name"].is_string() && e["cat"].is_string(), "{e}");
        assert!(e["args"].is_object(), "{e}");
    }
    let poll = complete
        .iter()
        .find(|e| e["name"] == "say_after 2" && e["cat"] == "poll")
        .unwrap();
    assert_eq!(poll["ts"].as_f64(), Some(20.0));
    assert_eq!(poll["dur"].as_f64(), Some(8.0));
    let job = complete.iter().find(|e| e["name"] == "edges").unwrap();
    assert_eq!(job["args"]["waited_us"].as_f64(), Some(1000.0));
    assert!(complete.iter().any(|e| e["name"] == "parked"));
}

#[test]
fn chrome_lanes_are_named_and_the_loop_comes_first() {
    let mut record = example3();
    record.jobs.push(JobRecord {
        pool: PoolKind::Blocking,
        thread: "evloop-blocking-0".into(),
        name: None,
        queued: ms(1),
        started: Some(ms(2)),
        finished: None,
    });
    let events = events(&record);
    let lane = |name: &str| {
        events
            .iter()
            .find(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == name)
            .unwrap_or_else(|| panic!("a lane named {name}"))["tid"]
            .as_u64()
            .unwrap()
    };
    let loop_tid = lane("loop");
    let t1 = lane("say_after 1 #1");
    let t2 = lane("say_after 2 #2");
    let pool = lane("blocking: evloop-blocking-0");
    let mut tids = [loop_tid, t1, t2, pool];
    tids.sort();
    assert_eq!(tids.len(), 4);
    let sort_index = |tid: u64| {
        events
            .iter()
            .find(|e| e["name"] == "thread_sort_index" && e["tid"] == tid)
            .unwrap()["args"]["sort_index"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(sort_index(loop_tid), 0);
    assert!(sort_index(loop_tid) < sort_index(t1));
    assert!(sort_index(t1) < sort_index(t2));
    assert!(sort_index(t2) < sort_index(pool));
    // Parks sit on the loop lane; the unfinished job runs to the end.
    assert!(
        events
            .iter()
            .filter(|e| e["name"] == "parked")
            .all(|e| e["tid"] == loop_tid)
    );
    let job = events.iter().find(|e| e["name"] == "blocking job").unwrap();
    assert_eq!(job["tid"], pool);
    assert_eq!(job["args"]["finished"], false);
}

#[test]
fn chrome_wakes_are_instants_with_their_source() {
    let mut record = example3();
    record.tasks[0].wakes.push(Wake::new(
        ms(3),
        WakeSource::Io {
            socket: "127.0.0.1:9".into(),
        },
    ));
    record.tasks[1]
        .wakes
        .push(Wake::new(ms(4), WakeSource::Task { id: 1 }));
    record.clock_jumps.push(ClockJump {
        at: ms(5),
        to: ms(1000),
        reason: "next timer".into(),
    });
    let events = events(&record);
    let wakes: Vec<&Value> = events.iter().filter(|e| e["cat"] == "wake").collect();
    assert_eq!(wakes.len(), 4);
    for w in &wakes {
        assert_eq!(w["ph"], "i");
        assert_eq!(w["s"], "t");
        assert!(w["ts"].is_number() && w["tid"].is_number() && w["pid"].is_number());
    }
    let io = wakes.iter().find(|w| w["args"]["source"] == "io").unwrap();
    assert_eq!(io["args"]["socket"], "127.0.0.1:9");
    assert_eq!(io["ts"].as_f64(), Some(3000.0));
    let by_task = wakes
        .iter()
        .find(|w| w["args"]["source"] == "task")
        .unwrap();
    assert_eq!(by_task["args"]["by_task"], 1);
    assert_eq!(
        wakes
            .iter()
            .filter(|w| w["args"]["source"] == "timer")
            .count(),
        2
    );
    let jump = events.iter().find(|e| e["name"] == "clock jump").unwrap();
    assert_eq!(jump["args"]["reason"], "next timer");
    assert_eq!(jump["args"]["to_us"].as_f64(), Some(1_000_000.0));
}

#[test]
fn chrome_escapes_names() {
    let nasty = "<a & \"b\">\\ \n\t\u{1} é ✓";
    let mut record = Record::new(ms(100));
    let mut t = TaskRecord::new(1, Some(nasty.into()), "C:\\src\\main.rs:1", ms(0));
    t.polls.push(Span::new(ms(0), ms(1)));
    record.tasks.push(t);
    let events = events(&record);
    let poll = events.iter().find(|e| e["ph"] == "X").unwrap();
    assert_eq!(poll["name"], nasty);
    assert_eq!(poll["args"]["location"], "C:\\src\\main.rs:1");
    assert!(
        chrome_trace_json(&record).contains("é ✓"),
        "UTF-8 stays as is"
    );
}

// ---------------------------------------------------------------- svg

fn rows<'a>(doc: &'a roxmltree::Document, kind: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.has_tag_name((SVG_NS, "g"))
                && n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == kind))
        })
        .collect()
}

#[test]
fn svg_small_has_one_row_per_task_and_tooltips() {
    let mut record = example3();
    record.jobs.push(JobRecord {
        pool: PoolKind::Cpu,
        thread: "evloop-cpu-0".into(),
        name: None,
        queued: ms(1),
        started: Some(ms(2)),
        finished: Some(ms(300)),
    });
    let options = SvgOptions {
        title: Some("example3".into()),
        ..SvgOptions::default()
    };
    let svg = timeline_svg(&record, &options);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name((SVG_NS, "svg")));
    assert_eq!(root.tag_name().namespace(), Some(SVG_NS));

    let tasks = rows(&doc, "task-row");
    assert_eq!(tasks.len(), 2);
    let ids: Vec<&str> = tasks
        .iter()
        .filter_map(|n| n.attribute("data-task"))
        .collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(rows(&doc, "loop-row").len(), 1);
    assert_eq!(rows(&doc, "thread-row").len(), 1);

    // Every segment (a rect inside a row) has a tooltip naming what it is.
    for row in rows(&doc, "row") {
        for rect in row.children().filter(|n| n.has_tag_name((SVG_NS, "rect"))) {
            let title = rect
                .children()
                .find(|n| n.has_tag_name((SVG_NS, "title")))
                .and_then(|t| t.text())
                .expect("a tooltip");
            assert!(!title.is_empty());
        }
    }
    let text: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("say_after 2: poll 2 of 2 at 2.000005 s, took 7 µs"));
    assert!(text.contains("examples/example3.rs:21"));
    assert!(text.contains("IO-bound"));
    // Round tick labels on the axis.
    for tick in ["0 s", "200 ms", "800 ms", "1 s", "1.2 s", "2 s"] {
        assert!(
            doc.descendants().any(|n| n.text() == Some(tick)),
            "tick {tick}"
        );
    }
    // The legend names the three states and the warning.
    for word in ["busy", "scheduled", "idle", "slow poll (over 100 ms)"] {
        assert!(text.contains(word), "legend {word}");
    }
}

#[test]
fn svg_short_polls_keep_a_minimum_width_and_slow_polls_are_marked() {
    let mut record = example3();
    record.tasks.push(blocking().tasks.remove(0));
    let options = SvgOptions::default();
    let svg = timeline_svg(&record, &options);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let poll_rects: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((SVG_NS, "rect")))
        .filter(|n| {
            n.children()
                .any(|c| c.text().is_some_and(|t| t.contains(": poll ")))
        })
        .collect();
    assert_eq!(poll_rects.len(), 4, "the four 8 µs polls of example3");
    for r in poll_rects {
        let w: f64 = r.attribute("width").unwrap().parse().unwrap();
        assert!(w >= options.min_segment_px, "width {w}");
    }
    let slow: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name((SVG_NS, "rect"))
                && n.children()
                    .any(|c| c.text().is_some_and(|t| t.contains("SLOW poll")))
        })
        .collect();
    assert_eq!(slow.len(), 1);
    assert!(
        slow[0].attribute("stroke").is_some(),
        "slow polls are outlined"
    );
    let blocked = rows(&doc, "task-row")
        .into_iter()
        .find(|r| r.attribute("data-task") == Some("5"))
        .unwrap();
    assert!(blocked.descendants().any(|n| n.text() == Some("blocking")));
}

#[test]
fn svg_groups_200_tasks_into_few_rows() {
    for distinct in [false, true] {
        let record = two_hundred(distinct);
        let options = SvgOptions::default();
        let svg = timeline_svg(&record, &options);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let tasks = rows(&doc, "task-row");
        assert!(
            !tasks.is_empty() && tasks.len() <= options.max_task_rows,
            "{} rows",
            tasks.len()
        );
        // Every task is in exactly one row.
        let covered: usize = tasks
            .iter()
            .map(|r| match r.attribute("data-tasks") {
                Some(n) => n.parse::<usize>().unwrap(),
                None => 1,
            })
            .sum();
        assert_eq!(covered, 200);
        if !distinct {
            assert_eq!(tasks.len(), 1);
            assert!(
                tasks[0]
                    .descendants()
                    .any(|n| n.text() == Some("download × 200"))
            );
        }
        // Two CPU threads still get a row each.
        assert_eq!(rows(&doc, "thread-row").len(), 2);
    }
}

#[test]
fn svg_groups_by_prefix_when_names_differ_only_in_numbers() {
    let mut record = two_hundred(false);
    for t in record.tasks.iter_mut().skip(100) {
        t.name = Some(t.name.as_ref().unwrap().replace("download", "decode"));
    }
    let svg = timeline_svg(&record, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let labels: Vec<&str> = rows(&doc, "task-row")
        .iter()
        .flat_map(|r| r.descendants().filter(|n| n.has_tag_name((SVG_NS, "text"))))
        .filter_map(|n| n.text())
        .filter(|t| t.contains(" × "))
        .collect();
    assert_eq!(labels, ["download × 100", "decode × 100"]);
}

#[test]
fn svg_escapes_task_names() {
    let nasty = "<a & \"b\">";
    let mut record = Record::new(ms(100));
    let mut t = TaskRecord::new(1, Some(nasty.into()), "src/<x>.rs:1", ms(0));
    t.polls.push(Span::new(ms(0), ms(1)));
    record.tasks.push(t);
    let options = SvgOptions {
        title: Some("a 'title' & more\u{1}".into()),
        ..SvgOptions::default()
    };
    let svg = timeline_svg(&record, &options);
    assert!(svg.contains("&lt;a &amp; &quot;b&quot;&gt;"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let label = rows(&doc, "task-row")[0]
        .descendants()
        .find(|n| n.has_tag_name((SVG_NS, "text")))
        .and_then(|n| n.text());
    assert_eq!(label, Some(nasty));
    assert!(doc.descendants().any(|n| n.text() == Some("src/<x>.rs:1")));
}

#[test]
fn stacked_svg_shares_one_axis() {
    let short = example3();
    let long = two_hundred(false);
    let svg = stacked_svg(
        &[("example3", &short), ("200 downloads", &long)],
        &SvgOptions::default(),
    );
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let sections: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("section"))
        .collect();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].attribute("data-title"), Some("example3"));
    // The same ticks in both sections: the axis runs to the longer recording.
    let ticks = |s: &roxmltree::Node| -> Vec<String> {
        s.descendants()
            .filter(|n| n.attribute("class") == Some("axis"))
            .flat_map(|a| a.descendants().filter_map(|n| n.text().map(String::from)))
            .collect()
    };
    assert_eq!(ticks(&sections[0]), ticks(&sections[1]));
    assert!(ticks(&sections[0]).contains(&"2 s".to_string()));
    assert_eq!(rows(&doc, "loop-row").len(), 2);
}

#[test]
fn svg_groups_many_pool_threads_by_pool() {
    let mut record = example3();
    for i in 0..30u64 {
        record.jobs.push(JobRecord {
            pool: PoolKind::Blocking,
            thread: format!("evloop-blocking-{i}"),
            name: Some(format!("read file {i}")),
            queued: ms(i),
            started: Some(ms(i + 1)),
            finished: Some(ms(i + 500)),
        });
    }
    let options = SvgOptions::default();
    let doc_text = timeline_svg(&record, &options);
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    let threads = rows(&doc, "thread-row");
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].attribute("data-threads"), Some("30"));
    assert!(
        threads[0]
            .descendants()
            .any(|n| n.text() == Some("blocking pool × 30"))
    );
    // Below the limit, one row per thread.
    record.jobs.truncate(options.max_thread_rows);
    let doc_text = timeline_svg(&record, &options);
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    assert_eq!(rows(&doc, "thread-row").len(), options.max_thread_rows);
}

/// The end marks of a picture: (the `data-task` of the row, the mark's
/// class, its tooltip).
fn end_marks(doc: &roxmltree::Document) -> Vec<(String, String, String)> {
    rows(doc, "task-row")
        .into_iter()
        .flat_map(|row| {
            let task = row
                .attribute("data-task")
                .or(row.attribute("data-tasks").map(|_| "group"))
                .unwrap_or("?")
                .to_string();
            row.descendants()
                .filter(|n| {
                    n.attribute("class")
                        .is_some_and(|c| c.starts_with("end-mark"))
                })
                .map(move |n| {
                    let tip = n
                        .children()
                        .find(|c| c.has_tag_name((SVG_NS, "title")))
                        .and_then(|t| t.text())
                        .unwrap_or_default()
                        .to_string();
                    let class = n.attribute("class").unwrap_or_default().to_string();
                    (task.clone(), class, tip)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The words of the legend.
fn legend_text(doc: &roxmltree::Document) -> String {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("legend"))
        .flat_map(|g| g.descendants().filter_map(|n| n.text()))
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn svg_marks_a_cancelled_and_a_panicked_task_where_their_rows_stop() {
    let mut record = example3();
    let mut cancelled = TaskRecord::new(3, Some("fetch 2".into()), "group.rs:9", ms(0));
    cancelled.polls.push(Span::new(ms(0), us(5)));
    cancelled.ended = Some((ms(1000), TaskEnd::Cancelled));
    let mut panicked = TaskRecord::new(4, Some("bad".into()), "group.rs:9", ms(0));
    panicked.polls.push(Span::new(ms(500), ms(500) + us(5)));
    panicked.ended = Some((ms(500) + us(5), TaskEnd::Panic));
    let alive = TaskRecord::new(5, Some("forever".into()), "group.rs:9", ms(0));
    record.tasks.extend([cancelled, panicked, alive]);

    let svg = timeline_svg(&record, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(
        end_marks(&doc),
        [
            (
                "3".to_string(),
                "end-mark cancelled".to_string(),
                "fetch 2: cancelled at 1 s".to_string()
            ),
            (
                "4".to_string(),
                "end-mark panicked".to_string(),
                "bad: panicked at 500.005 ms".to_string()
            ),
        ],
        "only the tasks that did not return are marked"
    );
    let legend = legend_text(&doc);
    assert!(legend.contains("task cancelled"), "{legend}");
    assert!(legend.contains("task panicked"), "{legend}");

    // The cross is centred on the moment the task ended, where its bar stops.
    let row = rows(&doc, "task-row")
        .into_iter()
        .find(|r| r.attribute("data-task") == Some("3"))
        .unwrap();
    let cross = row
        .descendants()
        .find(|n| n.attribute("class") == Some("end-mark cancelled"))
        .unwrap();
    let path = cross.attribute("d").unwrap();
    let xs: Vec<f64> = path
        .split(['M', 'L'])
        .filter(|p| !p.is_empty())
        .map(|p| p.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let centre = (xs[0] + xs[1]) / 2.0;
    let bar = row
        .children()
        .find(|n| n.has_tag_name((SVG_NS, "rect")))
        .unwrap();
    let bar_end: f64 = bar.attribute("x").unwrap().parse::<f64>().unwrap()
        + bar.attribute("width").unwrap().parse::<f64>().unwrap();
    assert!(
        (centre - bar_end).abs() < 0.5,
        "cross at {centre}, bar ends at {bar_end}"
    );
}

#[test]
fn svg_without_cancelled_or_panicked_tasks_has_no_end_marks() {
    let svg = timeline_svg(&example3(), &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(end_marks(&doc).is_empty());
    let legend = legend_text(&doc);
    assert!(
        !legend.contains("cancelled") && !legend.contains("panicked"),
        "{legend}"
    );
}

#[test]
fn svg_draws_one_mark_for_many_tasks_cancelled_at_once_in_a_group_row() {
    let mut record = two_hundred(false);
    // The runtime ended at 1.4 s and cancelled every download still alive.
    for t in &mut record.tasks {
        t.ended = Some((ms(1400), TaskEnd::Cancelled));
    }
    let svg = timeline_svg(&record, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let marks = end_marks(&doc);
    assert_eq!(marks.len(), 1, "{marks:?}");
    let (row, class, tip) = &marks[0];
    assert_eq!(
        (row.as_str(), class.as_str()),
        ("group", "end-mark cancelled")
    );
    assert!(
        tip.starts_with("200 tasks cancelled here; the first: download 0: cancelled at 1.4 s"),
        "{tip}"
    );
}
