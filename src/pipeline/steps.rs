//! The steps every variant shares: download one image (sync with ureq, or
//! async with evloop's client, streaming to disk), and process one image
//! (decode, edge-detect, encode, save). Only *how* they are scheduled
//! differs between the variants, which live in `examples/pipeline_*.rs`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use super::decode::decode_jpeg;
use super::edge::edge_map;
use super::job::{Item, ItemError, Job, Stage};
use super::store::{encode_edge_map, original_name, processed_name, write_atomic};
use crate::atomic_file::{self, AtomicFile};
use crate::http::Client;

/// Downloads `item` with a blocking ureq agent and saves the original.
///
/// # Errors
///
/// The download (status, body, deadline) or the save failed; `job.progress`
/// is told about it.
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
    let response = agent.get(&item.url).call().map_err(|e| fail(&e))?;
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(job.max_body + 1)
        .read_to_end(&mut body)
        .map_err(|e| fail(&e))?;
    if body.len() as u64 > job.max_body {
        return Err(fail(&format!("body larger than {} bytes", job.max_body)));
    }
    let saved = write_atomic(&job.originals, &original_name(item.index), &body)
        .map_err(|e| ItemError::new(item, Stage::Save, e))?;
    job.progress.downloaded(item.index);
    Ok(saved)
}

/// The longest deadline handed to ureq. ureq adds its timeout to the instant
/// each request starts with `+`, which panics when the sum overflows (it does
/// for `Duration::MAX`); a year is beyond any download and far below any
/// overflow, so a longer timeout is cut to it.
const UREQ_TIMEOUT_CAP: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A ureq agent configured like the async client: the job's per-request
/// deadline, and status codes of 400 and above as errors. With extra root
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
    let mut config = ureq::Agent::config_builder().timeout_global(Some(timeout));
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

/// Downloads `item` with evloop's client, streaming the body to a new
/// temporary file chunk by chunk (`evloop::fs`), then renaming it into
/// place: no half file is ever left under the final name, and no symbolic
/// link planted at either name is written through.
///
/// The temporary file is an [`AtomicFile`]: created new under an
/// unpredictable name beside the final one, on the blocking pool, and
/// removed on the pool when the download or a write fails. If this future
/// is dropped midway, the file is removed as it is dropped (one `unlink` on
/// the loop's thread).
///
/// # Errors
///
/// The download (status, body, deadline) or the save failed; `job.progress`
/// is told about it.
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
    let save_err = |e: &dyn std::fmt::Display| ItemError::new(item, Stage::Save, e);
    let mut response = client
        .get(&item.url)
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| fail(&e))?;
    let target = job.originals.join(original_name(item.index));
    // The temporary file and a second handle to it for `evloop::fs`; the
    // `AtomicFile` keeps the name, and renames or removes it.
    let (temp, handle) = on_pool(move || {
        let temp = AtomicFile::new(&target).map_err(|e| e.to_string())?;
        let handle = temp.file().try_clone().map_err(|e| {
            format!(
                "cannot open {} a second time: {e}",
                temp.temp_path().display()
            )
        })?;
        Ok::<_, String>((temp, handle))
    })
    .await
    .map_err(|e| save_err(&e))?;
    let mut file = crate::fs::File::from_std(handle, temp.temp_path());
    let streamed = async {
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
            file.write_all(&chunk).await.map_err(|e| save_err(&e))?;
        }
        Ok(())
    }
    .await;
    // Every write above was waited for: nothing of the file is in flight.
    drop(file);
    let saved = match streamed {
        Ok(()) => on_pool(move || temp.commit())
            .await
            .map_err(|e| save_err(&e))?,
        Err(e) => {
            // Dropped on the pool, the temporary file is removed there.
            let _ = crate::offload::spawn_blocking(move || drop(temp)).await;
            return Err(e);
        }
    };
    job.progress.downloaded(item.index);
    Ok(saved)
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
/// # Errors
///
/// The original cannot be read or decoded, or the result cannot be saved;
/// `job.progress` is told about it.
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

fn process_inner(job: &Job, item: &Item, original: &std::path::Path) -> Result<PathBuf, ItemError> {
    // The original was saved by this job; a link planted at its name since
    // is refused rather than followed.
    let mut bytes = Vec::new();
    let mut file =
        atomic_file::open_nofollow(original).map_err(|e| ItemError::new(item, Stage::Decode, e))?;
    file.read_to_end(&mut bytes).map_err(|e| {
        ItemError::new(
            item,
            Stage::Decode,
            format!("reading {}: {e}", original.display()),
        )
    })?;
    let image =
        decode_jpeg(&bytes, job.limits).map_err(|e| ItemError::new(item, Stage::Decode, e))?;
    let edges = edge_map(&image);
    let jpeg = encode_edge_map(&edges).map_err(|e| ItemError::new(item, Stage::Process, e))?;
    let saved = write_atomic(&job.processed, &processed_name(item.index), &jpeg)
        .map_err(|e| ItemError::new(item, Stage::Process, e))?;
    job.progress.processed(item.index);
    Ok(saved)
}
