//! evloop beside tokio and smol: the same workloads on all three, in one run.
//!
//! Run it with `cargo bench` (under a minute on a quiet two-core machine), or
//! a part of it:
//!
//! ```text
//! cargo bench                          # every row, 7 rounds after 1 warm-up round
//! cargo bench -- spawn timers          # only rows whose key contains "spawn" or "timers"
//! cargo bench -- --rounds 3            # fewer rounds, for a quick look
//! EVLOOP_BENCH_ROUNDS=3 cargo bench    # the same, from the environment
//! cargo bench -- --list                # the rows and what each one does
//! ```
//!
//! # How it measures
//!
//! Each row is one workload written once (see [`shared_workloads!`]) and
//! compiled three times, against each runtime's own `spawn`, `yield_now` and
//! `sleep`. Messages travel over `futures-channel`, which belongs to no
//! runtime, so the difference between columns is the executor and its timers.
//!
//! Every sample builds a fresh runtime, starts a clock inside `block_on`, runs
//! the workload, stops the clock and checks that the work was really done. The
//! runtimes take turns (evloop, tokio, smol, evloop, tokio, smol, ...) for
//! every round, so a slow moment of the machine hurts all three alike rather
//! than one of them. Warm-up rounds run first and are thrown away.
//!
//! Rows marked *isolated* (memory per idle task) run each sample in a fresh
//! child process: the bench re-executes itself with `EVLOOP_BENCH_CHILD=<key>:<runtime>`
//! and reads back one `EVLOOP_BENCH_RESULT ...` line, so that no earlier
//! sample has grown the heap.
//!
//! The table shows, per runtime, the median and the (min–max) range of the
//! samples; the ratios evloop/tokio and evloop/smol of the medians (below 1:
//! evloop took less time or memory); and a verdict: `yes` when evloop's
//! median is below both others. Rows that count something that must never
//! happen (a timer waking before its deadline) say `ok` or `FAIL` instead.
//!
//! Run without `--bench` (as `cargo test --benches` does), the binary makes a
//! quick smoke run: one round, no warm-up.
//!
//! # Adding a row
//!
//! Write the workload as one function, either inside [`shared_workloads!`]
//! (when the three runtimes can run literally the same code) or once in each of
//! `evloop_side`, `tokio_side` and `smol_side` (when each needs its own types,
//! as a TCP echo does), then add a [`Workload`] to [`workloads`].

use std::fmt;
use std::future::Future;
use std::hint::black_box;
use std::io;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_channel::{mpsc, oneshot};
use futures_lite::StreamExt;

// The runtime under test is this package's own library crate, `evloop`; its
// items are named by their full paths (`evloop::spawn`, ...) in `evloop_side`
// below, which is the only place that touches it.

/// Tasks spawned and joined by the `spawn` row.
const SPAWN_TASKS: u64 = 100_000;
/// Tasks in the `yield` row.
const YIELD_TASKS: u64 = 1_000;
/// Times each task of the `yield` row yields.
const YIELDS_PER_TASK: u64 = 1_000;
/// Pairs of tasks in the `ping-pong` row.
const PING_PONG_PAIRS: u32 = 1_000;
/// Messages each task of a pair sends to the other.
const PING_PONG_MESSAGES: u32 = 100;
/// Tasks in the `chain` row, each spawned by the one before.
const CHAIN_LENGTH: u32 = 10_000;
/// Timers in the `timers-100k` row.
const MANY_TIMERS: usize = 100_000;
/// Shortest and longest sleep of the `timers-100k` row.
const MANY_TIMERS_SPAN: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_millis(100));
/// Tasks sleeping at the same time in the `timers-light` row.
const LIGHT_SLEEPERS: usize = 10;
/// Sleeps, one after another, of each task of the `timers-light` row.
const LIGHT_SLEEPS_EACH: usize = 100;
/// Shortest and longest sleep of the `timers-light` row (10 x 100 sleeps of
/// 1–20 ms: 1,000 sleeps over about a second, ten pending at a time).
const LIGHT_SPAN: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(20));
/// Tasks parked on a long sleep in the `idle-memory` row.
const IDLE_TASKS: usize = 100_000;
/// How long an idle task sleeps: far longer than the measurement.
const IDLE_NAP: Duration = Duration::from_secs(3_600);
/// Seed of the generator that spreads the timers, so every run sleeps alike.
const SEED: u64 = 0x5EED_0E11_1009;
/// TCP echo: client tasks, each doing this many round trips of `ECHO_BYTES`.
const ECHO_CLIENTS: usize = 100;
/// Round trips per echo client.
const ECHO_TRIPS: usize = 1_000;
/// Bytes per echo message.
const ECHO_BYTES: usize = 64;
/// Jobs in the blocking-pool row.
const BLOCKING_JOBS: u64 = 10_000;

/// Rounds measured when neither `--rounds` nor `EVLOOP_BENCH_ROUNDS` says.
const DEFAULT_ROUNDS: usize = 7;
/// Warm-up rounds run and discarded before the measured ones.
const DEFAULT_WARMUPS: usize = 1;
/// Environment variable that sets the number of rounds.
const ROUNDS_ENV: &str = "EVLOOP_BENCH_ROUNDS";
/// Environment variable that turns the binary into a child running one sample.
const CHILD_ENV: &str = "EVLOOP_BENCH_CHILD";
/// Prefix of the line on which a child reports its sample.
const CHILD_RESULT: &str = "EVLOOP_BENCH_RESULT";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Something that stopped one sample, one row or the whole run.
#[derive(Debug)]
enum BenchError {
    /// A runtime could not be built.
    Build {
        runtime: &'static str,
        source: io::Error,
    },
    /// A task ended without its output (it panicked or was cancelled).
    Join {
        runtime: &'static str,
        detail: String,
    },
    /// A workload finished but did not do all of its work.
    Wrong {
        runtime: &'static str,
        detail: String,
    },
    /// The resident set size could not be read.
    Rss { path: &'static str, detail: String },
    /// A child process failed or said something unexpected.
    Child { spec: String, detail: String },
    /// The command line or the environment asked for something impossible.
    Args(String),
    /// A socket operation failed.
    Io {
        runtime: &'static str,
        detail: String,
    },
    /// Some rows could not be measured (each one's error is in the table).
    Rows(usize),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Io { runtime, detail } => write!(f, "{runtime}: socket error: {detail}"),
            BenchError::Build { runtime, source } => {
                write!(f, "could not build the {runtime} runtime: {source}")
            }
            BenchError::Join { runtime, detail } => {
                write!(f, "a task on {runtime} gave no output: {detail}")
            }
            BenchError::Wrong { runtime, detail } => {
                write!(f, "the workload on {runtime} went wrong: {detail}")
            }
            BenchError::Rss { path, detail } => {
                write!(f, "could not read the RSS from {path}: {detail}")
            }
            BenchError::Child { spec, detail } => {
                write!(f, "child process {CHILD_ENV}={spec} failed: {detail}")
            }
            BenchError::Args(message) => f.write_str(message),
            BenchError::Rows(count) => {
                write!(f, "{count} row(s) could not be measured; see the table")
            }
        }
    }
}

impl std::error::Error for BenchError {}

/// Fails with [`BenchError::Wrong`] unless a workload's count is the expected one.
fn expect_count(runtime: &'static str, what: &str, got: u64, want: u64) -> Result<(), BenchError> {
    if got == want {
        Ok(())
    } else {
        Err(BenchError::Wrong {
            runtime,
            detail: format!("{what}: expected {want}, counted {got}"),
        })
    }
}

/// The socket and blocking-pool workloads, written once over each runtime
/// module's small adapters (`bind`, `accept`, `connect`, `read`,
/// `write_all`, `unblock`).
macro_rules! io_workloads {
    () => {
        fn io_error(error: io::Error) -> BenchError {
            BenchError::Io {
                runtime: NAME,
                detail: error.to_string(),
            }
        }

        /// A TCP echo over loopback: one server task (a task per
        /// connection) and `clients` client tasks, each sending `trips`
        /// messages of `ECHO_BYTES` and reading each echo before the next.
        pub fn echo(clients: usize, trips: usize) -> Result<Sample, BenchError> {
            block_on(async move {
                let (listener, addr) = bind().await.map_err(io_error)?;
                let server = spawn(async move {
                    let mut connections = Vec::with_capacity(clients);
                    for _ in 0..clients {
                        let mut stream = accept(&listener).await?;
                        connections.push(spawn(async move {
                            let mut buf = [0u8; ECHO_BYTES];
                            loop {
                                let n = read(&mut stream, &mut buf).await?;
                                if n == 0 {
                                    return Ok::<(), io::Error>(());
                                }
                                write_all(&mut stream, &buf[..n]).await?;
                            }
                        }));
                    }
                    Ok::<_, io::Error>(connections)
                });
                let start = Instant::now();
                let mut handles = Vec::with_capacity(clients);
                for c in 0..clients {
                    handles.push(spawn(async move {
                        let mut stream = connect(addr).await?;
                        let message = [c as u8; ECHO_BYTES];
                        let mut back = [0u8; ECHO_BYTES];
                        for _ in 0..trips {
                            write_all(&mut stream, &message).await?;
                            let mut got = 0;
                            while got < ECHO_BYTES {
                                match read(&mut stream, &mut back[got..]).await? {
                                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                                    n => got += n,
                                }
                            }
                            if back != message {
                                return Err(io::Error::other("echo came back changed"));
                            }
                        }
                        Ok::<u64, io::Error>(trips as u64)
                    }));
                }
                let mut total = 0;
                for handle in handles {
                    total += join(handle).await?.map_err(io_error)?;
                }
                let took = start.elapsed();
                let connections = join(server).await?.map_err(io_error)?;
                for connection in connections {
                    join(connection).await?.map_err(io_error)?;
                }
                expect_count(NAME, "round trips", total, (clients * trips) as u64)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Submits `n` trivial jobs to the blocking pool and awaits them all.
        pub fn blocking(n: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(n as usize);
                for i in 0..n {
                    handles.push(unblock(move || black_box(i)));
                }
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "sum of job outputs", sum, n * (n - 1) / 2)?;
                Ok(vec![took.as_secs_f64()])
            })
        }
    };
}

// ---------------------------------------------------------------------------
// The runtimes: how each one builds, spawns, joins, yields and sleeps
// ---------------------------------------------------------------------------

/// One sample: one value per metric of its row, in the row's order.
type Sample = Vec<f64>;

/// The workloads, written once and compiled against each runtime.
///
/// The body names `block_on`, `spawn`, `join`, `detach`, `yield_now` and
/// `sleep` without a path, so each expansion picks up the functions of the
/// module it is expanded in (`evloop_side`, `tokio_side`, `smol_side`), and the
/// compiler checks each runtime's own bounds (tokio's `spawn` wants `Send`).
macro_rules! shared_workloads {
    () => {
        /// Spawns `n` trivial tasks, then awaits every handle in order.
        pub fn spawn_join(n: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(n as usize);
                for i in 0..n {
                    handles.push(spawn(async move { black_box(i) }));
                }
                let mut sum = 0;
                for handle in handles {
                    sum += join(handle).await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "sum of task outputs", sum, n * (n - 1) / 2)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Runs `tasks` tasks that each yield `yields` times, and joins them.
        pub fn yield_many(tasks: u64, yields: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(tasks as usize);
                for _ in 0..tasks {
                    handles.push(spawn(async move {
                        for _ in 0..yields {
                            yield_now().await;
                        }
                        yields
                    }));
                }
                let mut total = 0;
                for handle in handles {
                    total += join(handle).await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "yields", total, tasks * yields)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Runs `pairs` pairs of tasks; in each pair, one task sends
        /// `messages` numbers and awaits each echo before the next.
        pub fn ping_pong(pairs: u32, messages: u32) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(2 * pairs as usize);
                for _ in 0..pairs {
                    let (to_echo, mut from_pinger) = mpsc::unbounded::<u32>();
                    let (to_pinger, mut from_echo) = mpsc::unbounded::<u32>();
                    handles.push(spawn(async move {
                        let mut echoed = 0u64;
                        for i in 0..messages {
                            if to_echo.unbounded_send(i).is_err() {
                                break; // the echo task is gone; the count shows it
                            }
                            match from_echo.next().await {
                                Some(back) if back == i => echoed += 1,
                                _ => break,
                            }
                        }
                        echoed
                    }));
                    handles.push(spawn(async move {
                        let mut echoed = 0u64;
                        // Ends when the pinger drops its sender.
                        while let Some(message) = from_pinger.next().await {
                            if to_pinger.unbounded_send(message).is_err() {
                                break;
                            }
                            echoed += 1;
                        }
                        echoed
                    }));
                }
                let mut total = 0;
                for handle in handles {
                    total += join(handle).await?;
                }
                let took = start.elapsed();
                let want = 2 * u64::from(pairs) * u64::from(messages);
                expect_count(NAME, "messages", total, want)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// One link of the chain: spawns the next link, or, as the last one,
        /// reports how many links ran.
        fn link(
            left: u32,
            ran: u32,
            done: oneshot::Sender<u32>,
        ) -> impl Future<Output = ()> + Send + 'static {
            async move {
                if left == 0 {
                    // The receiver is awaited by the measuring task; if it is
                    // gone, the count it would check is lost with it.
                    let _ = done.send(ran + 1);
                } else {
                    detach(spawn(link(left - 1, ran + 1, done)));
                }
            }
        }

        /// Spawns a task that spawns the next, `length` tasks in all; the
        /// last one signals over a oneshot channel.
        pub fn chain(length: u32) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let (done, finished) = oneshot::channel();
                detach(spawn(link(length - 1, 0, done)));
                let ran = finished.await.map_err(|_| BenchError::Wrong {
                    runtime: NAME,
                    detail: "the chain broke before its last link".to_string(),
                })?;
                let took = start.elapsed();
                expect_count(NAME, "links", u64::from(ran), u64::from(length))?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Spawns one task per entry of `plan`, each sleeping that long once;
        /// reports the total time, the early wakes and the p99 lateness.
        pub fn timers(plan: Vec<Duration>) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(plan.len());
                for &nap in &plan {
                    handles.push(spawn(async move {
                        let asleep = Instant::now();
                        sleep(nap).await;
                        (nap, asleep.elapsed())
                    }));
                }
                let mut naps = Vec::with_capacity(plan.len());
                for handle in handles {
                    naps.push(join(handle).await?);
                }
                let took = start.elapsed();
                let report = TimerReport::new(&naps);
                Ok(vec![
                    took.as_secs_f64(),
                    report.early as f64,
                    report.p99_late.as_secs_f64(),
                ])
            })
        }

        /// Runs one task per entry of `plans`, each sleeping its naps one
        /// after another; reports the p99 lateness and the early wakes.
        pub fn timers_light(plans: Vec<Vec<Duration>>) -> Result<Sample, BenchError> {
            block_on(async move {
                let mut handles = Vec::with_capacity(plans.len());
                for plan in plans {
                    handles.push(spawn(async move {
                        let mut naps = Vec::with_capacity(plan.len());
                        for nap in plan {
                            let asleep = Instant::now();
                            sleep(nap).await;
                            naps.push((nap, asleep.elapsed()));
                        }
                        naps
                    }));
                }
                let mut naps = Vec::new();
                for handle in handles {
                    naps.extend(join(handle).await?);
                }
                let report = TimerReport::new(&naps);
                Ok(vec![report.p99_late.as_secs_f64(), report.early as f64])
            })
        }

        /// Tasks of [`idle_memory`] that have been polled once.
        static PARKED: AtomicUsize = AtomicUsize::new(0);

        /// Parks `n` tasks on a long sleep and reports the growth of the
        /// resident set per task, in bytes. Meaningful only as the first thing
        /// a fresh process does.
        pub fn idle_memory(n: usize) -> Result<Sample, BenchError> {
            PARKED.store(0, Ordering::Relaxed);
            block_on(async move {
                let before = resident_bytes()?;
                for _ in 0..n {
                    detach(spawn(async {
                        // Counting before the sleep's first poll is enough: the
                        // loop is single-threaded, so when the measuring task
                        // sees all `n` counted, every sleep has been polled too.
                        PARKED.fetch_add(1, Ordering::Relaxed);
                        sleep(IDLE_NAP).await;
                    }));
                }
                while PARKED.load(Ordering::Relaxed) < n {
                    yield_now().await;
                }
                let after = resident_bytes()?;
                Ok(vec![after.saturating_sub(before) as f64 / n as f64])
            })
        }
    };
}

/// The runtime under test: evloop. The only place that names the crate.
mod evloop_side {
    use super::*;

    /// The column this module fills.
    pub const NAME: &str = "evloop";

    /// Builds a fresh runtime and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let runtime = evloop::Runtime::new().map_err(|source| BenchError::Build {
            runtime: NAME,
            source,
        })?;
        runtime.block_on(workload)
    }

    fn spawn<F>(task: F) -> evloop::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        evloop::spawn(task)
    }

    async fn join<T>(handle: evloop::JoinHandle<T>) -> Result<T, BenchError> {
        handle.await.map_err(|error| BenchError::Join {
            runtime: NAME,
            detail: error.to_string(),
        })
    }

    /// Lets a task run on without anyone awaiting it (dropping evloop's
    /// handle detaches).
    fn detach<T>(handle: evloop::JoinHandle<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> {
        evloop::yield_now()
    }

    fn sleep(nap: Duration) -> impl Future<Output = ()> {
        evloop::time::sleep(nap)
    }

    shared_workloads!();
    io_workloads!();

    async fn bind() -> io::Result<(evloop::net::TcpListener, std::net::SocketAddr)> {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    async fn accept(listener: &evloop::net::TcpListener) -> io::Result<evloop::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<evloop::net::TcpStream> {
        let stream = evloop::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut evloop::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        stream.read(buf).await
    }

    async fn write_all(stream: &mut evloop::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        stream.write_all(buf).await
    }

    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let handle = evloop::spawn_blocking(job);
        async move { join(handle).await }
    }
}

/// tokio's current-thread runtime, with plain `tokio::spawn`.
mod tokio_side {
    use super::*;

    /// The column this module fills.
    pub const NAME: &str = "tokio";

    /// Builds a fresh current-thread runtime and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| BenchError::Build {
                runtime: NAME,
                source,
            })?;
        runtime.block_on(workload)
    }

    fn spawn<F>(task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(task)
    }

    async fn join<T>(handle: tokio::task::JoinHandle<T>) -> Result<T, BenchError> {
        handle.await.map_err(|error| BenchError::Join {
            runtime: NAME,
            detail: error.to_string(),
        })
    }

    /// Dropping tokio's handle detaches the task.
    fn detach<T>(handle: tokio::task::JoinHandle<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }

    fn sleep(nap: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(nap)
    }

    shared_workloads!();
    io_workloads!();

    async fn bind() -> io::Result<(tokio::net::TcpListener, std::net::SocketAddr)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    async fn accept(listener: &tokio::net::TcpListener) -> io::Result<tokio::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<tokio::net::TcpStream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut tokio::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(stream, buf).await
    }

    async fn write_all(stream: &mut tokio::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(stream, buf).await
    }

    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let handle = tokio::task::spawn_blocking(job);
        async move { join(handle).await }
    }
}

/// smol: an `async_executor::LocalExecutor` driven by `async_io::block_on`,
/// with `async_io::Timer` for sleeps.
mod smol_side {
    use super::*;
    use async_executor::{LocalExecutor, Task};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// The column this module fills.
    pub const NAME: &str = "smol";

    thread_local! {
        /// The executor of the sample that is running, so that `spawn` finds
        /// it the way `tokio::spawn` and `evloop::spawn` find theirs.
        static EXECUTOR: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
    }

    /// Builds a fresh executor and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let executor = Rc::new(LocalExecutor::new());
        EXECUTOR.with(|slot| slot.replace(Some(Rc::clone(&executor))));
        let result = async_io::block_on(executor.run(workload));
        EXECUTOR.with(|slot| slot.replace(None));
        result
    }

    fn spawn<F>(task: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        EXECUTOR.with(|slot| {
            slot.borrow()
                .as_ref()
                .expect("workloads spawn only inside smol_side::block_on")
                .spawn(task)
        })
    }

    /// smol's task hands back its output directly (a panic would resurface
    /// here), so joining cannot fail.
    async fn join<T>(task: Task<T>) -> Result<T, BenchError> {
        Ok(task.await)
    }

    /// Dropping a smol task cancels it; `detach` lets it run on.
    fn detach<T>(task: Task<T>) {
        task.detach();
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    async fn sleep(nap: Duration) {
        async_io::Timer::after(nap).await;
    }

    shared_workloads!();
    io_workloads!();

    async fn bind() -> io::Result<(smol::net::TcpListener, std::net::SocketAddr)> {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    async fn accept(listener: &smol::net::TcpListener) -> io::Result<smol::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<smol::net::TcpStream> {
        let stream = smol::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut smol::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        futures_lite::AsyncReadExt::read(stream, buf).await
    }

    async fn write_all(stream: &mut smol::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        futures_lite::AsyncWriteExt::write_all(stream, buf).await
    }

    /// smol's `unblock` runs the job on the `blocking` crate's pool.
    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let task = smol::unblock(job);
        async move { Ok(task.await) }
    }
}

// ---------------------------------------------------------------------------
// The rows
// ---------------------------------------------------------------------------

/// What a metric measures, which decides how it prints and how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Seconds; less is better.
    Seconds,
    /// Bytes per task; less is better.
    BytesPerTask,
    /// A count of things that must never happen; anything but 0 fails.
    MustBeZero,
}

/// One column of a sample: its label and unit.
#[derive(Debug, Clone, Copy)]
struct Metric {
    label: &'static str,
    unit: Unit,
}

/// Rows that report one duration.
const TIME: &[Metric] = &[Metric {
    label: "time",
    unit: Unit::Seconds,
}];

/// Runs one sample of a workload on one runtime.
type Runner = fn() -> Result<Sample, BenchError>;

/// One workload: what it is, what it reports and how each runtime runs it.
#[derive(Debug)]
struct Workload {
    /// Short name, matched by the command-line filter.
    key: &'static str,
    /// One line saying what the workload does.
    about: &'static str,
    /// What each sample reports, in order.
    metrics: &'static [Metric],
    /// Run every sample in a fresh child process (and skip warm-up).
    isolated: bool,
    evloop: Runner,
    tokio: Runner,
    smol: Runner,
}

impl Workload {
    fn runner(&self, runtime: Contender) -> Runner {
        match runtime {
            Contender::Evloop => self.evloop,
            Contender::Tokio => self.tokio,
            Contender::Smol => self.smol,
        }
    }
}

/// Every row of the table, in the order they run.
fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            key: "spawn",
            about: "spawn 100,000 trivial tasks, then await every JoinHandle",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::spawn_join(SPAWN_TASKS),
            tokio: || tokio_side::spawn_join(SPAWN_TASKS),
            smol: || smol_side::spawn_join(SPAWN_TASKS),
        },
        Workload {
            key: "yield",
            about: "1,000 tasks each yield 1,000 times",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::yield_many(YIELD_TASKS, YIELDS_PER_TASK),
            tokio: || tokio_side::yield_many(YIELD_TASKS, YIELDS_PER_TASK),
            smol: || smol_side::yield_many(YIELD_TASKS, YIELDS_PER_TASK),
        },
        Workload {
            key: "ping-pong",
            about: "1,000 pairs of tasks pass 100 messages each way (futures-channel mpsc)",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::ping_pong(PING_PONG_PAIRS, PING_PONG_MESSAGES),
            tokio: || tokio_side::ping_pong(PING_PONG_PAIRS, PING_PONG_MESSAGES),
            smol: || smol_side::ping_pong(PING_PONG_PAIRS, PING_PONG_MESSAGES),
        },
        Workload {
            key: "chain",
            about: "10,000 tasks, each spawning the next; the last signals a oneshot",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::chain(CHAIN_LENGTH),
            tokio: || tokio_side::chain(CHAIN_LENGTH),
            smol: || smol_side::chain(CHAIN_LENGTH),
        },
        Workload {
            key: "timers-100k",
            about: "100,000 tasks each sleep once, 1-100 ms spread uniformly (fixed seed)",
            metrics: &[
                Metric {
                    label: "total time",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "early wakes",
                    unit: Unit::MustBeZero,
                },
                Metric {
                    label: "p99 lateness",
                    unit: Unit::Seconds,
                },
            ],
            isolated: false,
            evloop: || evloop_side::timers(many_timers_plan()),
            tokio: || tokio_side::timers(many_timers_plan()),
            smol: || smol_side::timers(many_timers_plan()),
        },
        Workload {
            key: "timers-light",
            about: "10 tasks each sleep 100 times, 1-20 ms: 1,000 sleeps over ~1 s, 10 at once",
            metrics: &[
                Metric {
                    label: "p99 lateness",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "early wakes",
                    unit: Unit::MustBeZero,
                },
            ],
            isolated: false,
            evloop: || evloop_side::timers_light(light_timers_plan()),
            tokio: || tokio_side::timers_light(light_timers_plan()),
            smol: || smol_side::timers_light(light_timers_plan()),
        },
        Workload {
            key: "tcp-echo",
            about: "TCP echo over loopback: a server task, 100 clients x 1,000 round trips of 64 B",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::echo(ECHO_CLIENTS, ECHO_TRIPS),
            tokio: || tokio_side::echo(ECHO_CLIENTS, ECHO_TRIPS),
            smol: || smol_side::echo(ECHO_CLIENTS, ECHO_TRIPS),
        },
        Workload {
            key: "spawn-blocking",
            about: "10,000 trivial jobs on the blocking pool (smol: blocking::unblock), awaited",
            metrics: TIME,
            isolated: false,
            evloop: || evloop_side::blocking(BLOCKING_JOBS),
            tokio: || tokio_side::blocking(BLOCKING_JOBS),
            smol: || smol_side::blocking(BLOCKING_JOBS),
        },
        Workload {
            key: "idle-memory",
            about: "100,000 tasks parked on a 1 h sleep: RSS growth / tasks (fresh process each)",
            metrics: &[Metric {
                label: "per idle task",
                unit: Unit::BytesPerTask,
            }],
            isolated: true,
            evloop: || evloop_side::idle_memory(IDLE_TASKS),
            tokio: || tokio_side::idle_memory(IDLE_TASKS),
            smol: || smol_side::idle_memory(IDLE_TASKS),
        },
    ]
}

// ---------------------------------------------------------------------------
// Helpers of the workloads
// ---------------------------------------------------------------------------

/// A small deterministic generator (SplitMix64), so every run and every
/// runtime sleeps the same durations in the same order.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration drawn uniformly from `low..=high`, to the microsecond.
    fn duration(&mut self, (low, high): (Duration, Duration)) -> Duration {
        let low_us = low.as_micros() as u64;
        let span_us = (high.as_micros() as u64).saturating_sub(low_us) + 1;
        Duration::from_micros(low_us + self.next_u64() % span_us)
    }
}

/// The sleeps of the `timers-100k` row.
fn many_timers_plan() -> Vec<Duration> {
    let mut rng = SplitMix64(SEED);
    (0..MANY_TIMERS)
        .map(|_| rng.duration(MANY_TIMERS_SPAN))
        .collect()
}

/// The sleeps of the `timers-light` row, one list per task.
fn light_timers_plan() -> Vec<Vec<Duration>> {
    let mut rng = SplitMix64(SEED);
    (0..LIGHT_SLEEPERS)
        .map(|_| {
            (0..LIGHT_SLEEPS_EACH)
                .map(|_| rng.duration(LIGHT_SPAN))
                .collect()
        })
        .collect()
}

/// What a set of sleeps says about a runtime's timers.
#[derive(Debug)]
struct TimerReport {
    /// Sleeps that ended before their duration had passed.
    early: usize,
    /// The 99th percentile of (time asleep - duration asked for).
    p99_late: Duration,
}

impl TimerReport {
    /// Judges `(asked, slept)` pairs. `slept` was measured from just before
    /// the sleep was created, so it can only overstate the time asleep: a
    /// sleep counted as early really did wake too soon.
    fn new(naps: &[(Duration, Duration)]) -> TimerReport {
        let early = naps.iter().filter(|(asked, slept)| slept < asked).count();
        let mut late: Vec<Duration> = naps
            .iter()
            .map(|(asked, slept)| slept.saturating_sub(*asked))
            .collect();
        late.sort_unstable();
        let p99_late = match late.len() {
            0 => Duration::ZERO,
            len => late[(len * 99).div_ceil(100) - 1],
        };
        TimerReport { early, p99_late }
    }
}

/// Where the resident set size is read from.
const STATUS_PATH: &str = "/proc/self/status";

/// The resident set size of this process, in bytes (Linux only).
///
/// Read from the `VmRSS` line of `/proc/self/status`, which gives the same
/// number as the second field of `/proc/self/statm` but already in kB, so the
/// page size need not be known.
fn resident_bytes() -> Result<u64, BenchError> {
    let status = std::fs::read_to_string(STATUS_PATH).map_err(|error| BenchError::Rss {
        path: STATUS_PATH,
        detail: error.to_string(),
    })?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or_else(|| BenchError::Rss {
            path: STATUS_PATH,
            detail: "no VmRSS line".to_string(),
        })?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|_| BenchError::Rss {
            path: STATUS_PATH,
            detail: format!("unreadable line {line:?}"),
        })?;
    Ok(kib * 1024)
}

// ---------------------------------------------------------------------------
// Running: options, rounds, child processes
// ---------------------------------------------------------------------------

/// The three columns of the table, in the order they take turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Evloop,
    Tokio,
    Smol,
}

impl Contender {
    const ALL: [Contender; 3] = [Contender::Evloop, Contender::Tokio, Contender::Smol];

    fn name(self) -> &'static str {
        match self {
            Contender::Evloop => evloop_side::NAME,
            Contender::Tokio => tokio_side::NAME,
            Contender::Smol => smol_side::NAME,
        }
    }

    fn from_name(name: &str) -> Option<Contender> {
        Contender::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// What the command line and the environment asked for.
#[derive(Debug)]
struct Options {
    /// Keep only rows whose key contains one of these (all rows when empty).
    filters: Vec<String>,
    rounds: usize,
    warmups: usize,
    /// Print the rows instead of running them.
    list: bool,
    help: bool,
}

impl Options {
    /// Reads the arguments (without the program name) and `EVLOOP_BENCH_ROUNDS`.
    fn parse(
        args: impl IntoIterator<Item = String>,
        rounds_env: Option<String>,
    ) -> Result<Options, BenchError> {
        let mut options = Options {
            filters: Vec::new(),
            rounds: DEFAULT_ROUNDS,
            warmups: DEFAULT_WARMUPS,
            list: false,
            help: false,
        };
        if let Some(value) = rounds_env {
            options.rounds = parse_count(ROUNDS_ENV, &value, 1)?;
        }
        // `cargo bench` passes `--bench`; without it (`cargo test --benches`,
        // or the binary run by hand) this is a smoke run unless told otherwise.
        let mut benching = false;
        let mut rounds_given = false;
        let mut warmups_given = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_string(), Some(value.to_string()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| BenchError::Args(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "--bench" => benching = true,
                "--rounds" => {
                    options.rounds = parse_count("--rounds", &value("--rounds")?, 1)?;
                    rounds_given = true;
                }
                "--warmup" => {
                    options.warmups = parse_count("--warmup", &value("--warmup")?, 0)?;
                    warmups_given = true;
                }
                "--list" => options.list = true,
                "--help" | "-h" => options.help = true,
                other if other.starts_with('-') => {
                    eprintln!("runtimes bench: ignoring unknown option {other:?}");
                }
                _ => options.filters.push(arg),
            }
        }
        if !benching {
            if !rounds_given {
                options.rounds = 1;
            }
            if !warmups_given {
                options.warmups = 0;
            }
        }
        Ok(options)
    }

    fn selects(&self, workload: &Workload) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|f| workload.key.contains(f.as_str()))
    }
}

/// Parses a whole number of at least `min` for the option or variable `name`.
fn parse_count(name: &str, value: &str, min: usize) -> Result<usize, BenchError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(BenchError::Args(format!(
            "{name} must be a whole number of at least {min}, not {value:?}"
        ))),
    }
}

/// Runs one sample in a fresh copy of this binary and reads its result line.
fn run_in_child(workload: &Workload, runtime: Contender) -> Result<Sample, BenchError> {
    let spec = format!("{}:{}", workload.key, runtime.name());
    let child_error = |detail: String| BenchError::Child {
        spec: spec.clone(),
        detail,
    };
    let exe = std::env::current_exe()
        .map_err(|error| child_error(format!("cannot find own binary: {error}")))?;
    let output = Command::new(&exe)
        .env(CHILD_ENV, &spec)
        .output()
        .map_err(|error| child_error(format!("cannot start {}: {error}", exe.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(child_error(format!("{}: {}", output.status, stderr.trim())));
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(CHILD_RESULT))
        .ok_or_else(|| child_error(format!("no {CHILD_RESULT} line in its output {stdout:?}")))?;
    let sample = line
        .split_whitespace()
        .map(|field| field.parse::<f64>())
        .collect::<Result<Sample, _>>()
        .map_err(|_| child_error(format!("unreadable result line {line:?}")))?;
    if sample.len() != workload.metrics.len() {
        return Err(child_error(format!(
            "{} values where {} were expected",
            sample.len(),
            workload.metrics.len()
        )));
    }
    Ok(sample)
}

/// The child side of [`run_in_child`]: runs the one sample `spec` names and
/// prints it.
fn child_main(spec: &str) -> Result<(), BenchError> {
    let unknown = || BenchError::Child {
        spec: spec.to_string(),
        detail: "expected <workload key>:<evloop|tokio|smol>".to_string(),
    };
    let (key, runtime) = spec.split_once(':').ok_or_else(unknown)?;
    let runtime = Contender::from_name(runtime).ok_or_else(unknown)?;
    let workload = workloads()
        .into_iter()
        .find(|w| w.key == key)
        .ok_or_else(unknown)?;
    let sample = (workload.runner(runtime))()?;
    let fields: Vec<String> = sample.iter().map(|v| v.to_string()).collect();
    println!("{CHILD_RESULT} {}", fields.join(" "));
    Ok(())
}

/// The samples of one row, per runtime, in measured order.
#[derive(Debug, Default)]
struct Samples {
    by_runtime: [Vec<Sample>; 3],
}

/// Runs the warm-up and measured rounds of one row, the runtimes taking turns.
fn measure(workload: &Workload, options: &Options) -> Result<Samples, BenchError> {
    let warmups = if workload.isolated {
        0
    } else {
        options.warmups
    };
    let mut samples = Samples::default();
    for round in 0..warmups + options.rounds {
        for (slot, runtime) in Contender::ALL.into_iter().enumerate() {
            let sample = if workload.isolated {
                run_in_child(workload, runtime)?
            } else {
                (workload.runner(runtime))()?
            };
            if round >= warmups {
                samples.by_runtime[slot].push(sample);
            }
        }
    }
    Ok(samples)
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

/// Median, min and max of some samples.
#[derive(Debug, Clone, Copy)]
struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

impl Summary {
    /// Summarises `values`; `None` when there are none.
    fn of(values: &[f64]) -> Option<Summary> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let len = sorted.len();
        let median = match len {
            0 => return None,
            _ if len % 2 == 1 => sorted[len / 2],
            _ => (sorted[len / 2 - 1] + sorted[len / 2]) / 2.0,
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[len - 1],
        })
    }
}

/// Column widths of the table.
const W_ROW: usize = 26;
const W_CELL: usize = 24;
const W_RATIO: usize = 8;

fn print_header(options: &Options) {
    println!(
        "evloop vs tokio (current_thread) vs smol (LocalExecutor): median (min-max) of {} round(s) after {} warm-up, runtimes interleaved",
        options.rounds, options.warmups
    );
    println!(
        "{:<W_ROW$}{:<W_CELL$}{:<W_CELL$}{:<W_CELL$}{:>W_RATIO$}{:>W_RATIO$}  evloop ahead?",
        "workload / metric", "evloop", "tokio", "smol", "ev/tok", "ev/smol"
    );
    println!("{}", "-".repeat(W_ROW + 3 * W_CELL + 2 * W_RATIO + 16));
}

/// Prints the lines of one row: one per metric.
fn print_row(workload: &Workload, samples: &Samples) {
    for (index, metric) in workload.metrics.iter().enumerate() {
        let summaries: Vec<Option<Summary>> = samples
            .by_runtime
            .iter()
            .map(|runs| Summary::of(&runs.iter().map(|s| s[index]).collect::<Vec<_>>()))
            .collect();
        let name = format!("{} {}", workload.key, metric.label);
        let cells: Vec<String> = summaries
            .iter()
            .map(|s| format_cell(*s, metric.unit))
            .collect();
        let (ratio_tokio, ratio_smol, verdict) = judge(&summaries, metric.unit);
        println!(
            "{name:<W_ROW$}{:<W_CELL$}{:<W_CELL$}{:<W_CELL$}{ratio_tokio:>W_RATIO$}{ratio_smol:>W_RATIO$}  {verdict}",
            cells[0], cells[1], cells[2]
        );
    }
}

/// The two ratio cells and the verdict of one line.
fn judge(summaries: &[Option<Summary>], unit: Unit) -> (String, String, String) {
    let (Some(evloop), Some(tokio), Some(smol)) = (summaries[0], summaries[1], summaries[2]) else {
        return ("-".into(), "-".into(), "no samples".into());
    };
    if unit == Unit::MustBeZero {
        let verdict = if evloop.max == 0.0 {
            "ok".to_string()
        } else {
            format!("FAIL: up to {} in a run", evloop.max)
        };
        return ("-".into(), "-".into(), verdict);
    }
    let ratio = |other: Summary| {
        if other.median > 0.0 {
            format!("{:.2}", evloop.median / other.median)
        } else {
            "-".to_string()
        }
    };
    (ratio(tokio), ratio(smol), verdict(evloop, tokio, smol))
}

/// Says whether evloop's median is below both others', and whether that is
/// within noise: evloop's (min-max) range overlaps the other's.
fn verdict(evloop: Summary, tokio: Summary, smol: Summary) -> String {
    let others = [("tokio", tokio), ("smol", smol)];
    let overlaps = |other: &Summary| evloop.min <= other.max && other.min <= evloop.max;
    if others.iter().all(|(_, other)| evloop.median < other.median) {
        return if others.iter().any(|(_, other)| overlaps(other)) {
            "yes, within noise".to_string()
        } else {
            "yes".to_string()
        };
    }
    let standing = |(name, other): &(&str, Summary)| {
        if evloop.median < other.median {
            None
        } else if evloop.median == other.median {
            Some(format!("tied with {name}"))
        } else if overlaps(other) {
            Some(format!("behind {name} (within noise)"))
        } else {
            Some(format!("behind {name}"))
        }
    };
    let reasons: Vec<String> = others.iter().filter_map(standing).collect();
    format!("no: {}", reasons.join(", "))
}

/// `median (min-max) unit`, in a unit chosen for the median.
fn format_cell(summary: Option<Summary>, unit: Unit) -> String {
    let Some(s) = summary else {
        return "-".to_string();
    };
    match unit {
        Unit::Seconds => {
            let (scale, name) = if s.median >= 1.0 {
                (1.0, "s")
            } else if s.median >= 1e-3 {
                (1e3, "ms")
            } else {
                (1e6, "us")
            };
            format!(
                "{} ({}-{}) {name}",
                three_digits(s.median * scale),
                three_digits(s.min * scale),
                three_digits(s.max * scale)
            )
        }
        Unit::BytesPerTask => format!("{:.0} ({:.0}-{:.0}) B", s.median, s.min, s.max),
        Unit::MustBeZero => format!("{} ({}-{})", s.median, s.min, s.max),
    }
}

/// A number with about three significant digits.
fn three_digits(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn print_help() {
    println!(
        "usage: cargo bench [--bench runtimes] -- [FILTER...] [--rounds N] [--warmup N] [--list]"
    );
    println!();
    println!("  FILTER      run only rows whose key contains it (several: any of them)");
    println!(
        "  --rounds N  measured rounds per row (default {DEFAULT_ROUNDS}; also {ROUNDS_ENV}=N)"
    );
    println!("  --warmup N  discarded rounds before them (default {DEFAULT_WARMUPS})");
    println!("  --list      print the rows and exit");
}

fn print_list(rows: &[Workload]) {
    for workload in rows {
        let isolated = if workload.isolated { " [isolated]" } else { "" };
        println!("{:<14}{}{isolated}", workload.key, workload.about);
    }
}

fn run(options: &Options) -> Result<(), BenchError> {
    let rows: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| options.selects(w))
        .collect();
    if options.help {
        print_help();
        return Ok(());
    }
    if options.list {
        print_list(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        return Err(BenchError::Args(format!(
            "no row matches {:?}; `cargo bench -- --list` shows the rows",
            options.filters
        )));
    }
    let started = Instant::now();
    print_header(options);
    let mut failures = 0;
    for workload in &rows {
        match measure(workload, options) {
            Ok(samples) => print_row(workload, &samples),
            Err(error) => {
                failures += 1;
                println!("{:<W_ROW$}error: {error}", workload.key);
            }
        }
    }
    println!();
    print_list(&rows);
    println!(
        "ratios are evloop's median over the other's: below 1.00, evloop took less. Whole run: {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    if failures > 0 {
        return Err(BenchError::Rows(failures));
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = match std::env::var(CHILD_ENV) {
        Ok(spec) => child_main(&spec),
        Err(_) => Options::parse(std::env::args().skip(1), std::env::var(ROUNDS_ENV).ok())
            .and_then(|o| run(&o)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("runtimes bench: {error}");
            ExitCode::FAILURE
        }
    }
}
