//! Stopping a run midway: Ctrl-C during the demo or a pipeline example.
//!
//! A run is spread over several threads: the loop, the blocking pool, the
//! CPU pool, and in the sync variant one long blocking poll. Ctrl-C has to
//! reach all of them, so it is turned into one shared [`Cancel`] flag:
//!
//! * [`CtrlCWatch`] listens for Ctrl-C (`evloop::signal`) on a thread of
//!   its own, so a loop stuck in blocking code cannot delay it. The first
//!   Ctrl-C cancels the flag; a second one ends the process at once with
//!   status 130.
//! * Blocking code (the sync variant, the threads variant's downloads, the
//!   processing jobs) checks [`Cancel::is_cancelled`] between images and
//!   between chunks of a body, and stops.
//! * Async code is stopped from outside: [`run_variant`] runs it until
//!   [`Cancel::cancelled`] completes, then drops it with every task, so
//!   in-flight downloads are abandoned, and a dropped download removes its
//!   temporary file.
//! * Every file a run writes is written inside a [`Step`]: no step starts
//!   once the flag is up, and [`run_variant`] waits for the steps in flight
//!   to end before it reports. A job that was already running on a pool may
//!   finish, but it renames its file into place only if the flag is still
//!   down when it gets there; otherwise it removes its temporary file.
//!   So after an interruption the output folders hold finished images and
//!   nothing else.
//! * [`Tally`] records, as the run goes, which images were downloaded,
//!   processed or failed, so the interrupted run still gets a [`Report`]
//!   (marked [`interrupted`](Report::interrupted)) of what it finished.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use super::job::{Interruption, ItemError, Job, Outcome, Progress, Report, Stage, Timings};
use super::store::processed_name;
use crate::Runtime;
#[cfg(unix)]
use crate::{Either, select};

/// The exit status of a run stopped by Ctrl-C: 128 + `SIGINT`, what a
/// shell reports for a program that Ctrl-C ended.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::cancel::INTERRUPTED_EXIT_STATUS;
///
/// assert_eq!(INTERRUPTED_EXIT_STATUS, evloop::signal::Interrupted::EXIT_STATUS);
/// ```
pub const INTERRUPTED_EXIT_STATUS: u8 = 130;

/// How long [`run_variant`] waits for file steps already in flight after an
/// interruption. A step is one write and one rename of a small file, so
/// this is far more than it takes; it only keeps a stuck disk from hanging
/// the exit.
pub const STEP_GRACE: Duration = Duration::from_secs(10);

/// A flag shared by every thread of a run: cancelled once, by Ctrl-C (or by
/// anyone holding a clone), never reset.
///
/// Clones share the flag. Besides the flag it counts the file [`Step`]s in
/// flight, so that whoever cancels can wait until no file is half written.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::cancel::Cancel;
///
/// let cancel = Cancel::new();
/// let step = cancel.step().expect("not cancelled yet: files may be written");
/// let remote = cancel.clone();
/// std::thread::spawn(move || remote.cancel()).join().unwrap();
/// assert!(cancel.is_cancelled());
/// assert!(cancel.step().is_none(), "no file step starts after cancellation");
/// assert!(!cancel.wait_for_steps(std::time::Duration::ZERO), "one step still runs");
/// drop(step);
/// assert!(cancel.wait_for_steps(std::time::Duration::ZERO));
/// ```
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Read without the lock by [`Cancel::is_cancelled`]; written under it.
    cancelled: AtomicBool,
    state: Mutex<State>,
    /// Signalled when the last step in flight ends.
    idle: Condvar,
}

#[derive(Default)]
struct State {
    /// File steps in flight.
    steps: usize,
    /// The wakers of pending [`Cancelled`] futures, by their id.
    waiters: BTreeMap<u64, Waker>,
    next_id: u64,
}

impl Cancel {
    /// A flag that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: raises the flag and wakes every [`cancelled`](Cancel::cancelled)
    /// future, on whatever thread it waits. Returns `true` the first time,
    /// `false` if it was cancelled already. Callable from any thread.
    pub fn cancel(&self) -> bool {
        let wakers = {
            let mut state = self.lock();
            if self.inner.cancelled.swap(true, SeqCst) {
                return false;
            }
            std::mem::take(&mut state.waiters)
        };
        for waker in wakers.into_values() {
            waker.wake();
        }
        true
    }

    /// Whether [`cancel`](Cancel::cancel) was called. Cheap (one atomic
    /// load): blocking code calls it between images and between chunks.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(SeqCst)
    }

    /// A future that completes once the flag is cancelled (at once if it
    /// is already).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::pipeline::cancel::Cancel;
    ///
    /// let cancel = Cancel::new();
    /// let remote = cancel.clone();
    /// evloop::run(async move {
    ///     // Cancelled from another thread, it wakes the loop.
    ///     let other = std::thread::spawn(move || remote.cancel());
    ///     cancel.cancelled().await;
    ///     assert!(other.join().unwrap());
    /// });
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            cancel: self.clone(),
            id: None,
        }
    }

    /// Starts a file step: `None` once cancelled, else a guard counted as
    /// in flight until it is dropped. Code that writes a file holds one
    /// from before it creates the temporary file until after the rename
    /// (or the removal), and checks [`is_cancelled`](Cancel::is_cancelled)
    /// before renaming.
    pub fn step(&self) -> Option<Step> {
        let mut state = self.lock();
        if self.is_cancelled() {
            return None;
        }
        state.steps += 1;
        Some(Step {
            cancel: self.clone(),
        })
    }

    /// Waits, blocking this thread, until no file step is in flight, for at
    /// most `limit`; returns whether none is. After [`cancel`](Cancel::cancel),
    /// no step starts, so once this returns `true` every file the run wrote
    /// is finished or removed.
    pub fn wait_for_steps(&self, limit: Duration) -> bool {
        let deadline = Instant::now().checked_add(limit);
        let mut state = self.lock();
        while state.steps > 0 {
            let left = match deadline {
                Some(at) => at.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return false;
            }
            state = self
                .inner
                .idle
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .field("steps", &self.lock().steps)
            .finish()
    }
}

/// A file step in flight (see [`Cancel::step`]); it ends when dropped.
#[derive(Debug)]
#[must_use = "the step ends when this is dropped"]
pub struct Step {
    cancel: Cancel,
}

impl Drop for Step {
    fn drop(&mut self) {
        let mut state = self.cancel.lock();
        state.steps -= 1;
        if state.steps == 0 {
            self.cancel.inner.idle.notify_all();
        }
    }
}

/// The future of [`Cancel::cancelled`].
///
/// `Pending` until the flag is cancelled; [`Cancel::cancel`] wakes it, from
/// any thread (the waker it stored is the runtime's, which wakes the loop
/// from afar). Cancel safe: dropping it only forgets its waker.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Cancelled {
    cancel: Cancel,
    /// Its entry among the waiters, once it has waited.
    id: Option<u64>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.cancel.is_cancelled() {
            return Poll::Ready(());
        }
        let this = &mut *self;
        let mut state = this.cancel.lock();
        // Checked again under the lock `cancel` takes: no wake is lost.
        if this.cancel.is_cancelled() {
            return Poll::Ready(());
        }
        let id = *this.id.get_or_insert_with(|| {
            state.next_id += 1;
            state.next_id
        });
        state.waiters.insert(id, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.cancel.lock().waiters.remove(&id);
        }
    }
}

/// Listens for Ctrl-C on a thread of its own while it lives: the first
/// Ctrl-C cancels the run's [`Cancel`] (and says so on stderr), a second
/// one ends the process at once with status 130, without waiting for any
/// cleanup. Dropping it stops listening: Ctrl-C then does what it did
/// before.
///
/// The thread runs its own evloop runtime with one
/// [`signal`](crate::signal::signal()) listener for `SIGINT`, kept for the
/// whole watch, so there is no moment between the two Ctrl-Cs when nobody
/// listens.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::cancel::{Cancel, CtrlCWatch};
/// use evloop::signal::{SignalKind, raise};
///
/// let cancel = Cancel::new();
/// let watch = CtrlCWatch::start(cancel.clone())?;
/// raise(SignalKind::interrupt())?; // as if the user pressed Ctrl-C
/// evloop::run(cancel.cancelled()); // the watch cancels the flag
/// drop(watch);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct CtrlCWatch {
    stop: Cancel,
    thread: Option<thread::JoinHandle<()>>,
}

impl CtrlCWatch {
    /// Starts listening; returns once the listener is in place, so a
    /// Ctrl-C from then on is caught.
    ///
    /// # Errors
    ///
    /// The thread, its runtime or the `SIGINT` listener cannot be made.
    pub fn start(cancel: Cancel) -> io::Result<CtrlCWatch> {
        let stop = Cancel::new();
        let (ready, listening) = std::sync::mpsc::channel();
        let thread = thread::Builder::new()
            .name("ctrl-c watch".into())
            .spawn({
                let stop = stop.clone();
                move || watch(&cancel, &stop, &ready)
            })
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot start the Ctrl-C thread: {e}"))
            })?;
        match listening.recv() {
            Ok(Ok(())) => Ok(CtrlCWatch {
                stop,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::other(
                "the Ctrl-C thread ended before it listened",
            )),
        }
    }
}

impl Drop for CtrlCWatch {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The watch thread: listen, cancel on the first Ctrl-C, exit on the
/// second, return when `stop` is cancelled.
#[cfg(unix)]
fn watch(cancel: &Cancel, stop: &Cancel, ready: &std::sync::mpsc::Sender<io::Result<()>>) {
    use crate::signal::{SignalKind, signal};

    let runtime = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(io::Error::new(
                e.kind(),
                format!("cannot create the Ctrl-C thread's runtime: {e}"),
            )));
            return;
        }
    };
    runtime.block_on(async {
        let mut ctrl_c = match signal(SignalKind::interrupt()) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        if let Either::Left(()) = select(stop.cancelled(), ctrl_c.recv()).await {
            return;
        }
        eprintln!(
            "\ninterrupted: stopping the run and removing its temporary files \
             (Ctrl-C again to quit at once)"
        );
        cancel.cancel();
        if let Either::Right(()) = select(stop.cancelled(), ctrl_c.recv()).await {
            eprintln!("interrupted again: quitting at once");
            std::process::exit(i32::from(INTERRUPTED_EXIT_STATUS));
        }
    });
}

/// Without Unix signals there is nothing to listen to: the watch only
/// waits to be stopped.
#[cfg(not(unix))]
fn watch(_cancel: &Cancel, stop: &Cancel, ready: &std::sync::mpsc::Sender<io::Result<()>>) {
    let _ = ready.send(Ok(()));
    crate::run(stop.cancelled());
}

/// Progress that remembers what a run finished, for the report of an
/// interrupted run, and passes everything on to the progress it wraps.
///
/// Failures reported after the flag was cancelled are neither kept nor
/// passed on: they are the interruption itself (a download cut short), not
/// something that went wrong with an image.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use evloop::pipeline::cancel::Tally;
/// use evloop::pipeline::{Job, NoProgress, Progress};
///
/// let job = Job::new(["a", "b", "c"].map(String::from), std::path::Path::new("out"));
/// let tally = Tally::new(&job, Arc::new(NoProgress));
/// tally.downloaded(1);
/// tally.downloaded(2);
/// tally.processed(1);
/// job.cancel.cancel();
/// let report = tally.report(&job, "async");
/// let interruption = report.interrupted.unwrap();
/// assert_eq!((interruption.images, interruption.downloaded), (3, 2));
/// assert_eq!(report.succeeded(), 1);
/// assert_eq!(report.outcomes.len(), 1, "only what finished has an outcome");
/// ```
pub struct Tally {
    inner: Arc<dyn Progress>,
    cancel: Cancel,
    images: usize,
    started: Instant,
    state: Mutex<TallyState>,
}

#[derive(Default)]
struct TallyState {
    downloaded: BTreeSet<usize>,
    processed: BTreeSet<usize>,
    failed: BTreeMap<usize, ItemError>,
    /// When the last download ended (landed or failed).
    downloads_done: Option<Instant>,
}

impl Tally {
    /// A tally of `job`'s images from now on, passing progress on to
    /// `inner`.
    pub fn new(job: &Job, inner: Arc<dyn Progress>) -> Tally {
        Tally {
            inner,
            cancel: job.cancel.clone(),
            images: job.items.len(),
            started: Instant::now(),
            state: Mutex::new(TallyState::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TallyState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the end of the download phase once every image has landed or
    /// failed to.
    fn check_downloads_done(&self, state: &mut TallyState) {
        let failed_downloads = state
            .failed
            .values()
            .filter(|e| matches!(e.stage, Stage::Download | Stage::Save))
            .count();
        if state.downloads_done.is_none()
            && state.downloaded.len() + failed_downloads >= self.images
        {
            state.downloads_done = Some(Instant::now());
        }
    }

    /// The report of the run so far, marked interrupted: the images that
    /// were processed (their edge maps are on disk) and those that failed
    /// before the interruption have an outcome, in index order; the others
    /// have none. The download phase lasts until the last download ended,
    /// or the whole run if some never did.
    pub fn report(&self, job: &Job, variant: &str) -> Report {
        let total = self.started.elapsed();
        let state = self.lock();
        let download = state
            .downloads_done
            .map_or(total, |at| at.duration_since(self.started))
            .min(total);
        let outcomes = job
            .items
            .iter()
            .filter_map(|item| {
                let result = if state.processed.contains(&item.index) {
                    Ok(job.processed.join(processed_name(item.index)))
                } else {
                    Err(state.failed.get(&item.index)?.clone())
                };
                Some(Outcome {
                    item: item.clone(),
                    result,
                })
            })
            .collect();
        let timings = Timings {
            download,
            process: total - download,
            total,
        };
        let mut report = Report::new(variant, timings, outcomes);
        report.interrupted = Some(Interruption {
            images: self.images,
            downloaded: state.downloaded.len(),
        });
        report
    }
}

impl Progress for Tally {
    fn downloaded(&self, index: usize) {
        {
            let mut state = self.lock();
            state.downloaded.insert(index);
            self.check_downloads_done(&mut state);
        }
        self.inner.downloaded(index);
    }

    fn processed(&self, index: usize) {
        self.lock().processed.insert(index);
        self.inner.processed(index);
    }

    fn failed(&self, error: &ItemError) {
        if self.cancel.is_cancelled() {
            return;
        }
        {
            let mut state = self.lock();
            state.failed.insert(error.index, error.clone());
            self.check_downloads_done(&mut state);
        }
        self.inner.failed(error);
    }
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Tally")
            .field("images", &self.images)
            .field("downloaded", &state.downloaded.len())
            .field("processed", &state.processed.len())
            .field("failed", &state.failed.len())
            .finish()
    }
}

/// Runs one variant on `rt` until it finishes or the run is interrupted:
/// `job.cancel` cancelled (by a [`CtrlCWatch`] on Ctrl-C, or by anyone).
///
/// Finished, it returns the variant's own report. Interrupted, the main
/// future and every task are dropped (in-flight downloads abandoned, their
/// temporary files removed) and the runtime is shut down, as
/// [`Runtime::block_on_interruptible`](crate::Runtime::block_on_interruptible)
/// does; the file steps still in flight on the pools are waited for (up to
/// [`STEP_GRACE`]), and the report of what finished is returned, marked
/// [`interrupted`](Report::interrupted). A run whose flag is cancelled
/// before it starts does not start.
///
/// `job.progress` is wrapped in a [`Tally`] for the run. Blocking variants
/// run inside one poll (`|job| async move { run(&job) }`): they see the
/// flag themselves and return early; their early report is replaced by
/// the tally's.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use evloop::pipeline::cancel::run_variant;
/// use evloop::pipeline::{Job, Report, Timings};
///
/// let job = Job::new(Vec::<String>::new(), std::path::Path::new("out"));
/// let rt = evloop::Runtime::new()?;
/// let done = run_variant(&rt, job.clone(), "async", |_: Arc<Job>| async {
///     Report::new("async", Timings::default(), vec![])
/// });
/// assert!(done.interrupted.is_none());
///
/// job.cancel.cancel(); // Ctrl-C came
/// let stopped = run_variant(&rt, job, "async", |_: Arc<Job>| std::future::pending());
/// assert!(stopped.interrupted.is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn run_variant<F, Fut>(rt: &Runtime, mut job: Job, variant: &str, run: F) -> Report
where
    F: FnOnce(Arc<Job>) -> Fut,
    Fut: Future<Output = Report>,
{
    let cancel = job.cancel.clone();
    let tally = Arc::new(Tally::new(&job, job.progress.clone()));
    job.progress = tally.clone();
    let job = Arc::new(job);
    let finished = if cancel.is_cancelled() {
        None
    } else {
        // As `block_on_interruptible` does with its own Ctrl-C listener:
        // on cancellation the main future and every task are dropped here,
        // so the trace shows them cancelled.
        rt.block_on_or_stop(run(job.clone()), cancel.cancelled())
            .ok()
    };
    match finished {
        Some(report) if !cancel.is_cancelled() => report,
        _ => {
            cancel.cancel();
            if !cancel.wait_for_steps(STEP_GRACE) {
                eprintln!(
                    "warning: a file of the {variant} run was still being written after {STEP_GRACE:?}"
                );
            }
            tally.report(&job, variant)
        }
    }
}
