//! What one run of a variant is given ([`Job`]) and what it gives back
//! ([`Report`]), with the per-image outcome and the phase timings measured
//! the way the tutorial measures them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use super::cancel::Cancel;
use super::decode::DecodeLimits;

/// How many downloads run at once in the semaphore variant unless told
/// otherwise (the tutorial's `Semaphore(4)`).
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The per-request deadline of a download unless told otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One image to fetch: its 1-based index (which names the output files) and
/// its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// 1-based position in the list; output files are named from it only.
    pub index: usize,
    /// Where to download it.
    pub url: String,
}

/// Everything a variant needs to run.
#[derive(Clone)]
pub struct Job {
    /// The images, in order.
    pub items: Vec<Item>,
    /// Where originals are saved (the tutorial's `original_images/`).
    pub originals: PathBuf,
    /// Where edge maps are saved (the tutorial's `processed_images/`).
    pub processed: PathBuf,
    /// How many downloads may run at once (the semaphore variants).
    pub concurrency: usize,
    /// The limits every decode runs under.
    pub limits: DecodeLimits,
    /// Per-request deadline for a download (connect, head and body).
    pub request_timeout: Duration,
    /// The largest body accepted.
    pub max_body: u64,
    /// Extra root certificates (DER) for `https://` URLs (tests).
    pub extra_roots: Vec<Vec<u8>>,
    /// Told about each step, for progress bars.
    pub progress: Arc<dyn Progress>,
    /// CPU nanoseconds spent in [`steps::process`](super::steps::process)
    /// (the thread's CPU clock on Linux), summed over every image: the job's
    /// CPU work.
    pub cpu_time: Arc<AtomicU64>,
    /// Raised by Ctrl-C (see [`cancel`](super::cancel)): blocking code
    /// checks it between images and chunks, and no file is written once it
    /// is up. A fresh job's is never raised unless someone cancels it.
    pub cancel: Cancel,
}

impl Job {
    /// A job for `urls` writing under `out/original_images` and
    /// `out/processed_images`, with the defaults: [`DEFAULT_CONCURRENCY`]
    /// downloads at a time, [`DEFAULT_REQUEST_TIMEOUT`] per request, 64 MiB
    /// per body.
    pub fn new(urls: impl IntoIterator<Item = String>, out: &Path) -> Job {
        Job {
            items: urls
                .into_iter()
                .enumerate()
                .map(|(i, url)| Item { index: i + 1, url })
                .collect(),
            originals: out.join("original_images"),
            processed: out.join("processed_images"),
            concurrency: DEFAULT_CONCURRENCY,
            limits: DecodeLimits::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body: 64 << 20,
            extra_roots: Vec::new(),
            progress: Arc::new(NoProgress),
            cpu_time: Arc::new(AtomicU64::new(0)),
            cancel: Cancel::new(),
        }
    }

    /// Creates both output folders (and the folders above them).
    ///
    /// Each of the two is a folder of the job's own: one already there is
    /// used, but a symbolic link in its place is refused, since it would
    /// send the job's files (and its renames over existing names) elsewhere.
    ///
    /// # Errors
    ///
    /// A folder that cannot be created, or a link or a file in the place of
    /// one (the error names it).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::pipeline::Job;
    ///
    /// let out = std::env::temp_dir().join(format!("evloop-doc-prepare-{}", std::process::id()));
    /// let job = Job::new(Vec::<String>::new(), &out);
    /// job.prepare()?;
    /// assert!(job.originals.is_dir() && job.processed.is_dir());
    /// std::fs::remove_dir(&job.processed)?;
    /// std::os::unix::fs::symlink(&job.originals, &job.processed)?;
    /// let err = job.prepare().unwrap_err();
    /// assert!(err.to_string().contains("symbolic link"), "{err}");
    /// std::fs::remove_dir_all(&out)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prepare(&self) -> std::io::Result<()> {
        for dir in [&self.originals, &self.processed] {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot create {}: {e}", parent.display()),
                    )
                })?;
            }
            crate::atomic_file::create_dir(dir)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("items", &self.items.len())
            .field("originals", &self.originals)
            .field("processed", &self.processed)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// What is told about each step of a run (progress bars implement it).
/// Called from the loop thread and from pool threads.
pub trait Progress: Send + Sync {
    /// An original is on disk.
    fn downloaded(&self, _index: usize) {}
    /// An edge map is on disk.
    fn processed(&self, _index: usize) {}
    /// An image failed.
    fn failed(&self, _error: &ItemError) {}
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// The step an image failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fetching it (connect, status, body, deadline).
    Download,
    /// Saving the original.
    Save,
    /// Decoding it (not an image, truncated, too large).
    Decode,
    /// Edge detection or encoding or saving the result.
    Process,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Download => "download",
            Stage::Save => "save",
            Stage::Decode => "decode",
            Stage::Process => "process",
        })
    }
}

/// Why one image failed: its index, its URL, the step, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// The image's 1-based index.
    pub index: usize,
    /// Its URL.
    pub url: String,
    /// The step that failed.
    pub stage: Stage,
    /// What went wrong.
    pub reason: String,
}

impl ItemError {
    /// An error for `item` at `stage`.
    pub fn new(item: &Item, stage: Stage, reason: impl fmt::Display) -> ItemError {
        ItemError {
            index: item.index,
            url: item.url.clone(),
            stage,
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "image {} ({}): {} failed: {}",
            self.index, self.url, self.stage, self.reason
        )
    }
}

impl std::error::Error for ItemError {}

/// Measures the tutorial's phases: download runs from just before the first
/// request until every original is on disk; process from then until every
/// output is saved.
#[derive(Debug)]
pub struct Stopwatch {
    start: Instant,
    downloads_done: Option<Instant>,
}

impl Stopwatch {
    /// Starts the clock (just before the first request).
    pub fn start() -> Stopwatch {
        Stopwatch {
            start: Instant::now(),
            downloads_done: None,
        }
    }

    /// Every original is on disk.
    pub fn downloads_done(&mut self) {
        self.downloads_done = Some(Instant::now());
    }

    /// Every output is saved: the timings.
    pub fn finish(self) -> Timings {
        let end = Instant::now();
        let split = self.downloads_done.unwrap_or(end);
        Timings {
            download: split - self.start,
            process: end - split,
            total: end - self.start,
        }
    }
}

/// The phase timings of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timings {
    /// Until every original was on disk.
    pub download: Duration,
    /// From then until every output was saved.
    pub process: Duration,
    /// Both.
    pub total: Duration,
}

/// What happened to one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The image.
    pub item: Item,
    /// Where its edge map was saved, or why it failed.
    pub result: Result<PathBuf, ItemError>,
}

/// The result of one variant's run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The variant's name.
    pub variant: String,
    /// The phase timings.
    pub timings: Timings,
    /// Every image's outcome, in index order. In an interrupted run, only
    /// the images it finished: processed, or failed before the interruption.
    pub outcomes: Vec<Outcome>,
    /// `Some` if Ctrl-C stopped the run before it finished
    /// ([`cancel::run_variant`](super::cancel::run_variant)): how far it got.
    pub interrupted: Option<Interruption>,
}

/// How far an interrupted run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interruption {
    /// The images the run was given.
    pub images: usize,
    /// How many of their originals were on disk when it stopped.
    pub downloaded: usize,
}

impl Report {
    /// Builds the report of a finished run, sorting the outcomes by index.
    pub fn new(variant: &str, timings: Timings, mut outcomes: Vec<Outcome>) -> Report {
        outcomes.sort_by_key(|o| o.item.index);
        Report {
            variant: variant.to_owned(),
            timings,
            outcomes,
            interrupted: None,
        }
    }

    /// The failures.
    pub fn failures(&self) -> impl Iterator<Item = &ItemError> {
        self.outcomes.iter().filter_map(|o| o.result.as_ref().err())
    }

    /// How many images succeeded.
    pub fn succeeded(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }
}
