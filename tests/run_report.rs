//! The run report page, read back by an XML parser (no browser here; the
//! browser check is `.ci/browser-report`): it is well-formed, it holds what
//! its model holds (variants, tasks, pool threads, failures), it groups a
//! thousand tasks as the timeline does, it refers to nothing outside
//! itself, and every string from outside shows as text.

use std::time::Duration;

use evloop::pipeline::html::{Run, RunInfo, VariantRun, page};
use evloop::pipeline::{Item, ItemError, Outcome, Report, Stage, Timings};
use evloop::trace::record::{
    JobRecord, Park, PoolKind, Record, Span, TaskEnd, TaskRecord, Wake, WakeSource,
};
use evloop::trace::svg::SvgOptions;
use roxmltree::{Document, Node, ParsingOptions};

const HOSTILE: &str = "<script>alert(\"x\")</script><img src=x onerror=alert(1)>&amp;'";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn parse(html: &str) -> Document<'_> {
    let options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(html, options).unwrap_or_else(|e| {
        let line = html
            .lines()
            .nth(e.pos().row as usize - 1)
            .unwrap_or_default();
        panic!("not well-formed: {e}\n{line}")
    })
}

/// Elements with this local name, in any namespace.
fn named<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == name)
        .collect()
}

fn has_class(n: &Node, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|x| x == class))
}

/// The first element with this id.
fn by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no element with id {id}"))
}

/// All the text under `n`.
fn text(n: &Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// The rows of the body of the first table under `n`.
fn body_rows<'a, 'i>(n: Node<'a, 'i>, table_class: &str) -> Vec<Node<'a, 'i>> {
    let table = n
        .descendants()
        .find(|d| d.tag_name().name() == "table" && has_class(d, table_class))
        .unwrap_or_else(|| panic!("no table.{table_class}"));
    table
        .descendants()
        .filter(|d| d.tag_name().name() == "tbody")
        .flat_map(|b| b.children().filter(|r| r.tag_name().name() == "tr"))
        .collect()
}

/// A variant's trace: a main task, `downloads` named tasks woken by IO,
/// and two CPU pool threads with a job per download.
fn record(downloads: u64, task_name: &str) -> Record {
    let mut record = Record::new(ms(100));
    let mut main = TaskRecord::new(0, Some("main (block_on)".into()), "block_on", ms(0));
    main.polls.push(Span::new(ms(0), ms(1)));
    main.polls.push(Span::new(ms(400), ms(401)));
    main.wakes
        .push(Wake::new(ms(399), WakeSource::Task { id: 1 }));
    main.ended = Some((ms(401), TaskEnd::Output));
    record.tasks.push(main);
    for i in 1..=downloads {
        let mut t = TaskRecord::new(
            i,
            Some(format!("{task_name} {i}")),
            "src/pipeline/steps.rs:40:9",
            ms(1),
        );
        t.polls.push(Span::new(ms(1), ms(2)));
        t.wakes.push(Wake::new(
            ms(300),
            WakeSource::Io {
                socket: "127.0.0.1:1 -> 127.0.0.1:2".into(),
            },
        ));
        // Different busy times, so sorting by busy reorders.
        t.polls.push(Span::new(
            ms(301),
            ms(302) + Duration::from_micros(i * 37 % 500),
        ));
        t.ended = Some((ms(303), TaskEnd::Output));
        record.tasks.push(t);
        record.jobs.push(JobRecord {
            pool: PoolKind::Cpu,
            thread: format!("evloop-cpu-{}", i % 2),
            name: None,
            queued: ms(303),
            started: Some(ms(304)),
            finished: Some(ms(340)),
        });
    }
    record.parks.push(Park::new(ms(2), ms(300)));
    record.end = ms(401);
    record
}

fn report(variant: &str, images: usize, failed: &[(usize, &str, Stage, &str)]) -> Report {
    let outcomes = (1..=images)
        .map(|index| {
            let item = Item {
                index,
                url: format!("http://127.0.0.1:1/image_{index}.jpg"),
            };
            let result = match failed.iter().find(|f| f.0 == index) {
                Some(&(_, url, stage, reason)) => {
                    let item = Item {
                        index,
                        url: url.to_owned(),
                    };
                    Err(ItemError::new(&item, stage, reason))
                }
                None => Ok(format!("out/{variant}/processed_images/image_{index}.jpg").into()),
            };
            Outcome { item, result }
        })
        .collect();
    let timings = Timings {
        download: ms(300),
        process: ms(100),
        total: ms(400),
    };
    Report::new(variant, timings, outcomes)
}

fn info(source: &str) -> RunInfo {
    RunInfo {
        command_line: "evloop --images 3".into(),
        ..RunInfo::of_this_process(source, 3, ms(300))
    }
}

#[test]
fn the_page_is_well_formed_and_holds_the_model() {
    let sync = report(
        "sync",
        3,
        &[(
            2,
            "http://127.0.0.1:1/missing.jpg",
            Stage::Download,
            "404 Not Found",
        )],
    );
    let threads = report("threads", 3, &[]);
    let traced = record(3, "download");
    let run = Run {
        info: info("embedded image host http://127.0.0.1:1"),
        variants: vec![
            VariantRun {
                report: &sync,
                record: None,
                peak_rss_mib: Some(20.0),
            },
            VariantRun {
                report: &threads,
                record: Some(&traced),
                peak_rss_mib: None,
            },
        ],
        bound: Some(ms(340)),
    };
    let html = page(&run, None);
    let doc = parse(&html);

    // The header.
    let header = text(&named(&doc, "header")[0]);
    for fact in [
        "evloop --images 3",
        "embedded image host http://127.0.0.1:1",
        "3 per variant",
        "300 ms",
    ] {
        assert!(header.contains(fact), "{fact} in {header}");
    }

    // One comparison row per variant, in order, with the terminal's figures.
    let rows = body_rows(by_id(&doc, "comparison"), "compare");
    let names: Vec<_> = rows
        .iter()
        .filter_map(|r| r.attribute("data-variant"))
        .collect();
    assert_eq!(names, ["sync", "threads"]);
    let cells: Vec<String> = rows[0]
        .children()
        .filter(|c| c.is_element())
        .map(|c| text(&c))
        .collect();
    assert_eq!(
        cells[..9],
        [
            "sync", "0.30 s", "0.10 s", "0.40 s", "75.0%", "25.0%", "1.0x", "2", "1"
        ]
    );
    assert_eq!(cells[9], "×1.2 (+0.06 s)", "the distance from the bound");
    // The bars: one per variant, and the bound.
    let bars: Vec<_> = doc.descendants().filter(|n| has_class(n, "bar")).collect();
    assert_eq!(bars.len(), 2);
    assert!(
        doc.descendants()
            .any(|n| n.tag_name().name() == "g" && has_class(&n, "bound"))
    );

    // Only one variant has a trace: no stacked picture, one timeline.
    assert!(
        doc.descendants()
            .all(|n| n.attribute("id") != Some("timelines"))
    );
    let sync_section = by_id(&doc, "variant-sync");
    assert!(text(&sync_section).contains("No trace was recorded"));
    let threads_section = by_id(&doc, "variant-threads");
    let svgs: Vec<_> = threads_section
        .descendants()
        .filter(|n| n.tag_name().name() == "svg")
        .collect();
    assert_eq!(svgs.len(), 1);
    // A table row per task, keyed by its id, with its figures.
    let tasks = body_rows(threads_section, "tasks");
    let ids: Vec<_> = tasks
        .iter()
        .filter_map(|r| r.attribute("data-task"))
        .collect();
    assert_eq!(ids, ["0", "1", "2", "3"]);
    let first: Vec<String> = tasks[1]
        .children()
        .filter(|c| c.is_element())
        .map(|c| text(&c))
        .collect();
    assert_eq!(first[0], "download 1");
    assert_eq!(first[1], "pipeline/steps.rs:40:9");
    assert_eq!(first[2], "2", "polls");
    assert_eq!(first[7], "1 (io 1)", "wakes by source");
    assert_eq!(first[8], "IO-bound");
    // Each numeric cell sorts by a number.
    for cell in tasks[1].children().filter(|c| has_class(c, "num")) {
        let key = cell.attribute("data-sort").expect("a sort key");
        key.parse::<f64>()
            .unwrap_or_else(|_| panic!("{key} is not a number"));
    }
    // The picture's rows carry the same tasks, with their hover details.
    let picture_ids: Vec<_> = svgs[0]
        .descendants()
        .filter(|n| has_class(n, "task-row"))
        .filter_map(|n| n.attribute("data-task"))
        .collect();
    assert_eq!(picture_ids, ids);
    // The pool threads.
    let threads_rows = body_rows(threads_section, "threads");
    let thread_names: Vec<String> = threads_rows
        .iter()
        .map(|r| text(&r.first_element_child().unwrap()))
        .collect();
    assert_eq!(thread_names, ["evloop-cpu-0", "evloop-cpu-1"]);

    // The failure, one line.
    let failures: Vec<_> = by_id(&doc, "failures")
        .descendants()
        .filter(|n| n.tag_name().name() == "li")
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].attribute("data-variant"), Some("sync"));
    assert_eq!(failures[0].attribute("data-stage"), Some("download"));
    let line = text(&failures[0]);
    assert!(
        line.contains("http://127.0.0.1:1/missing.jpg") && line.contains("404 Not Found"),
        "{line}"
    );

    // The guide names the chapters.
    let guide = text(&by_id(&doc, "guide"));
    for title in [
        "Seeing the loop",
        "The pipeline, five ways",
        "Offloading",
        "Blocking the loop",
    ] {
        assert!(guide.contains(title), "{title}");
    }
}

#[test]
fn two_traced_variants_share_one_time_axis() {
    let a = report("async", 3, &[]);
    let b = report("streaming", 3, &[]);
    let (ra, rb) = (record(3, "download"), record(3, "fetch"));
    let run = Run {
        info: info("here"),
        variants: vec![
            VariantRun {
                report: &a,
                record: Some(&ra),
                peak_rss_mib: None,
            },
            VariantRun {
                report: &b,
                record: Some(&rb),
                peak_rss_mib: None,
            },
        ],
        bound: None,
    };
    let html = page(&run, None);
    let doc = parse(&html);
    let stacked = by_id(&doc, "timelines");
    let sections: Vec<_> = stacked
        .descendants()
        .filter(|n| has_class(n, "section"))
        .filter_map(|n| n.attribute("data-title"))
        .collect();
    assert_eq!(sections, ["async", "streaming"]);
    // Then each variant's own picture: three timelines in all.
    let figures = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "figure" && has_class(n, "timeline"))
        .count();
    assert_eq!(figures, 3);
    assert!(text(&by_id(&doc, "comparison")).contains("No bound"));
}

#[test]
fn every_string_from_outside_shows_as_text() {
    let failed = report(
        "sync",
        2,
        &[(1, &format!("http://h/{HOSTILE}"), Stage::Decode, HOSTILE)],
    );
    let mut traced = record(2, HOSTILE);
    traced.jobs[0].thread = HOSTILE.into();
    let mut info = info(HOSTILE);
    info.command_line = HOSTILE.into();
    info.os = HOSTILE.into();
    info.urls = vec![format!("http://h/{HOSTILE}")];
    let run = Run {
        info,
        variants: vec![VariantRun {
            report: &failed,
            record: Some(&traced),
            peak_rss_mib: None,
        }],
        bound: Some(ms(100)),
    };
    let html = page(&run, Some("../book/src/"));
    assert!(!html.contains("<script>alert"), "raw markup in the page");
    assert!(!html.contains("<img"), "raw markup in the page");
    let doc = parse(&html);
    // Nothing was injected: the page's own script, no image, no handler.
    assert_eq!(named(&doc, "script").len(), 1);
    assert!(named(&doc, "img").is_empty());
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            assert!(
                !a.name().starts_with("on"),
                "{} has {}",
                n.tag_name().name(),
                a.name()
            );
        }
    }
    // Every hostile string is there as text, whole.
    let all = text(&doc.root());
    let count = all.matches(HOSTILE).count();
    // Header: source, command line, OS, URL list; failure: URL and reason;
    // tasks: table names and picture labels; the thread in both.
    assert!(count >= 8, "{count} times:\n{all}");
    let failure = by_id(&doc, "failures")
        .descendants()
        .find(|n| has_class(n, "reason"))
        .expect("a reason");
    assert_eq!(text(&failure), HOSTILE);
}

#[test]
fn the_page_asks_for_nothing_outside_itself() {
    let r = report("async", 1, &[]);
    let rec = record(1, "download");
    let run = Run {
        info: info("here"),
        variants: vec![VariantRun {
            report: &r,
            record: Some(&rec),
            peak_rss_mib: None,
        }],
        bound: Some(ms(300)),
    };
    let html = page(&run, Some("../book/src/"));
    let doc = parse(&html);
    // The policy forbids every request; the page's style and script carry
    // its nonce.
    let policy = named(&doc, "meta")
        .into_iter()
        .find(|m| m.attribute("http-equiv") == Some("Content-Security-Policy"))
        .and_then(|m| m.attribute("content"))
        .expect("a content security policy");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    assert_eq!(nonce.len(), 32);
    for tag in ["script", "style"] {
        for n in named(&doc, tag) {
            assert_eq!(n.attribute("nonce"), Some(nonce), "{tag}");
        }
    }
    // No element loads anything; links go within the page, to the book
    // beside it, or to nowhere (data:).
    for n in doc.descendants().filter(|n| n.is_element()) {
        assert!(n.attribute("src").is_none(), "{:?}", n.tag_name());
        if let Some(href) = n.attribute("href") {
            assert!(
                href.starts_with('#')
                    || href.starts_with("../book/src/")
                    || href.starts_with("data:"),
                "{href}"
            );
        }
    }
    let chapters: Vec<_> = named(&doc, "a")
        .into_iter()
        .filter_map(|a| a.attribute("href"))
        .filter(|h| h.starts_with("../book/src/"))
        .collect();
    assert!(
        chapters.contains(&"../book/src/seeing-the-loop.md"),
        "{chapters:?}"
    );
    // Every chapter linked exists.
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for href in chapters {
        assert!(repo.join(&href["../".len()..]).is_file(), "{href}");
    }
}

#[test]
fn a_thousand_tasks_are_grouped_as_the_picture_groups_them() {
    let r = report("streaming", 1000, &[]);
    let mut rec = record(1000, "download");
    // And a blocking pool of 300 threads.
    for i in 0..300u64 {
        rec.jobs.push(JobRecord {
            pool: PoolKind::Blocking,
            thread: format!("evloop-blocking-{i}"),
            name: None,
            queued: ms(1),
            started: Some(ms(2)),
            finished: Some(ms(3 + i % 50)),
        });
    }
    let run = Run {
        info: info("here"),
        variants: vec![VariantRun {
            report: &r,
            record: Some(&rec),
            peak_rss_mib: None,
        }],
        bound: Some(ms(300)),
    };
    let html = page(&run, None);
    let doc = parse(&html);
    let section = by_id(&doc, "variant-streaming");
    let rows = body_rows(section, "tasks");
    let options = SvgOptions::default();
    assert!(rows.len() <= options.max_task_rows, "{} rows", rows.len());
    let covered: usize = rows
        .iter()
        .map(|r| match r.attribute("data-tasks") {
            Some(n) => n.parse::<usize>().expect("a count"),
            None => 1,
        })
        .sum();
    assert_eq!(covered, 1001, "every task in exactly one row");
    assert!(rows.iter().any(|r| text(r).contains("download × 1000")));
    // The picture has the same rows.
    let picture: Vec<_> = section
        .descendants()
        .filter(|n| has_class(n, "task-row"))
        .map(|n| {
            n.attribute("data-tasks")
                .or(n.attribute("data-task"))
                .unwrap_or_default()
        })
        .collect();
    let table: Vec<_> = rows
        .iter()
        .map(|n| {
            n.attribute("data-tasks")
                .or(n.attribute("data-task"))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(picture, table);
    // 300 blocking threads in one row, the two CPU threads each in theirs.
    let threads = body_rows(section, "threads");
    let names: Vec<String> = threads
        .iter()
        .map(|r| text(&r.first_element_child().unwrap()))
        .collect();
    assert_eq!(
        names,
        ["blocking pool × 300", "evloop-cpu-0", "evloop-cpu-1"]
    );
    assert!(html.len() < 1 << 20, "{} bytes", html.len());
}
