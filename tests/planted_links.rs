//! A symbolic link that someone else planted in the output folder is never
//! followed: at every name the program writes (the async variants'
//! temporary download, the saved originals and edge maps, the demo's write
//! check, `timeline.svg` and `timelines.svg`, the `--timeline`/`--trace`
//! files and the `EVLOOP_TRACE` outputs), a planted link's target keeps its
//! content byte for byte, and the run either puts its own file in place of
//! the link or fails that one output with an error naming the path, while
//! the other outputs are still written.
//!
//! Each test plants links to a "victim" file in a folder of its own, outside
//! the output folder, then runs the pipeline (in this process, through the
//! examples' own code) or the demo binary (with small pictures from a host
//! of the test's own). The `--json` output of the demo goes to stdout, never
//! to a file of the program's choosing, so it has no name to plant a link at.

#![cfg(unix)]

mod common;
mod http_common;
mod pipeline_common;
mod pipeline_variants;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{LIMIT, watchdog};
use evloop::pipeline::Job;
use evloop::pipeline::host::ImageHost;
use evloop::trace::TraceArgs;
use pipeline_common::{TempDir, job_in};
use pipeline_variants::{ALL, Variant};

/// What every victim holds; it must still hold exactly this after a run.
const VICTIM: &[u8] = b"the victim's own bytes: a run must never change them\n";

/// A file outside the output folder, holding [`VICTIM`], that planted links
/// point at.
struct Victim {
    _dir: TempDir,
    path: PathBuf,
}

impl Victim {
    fn new(test: &str) -> Victim {
        let dir = TempDir::new(&format!("victim-{test}"));
        let path = dir.path().join("victim.txt");
        std::fs::write(&path, VICTIM).expect("the victim file can be written");
        Victim { _dir: dir, path }
    }

    /// Plants a link to the victim at `at`.
    fn plant(&self, at: &Path) {
        symlink(&self.path, at)
            .unwrap_or_else(|e| panic!("cannot plant a link at {}: {e}", at.display()));
    }

    /// The victim's content is byte for byte what it was.
    fn assert_untouched(&self) {
        let now = std::fs::read(&self.path).expect("the victim can be read");
        assert!(
            now == VICTIM,
            "the victim {} was changed through a planted link: now {} bytes starting {:?}",
            self.path.display(),
            now.len(),
            String::from_utf8_lossy(&now[..now.len().min(40)])
        );
    }
}

/// `path` is a regular file of the run's own (not a link), and not empty.
fn assert_own_file(path: &Path) -> Vec<u8> {
    let meta = std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{} is missing: {e}", path.display()));
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file of the run's own: {:?}",
        path.display(),
        meta.file_type()
    );
    let bytes = std::fs::read(path).expect("the file can be read");
    assert!(!bytes.is_empty(), "{} is empty", path.display());
    bytes
}

/// Two small pictures, answered at once.
fn small_host(images: u32) -> ImageHost {
    ImageHost::builder()
        .images(images)
        .size(64, 48)
        .latency(Duration::ZERO)
        .build()
        .expect("the image host starts")
}

/// The name the async variants used for their temporary download before
/// the fix: predictable from the index and this process's id.
fn old_part_name(index: usize) -> String {
    format!(".image_{index}.jpg.{}.part", std::process::id())
}

/// Runs `variant` on two images with a planted link at `plant(job, k)` for
/// each image `k`; the links' target must be untouched and both images
/// processed, each saved as a file of the run's own at its final name.
fn run_with_links(test: &str, variant: Variant, plant: fn(&Job, usize) -> Vec<PathBuf>) {
    let name = &format!("{test}-{}", variant.name());
    let host = small_host(2);
    let victim = Victim::new(name);
    let dir = TempDir::new(name);
    let job = job_in(dir.path(), host.urls());
    for k in 1..=2 {
        for at in plant(&job, k) {
            victim.plant(&at);
        }
    }
    let (originals, processed) = (job.originals.clone(), job.processed.clone());
    let report = variant.run(job);

    victim.assert_untouched();
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{variant:?}: {failures:#?}");
    assert_eq!(report.succeeded(), 2, "{variant:?}");
    for k in 1..=2 {
        let original = assert_own_file(&originals.join(format!("image_{k}.jpg")));
        assert_eq!(&original[..2], &[0xFF, 0xD8], "image_{k}.jpg is a JPEG");
        assert_own_file(&processed.join(format!("image_{k}.jpg")));
    }
}

#[test]
fn the_async_variants_temporary_download_never_follows_a_link() {
    for variant in [Variant::Async, Variant::Semaphore, Variant::Streaming] {
        watchdog(LIMIT, move || {
            run_with_links("part", variant, |job, k| {
                vec![job.originals.join(old_part_name(k))]
            });
        });
    }
}

#[test]
fn originals_and_edge_maps_replace_a_planted_link_at_their_final_name() {
    for variant in ALL {
        watchdog(LIMIT, move || {
            run_with_links("final", variant, |job, k| {
                let file = format!("image_{k}.jpg");
                vec![job.originals.join(&file), job.processed.join(&file)]
            });
        });
    }
}

#[test]
fn a_link_at_a_temporary_name_of_the_old_scheme_is_never_written_through() {
    // The store used to name its temporary files `.name.<pid>.<n>.tmp`;
    // links planted at the first of those names must be left alone.
    watchdog(LIMIT, || {
        run_with_links("temp", Variant::Sync, |job, k| {
            let pid = std::process::id();
            (0..16)
                .flat_map(|n| {
                    [
                        job.originals.join(format!(".image_{k}.jpg.{pid}.{n}.tmp")),
                        job.processed.join(format!(".image_{k}.jpg.{pid}.{n}.tmp")),
                    ]
                })
                .collect()
        });
    });
}

/// A record of a short traced run, to draw.
fn a_record() -> evloop::trace::record::Record {
    let rt = evloop::Runtime::builder()
        .paused_clock(true)
        .trace(true)
        .build()
        .expect("a runtime");
    rt.block_on(async {
        evloop::spawn(evloop::time::sleep(Duration::from_millis(5)))
            .await
            .expect("the task ends");
    });
    rt.trace_record().expect("tracing was on")
}

/// Links to a victim planted where a run is asked to put its trace:
/// `run.svg` and `run.json` in a folder of their own.
struct TraceLinks {
    victim: Victim,
    dir: TempDir,
    svg: PathBuf,
    json: PathBuf,
}

impl TraceLinks {
    fn plant(test: &str) -> TraceLinks {
        let victim = Victim::new(test);
        let dir = TempDir::new(test);
        let (svg, json) = (dir.path().join("run.svg"), dir.path().join("run.json"));
        victim.plant(&svg);
        victim.plant(&json);
        TraceLinks {
            victim,
            dir,
            svg,
            json,
        }
    }

    /// An `EVLOOP_TRACE` value naming both.
    fn env_value(&self) -> String {
        format!("{},{}", self.svg.display(), self.json.display())
    }

    /// The victim is untouched, and both names now hold the run's own
    /// files, a picture and a JSON trace, with no temporary file left.
    fn assert_replaced(&self) {
        self.victim.assert_untouched();
        let svg = String::from_utf8(assert_own_file(&self.svg)).expect("UTF-8");
        assert!(svg.contains("<svg"), "{svg}");
        let json = assert_own_file(&self.json);
        serde_json::from_slice::<serde_json::Value>(&json).expect("the trace is JSON");
        assert_eq!(names(self.dir.path()), ["run.json", "run.svg"]);
    }
}

#[test]
fn trace_args_write_replaces_planted_links_and_leaves_their_target_alone() {
    // What a lesson's `--timeline`/`--trace` do when its runtime is dropped.
    let links = TraceLinks::plant("trace-args");
    let args = TraceArgs::new()
        .with_timeline(&links.svg)
        .with_chrome(&links.json);
    let written = args.write(&a_record()).expect("both files are written");
    assert_eq!(written, [links.svg.clone(), links.json.clone()]);
    links.assert_replaced();
}

#[test]
fn trace_output_of_a_runtime_replaces_planted_links() {
    // What `EVLOOP_TRACE=run.svg,run.json` hands the runtime: it writes
    // them when dropped.
    let links = TraceLinks::plant("trace-output");
    let outputs = TraceArgs::from_trace_env(&links.env_value()).with_summary(false);
    let rt = evloop::Runtime::builder()
        .paused_clock(true)
        .trace_output(outputs)
        .build()
        .expect("a runtime");
    rt.block_on(evloop::time::sleep(Duration::from_millis(1)));
    drop(rt);
    links.assert_replaced();
}

#[test]
fn trace_args_write_a_link_to_a_folder_is_replaced_and_the_folder_left_alone() {
    let dir = TempDir::new("trace-dir-link");
    let elsewhere = TempDir::new("trace-dir-link-target");
    std::fs::write(elsewhere.path().join("keep"), VICTIM).expect("write");
    let svg = dir.path().join("t.svg");
    symlink(elsewhere.path(), &svg).expect("plant a link to a folder");

    let written = TraceArgs::new()
        .with_timeline(&svg)
        .write(&a_record())
        .expect("the link is replaced by the picture");
    assert_eq!(written, std::slice::from_ref(&svg));
    assert_own_file(&svg);
    assert_eq!(names(elsewhere.path()), ["keep"]);
    assert_eq!(
        std::fs::read(elsewhere.path().join("keep")).expect("read"),
        VICTIM
    );
}

#[test]
fn trace_args_write_a_folder_in_the_way_is_an_error_naming_the_path() {
    let dir = TempDir::new("trace-dir");
    let svg = dir.path().join("t.svg");
    std::fs::create_dir(&svg).expect("a folder in the way");
    std::fs::write(svg.join("keep"), VICTIM).expect("write");
    let json = dir.path().join("t.json");

    let err = TraceArgs::new()
        .with_timeline(&svg)
        .with_chrome(&json)
        .write(&a_record())
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&svg.display().to_string()), "{message}");
    assert!(message.contains("directory"), "{message}");
    assert_eq!(std::fs::read(svg.join("keep")).expect("read"), VICTIM);
    assert_eq!(names(&svg), ["keep"]);
    // No temporary file is left behind.
    let left: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Runs the demo binary on `images` small pictures from `host`, writing
/// into `out`, with `extra` arguments and the environment `env`.
fn demo(host: &ImageHost, images: u32, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let (images, base) = (images.to_string(), host.base_url());
    let mut args = vec![
        "--images",
        &images,
        "--latency-ms",
        "0",
        "--quiet",
        "--base-url",
        &base,
        "--out",
        out.to_str().expect("a UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    pipeline_common::demo(&args, env, Duration::from_secs(120))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The demo's output folders, and every file it writes into them, for
/// `images` pictures and all five variants.
fn demo_names(out: &Path, images: usize) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut folders = Vec::new();
    let mut files = vec![out.join("timelines.svg"), out.join("report.html")];
    for variant in ALL.map(Variant::name) {
        files.push(out.join(variant).join("timeline.svg"));
        for folder in ["original_images", "processed_images"] {
            let folder = out.join(variant).join(folder);
            files.extend((1..=images).map(|k| folder.join(format!("image_{k}.jpg"))));
            folders.push(folder);
        }
    }
    (folders, files)
}

/// The demo succeeded; if not, its output says why.
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn the_demo_never_writes_through_a_link_at_any_of_its_names() {
    let host = small_host(2);
    let victim = Victim::new("demo");
    let dir = TempDir::new("demo-links");
    let out = dir.path().join("out");
    let (folders, files) = demo_names(&out, 2);
    for folder in &folders {
        std::fs::create_dir_all(folder).expect("create the output folders");
    }
    for file in &files {
        victim.plant(file);
    }

    let output = demo(&host, 2, &out, &[], &[]);
    victim.assert_untouched();
    assert_success(&output);
    for file in &files {
        assert_own_file(file);
    }
}

/// The demo's write check used to write `.evloop-write-test-<pid>`: a name
/// anyone could plant a link at, once they guess the pid. The links here
/// cover the next few hundred pids the system hands out.
#[cfg(target_os = "linux")]
#[test]
fn the_demo_write_check_never_writes_through_a_link() {
    let host = small_host(1);
    let victim = Victim::new("write-check");
    let dir = TempDir::new("write-check");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("create the output folder");
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .expect("the last pid handed out can be read")
        .trim()
        .parse()
        .expect("a pid");
    let planted: Vec<String> = (last + 1..=last + 400)
        .map(|pid| format!(".evloop-write-test-{pid}"))
        .collect();
    for name in &planted {
        victim.plant(&out.join(name));
    }

    let output = demo(&host, 1, &out, &["--variant", "sync"], &[]);
    victim.assert_untouched();
    assert_success(&output);
    // The check left nothing of its own behind: the folder holds the
    // planted links (each still a link), the variant's folder, the run
    // report, and the stacked picture's absence (one variant draws none).
    let mut expected: Vec<String> = planted.clone();
    expected.push("report.html".into());
    expected.push("sync".into());
    expected.sort();
    assert_eq!(names(&out), expected);
    for name in &planted {
        let meta = std::fs::symlink_metadata(out.join(name)).expect("still there");
        assert!(
            meta.file_type().is_symlink(),
            "{name} is still the planted link"
        );
    }
}

#[test]
fn the_demo_trace_outputs_from_evloop_trace_replace_planted_links() {
    let host = small_host(1);
    let links = TraceLinks::plant("demo-env");
    let dir = TempDir::new("demo-env-out");
    let out = dir.path().join("out");
    let value = links.env_value();
    let output = demo(
        &host,
        1,
        &out,
        &["--variant", "sync"],
        &[("EVLOOP_TRACE", &value)],
    );
    assert_success(&output);
    links.assert_replaced();
}

#[test]
fn the_demo_reports_a_folder_in_the_way_of_a_picture_and_writes_the_rest() {
    let host = small_host(1);
    let dir = TempDir::new("demo-folder");
    let out = dir.path().join("out");
    let elsewhere = TempDir::new("demo-folder-target");
    std::fs::write(elsewhere.path().join("keep"), VICTIM).expect("write");
    // A real folder where the stacked picture goes, and a link to a folder
    // where the sync variant's timeline goes.
    let stacked = out.join("timelines.svg");
    std::fs::create_dir_all(stacked.join("inside")).expect("create the folder in the way");
    std::fs::create_dir_all(out.join("sync")).expect("create the variant's folder");
    symlink(elsewhere.path(), out.join("sync").join("timeline.svg")).expect("plant");

    let output = demo(
        &host,
        1,
        &out,
        &["--variant", "sync", "--variant", "threads"],
        &[],
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&stacked.display().to_string()) && stderr.contains("directory"),
        "the error names the path and what is wrong: {stderr}"
    );
    // The folder in the way and the linked folder are as they were.
    assert_eq!(names(&stacked), ["inside"]);
    assert_eq!(names(elsewhere.path()), ["keep"]);
    assert_eq!(
        std::fs::read(elsewhere.path().join("keep")).expect("read"),
        VICTIM
    );
    // Everything else was written: both variants' images and timelines (the
    // link to a folder replaced by the picture itself), and the table.
    for variant in ["sync", "threads"] {
        assert_own_file(&out.join(variant).join("original_images/image_1.jpg"));
        assert_own_file(&out.join(variant).join("processed_images/image_1.jpg"));
        assert_own_file(&out.join(variant).join("timeline.svg"));
    }
    assert!(
        text(&output.stdout).contains("timelines:"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn a_link_in_the_place_of_an_output_folder_is_refused_naming_it() {
    // Links to a folder elsewhere, planted where the pipeline's folders go:
    // followed, they would send the files (and the renames over existing
    // names) into that folder.
    let host = small_host(1);
    for planted in ["sync", "sync/original_images", "sync/processed_images"] {
        let dir = TempDir::new("folder-link");
        let elsewhere = TempDir::new("folder-link-target");
        for name in ["image_1.jpg", "timeline.svg"] {
            std::fs::write(elsewhere.path().join(name), VICTIM).expect("write");
        }
        let out = dir.path().join("out");
        let at = out.join(planted);
        std::fs::create_dir_all(at.parent().expect("a parent")).expect("create");
        symlink(elsewhere.path(), &at).expect("plant a link to a folder");

        let output = demo(&host, 1, &out, &["--variant", "sync"], &[]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{planted}: stderr:\n{stderr}");
        assert!(
            stderr.contains(&at.display().to_string()) && stderr.contains("symbolic link"),
            "{planted}: the error names the path and what is wrong: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{planted}: one line: {stderr}");
        assert_eq!(names(elsewhere.path()), ["image_1.jpg", "timeline.svg"]);
        for name in ["image_1.jpg", "timeline.svg"] {
            assert_eq!(
                std::fs::read(elsewhere.path().join(name)).expect("read"),
                VICTIM
            );
        }
    }
}

#[test]
fn reading_back_an_original_never_follows_a_link_planted_after_it_was_saved() {
    // A link swapped in at a saved original's name between download and
    // processing: the edge detector refuses it instead of reading (and
    // publishing the edges of) whatever it points at.
    watchdog(LIMIT, || {
        let host = small_host(1);
        let victim = Victim::new("read-back");
        let dir = TempDir::new("read-back");
        let job = job_in(dir.path(), host.urls());
        let item = job.items[0].clone();
        let agent = evloop::pipeline::steps::blocking_agent(&job);
        let saved = evloop::pipeline::steps::download_blocking(&agent, &job, &item)
            .expect("the download is saved");
        std::fs::remove_file(&saved).expect("remove the original");
        victim.plant(&saved);

        let err = evloop::pipeline::steps::process(&job, &item, &saved).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&saved.display().to_string()) && message.contains("symbolic link"),
            "{message}"
        );
        victim.assert_untouched();
        assert_eq!(names(&job.processed), Vec::<String>::new());
    });
}
