//! The pipeline end to end ("the main job"): every variant downloads the
//! embedded host's images and saves the same edge maps; a picture whose edge
//! map is worked out by hand comes out of the whole pipeline as computed;
//! `https://` URLs work with an extra root; the semaphore variant reuses
//! keep-alive connections; and the demo binary does its job, or exits
//! non-zero with one line when it cannot.
//!
//! Pictures are small (64x48) and latencies short, so each run is quick in
//! a debug build. Every test runs under a real-time watchdog and writes into
//! a fresh temporary folder of its own, removed at the end. Nothing asserts
//! how long anything took.

mod common;
mod http_common;
mod pipeline_common;
mod pipeline_variants;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use common::{LIMIT, watchdog};
use evloop::pipeline::host::ImageHost;
use evloop::pipeline::store::encode_edge_map;
use evloop::pipeline::synth::photo_jpeg;
use pipeline_common::{
    Act, Recorder, ScriptServer, TempDir, expected_edges, expected_tree, job_in, ok, ok_jpeg,
    png_of, tree,
};
use pipeline_variants::{ALL, Variant};

/// Twelve small pictures, answered after a short latency.
fn small_host(images: u32) -> ImageHost {
    ImageHost::builder()
        .images(images)
        .size(64, 48)
        .latency(Duration::from_millis(20))
        .build()
        .expect("the image host starts")
}

/// Runs `variant` on twelve images of the embedded host and checks
/// everything a run promises; returns the processed files' bytes in order.
fn end_to_end(variant: Variant) -> Vec<Vec<u8>> {
    let host = small_host(12);
    let dir = TempDir::new(&format!("e2e-{}", variant.name()));
    let mut job = job_in(dir.path(), host.urls());
    let recorder = Arc::new(Recorder::default());
    job.progress = recorder.clone();
    let report = variant.run(job);

    assert_eq!(report.variant, variant.name());
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report.succeeded(), 12);
    // The phases split the run at one instant: they add up exactly.
    let t = report.timings;
    assert_eq!(t.download + t.process, t.total, "{t:?}");

    let all: Vec<usize> = (1..=12).collect();
    assert_eq!(tree(dir.path()), expected_tree(&all, &all));
    assert_eq!(recorder.seen(), (all.clone(), all, vec![]));

    let mut processed = Vec::new();
    for (k, outcome) in (1..=12u32).zip(&report.outcomes) {
        assert_eq!(outcome.item.index, k as usize);
        assert_eq!(outcome.item.url, host.url(k));
        let saved = outcome.result.as_ref().expect("checked above");
        assert_eq!(*saved, dir.path().join(format!("processed/image_{k}.jpg")));
        let original = std::fs::read(dir.path().join(format!("originals/image_{k}.jpg")))
            .expect("the original is saved");
        let served = host.image(k).expect("the host serves 12 images");
        assert!(
            original == served,
            "original {k} differs from what was served"
        );
        let edges = std::fs::read(saved).expect("the edge map is saved");
        assert!(
            edges == expected_edges(served),
            "edge map {k} differs from the library's own decode, edge_map, encode"
        );
        processed.push(edges);
    }
    processed
}

#[test]
fn sync_variant_end_to_end() {
    watchdog(LIMIT, || end_to_end(Variant::Sync));
}

#[test]
fn threads_variant_end_to_end() {
    watchdog(LIMIT, || end_to_end(Variant::Threads));
}

#[test]
fn async_variant_end_to_end() {
    watchdog(LIMIT, || end_to_end(Variant::Async));
}

#[test]
fn semaphore_variant_end_to_end() {
    watchdog(LIMIT, || end_to_end(Variant::Semaphore));
}

#[test]
fn streaming_variant_end_to_end() {
    watchdog(LIMIT, || end_to_end(Variant::Streaming));
}

#[test]
fn the_edge_map_encoder_is_deterministic() {
    // What makes byte-for-byte comparison of outputs meaningful.
    let image = evloop::pipeline::edge::edge_map(&evloop::pipeline::synth::photo(3, 64, 48));
    let first = encode_edge_map(&image).unwrap();
    for _ in 0..3 {
        assert!(encode_edge_map(&image).unwrap() == first);
    }
}

#[test]
fn every_variant_saves_byte_identical_edge_maps() {
    watchdog(LIMIT, || {
        let outputs: Vec<(Variant, Vec<Vec<u8>>)> =
            ALL.iter().map(|&v| (v, end_to_end(v))).collect();
        let (first, reference) = &outputs[0];
        for (variant, processed) in &outputs[1..] {
            for (k, (a, b)) in reference.iter().zip(processed).enumerate() {
                assert!(
                    a == b,
                    "image {}: {} and {} saved different edge maps",
                    k + 1,
                    first.name(),
                    variant.name()
                );
            }
        }
    });
}

/// A 6x4 picture whose edge map is worked out by hand below.
///
/// ```text
///         x=0        x=1        x=2      x=3..5
/// y=0  (0,0,0)    (0,0,0)    (0,0,0)    grey 100
/// y=1  (61,0,0)   (62,0,0)   (0,0,0)    grey 100
/// y=2  (61,0,0)   (30,0,0)   (0,0,0)    grey 100
/// y=3  (61,0,0)   (30,0,0)   (0,0,0)    grey 100
/// ```
fn hand_picture() -> image::RgbImage {
    let left: [[[u8; 3]; 3]; 4] = [
        [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
        [[61, 0, 0], [62, 0, 0], [0, 0, 0]],
        [[61, 0, 0], [30, 0, 0], [0, 0, 0]],
        [[61, 0, 0], [30, 0, 0], [0, 0, 0]],
    ];
    image::RgbImage::from_fn(6, 4, |x, y| {
        image::Rgb(if x < 3 {
            left[y as usize][x as usize]
        } else {
            [100; 3]
        })
    })
}

/// The edge map of [`hand_picture`], by the tutorial's rule: the sum of
/// |ΔR|+|ΔG|+|ΔB| to the right and lower neighbours present, floor-divided
/// by their number, white when above 30.
///
/// ```text
/// (0,0): right 0, down 61     -> 61/2 = 30   black (floor, and 30 is not above 30)
/// (1,0): right 0, down 62     -> 62/2 = 31   white
/// (2,0): right 300, down 0    -> 150         white (black next to grey 100: 3*100)
/// (0,1): right 1, down 0      -> 0           black
/// (1,1): right 62, down 32    -> 47          white
/// (2,1), (2,2): right 300     -> 150         white
/// (0,2): right 31, down 0     -> 15          black
/// (1,2): right 30, down 0     -> 15          black
/// (0,3): last row, right 31   -> 31          white
/// (1,3): last row, right 30   -> 30          black
/// (2,3): last row, right 300  -> 300         white
/// x=3..5: grey next to grey (and the last column looks down only) -> black;
/// (5,3) has no neighbour      ->             black
/// ```
const HAND_MAP: [&str; 4] = [
    ".##...", //
    ".##...", //
    "..#...", //
    "#.#...", //
];

/// Checks a decoded greyscale JPEG against a map of `#` (white) and `.`
/// (black). JPEG is lossy even on pure black and white (it rings near
/// edges), so each pixel must be within 40 of its colour, which puts it on
/// the right side of 128.
fn assert_matches_map(decoded: &image::GrayImage, map: &[&str]) {
    assert_eq!(
        decoded.dimensions(),
        (map[0].len() as u32, map.len() as u32)
    );
    for (y, row) in map.iter().enumerate() {
        for (x, cell) in row.bytes().enumerate() {
            let value = decoded.get_pixel(x as u32, y as u32)[0];
            let target: u8 = if cell == b'#' { 255 } else { 0 };
            assert!(
                value.abs_diff(target) <= 40,
                "pixel ({x},{y}) is {value}, expected {}; decoded rows: {:?}",
                if cell == b'#' { "white" } else { "black" },
                decoded
                    .rows()
                    .map(|r| r.map(|p| p[0]).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn a_hand_computed_edge_map_comes_out_of_the_whole_pipeline() {
    // A PNG, so that the pixels that reach the edge detector are exactly the
    // ones drawn (a JPEG original would blur them).
    watchdog(LIMIT, || {
        let png = png_of(&hand_picture());
        let served = png.clone();
        let server = ScriptServer::start(move |path| match path {
            "/hand.png" => Act::Reply(ok("image/png", &served)),
            _ => Act::Reply(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
        });
        for variant in [Variant::Sync, Variant::Async, Variant::Streaming] {
            let dir = TempDir::new(&format!("hand-{}", variant.name()));
            let job = job_in(dir.path(), [server.url("/hand.png")]);
            let report = variant.run(job);
            assert_eq!(report.succeeded(), 1, "{:?}", report.outcomes);
            let original = std::fs::read(dir.path().join("originals/image_1.jpg")).unwrap();
            assert!(original == png, "the original is saved as served");
            let processed = std::fs::read(dir.path().join("processed/image_1.jpg")).unwrap();
            let decoded = image::load_from_memory(&processed)
                .expect("the edge map is a readable JPEG")
                .to_luma8();
            assert_matches_map(&decoded, &HAND_MAP);
        }
    });
}

#[test]
fn the_hand_computed_map_is_what_the_library_computes() {
    // The same map without the lossy JPEG in between: exact.
    let map = evloop::pipeline::edge::edge_map(&hand_picture());
    for (y, row) in HAND_MAP.iter().enumerate() {
        for (x, cell) in row.bytes().enumerate() {
            let want = if cell == b'#' { [255; 3] } else { [0; 3] };
            assert_eq!(map.get_pixel(x as u32, y as u32).0, want, "({x},{y})");
        }
    }
}

#[test]
fn https_urls_work_with_an_extra_root() {
    watchdog(LIMIT, || {
        let (cert, tls) = http_common::self_signed();
        let server = http_common::serve_tls(tls, |conn| {
            while let Some(path) = conn.path() {
                // `/img/<k>.jpg` is picture k; anything else is a 404.
                let k = path
                    .strip_prefix("/img/")
                    .and_then(|p| p.strip_suffix(".jpg"))
                    .and_then(|k| k.parse::<u32>().ok());
                let reply = match k {
                    Some(k) => ok_jpeg(&photo_jpeg(k, 64, 48)),
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                };
                if !conn.send(&reply) {
                    return;
                }
            }
        });
        // Both names on the certificate.
        let urls: Vec<String> = (1..=4u32)
            .map(|k| {
                let host = if k % 2 == 0 { "localhost" } else { "127.0.0.1" };
                format!("https://{host}:{}/img/{k}.jpg", server.addr.port())
            })
            .collect();
        for variant in [
            Variant::Sync,
            Variant::Threads,
            Variant::Async,
            Variant::Semaphore,
            Variant::Streaming,
        ] {
            let dir = TempDir::new(&format!("tls-{}", variant.name()));
            let mut job = job_in(dir.path(), urls.clone());
            job.extra_roots = vec![cert.clone()];
            let report = variant.run(job);
            let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
            assert!(failures.is_empty(), "{}: {failures:#?}", variant.name());
            for k in 1..=4u32 {
                let jpeg = photo_jpeg(k, 64, 48);
                let original =
                    std::fs::read(dir.path().join(format!("originals/image_{k}.jpg"))).unwrap();
                assert!(original == jpeg, "original {k}");
                let processed =
                    std::fs::read(dir.path().join(format!("processed/image_{k}.jpg"))).unwrap();
                assert!(processed == expected_edges(&jpeg), "edge map {k}");
            }
        }
    });
}

#[test]
fn https_without_the_root_fails_each_image_naming_it() {
    watchdog(LIMIT, || {
        let (_cert, tls) = http_common::self_signed();
        let server = http_common::serve_tls(tls, |conn| {
            while let Some(_path) = conn.path() {
                if !conn.send(&ok_jpeg(&photo_jpeg(1, 16, 16))) {
                    return;
                }
            }
        });
        let url = server.https_url("/img/1.jpg");
        let dir = TempDir::new("tls-untrusted");
        let report = Variant::Async.run(job_in(dir.path(), [url.clone()]));
        let failure = report.failures().next().expect("an unknown issuer fails");
        assert_eq!(failure.url, url);
        assert_eq!(failure.stage, evloop::pipeline::Stage::Download);
        assert!(failure.reason.contains("TLS"), "{failure}");
        assert_eq!(tree(dir.path()), expected_tree(&[], &[]));
    });
}

#[test]
fn a_redirect_from_https_to_http_is_refused() {
    watchdog(LIMIT, || {
        let plain = ScriptServer::start(|_| Act::Reply(ok_jpeg(&photo_jpeg(1, 16, 16))));
        let target = plain.url("/downgraded.jpg");
        let (cert, tls) = http_common::self_signed();
        let location = target.clone();
        let server = http_common::serve_tls(tls, move |conn| {
            while conn.path().is_some() {
                let reply = format!(
                    "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                );
                if !conn.send(reply.as_bytes()) {
                    return;
                }
            }
        });
        let url = server.https_url("/secure.jpg");
        let dir = TempDir::new("tls-downgrade");
        let mut job = job_in(dir.path(), [url.clone()]);
        job.extra_roots = vec![cert];
        let report = Variant::Async.run(job);
        let failure = report.failures().next().expect("the downgrade is refused");
        assert_eq!(failure.url, url);
        assert_eq!(failure.stage, evloop::pipeline::Stage::Download);
        assert!(
            failure.reason.contains(&format!(
                "refusing to follow a redirect from https to {target}"
            )),
            "{failure}"
        );
        // The plain server was never asked.
        assert!(plain.paths().is_empty());
        assert_eq!(tree(dir.path()), expected_tree(&[], &[]));
    });
}

#[test]
fn semaphore_variant_reuses_keep_alive_connections() {
    watchdog(LIMIT, || {
        let host = small_host(12);
        let dir = TempDir::new("keep-alive");
        let mut job = job_in(dir.path(), host.urls());
        job.concurrency = 4;
        let report = Variant::Semaphore.run(job);
        assert_eq!(report.succeeded(), 12);
        assert_eq!(host.image_requests(), 12);
        // At most four downloads are in flight, so at most four connections
        // are ever busy. A download returns its connection to the client's
        // pool when it reads the body's last byte, which is before its
        // permit goes back (the permit is dropped when `download_async`
        // returns), so the next download always finds an idle connection
        // waiting. The host never closes one (its idle timeout is 30 s),
        // hence no slack: four at most.
        let opened = host.connections_accepted();
        assert!(
            (1..=4).contains(&opened),
            "{opened} connections for 12 images"
        );
    });
}

/// Runs the demo binary with `args`, killing it if it runs past `limit`.
fn demo(args: &[&str], limit: Duration) -> Output {
    pipeline_common::demo(args, &[], limit)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The variants in the comparison table of the run report at `path`,
/// which must be well-formed.
fn report_variants(path: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, options)
        .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", path.display()));
    let table = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("comparison"))
        .expect("a comparison section");
    table
        .descendants()
        .filter(|n| n.tag_name().name() == "tr")
        .filter_map(|n| n.attribute("data-variant"))
        .map(str::to_owned)
        .collect()
}

fn assert_svg(path: &Path) {
    let svg = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&svg)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()));
    assert_eq!(
        doc.root_element().tag_name().name(),
        "svg",
        "{}",
        path.display()
    );
}

/// How long a demo run may take in a debug build on a busy machine.
const DEMO_LIMIT: Duration = Duration::from_secs(120);

#[test]
fn demo_runs_two_variants_prints_the_table_and_draws_timelines() {
    // The demo draws full-size pictures (1920x1080) with its embedded host,
    // which takes seconds per picture in a debug build; here it downloads
    // small ones from a host of the test's own through `--base-url`.
    watchdog(DEMO_LIMIT, || {
        let host = small_host(3);
        let dir = TempDir::new("demo-table");
        let out = dir.path().join("out");
        let base = host.base_url();
        let output = demo(
            &[
                "--images",
                "3",
                "--latency-ms",
                "0",
                "--out",
                out.to_str().unwrap(),
                "--quiet",
                "--variant",
                "async",
                "--variant",
                "sync",
                "--base-url",
                &base,
            ],
            DEMO_LIMIT,
        );
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "{}\n{stdout}\n{}",
            output.status,
            text(&output.stderr)
        );
        let header = stdout
            .lines()
            .find(|l| l.starts_with("variant "))
            .unwrap_or_else(|| panic!("no table header in:\n{stdout}"));
        for column in ["download", "process", "total", "speed-up", "ok", "failed"] {
            assert!(header.contains(column), "{header}");
        }
        for name in ["sync", "async"] {
            let row = stdout
                .lines()
                .find(|l| l.split_whitespace().next() == Some(name) && l.contains('%'))
                .unwrap_or_else(|| panic!("no {name} row in:\n{stdout}"));
            // ok = 3, failed = 0: the last two columns.
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[cells.len() - 2..], ["3", "0"], "{row}");
        }
        for file in ["async/timeline.svg", "sync/timeline.svg", "timelines.svg"] {
            assert_svg(&out.join(file));
        }
        // The run report: one row per variant, and the last line names it.
        let page = out.join("report.html");
        assert_eq!(report_variants(&page), ["sync", "async"]);
        let last = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        assert!(
            last.ends_with(&format!("open {}", page.display())),
            "the last line names the page: {last}"
        );
        for variant in ["async", "sync"] {
            for k in 1..=3u32 {
                let original =
                    std::fs::read(out.join(format!("{variant}/original_images/image_{k}.jpg")))
                        .unwrap();
                assert!(original == host.image(k).unwrap());
                assert!(
                    out.join(format!("{variant}/processed_images/image_{k}.jpg"))
                        .is_file()
                );
            }
        }
    });
}

#[test]
fn demo_with_the_embedded_host_prints_json() {
    // The embedded host draws full-size pictures: one image keeps this
    // quick enough in a debug build.
    watchdog(DEMO_LIMIT, || {
        let dir = TempDir::new("demo-json");
        let out = dir.path().join("out");
        let output = demo(
            &[
                "--images",
                "1",
                "--latency-ms",
                "0",
                "--out",
                out.to_str().unwrap(),
                "--quiet",
                "--json",
                "--variant",
                "async",
                "--variant",
                "sync",
            ],
            DEMO_LIMIT,
        );
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "{}\n{stdout}\n{}",
            output.status,
            text(&output.stderr)
        );
        let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one JSON object, nothing else:\n{stdout}");
        let json: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
        assert_eq!(json["images"], 1);
        let variants = json["variants"].as_array().expect("a list of variants");
        let names: Vec<&str> = variants
            .iter()
            .map(|v| v["variant"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["sync", "async"]);
        for v in variants {
            assert_eq!(v["ok"], 1, "{v}");
            assert_eq!(v["failed"], 0, "{v}");
            assert!(v["total_s"].as_f64().unwrap() >= 0.0, "{v}");
        }
        assert_svg(&out.join("async/timeline.svg"));
        assert_svg(&out.join("timelines.svg"));
        // The page is written with --json too (stdout stays one object).
        assert_eq!(report_variants(&out.join("report.html")), ["sync", "async"]);
    });
}

/// The one line a failed demo prints on stderr.
fn one_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "it must fail: {output:?}");
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line:\n{stderr}");
    lines[0].to_owned()
}

#[test]
fn demo_with_an_unwritable_folder_says_so_in_one_line() {
    watchdog(DEMO_LIMIT, || {
        let output = demo(&["--out", "/proc/nope", "--images", "1"], DEMO_LIMIT);
        let line = one_error_line(&output);
        assert!(line.contains("/proc/nope"), "{line}");
    });
}

#[test]
fn demo_with_an_unreachable_host_says_so_in_one_line() {
    watchdog(DEMO_LIMIT, || {
        let dir = TempDir::new("demo-unreachable");
        let out = dir.path().join("out");
        // Port 1 on loopback: nothing listens there.
        let output = demo(
            &[
                "--base-url",
                "http://127.0.0.1:1",
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ],
            DEMO_LIMIT,
        );
        let line = one_error_line(&output);
        assert!(line.contains("cannot reach"), "{line}");
        assert!(line.contains("127.0.0.1:1"), "{line}");
    });
}

#[test]
fn demo_rejects_bad_flags() {
    watchdog(DEMO_LIMIT, || {
        for args in [
            &["--images", "0"][..],
            &["--variant", "bogus"][..],
            &["--concurrency", "0"][..],
        ] {
            let output = demo(args, DEMO_LIMIT);
            assert!(!output.status.success(), "{args:?} must be refused");
            let stderr = text(&output.stderr);
            assert!(stderr.contains(args[1]), "{args:?}: {stderr}");
            // Refused while parsing: nothing was run, nothing printed.
            assert!(output.stdout.is_empty(), "{args:?}");
        }
    });
}

#[test]
fn demo_fetches_https_urls_from_a_file_with_a_ca_cert() {
    watchdog(DEMO_LIMIT, || {
        let (cert, tls) = http_common::self_signed();
        let server = http_common::serve_tls(tls, |conn| {
            while let Some(path) = conn.path() {
                let k = path
                    .strip_prefix("/photo-")
                    .and_then(|p| p.strip_suffix(".jpg"))
                    .and_then(|k| k.parse::<u32>().ok())
                    .unwrap_or(1);
                if !conn.send(&ok_jpeg(&photo_jpeg(k, 32, 24))) {
                    return;
                }
            }
        });
        let dir = TempDir::new("demo-urls-https");
        let list = dir.path().join("urls.txt");
        let urls: Vec<String> = (1..=3)
            .map(|k| server.https_url(&format!("/photo-{k}.jpg")))
            .collect();
        std::fs::write(&list, format!("# three photos\n{}\n", urls.join("\n")))
            .expect("the URL list is written");
        let ca = dir.path().join("ca.der");
        std::fs::write(&ca, &cert).expect("the certificate is written");
        let out = dir.path().join("out");
        let output = demo(
            &[
                "--urls",
                list.to_str().expect("a UTF-8 path"),
                "--ca-cert",
                ca.to_str().expect("a UTF-8 path"),
                "--out",
                out.to_str().expect("a UTF-8 path"),
                "--quiet",
                "--no-trace",
                "--variant",
                "sync",
                "--variant",
                "async",
            ],
            DEMO_LIMIT,
        );
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "stdout:\n{stdout}\nstderr:\n{}",
            text(&output.stderr)
        );
        for variant in ["sync", "async"] {
            let row = stdout
                .lines()
                .find(|l| l.starts_with(variant) && l.contains('%'))
                .unwrap_or_else(|| panic!("no {variant} row in:\n{stdout}"));
            assert!(row.contains(" 3 "), "{row}");
            for k in 1..=3 {
                let processed = out
                    .join(variant)
                    .join("processed_images")
                    .join(format!("image_{k}.jpg"));
                assert!(processed.exists(), "{} is missing", processed.display());
            }
        }
        // Without the certificate, each image fails and the run says so.
        let failed = demo(
            &[
                "--urls",
                list.to_str().expect("a UTF-8 path"),
                "--out",
                out.to_str().expect("a UTF-8 path"),
                "--quiet",
                "--no-trace",
                "--variant",
                "async",
            ],
            DEMO_LIMIT,
        );
        assert!(!failed.status.success());
        assert!(
            text(&failed.stdout).contains("TLS"),
            "{}",
            text(&failed.stdout)
        );
    });
}

#[test]
fn demo_with_a_bad_ca_cert_says_so_in_one_line() {
    watchdog(DEMO_LIMIT, || {
        let dir = TempDir::new("demo-bad-ca");
        let out = dir.path().join("out");
        let out = out.to_str().expect("a UTF-8 path");
        let missing = dir.path().join("missing.pem");
        let missing = missing.to_str().expect("a UTF-8 path");
        let output = demo(&["--ca-cert", missing, "--out", out], DEMO_LIMIT);
        let line = one_error_line(&output);
        assert!(line.contains("missing.pem"), "{line}");
        // A PEM file with no certificate in it is refused, naming it.
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "-----BEGIN NOTHING-----\n-----END NOTHING-----\n")
            .expect("the file is written");
        let empty = empty.to_str().expect("a UTF-8 path");
        let output = demo(&["--ca-cert", empty, "--out", out], DEMO_LIMIT);
        let line = one_error_line(&output);
        assert!(
            line.contains("empty.pem") && line.contains("no certificate"),
            "{line}"
        );
    });
}
