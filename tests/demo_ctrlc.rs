//! Ctrl-C during the demo (issue 11): the demo binary is run against an
//! image host of the test's own (small pictures, a chosen latency), sent
//! `SIGINT` once it is visibly mid-run, and checked: exit status 130, no
//! temporary file left in the output folder, every finished image intact,
//! the table printed for what finished with the interrupted variant marked
//! and its counts matching the files on disk, later variants not started;
//! and a second Ctrl-C quits at once.
//!
//! "Mid-run" is observed, never slept for: a finished file appearing in the
//! output folder, or the host having received a request.

mod pipeline_common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use evloop::pipeline::host::ImageHost;
use pipeline_common::{Act, ScriptServer, TempDir, expected_edges, tree};

/// How long anything may take on a busy machine: a watchdog, not a timing
/// claim.
const LIMIT: Duration = Duration::from_secs(60);

fn small_host(images: u32, latency: Duration) -> ImageHost {
    ImageHost::builder()
        .images(images)
        .size(64, 48)
        .latency(latency)
        .build()
        .expect("the image host starts")
}

/// The demo binary, running, its output collected as it comes.
struct Demo {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

impl Demo {
    fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_evloop"))
            .args(args)
            .env_remove("EVLOOP_TRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the demo binary starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let collect = |stream: Box<dyn std::io::Read + Send>, into: Arc<Mutex<String>>| {
            thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut text = into.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            })
        };
        let readers = vec![
            collect(Box::new(child.stdout.take().unwrap()), stdout.clone()),
            collect(Box::new(child.stderr.take().unwrap()), stderr.clone()),
        ];
        Demo {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits (polling) until `ready` holds; fails the test, with the
    /// demo's output, if it does not within [`LIMIT`] or the demo ends first.
    fn wait_until(&mut self, what: &str, ready: impl Fn(&Demo) -> bool) {
        let started = Instant::now();
        while !ready(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the demo ended ({status}) before {what}:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            if started.elapsed() > LIMIT {
                let _ = self.child.kill();
                panic!(
                    "no {what} within {LIMIT:?}:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `SIGINT`, as Ctrl-C in a terminal does.
    fn ctrl_c(&self) {
        use rustix::process::{Pid, Signal, kill_process};
        kill_process(Pid::from_child(&self.child), Signal::INT).expect("SIGINT is sent");
    }

    /// Waits for the demo to exit (killing it past [`LIMIT`]) and for its
    /// output to be read to the end.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > LIMIT {
                let _ = self.child.kill();
                panic!(
                    "watchdog: the demo did not exit within {LIMIT:?} of Ctrl-C:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        (status, self.stdout(), self.stderr())
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// The table's row of `variant` (the line starting with its name that has
/// percentages in it).
fn row<'a>(stdout: &'a str, variant: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(variant) && l.contains('%'))
        .unwrap_or_else(|| panic!("no {variant} row in the table:\n{stdout}"))
}

/// From an interrupted row, `(downloaded, of, processed)`: the figures of
/// `interrupted: 7 of 12 downloaded, 5 processed`.
fn interrupted_counts(row: &str) -> (usize, usize, usize) {
    let (_, note) = row
        .split_once("interrupted: ")
        .unwrap_or_else(|| panic!("the row is not marked interrupted: {row}"));
    let numbers: Vec<usize> = note
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    match numbers[..] {
        [downloaded, of, processed] => (downloaded, of, processed),
        _ => panic!("unexpected interruption note: {note}"),
    }
}

/// The image numbers of the `image_<k>.jpg` files directly in `dir`; any
/// other name there fails the test.
fn images_in(dir: &Path) -> BTreeSet<u32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("image_")
                .and_then(|n| n.strip_suffix(".jpg"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {} is no finished image", dir.display()))
        })
        .collect()
}

/// The temporary files (`.<name>.<hex>.tmp`) under `out`.
fn temporary_files(out: &Path) -> Vec<String> {
    if !out.exists() {
        return Vec::new();
    }
    tree(out)
        .into_iter()
        .filter(|p| {
            let name = p.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            name.starts_with('.') || name.ends_with(".tmp")
        })
        .collect()
}

/// Nothing under `out` is a temporary file.
fn assert_no_temporary_file(out: &Path) {
    let left = temporary_files(out);
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// Every original in `variant_dir` is the host's picture byte for byte, and
/// every edge map is that picture's edge map.
fn assert_images_intact(host: &ImageHost, variant_dir: &Path) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let originals = images_in(&variant_dir.join("original_images"));
    let processed = images_in(&variant_dir.join("processed_images"));
    for &k in &originals {
        let bytes = std::fs::read(variant_dir.join(format!("original_images/image_{k}.jpg")))
            .expect("a finished original can be read");
        assert_eq!(bytes, host.image(k).unwrap(), "original {k} is whole");
    }
    for &k in &processed {
        let bytes = std::fs::read(variant_dir.join(format!("processed_images/image_{k}.jpg")))
            .expect("a finished edge map can be read");
        assert_eq!(
            bytes,
            expected_edges(host.image(k).unwrap()),
            "edge map {k} is whole"
        );
    }
    (originals, processed)
}

#[test]
fn ctrl_c_mid_run_keeps_what_finished_removes_temporaries_and_exits_130() {
    // The streaming variant, one download at a time, 0.3 s each: 12 images
    // would take 3.6 s; it is interrupted once its second image is done.
    let host = small_host(12, Duration::from_millis(300));
    let dir = TempDir::new("ctrlc-streaming");
    let out = dir.path().join("out");
    let base = host.base_url();
    let mut demo = Demo::start(&[
        "--images",
        "12",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--variant",
        "async",
        "--variant",
        "streaming",
        "--stream-concurrency",
        "1",
        "--base-url",
        &base,
    ]);
    let second = out.join("streaming/processed_images/image_2.jpg");
    demo.wait_until("a finished streaming image", |_| second.exists());
    demo.ctrl_c();
    let (status, stdout, stderr) = demo.finish();

    assert_eq!(status.code(), Some(130), "{status}\n{stdout}\n{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_no_temporary_file(&out);

    // The finished variant's row is whole; the interrupted one says so, and
    // its counts are the files on disk.
    let done: Vec<&str> = row(&stdout, "async").split_whitespace().collect();
    assert_eq!(done[done.len() - 2..], ["12", "0"], "{stdout}");
    let (downloaded, of, processed) = interrupted_counts(row(&stdout, "streaming"));
    let (originals, edges) = assert_images_intact(&host, &out.join("streaming"));
    assert_eq!(of, 12);
    assert_eq!(downloaded, originals.len(), "{stdout}");
    assert_eq!(processed, edges.len(), "{stdout}");
    assert!((2..12).contains(&processed), "{stdout}");
    assert!(
        edges.is_subset(&originals),
        "an edge map without its original"
    );
    assert!(stdout.contains("streaming  interrupted after"), "{stdout}");

    // What the earlier variant finished stays, and the pictures and the page
    // are drawn for what finished.
    let (originals, edges) = assert_images_intact(&host, &out.join("async"));
    assert_eq!((originals.len(), edges.len()), (12, 12));
    for file in [
        "async/timeline.svg",
        "streaming/timeline.svg",
        "timelines.svg",
    ] {
        assert!(out.join(file).is_file(), "{file} is drawn");
    }
    let page = std::fs::read_to_string(out.join("report.html")).expect("the page is written");
    assert!(
        page.contains("data-variant=\"streaming\""),
        "the page has the row"
    );
    assert!(
        page.contains(&format!("interrupted ({downloaded} of 12 downloaded)")),
        "the page marks the interrupted row"
    );
}

#[test]
fn ctrl_c_stops_the_sync_variant_between_images_and_starts_no_later_variant() {
    // One image after another, 0.4 s each: the sync variant is interrupted
    // once its first original is on disk, with 11 still to fetch.
    let host = small_host(12, Duration::from_millis(400));
    let dir = TempDir::new("ctrlc-sync");
    let out = dir.path().join("out");
    let base = host.base_url();
    let mut demo = Demo::start(&[
        "--images",
        "12",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--variant",
        "sync",
        "--variant",
        "threads",
        "--base-url",
        &base,
    ]);
    let first = out.join("sync/original_images/image_1.jpg");
    demo.wait_until("the first sync download", |_| first.exists());
    demo.ctrl_c();
    let (status, stdout, stderr) = demo.finish();

    assert_eq!(status.code(), Some(130), "{status}\n{stdout}\n{stderr}");
    assert_no_temporary_file(&out);
    let (downloaded, of, processed) = interrupted_counts(row(&stdout, "sync"));
    let (originals, edges) = assert_images_intact(&host, &out.join("sync"));
    assert_eq!((of, processed), (12, 0), "{stdout}");
    assert!(
        edges.is_empty(),
        "nothing is processed before every download"
    );
    assert_eq!(downloaded, originals.len(), "{stdout}");
    // It stopped between images, long before the twelfth.
    assert!((1..12).contains(&downloaded), "{stdout}");
    assert!(host.image_requests() < 12, "the sync loop stopped asking");
    // The next variant never started: no folder, no row.
    assert!(
        !out.join("threads").exists(),
        "the threads variant did not run"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.split_whitespace().next() == Some("threads")),
        "{stdout}"
    );
}

#[test]
fn a_second_ctrl_c_quits_at_once() {
    // A host that takes 10 s to answer: after the first Ctrl-C the sync
    // variant is still inside its blocking request, so the demo is still
    // cleaning up when the second Ctrl-C comes.
    let latency = Duration::from_secs(10);
    let host = small_host(4, latency);
    let dir = TempDir::new("ctrlc-twice");
    let out = dir.path().join("out");
    let base = host.base_url();
    let mut demo = Demo::start(&[
        "--images",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--variant",
        "sync",
        "--base-url",
        &base,
    ]);
    demo.wait_until("a request at the host", |_| host.image_requests() >= 1);
    let first = Instant::now();
    demo.ctrl_c();
    demo.wait_until("the first Ctrl-C acknowledged", |d| {
        d.stderr().contains("interrupted:")
    });
    demo.ctrl_c();
    let (status, stdout, stderr) = demo.finish();
    let took = first.elapsed();

    assert_eq!(status.code(), Some(130), "{status}\n{stdout}\n{stderr}");
    assert!(stderr.contains("quitting at once"), "{stderr}");
    // It did not wait for the request in flight (nor print a table).
    assert!(took < latency - Duration::from_secs(2), "took {took:?}");
    assert!(!stdout.contains("variant "), "{stdout}");
    assert_no_temporary_file(&out);
}

#[test]
fn ctrl_c_during_downloads_leaves_no_file_behind() {
    // Every image's body stops after its first kilobyte and the server
    // keeps the connection open: the async variant's downloads sit half
    // read (in memory: a body is written to disk only once it is whole, by
    // one blocking-pool job) until Ctrl-C.
    let mut head =
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n".to_vec();
    head.extend(std::iter::repeat_n(0xAB, 1024));
    let server = ScriptServer::start(move |_| Act::ReplyStall(head.clone()));
    let dir = TempDir::new("ctrlc-temporaries");
    let out = dir.path().join("out");
    let base = server.url("");
    let mut demo = Demo::start(&[
        "--images",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--variant",
        "async",
        "--base-url",
        &base,
    ]);
    let originals = out.join("async/original_images");
    demo.wait_until("three downloads in flight", |_| server.paths().len() == 3);
    demo.ctrl_c();
    let (status, stdout, stderr) = demo.finish();

    assert_eq!(status.code(), Some(130), "{status}\n{stdout}\n{stderr}");
    assert_no_temporary_file(&out);
    assert!(
        images_in(&originals).is_empty(),
        "no half download under a final name"
    );
    assert_eq!(
        interrupted_counts(row(&stdout, "async")),
        (0, 3, 0),
        "{stdout}"
    );
    // Nothing failed: an interrupted download is not a failure.
    let cells: Vec<&str> = row(&stdout, "async").split_whitespace().collect();
    let ok_failed = cells.iter().position(|c| *c == "interrupted:").unwrap();
    assert_eq!(cells[ok_failed - 2..ok_failed], ["0", "0"], "{stdout}");
}

/// The flags of a pipeline example writing under `out`, with a host that is
/// never asked (the variants below fetch nothing).
fn example_args(out: &Path) -> evloop::pipeline::example::ExampleArgs {
    use clap::Parser;
    evloop::pipeline::example::ExampleArgs::try_parse_from([
        "pipeline",
        "--base-url",
        "http://127.0.0.1:9",
        "--images",
        "2",
        "--out",
        out.to_str().unwrap(),
    ])
    .expect("the flags parse")
}

#[test]
fn a_pipeline_example_interrupted_by_ctrl_c_exits_130() {
    use evloop::pipeline::example::{run_async, run_blocking};
    use evloop::pipeline::{Job, Report, Timings};
    use evloop::signal::{SignalKind, raise};
    use std::process::ExitCode;

    // An async variant that never ends by itself: Ctrl-C drops it.
    let dir = TempDir::new("ctrlc-example");
    let out = dir.path().join("out");
    let code = run_async("async", &example_args(&out), |_: Arc<Job>| async {
        raise(SignalKind::interrupt()).expect("SIGINT is raised");
        std::future::pending::<Report>().await
    });
    assert_eq!(code, ExitCode::from(130));
    assert_no_temporary_file(&out);

    // A blocking variant cannot be dropped midway: it sees the job's flag,
    // which the Ctrl-C thread raises, and returns early.
    static WAITED: Mutex<Option<Duration>> = Mutex::new(None);
    let code = run_blocking("sync", &example_args(&out), |job: &Job| {
        let started = Instant::now();
        raise(SignalKind::interrupt()).expect("SIGINT is raised");
        while !job.cancel.is_cancelled() {
            assert!(started.elapsed() < LIMIT, "the flag never went up");
            thread::sleep(Duration::from_millis(1));
        }
        *WAITED.lock().unwrap() = Some(started.elapsed());
        Report::new("sync", Timings::default(), vec![])
    });
    assert_eq!(code, ExitCode::from(130));
    assert!(WAITED.lock().unwrap().is_some(), "the variant saw the flag");
}
