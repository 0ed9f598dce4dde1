//! The steps every variant shares: download one image (sync with ureq, or
//! async with evloop's client, saved with one blocking-pool job), and
//! process one image
//! (decode, edge-detect, encode, save). Only *how* they are scheduled
//! differs between the variants, which live in `examples/pipeline_*.rs`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use super::decode::decode_jpeg_reusing;
use super::edge::edge_map_reusing;
use super::job::{Item, ItemError, Job, Stage};
use super::store::{encode_edge_map, original_name, processed_name, write_atomic};
use crate::atomic_file::{self, AtomicFile};
use crate::http::redirect::{self, Redirects};
use crate::http::{Client, ErrorKind, HttpError, Url};

/// Downloads `item` with a blocking ureq agent and saves the original.
///
/// Only a final response whose status [is an image](is_image_status) is
/// saved; any other fails the item with its status, and nothing is written.
///
/// # Errors
///
/// The download (status, body, deadline) or the save failed; `job.progress`
/// is told about it. Once `job.cancel` is cancelled (Ctrl-C) it stops
/// before the request, between two chunks of the body, or before the save.
pub fn download_blocking(
    agent: &ureq::Agent,
    job: &Job,
    item: &Item,
) -> Result<PathBuf, ItemError> {
    download_blocking_inner(agent, job, item).inspect_err(|e| job.progress.failed(e))
}

fn download_blocking_inner(
    agent: &ureq::Agent,
    job: &Job,
    item: &Item,
) -> Result<PathBuf, ItemError> {
    let fail = |e: &dyn std::fmt::Display| ItemError::new(item, Stage::Download, e);
    if job.cancel.is_cancelled() {
        return Err(interrupted(item, Stage::Download));
    }
    let response = get_blocking(agent, job, &item.url).map_err(|e| fail(&e))?;
    // Read chunk by chunk, so that Ctrl-C stops a long body between two.
    let mut body = Vec::new();
    let mut reader = response.into_body().into_reader().take(job.max_body + 1);
    let mut chunk = vec![0; 64 * 1024];
    loop {
        if job.cancel.is_cancelled() {
            return Err(interrupted(item, Stage::Download));
        }
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    if body.len() as u64 > job.max_body {
        return Err(fail(&format!("body larger than {} bytes", job.max_body)));
    }
    // Written only if the run goes on; counted as in flight until told.
    let _step = job
        .cancel
        .step()
        .ok_or_else(|| interrupted(item, Stage::Save))?;
    let saved = write_atomic(&job.originals, &original_name(item.index), &body)
        .map_err(|e| ItemError::new(item, Stage::Save, e))?;
    job.progress.downloaded(item.index);
    Ok(saved)
}

/// The error of an image whose run was interrupted (Ctrl-C) before it got
/// through `stage`.
fn interrupted(item: &Item, stage: Stage) -> ItemError {
    ItemError::new(item, stage, "the run was interrupted")
}

/// Whether a final response with this status is an image: a `2xx` that
/// carries content. `204 No Content` and `205 Reset Content` carry none by
/// definition, and `206 Partial Content` is a piece of one (the pipeline
/// never asks for a range). Anything else (a redirect that could not be
/// followed, `304`, a client or server error) is not an image, whatever its
/// body looks like.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::steps::is_image_status;
///
/// assert!(is_image_status(200) && is_image_status(203));
/// assert!(!is_image_status(204) && !is_image_status(302) && !is_image_status(500));
/// ```
pub fn is_image_status(status: u16) -> bool {
    (200..300).contains(&status) && !matches!(status, 204..=206)
}

/// Why a final response that is not an image fails its item: the status,
/// the reason phrase and the URL that answered, in the words of evloop's
/// client (so that every variant says the same), and the rule.
fn status_error(url: &Url, status: u16, reason: &str) -> String {
    let error = HttpError::new(ErrorKind::Status {
        status,
        reason: reason.to_owned(),
    })
    .with_url(url);
    format!("{error} (only a 2xx response with content is an image)")
}

/// GETs `url` with ureq, following redirects by the rules of evloop's
/// client ([`crate::http::Client::get`]: the same statuses, the same
/// limit, the same refusals, in the same words) within the job's deadline
/// for the whole chain, and returns the final response if it is an image
/// ([`is_image_status`]). ureq follows no redirect itself (see
/// [`blocking_agent`]): it would fail a redirect without `Location` with its
/// own words, and without the status.
fn get_blocking(
    agent: &ureq::Agent,
    job: &Job,
    url: &str,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let limit = job.request_timeout.min(UREQ_TIMEOUT_CAP);
    // `None`: too far away to represent, which is no deadline at all.
    let deadline = std::time::Instant::now().checked_add(limit);
    let mut redirects = Redirects::new(
        Url::parse(url).map_err(|e| e.to_string())?,
        crate::http::DEFAULT_MAX_REDIRECTS,
    );
    loop {
        let current = redirects.current().clone();
        let left = match deadline {
            Some(at) => at.saturating_duration_since(std::time::Instant::now()),
            None => UREQ_TIMEOUT_CAP,
        };
        if left.is_zero() {
            return Err(format!(
                "{current}: timeout: the request deadline of {limit:?} elapsed"
            ));
        }
        let response = agent
            .get(current.to_string())
            .config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| e.to_string())?;
        let status = response.status();
        // A redirect without a Location is the final answer.
        if redirect::is_followed(status.as_u16())
            && let Some(location) = response.headers().get("location")
        {
            let location = location.to_str().map_err(|_| {
                HttpError::new(ErrorKind::HeaderNotUtf8 { name: "Location" })
                    .with_url(&current)
                    .to_string()
            })?;
            redirects.follow(location).map_err(|e| e.to_string())?;
            // The redirect's body is not wanted: dropping the response
            // closes its connection rather than reading it.
            continue;
        }
        if !is_image_status(status.as_u16()) {
            return Err(status_error(
                &current,
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
            ));
        }
        return Ok(response);
    }
}

/// The longest deadline handed to ureq. ureq adds its timeout to the instant
/// each request starts with `+`, which panics when the sum overflows (it does
/// for `Duration::MAX`); a year is beyond any download and far below any
/// overflow, so a longer timeout is cut to it.
const UREQ_TIMEOUT_CAP: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A ureq agent for [`download_blocking`]: the job's per-request deadline;
/// no redirect followed and no status turned into an error by ureq itself,
/// since `download_blocking` does both by the rules of evloop's client, so
/// that every variant follows, refuses and reports alike. With extra root
/// certificates (tests with a self-signed server) the agent trusts those
/// instead of the built-in roots: ureq takes either its bundled roots or a
/// list of its own, not both.
///
/// A deadline longer than a year is cut to a year: ureq would panic adding
/// `Duration::MAX` to the start of a request, where evloop's client takes
/// it as no deadline at all.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::{Job, steps};
///
/// let mut job = Job::new(Vec::<String>::new(), std::path::Path::new("out"));
/// job.request_timeout = Duration::MAX;
/// let agent = steps::blocking_agent(&job);
/// assert!(agent.config().timeouts().global.is_some_and(|t| t < Duration::MAX));
/// ```
pub fn blocking_agent(job: &Job) -> ureq::Agent {
    let timeout = job.request_timeout.min(UREQ_TIMEOUT_CAP);
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false);
    if !job.extra_roots.is_empty() {
        let roots = job
            .extra_roots
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
            .collect();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(roots)))
            .build();
        config = config.tls_config(tls);
    }
    config.build().into()
}

/// evloop's HTTP client configured for the job.
///
/// # Errors
///
/// A bad extra root certificate.
pub fn async_client(job: &Job) -> Result<Client, crate::http::HttpError> {
    let mut builder = Client::builder()
        .timeout(job.request_timeout)
        .max_body(job.max_body);
    for root in &job.extra_roots {
        builder = builder.add_root_certificate(root);
    }
    builder.build()
}

/// Downloads `item` with evloop's client, gathers the body in memory
/// (bounded by the client's body limit, `job.max_body`), then saves it
/// with **one** blocking-pool job: a new temporary file under an
/// unpredictable name beside the final one, written whole and renamed into
/// place. No half file is ever left under the final name, and no symbolic
/// link planted at either name is written through.
///
/// One job per file, not one per chunk of the body: a 350 KiB photo
/// arrives in about 20 reads, and a pool job each cost more in hand-offs
/// (queue, thread wake, loop wake) than the writes themselves. The photos
/// are well under 1 MiB, so holding one whole is cheap.
///
/// Only a final response whose status [is an image](is_image_status) is
/// saved; any other fails the item with its status, and nothing is written.
///
/// # Errors
///
/// The download (status, body, deadline) or the save failed; `job.progress`
/// is told about it.
///
/// Cancel safety: dropped while downloading, nothing has been written.
/// The save, once handed to the pool, runs to its end even if this future
/// is dropped: it writes the temporary file inside a file step and, if the
/// run was interrupted (Ctrl-C) meanwhile, removes it rather than renaming
/// it into place; the tally hears of a file saved either way. Once
/// `job.cancel` is cancelled, no temporary file is created.
pub async fn download_async(client: &Client, job: &Job, item: &Item) -> Result<PathBuf, ItemError> {
    download_async_inner(client, job, item)
        .await
        .inspect_err(|e| job.progress.failed(e))
}

async fn download_async_inner(
    client: &Client,
    job: &Job,
    item: &Item,
) -> Result<PathBuf, ItemError> {
    let fail = |e: &dyn std::fmt::Display| ItemError::new(item, Stage::Download, e);
    let response = client.get(&item.url).await.map_err(|e| fail(&e))?;
    if !is_image_status(response.status()) {
        return Err(fail(&status_error(
            response.url(),
            response.status(),
            response.reason(),
        )));
    }
    let body = response.bytes().await.map_err(|e| fail(&e))?;
    let target = job.originals.join(original_name(item.index));
    let (cancel, progress, index) = (job.cancel.clone(), job.progress.clone(), item.index);
    on_pool(move || {
        // A file step from before the temporary file is made until after
        // it is renamed or removed: none starts once the run is
        // interrupted. (Locals drop in reverse: the file goes first.)
        let _step = cancel
            .step()
            .ok_or_else(|| "the run was interrupted".to_owned())?;
        let mut temp = AtomicFile::new(&target).map_err(|e| e.to_string())?;
        temp.write_all(&body).map_err(|e| e.to_string())?;
        // Renamed into place only if the run goes on.
        if cancel.is_cancelled() {
            temp.discard().map_err(|e| e.to_string())?;
            return Err("the run was interrupted".to_owned());
        }
        let saved = temp.commit().map_err(|e| e.to_string())?;
        progress.downloaded(index);
        Ok::<_, String>(saved)
    })
    .await
    .map_err(|e| ItemError::new(item, Stage::Save, e))
}

/// Runs a file step on the blocking pool.
async fn on_pool<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    step: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    match crate::offload::spawn_blocking(step).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(join) => Err(format!("the file step did not finish: {join}")),
    }
}

/// Processes one saved original: read, decode (with the job's limits),
/// edge-detect, encode as a (greyscale) JPEG, save atomically. CPU-bound: run it on the
/// CPU pool (or inline, in the sync variant).
///
/// An original that does not decode is removed: the output folder never
/// keeps something that is not a picture under a picture's name. (Should
/// removing it fail, the error's reason says where it stayed and why.)
///
/// # Errors
///
/// The original cannot be read or decoded, or the result cannot be saved;
/// `job.progress` is told about it. Once `job.cancel` is cancelled (Ctrl-C)
/// nothing is started, and a result computed meanwhile is not saved.
pub fn process(job: &Job, item: &Item, original: &std::path::Path) -> Result<PathBuf, ItemError> {
    let started = thread_cpu_time();
    let result = process_inner(job, item, original).inspect_err(|e| job.progress.failed(e));
    let spent =
        u64::try_from(thread_cpu_time().saturating_sub(started).as_nanos()).unwrap_or(u64::MAX);
    job.cpu_time
        .fetch_add(spent, std::sync::atomic::Ordering::Relaxed);
    result
}

/// CPU time this thread has used: the work itself, not the wall time, so
/// that threads taking turns on the cores do not inflate the job's figure.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Elsewhere, wall time since an arbitrary start (an upper bound of the CPU
/// time when the thread is not preempted).
#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> std::time::Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The large buffers of one picture's processing, kept by each thread that
/// processes pictures (the CPU pool's, or the sync variant's) for its next
/// one: the file's bytes, the decoded pixels and the edge map, about 12 MB
/// at 1920×1080. Allocated fresh for every picture, they cost the kernel
/// some 3,000 page faults, each page zeroed, per picture: a fifth of the
/// processing time in `perf record` of the demo before they were kept.
#[derive(Default)]
struct Spare {
    bytes: Vec<u8>,
    pixels: Vec<u8>,
    edges: Vec<u8>,
}

/// A thread keeps no buffer larger than this (the pixels of a 3840×2160
/// picture, about 24 MiB): one huge picture must not pin its memory on
/// every CPU thread for the rest of the run.
const SPARE_KEEP_MAX: usize = 3840 * 2160 * 3;

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::new(Spare::default());
}

impl Spare {
    /// This thread's buffers (empty ones the first time).
    fn take() -> Spare {
        SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()))
    }

    /// Keeps the buffers for this thread's next picture.
    fn put_back(self) {
        let keep = |mut buffer: Vec<u8>| {
            if buffer.capacity() > SPARE_KEEP_MAX {
                buffer = Vec::new();
            }
            buffer
        };
        let spare = Spare {
            bytes: keep(self.bytes),
            pixels: keep(self.pixels),
            edges: keep(self.edges),
        };
        SPARE.with(|slot| *slot.borrow_mut() = spare);
    }
}

fn process_inner(job: &Job, item: &Item, original: &std::path::Path) -> Result<PathBuf, ItemError> {
    if job.cancel.is_cancelled() {
        return Err(interrupted(item, Stage::Decode));
    }
    let mut spare = Spare::take();
    let mut bytes = std::mem::take(&mut spare.bytes);
    bytes.clear();
    // The original was saved by this job; a link planted at its name since
    // is refused rather than followed.
    let mut file =
        atomic_file::open_nofollow(original).map_err(|e| ItemError::new(item, Stage::Decode, e))?;
    file.read_to_end(&mut bytes).map_err(|e| {
        ItemError::new(
            item,
            Stage::Decode,
            format!("reading {}: {e}", original.display()),
        )
    })?;
    let image = decode_jpeg_reusing(&bytes, job.limits, spare.pixels).map_err(|e| {
        // What is not a picture is not kept under a picture's name: the
        // original goes, and only if it cannot go does the reason say where
        // it stayed.
        let reason = match std::fs::remove_file(original) {
            Ok(()) => e.to_string(),
            Err(gone) if gone.kind() == std::io::ErrorKind::NotFound => e.to_string(),
            Err(kept) => format!(
                "{e} (the download is still at {}: removing it failed: {kept})",
                original.display()
            ),
        };
        ItemError::new(item, Stage::Decode, reason)
    })?;
    let edges = edge_map_reusing(&image, spare.edges);
    let jpeg = encode_edge_map(&edges);
    // The buffers go back for this thread's next picture, whatever happens
    // to this one from here on.
    Spare {
        bytes,
        pixels: image.into_raw(),
        edges: edges.into_raw(),
    }
    .put_back();
    let jpeg = jpeg.map_err(|e| ItemError::new(item, Stage::Process, e))?;
    // A job that started before Ctrl-C finishes its work, but writes
    // nothing after it.
    let _step = job
        .cancel
        .step()
        .ok_or_else(|| interrupted(item, Stage::Process))?;
    let saved = write_atomic(&job.processed, &processed_name(item.index), &jpeg)
        .map_err(|e| ItemError::new(item, Stage::Process, e))?;
    job.progress.processed(item.index);
    Ok(saved)
}
