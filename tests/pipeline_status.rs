//! The pipeline takes only success: an image is the body of a final `2xx`
//! response that has content, and nothing else.
//!
//! A `302` without a `Location` (nothing to follow, so it is the final
//! answer), a `204`, a `304` and a `500` each fail their picture at the
//! download, with the status in the reason, even when their body is a
//! perfectly good JPEG; nothing is saved for them. A `200` whose body is not
//! a picture fails at decoding, and its bytes are not left behind as
//! `image_<k>.jpg` either. Good pictures in the same run (a `200` and a
//! `203`) succeed. Every variant runs it: sync and threads download with
//! ureq, async, semaphore and streaming with evloop's client, and they must
//! agree, down to the words.
//!
//! Every test runs under a real-time watchdog; no test asserts how long
//! anything took.

mod common;
mod pipeline_common;

#[path = "../examples/pipeline_sync.rs"]
mod pipeline_sync;

#[path = "../examples/pipeline_threads.rs"]
mod pipeline_threads;

#[path = "../examples/pipeline_async.rs"]
mod pipeline_async;

#[path = "../examples/pipeline_semaphore.rs"]
mod pipeline_semaphore;

#[path = "../examples/pipeline_streaming.rs"]
mod pipeline_streaming;

use std::sync::Arc;

use common::{LIMIT, watchdog};
use evloop::pipeline::synth::photo_jpeg;
use evloop::pipeline::{Job, Report, Stage};
use pipeline_common::{
    Act, Recorder, ScriptServer, TempDir, expected_edges, expected_tree, job_in, ok_jpeg, tree,
};

/// A good small picture, numbered.
fn good(k: u32) -> Vec<u8> {
    photo_jpeg(k, 64, 48)
}

/// A response with this status line, a JPEG content type and `body`.
fn with_status(status_line: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// How a picture must end.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Saved; the original is good picture number `k`.
    Ok(u32),
    /// Failed at `stage`, the reason containing `says`.
    Fail(Stage, &'static str),
}

/// The paths, what each answers, and how each must end.
fn cases() -> Vec<(&'static str, Act, Expect)> {
    use Stage::{Decode, Download};
    vec![
        ("/good/1.jpg", Act::Reply(ok_jpeg(&good(1))), Expect::Ok(1)),
        // A redirect with nowhere to go is the final answer, and not an
        // image, even with a picture for a body.
        (
            "/moved-nowhere.jpg",
            Act::Reply(with_status("302 Found", &good(30))),
            Expect::Fail(Download, "server answered with status 302 Found"),
        ),
        (
            "/no-content.jpg",
            Act::Reply(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
            Expect::Fail(Download, "server answered with status 204 No Content"),
        ),
        (
            "/not-modified.jpg",
            Act::Reply(b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()),
            Expect::Fail(Download, "server answered with status 304 Not Modified"),
        ),
        (
            "/error.jpg",
            Act::Reply(with_status("500 Internal Server Error", &good(31))),
            Expect::Fail(
                Download,
                "server answered with status 500 Internal Server Error",
            ),
        ),
        (
            "/garbage.jpg",
            Act::Reply(ok_jpeg(b"garbage: not a picture at all")),
            Expect::Fail(Decode, "not an image (starts with \"garbage:\")"),
        ),
        (
            "/non-authoritative.jpg",
            Act::Reply(with_status("203 Non-Authoritative Information", &good(3))),
            Expect::Ok(3),
        ),
        ("/good/2.jpg", Act::Reply(ok_jpeg(&good(2))), Expect::Ok(2)),
    ]
}

/// Runs `run` on a job listing every path and checks every outcome, the
/// output folder and the progress reports.
fn status_run(name: &str, run: impl FnOnce(Job) -> Report) {
    let table = cases();
    let script: Vec<(&'static str, Act)> = table.iter().map(|(p, a, _)| (*p, a.clone())).collect();
    let server = ScriptServer::start(move |path| {
        script
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, act)| act.clone())
            .unwrap_or_else(|| {
                Act::Reply(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec())
            })
    });
    let dir = TempDir::new(name);
    let mut job = job_in(dir.path(), table.iter().map(|(p, _, _)| server.url(p)));
    let recorder = Arc::new(Recorder::default());
    job.progress = recorder.clone();
    let report = run(job);

    assert_eq!(report.outcomes.len(), table.len(), "{name}");
    let (mut downloaded, mut processed, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    let mut wrong = Vec::new();
    for (outcome, (path, _, expect)) in report.outcomes.iter().zip(&table) {
        let k = outcome.item.index;
        let url = server.url(path);
        match (expect, &outcome.result) {
            (Expect::Ok(picture), Ok(saved)) => {
                downloaded.push(k);
                processed.push(k);
                let original = dir.path().join(format!("originals/image_{k}.jpg"));
                let bytes = std::fs::read(&original).expect("a good picture's original is saved");
                assert_eq!(bytes, good(*picture), "{name} {path}");
                let edges = std::fs::read(saved).expect("a good picture's edge map is saved");
                assert_eq!(edges, expected_edges(&bytes), "{name} {path}");
            }
            (Expect::Fail(stage, says), Err(error))
                if error.stage == *stage && error.reason.contains(says) =>
            {
                assert_eq!((error.index, error.url.as_str()), (k, url.as_str()));
                assert!(error.to_string().contains(&url), "{error}");
                failed.push(k);
                if *stage == Stage::Decode {
                    // It was downloaded (and reported so) before the
                    // decoder refused it.
                    downloaded.push(k);
                }
            }
            (expect, got) => wrong.push(format!("{path}: expected {expect:?}, got {got:?}")),
        }
    }
    assert!(wrong.is_empty(), "{name}: {wrong:#?}");
    // Originals and edge maps of the good pictures only: nothing for a
    // status that is not success, nothing left of the garbage.
    let good: Vec<usize> = processed.clone();
    assert_eq!(tree(dir.path()), expected_tree(&good, &good), "{name}");
    assert_eq!(recorder.seen(), (downloaded, processed, failed), "{name}");
}

#[test]
fn only_success_is_an_image_sync_variant() {
    watchdog(LIMIT, || {
        status_run("status-sync", |job| pipeline_sync::run(&job));
    });
}

#[test]
fn only_success_is_an_image_threads_variant() {
    watchdog(LIMIT, || {
        status_run("status-threads", |job| {
            common::real().block_on(pipeline_threads::run(Arc::new(job)))
        });
    });
}

#[test]
fn only_success_is_an_image_async_variant() {
    watchdog(LIMIT, || {
        status_run("status-async", |job| {
            common::real().block_on(pipeline_async::run(Arc::new(job)))
        });
    });
}

#[test]
fn only_success_is_an_image_semaphore_variant() {
    watchdog(LIMIT, || {
        status_run("status-semaphore", |job| {
            common::real().block_on(pipeline_semaphore::run(Arc::new(job)))
        });
    });
}

#[test]
fn only_success_is_an_image_streaming_variant() {
    watchdog(LIMIT, || {
        status_run("status-streaming", |job| {
            common::real().block_on(pipeline_streaming::run(Arc::new(job)))
        });
    });
}
