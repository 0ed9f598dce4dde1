//! A timeout too long to add to "now" is no deadline, never a panic: the
//! pipeline's blocking downloads (ureq, in the sync and threads variants)
//! and evloop's HTTP client both take `Duration::MAX` and fetch as usual.
//! (The demo's flags refuse such a timeout; the library takes any
//! `Duration`, so it must cope.)

mod common;
mod http_common;
mod pipeline_common;

#[path = "../examples/pipeline_threads.rs"]
mod pipeline_threads;

use std::sync::Arc;
use std::time::Duration;

use common::{LIMIT, watchdog};
use evloop::Runtime;
use evloop::http::Client;
use evloop::pipeline::host::ImageHost;
use evloop::pipeline::steps;
use pipeline_common::{TempDir, job_in};

/// Far more than any instant can be moved by.
const HUGE: Duration = Duration::MAX;

fn small_host(images: u32) -> ImageHost {
    ImageHost::builder()
        .images(images)
        .size(32, 24)
        .latency(Duration::ZERO)
        .build()
        .expect("the image host starts")
}

#[test]
fn a_blocking_download_with_an_endless_timeout_completes() {
    watchdog(LIMIT, || {
        let host = small_host(1);
        let dir = TempDir::new("huge-timeout-sync");
        let mut job = job_in(dir.path(), host.urls());
        job.request_timeout = HUGE;
        let agent = steps::blocking_agent(&job);
        let saved =
            steps::download_blocking(&agent, &job, &job.items[0]).expect("the download succeeds");
        let bytes = std::fs::read(&saved).expect("the original is saved");
        assert_eq!(Some(bytes.as_slice()), host.image(1));
        assert_eq!(host.image_requests(), 1);
    });
}

#[test]
fn the_threads_variant_with_an_endless_timeout_completes() {
    watchdog(LIMIT, || {
        let host = small_host(3);
        let dir = TempDir::new("huge-timeout-threads");
        let mut job = job_in(dir.path(), host.urls());
        job.request_timeout = HUGE;
        let report = evloop::run(pipeline_threads::run(Arc::new(job)));
        assert_eq!(
            report.succeeded(),
            3,
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
        assert_eq!(host.image_requests(), 3);
    });
}

#[test]
fn evloops_client_with_endless_timeouts_fetches() {
    let server = http_common::serve_once(http_common::ok(b"hello"));
    let client = Client::builder()
        .timeout(HUGE)
        .connect_timeout(HUGE)
        .build()
        .expect("a client");
    let body = http_common::run("endless timeouts fetch", async move {
        http_common::fetch(&client, &server.url("/")).await
    })
    .expect("the fetch succeeds");
    assert_eq!(body, b"hello");
}

#[test]
fn evloops_client_with_an_endless_timeout_waits_past_an_hour() {
    // The server reads the request and never answers. Under the paused
    // clock an outer hour passes at once: the request is still waiting
    // then, so its own (endless) timeout set no deadline at all.
    let server = http_common::serve_then_stall(b"");
    let rt = Runtime::builder()
        .paused_clock(true)
        .build()
        .expect("a runtime");
    let _dog = common::abort_after("endless timeout waits", LIMIT);
    let url = server.url("/");
    let landed = server.until_accepted(1, LIMIT);
    let outcome = rt.block_on(async {
        let client = Client::builder().timeout(HUGE).build().expect("a client");
        let request = evloop::spawn(async move { client.get(&url).await });
        // Hold the paused clock still until the connection has really
        // landed, so the hour below passes on an established request.
        assert!(
            evloop::spawn_blocking(landed).await.expect("the wait runs"),
            "the server accepts the connection"
        );
        evloop::time::timeout(Duration::from_secs(3600), request).await
    });
    assert!(
        outcome.is_err(),
        "the request ended: {:?}",
        outcome.map(|r| r.map(|r| r.map(|r| r.status())))
    );
    assert_eq!(server.accepted(), 1);
}
