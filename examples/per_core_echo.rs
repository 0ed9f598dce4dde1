//! Run: `cargo run --release --example per_core_echo -- compare`
//!
//! One TCP echo server, three ways, each measured with the same clients:
//!
//! * **one loop**: one evloop runtime on one thread, one listener;
//! * **one loop per core**: one evloop runtime per thread, each with a
//!   listener of its own on the *same* port (`SO_REUSEPORT`), so that the
//!   kernel spreads the incoming connections over the loops;
//! * **tokio multi-thread**: one listener, and tokio's work-stealing
//!   scheduler spreading the connections' tasks over its worker threads.
//!
//! You will see something like this (4 December 2026, a release build on a
//! 2-core virtual machine that several developers' builds kept busy; the
//! absolute figures there rose and fell by half with the machine's load):
//!
//! ```text
//! per_core_echo compare: 100 connections x 1000 round trips of 64 bytes, 1 client thread(s), 3 run(s), median shown
//! work per request: 0 rounds of hashing (about 0.0 µs of CPU); an evloop connection yields after 1 request(s) in a row (0: never)
//! machine: Intel(R) Xeon(R) Processor, 2 cores, load average 16.16
//! server                      requests/s   p50 µs   p99 µs   server CPU s   client CPU s
//! one loop                        83,254      398     8146           0.22           0.23
//! one loop per core (2)           75,427      394     8060           0.27           0.25
//! tokio multi-thread (2)          70,918      382    13514           0.30           0.30
//! ```
//!
//! With no work per request one client thread cannot keep even one loop
//! busy, so the three serve alike. With `--work 200` (about 14 µs of CPU per
//! request) the server becomes the bottleneck and the second core pays:
//! 13,165 requests/s for one loop, 20,614 for one loop per core, 17,157 for
//! tokio, on the same machine (the book's chapter "One loop per core" has
//! the whole table and its command).
//!
//! Each run starts a server on a free port, connects every client, then
//! times the round trips: each connection writes 64 bytes, waits for the
//! echo, checks it, and writes again. `server CPU` is the CPU time of the
//! whole process during the timed part, minus that of the client threads.
//! `--work ROUNDS` gives each request some CPU work on the server (rounds
//! of a hash over the message); that is where one loop per core pays.
//!
//! The other two modes:
//!
//! * `cargo run --release --example per_core_echo` serves on
//!   127.0.0.1:7879 with one loop per core until you stop it, and prints how
//!   many connections each loop has accepted whenever that changes:
//!
//!   ```text
//!   per_core_echo: 2 loops on 127.0.0.1:7879, one SO_REUSEPORT listener each, 0 rounds of work per request
//!   try: nc 127.0.0.1 7879, or in another terminal: cargo run --release --example per_core_echo -- client
//!   connections accepted per loop: [52, 48]
//!   ```
//!
//! * `cargo run --release --example per_core_echo -- client --connections 100 --round-trips 1000`
//!   loads that server and prints one line of results.
//!
//! Options (each mode takes only those that apply to it): `--threads N`
//! (server loops or tokio workers; default: the number of cores),
//! `--port P` (default 7879), `--connections C` (default 100),
//! `--round-trips R` (per connection; default 1000), `--client-threads T`
//! (client loops; default 1), `--work ROUNDS` (default 0), `--yield-every N`
//! (an evloop connection yields to its loop after every N requests, 0 for
//! never; default 1: see `Service::yield_every`), `--runs K` (compare: runs
//! of each server, interleaved; default 3).
//!
//! Simplified on purpose: everything binds 127.0.0.1 only; the loops are
//! not pinned to cores (glommio does that); the client and the server share
//! one machine, and in `compare` one process, so they compete for the same
//! cores, which is fair to every server alike but is not how a real server
//! is loaded. The kernel balances connections over `SO_REUSEPORT` listeners
//! on Linux; other systems accept the option but may send every connection
//! to one listener.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::sync::oneshot;
use rustix::time::{ClockId, clock_gettime};
use socket2::{Domain, Protocol, Socket, Type};

/// The port `serve` listens on and `client` connects to, unless told otherwise.
pub const DEFAULT_PORT: u16 = 7879;
/// Bytes in one request (and in its echo).
pub const MESSAGE_BYTES: usize = 64;
/// Client connections, unless told otherwise.
pub const DEFAULT_CONNECTIONS: usize = 100;
/// Round trips per connection, unless told otherwise.
pub const DEFAULT_ROUND_TRIPS: u32 = 1_000;
/// Runs of each server in `compare`, unless told otherwise.
pub const DEFAULT_RUNS: u32 = 3;
/// The most server loops (or tokio workers) and client threads.
pub const MAX_THREADS: usize = 256;
/// The most connections: in `compare` the client and the server share one
/// process, two descriptors per connection, under the usual soft limit of
/// 1,024 open files.
pub const MAX_CONNECTIONS: usize = 500;
/// The most round trips per connection.
pub const MAX_ROUND_TRIPS: u32 = 1_000_000;
/// The most round trips in one run: each one's latency is kept (8 bytes).
pub const MAX_REQUESTS: u64 = 10_000_000;
/// The most rounds of work per request (about 10 ms on a 2020s core).
pub const MAX_WORK: u32 = 100_000;
/// Requests a connection serves in a row before it yields, unless told
/// otherwise: one, which is what tokio's sockets amount to (see
/// [`Service::yield_every`]).
pub const DEFAULT_YIELD_EVERY: u32 = 1;
/// The largest `--yield-every`.
pub const MAX_YIELD_EVERY: u32 = 1_000_000;
/// The most runs of each server in `compare`.
pub const MAX_RUNS: u32 = 20;
/// How many connections may wait in each listener's accept queue.
const BACKLOG: i32 = 1_024;
/// How much one read may take at a time.
const BUFFER_SIZE: usize = 4_096;
/// How long to back off when `accept` itself fails (out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How often `serve` looks at the loops' counts.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Stands in for what a real server does with a request (parse it, look
/// something up, render an answer): `rounds` passes of FNV-1a over the
/// message. The result is thrown away, through `black_box` so that the
/// compiler cannot throw the work away with it.
pub fn busy_work(message: &[u8], rounds: u32) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for _ in 0..rounds {
        for &byte in message {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    std::hint::black_box(hash)
}

/// A nonblocking listener on `addr`; with `reuse_port`, one that shares
/// its port with every other listener made the same way by this user
/// (`SO_REUSEPORT`, set before `bind`). Port 0 picks a free port.
///
/// # Errors
///
/// If the address is taken by a listener without the option (or by another
/// user), or cannot be bound at all; the message names the address.
pub fn listener(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("listening on {addr}: {e}"));
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if reuse_port {
        socket.set_reuse_port(true).map_err(named)?;
    }
    socket.bind(&addr.into()).map_err(named)?;
    socket.listen(BACKLOG).map_err(named)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// What the evloop servers do per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// Rounds of [`busy_work`] per request.
    pub work: u32,
    /// A connection yields to the loop after this many requests in a row
    /// (0: never). Without it, a connection whose next request is already
    /// there when its echo has been written reads it at once, never returns
    /// `Pending`, and keeps the loop to itself while its client keeps up.
    /// tokio's sockets avoid that another way: a read that did not fill the
    /// buffer counts as having drained the socket, so the next read waits
    /// for the poller, which amounts to a yield per request.
    pub yield_every: u32,
}

/// Echoes one connection until the client closes it, doing the service's
/// work per read (one request: the client sends one and waits).
async fn echo(conn: TcpStream, service: Service) -> io::Result<()> {
    // 64-byte answers must leave at once, not wait for more (Nagle).
    conn.set_nodelay(true)?;
    let mut buf = [0u8; BUFFER_SIZE];
    let mut served = 0u32;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        busy_work(&buf[..n], service.work);
        conn.write_all(&buf[..n]).await?;
        served = served.wrapping_add(1);
        if service.yield_every != 0 && served.is_multiple_of(service.yield_every) {
            // Let the other connections of this loop have a turn.
            evloop::yield_now().await;
        }
    }
}

/// One loop's accept loop: a task per connection, counted in `accepted`.
async fn serve_loop(listener: TcpListener, accepted: Arc<AtomicU64>, service: Service) {
    loop {
        match listener.accept().await {
            Ok((conn, _peer)) => {
                accepted.fetch_add(1, Ordering::Relaxed);
                evloop::spawn(async move {
                    // A reset ends that client only; the benchmark's client
                    // reports its own errors.
                    let _ = echo(conn, service).await;
                });
            }
            Err(e) => {
                // This one accept failed (out of descriptors, a connection
                // aborted in the queue); the listener is fine: wait, go on.
                eprintln!("accept failed: {e}");
                evloop::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// One loop of a [`PerCoreServer`]: its thread, how to stop it, its count.
#[derive(Debug)]
struct Loop {
    stop: oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
    accepted: Arc<AtomicU64>,
}

/// An echo server of `n` evloop runtimes, one per thread, each with its own
/// `SO_REUSEPORT` listener on one shared port. Nothing is shared between
/// the loops but the port, and the kernel decides which loop gets each
/// connection. Stopped (each loop's tasks cancelled) when dropped.
#[derive(Debug)]
pub struct PerCoreServer {
    addr: SocketAddr,
    loops: Vec<Loop>,
}

impl PerCoreServer {
    /// Starts `loops` loops serving `addr` (port 0: a free port, the same
    /// for all). Every listener is bound and listening, and every loop
    /// running, when this returns.
    ///
    /// # Errors
    ///
    /// If a listener cannot be made, a thread started, or a runtime built.
    pub fn start(loops: usize, addr: SocketAddr, service: Service) -> io::Result<PerCoreServer> {
        // All listeners first: a connection that arrives before the second
        // listener exists can only go to the first.
        let first = listener(addr, true)?;
        let addr = first.local_addr()?; // the port the kernel chose, if 0
        let mut listeners = vec![first];
        for _ in 1..loops {
            listeners.push(listener(addr, true)?);
        }

        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
        let mut server = PerCoreServer {
            addr,
            loops: Vec::new(),
        };
        for (index, std_listener) in listeners.into_iter().enumerate() {
            let (stop, stopped) = oneshot::channel::<()>();
            let accepted = Arc::new(AtomicU64::new(0));
            let count = Arc::clone(&accepted);
            let ready = ready_tx.clone();
            let thread = thread::Builder::new()
                .name(format!("echo-loop-{index}"))
                .spawn(move || run_loop(std_listener, count, service, ready, stopped))?;
            server.loops.push(Loop {
                stop,
                thread,
                accepted,
            });
        }
        drop(ready_tx);
        for _ in 0..loops {
            // A loop that failed to start reports why; the others are
            // stopped when `server` is dropped on the way out.
            ready_rx
                .recv()
                .map_err(|_| io::Error::other("a server loop ended before starting"))??;
        }
        Ok(server)
    }

    /// The address every loop listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far, per loop.
    pub fn accepted(&self) -> Vec<u64> {
        let count = |l: &Loop| l.accepted.load(Ordering::Relaxed);
        self.loops.iter().map(count).collect()
    }

    /// Stops every loop and waits for its thread; returns the connections
    /// each loop accepted.
    pub fn stop(mut self) -> Vec<u64> {
        let accepted = self.accepted();
        self.shut_down();
        accepted
    }

    fn shut_down(&mut self) {
        for l in self.loops.drain(..) {
            // Fails only if the loop already ended; joining then tells why.
            let _ = l.stop.send(());
            if l.thread.join().is_err() {
                eprintln!("a server loop panicked");
            }
        }
    }
}

impl Drop for PerCoreServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The body of one loop's thread: its own runtime, its own listener, until
/// `stopped` fires. Dropping the runtime at the end cancels the connection
/// tasks, which closes their sockets.
fn run_loop(
    std_listener: std::net::TcpListener,
    accepted: Arc<AtomicU64>,
    service: Service,
    ready: mpsc::Sender<io::Result<()>>,
    stopped: oneshot::Receiver<()>,
) {
    let rt = match evloop::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e)); // `start` reports it
            return;
        }
    };
    rt.block_on(async move {
        // `from_std` registers the socket with *this* thread's reactor.
        let listener = match TcpListener::from_std(std_listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        evloop::select(serve_loop(listener, accepted, service), stopped).await;
    });
}

/// The same echo server on tokio's multi-threaded runtime: one listener,
/// one task per connection (`tokio::spawn`, so the task must be `Send`), and
/// the scheduler moving tasks between its worker threads as it sees fit.
#[derive(Debug)]
pub struct TokioServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
    accepted: Arc<AtomicU64>,
}

impl TokioServer {
    /// Starts a runtime of `workers` threads serving `addr`, with `work`
    /// rounds of [`busy_work`] per request.
    ///
    /// # Errors
    ///
    /// If the listener cannot be made or the runtime built.
    pub fn start(workers: usize, addr: SocketAddr, work: u32) -> io::Result<TokioServer> {
        let std_listener = listener(addr, false)?; // the same backlog as the loops'
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all() // IO, and the timer of the accept back-off
            .build()?;
        let listener = {
            let _inside = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let accepted = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&accepted);
        runtime.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((conn, _peer)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(async move {
                            let _ = tokio_echo(conn, work).await; // as in `serve_loop`
                        });
                    }
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                }
            }
        });
        Ok(TokioServer {
            addr,
            runtime: Some(runtime),
            accepted,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the runtime (its tasks are dropped); returns the connections
    /// it accepted.
    pub fn stop(mut self) -> u64 {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        self.accepted.load(Ordering::Relaxed)
    }
}

/// [`echo`], on tokio's sockets.
async fn tokio_echo(mut conn: tokio::net::TcpStream, work: u32) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    conn.set_nodelay(true)?;
    let mut buf = [0u8; BUFFER_SIZE];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        busy_work(&buf[..n], work);
        conn.write_all(&buf[..n]).await?;
    }
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct Load {
    /// Round trips completed (each one checked).
    pub requests: u64,
    /// From the first request to the last echo.
    pub elapsed: Duration,
    /// Every round trip's latency, sorted.
    pub latencies: Vec<Duration>,
    /// CPU time of the client threads during the timed part.
    pub client_cpu: Duration,
    /// CPU time of the whole process during the timed part.
    pub process_cpu: Duration,
}

impl Load {
    /// Round trips per second.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency below which `fraction` of the round trips fall (nearest rank).
    pub fn percentile(&self, fraction: f64) -> Duration {
        let rank = (self.latencies.len() as f64 * fraction).ceil() as usize;
        self.latencies
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or_default()
    }
}

/// The CPU time used so far by the calling thread.
fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The CPU time used so far by the whole process.
fn process_cpu() -> Duration {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The request connection `conn` sends in round `round`: bytes that differ
/// from one connection and round to the next, so that an echo that went
/// to the wrong client, or came back stale, shows.
fn message(conn: usize, round: u32) -> [u8; MESSAGE_BYTES] {
    let mut bytes = [0u8; MESSAGE_BYTES];
    for (k, byte) in bytes.iter_mut().enumerate() {
        *byte = (conn as u8).wrapping_mul(31) ^ (round as u8).wrapping_mul(7) ^ k as u8;
    }
    bytes
}

/// Opens `connections` connections to `addr`, spread over `threads` client
/// threads (each an evloop runtime), then has each one do `round_trips`
/// round trips back to back, checking every echo.
///
/// # Errors
///
/// The first failure of any connection, naming it and its round: refused,
/// reset, closed early, or an echo that differs from what was sent.
pub fn run_load(
    addr: SocketAddr,
    connections: usize,
    round_trips: u32,
    threads: usize,
) -> io::Result<Load> {
    let threads = threads.clamp(1, connections.max(1));
    let start_line = Arc::new(StartLine {
        connected: Barrier::new(threads + 1),
        go: Barrier::new(threads + 1),
    });
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let start_line = Arc::clone(&start_line);
            // Connection i belongs to thread i % threads.
            let mine: Vec<usize> = (t..connections).step_by(threads).collect();
            thread::Builder::new()
                .name(format!("echo-client-{t}"))
                .spawn(move || client_thread(addr, mine, round_trips, &start_line))
        })
        .collect::<io::Result<_>>()?;
    // Every client is connected and waiting: read the clocks, then let go.
    start_line.connected.wait();
    let (started, process_before) = (Instant::now(), process_cpu());
    start_line.go.wait();

    let mut load = Load {
        requests: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(connections * round_trips as usize),
        client_cpu: Duration::ZERO,
        process_cpu: Duration::ZERO,
    };
    let mut first_error = None;
    let mut finished = started;
    for worker in workers {
        match worker.join().expect("a client thread does not panic") {
            Ok(done) => {
                load.latencies.extend(done.latencies);
                load.client_cpu += done.cpu;
                finished = finished.max(done.finished);
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    load.process_cpu = process_cpu().saturating_sub(process_before);
    load.elapsed = finished - started;
    load.requests = load.latencies.len() as u64;
    load.latencies.sort_unstable();
    Ok(load)
}

/// Where the client threads wait for each other and for the main thread:
/// all connected, then all go. Between the two, nobody runs, so the main
/// thread's clocks start before any client's.
struct StartLine {
    connected: Barrier,
    go: Barrier,
}

/// What one client thread brings back.
struct ClientDone {
    latencies: Vec<Duration>,
    cpu: Duration,
    finished: Instant,
}

/// One client thread: connects its connections, waits at the start line,
/// then runs every connection's round trips as a task of its own.
fn client_thread(
    addr: SocketAddr,
    mine: Vec<usize>,
    round_trips: u32,
    start_line: &StartLine,
) -> io::Result<ClientDone> {
    let prepared = evloop::Runtime::new().and_then(|rt| {
        let streams = rt.block_on(evloop::try_join_all(mine.iter().map(|&i| async move {
            let named =
                |e: io::Error| io::Error::new(e.kind(), format!("client connection {i}: {e}"));
            let stream = TcpStream::connect(addr).await.map_err(named)?;
            stream.set_nodelay(true).map_err(named)?;
            io::Result::Ok((i, stream))
        })))?;
        Ok((rt, streams))
    });
    // Wait at the line even after a failure: the others wait for everyone.
    start_line.connected.wait();
    start_line.go.wait();
    let (rt, streams) = prepared?;
    let cpu_before = thread_cpu();
    let latencies = rt.block_on(async move {
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|(i, stream)| evloop::spawn(round_trips_on(i, stream, round_trips)))
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(
                task.await
                    .expect("a client task neither panics nor is cancelled")?,
            );
        }
        io::Result::Ok(latencies)
    })?;
    let finished = Instant::now();
    drop(rt); // closing the client's sockets is the client's CPU time too
    Ok(ClientDone {
        latencies,
        cpu: thread_cpu().saturating_sub(cpu_before),
        finished,
    })
}

/// One connection's round trips, each timed from its write to its echo.
async fn round_trips_on(
    i: usize,
    stream: TcpStream,
    round_trips: u32,
) -> io::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(round_trips as usize);
    let mut echo = [0u8; MESSAGE_BYTES];
    for round in 0..round_trips {
        let named = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("client connection {i}, round {round}: {e}"),
            )
        };
        let request = message(i, round);
        let sent = Instant::now();
        stream.write_all(&request).await.map_err(named)?;
        stream.read_exact(&mut echo).await.map_err(named)?;
        latencies.push(sent.elapsed());
        if echo != request {
            return Err(io::Error::other(format!(
                "client connection {i}, round {round}: the echo differs from the request"
            )));
        }
    }
    Ok(latencies)
}

/// Which mode the program runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Serve with one loop per core until killed.
    Serve,
    /// Load a running server.
    Client,
    /// Measure the three servers in turn.
    Compare,
}

/// The command line's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `serve` (the default), `client` or `compare`.
    pub mode: Mode,
    /// `--threads`: server loops, or tokio workers.
    pub threads: usize,
    /// `--port`: where `serve` listens and `client` connects.
    pub port: u16,
    /// `--connections`: client connections.
    pub connections: usize,
    /// `--round-trips`: per connection.
    pub round_trips: u32,
    /// `--client-threads`: client loops.
    pub client_threads: usize,
    /// `--work`: rounds of [`busy_work`] per request.
    pub work: u32,
    /// `--yield-every`: see [`Service::yield_every`].
    pub yield_every: u32,
    /// `--runs`: runs of each server in `compare`.
    pub runs: u32,
}

impl Options {
    /// What the evloop servers do per request.
    pub fn service(&self) -> Service {
        Service {
            work: self.work,
            yield_every: self.yield_every,
        }
    }
}

/// Parses `--name VALUE` as a number in `min..=max`.
fn number<T>(name: &str, value: Option<String>, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let value = value.ok_or_else(|| format!("{name} needs a value"))?;
    match value.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(format!(
            "{name} {value:?}: expected a number from {min} to {max}"
        )),
    }
}

/// Reads the options from `args` (without the program's name): an optional
/// mode (`serve`, `client`, `compare`), then the flags that mode takes.
///
/// # Errors
///
/// A one-line message: an unknown mode or flag, a flag the mode does not
/// take, a missing or out-of-range value.
pub fn parse_options(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut options = Options {
        mode: Mode::Serve,
        threads: cores.min(MAX_THREADS),
        port: DEFAULT_PORT,
        connections: DEFAULT_CONNECTIONS,
        round_trips: DEFAULT_ROUND_TRIPS,
        client_threads: 1,
        work: 0,
        yield_every: DEFAULT_YIELD_EVERY,
        runs: DEFAULT_RUNS,
    };
    let mut args = args.into_iter().peekable();
    match args.peek().map(String::as_str) {
        Some("serve") => options.mode = Mode::Serve,
        Some("client") => options.mode = Mode::Client,
        Some("compare") => options.mode = Mode::Compare,
        Some(flag) if flag.starts_with("--") => {}
        Some(other) => {
            return Err(format!(
                "unknown mode {other:?} (expected serve, client or compare)"
            ));
        }
        None => {}
    }
    if args.peek().is_some_and(|a| !a.starts_with("--")) {
        args.next();
    }
    let allowed: &[&str] = match options.mode {
        Mode::Serve => &["--threads", "--port", "--work", "--yield-every"],
        Mode::Client => &[
            "--port",
            "--connections",
            "--round-trips",
            "--client-threads",
        ],
        Mode::Compare => &[
            "--threads",
            "--connections",
            "--round-trips",
            "--client-threads",
            "--work",
            "--yield-every",
            "--runs",
        ],
    };
    while let Some(flag) = args.next() {
        if !allowed.contains(&flag.as_str()) {
            return Err(format!(
                "{flag:?} is not an option of this mode (it takes {})",
                allowed.join(", ")
            ));
        }
        let value = args.next();
        match flag.as_str() {
            "--threads" => options.threads = number(&flag, value, 1, MAX_THREADS)?,
            "--port" => options.port = number(&flag, value, 1, u16::MAX)?,
            "--connections" => options.connections = number(&flag, value, 1, MAX_CONNECTIONS)?,
            "--round-trips" => options.round_trips = number(&flag, value, 1, MAX_ROUND_TRIPS)?,
            "--client-threads" => options.client_threads = number(&flag, value, 1, MAX_THREADS)?,
            "--work" => options.work = number(&flag, value, 0, MAX_WORK)?,
            "--yield-every" => options.yield_every = number(&flag, value, 0, MAX_YIELD_EVERY)?,
            "--runs" => options.runs = number(&flag, value, 1, MAX_RUNS)?,
            _ => unreachable!("every allowed flag has an arm"),
        }
    }
    let requests = options.connections as u64 * u64::from(options.round_trips);
    if requests > MAX_REQUESTS {
        return Err(format!(
            "--connections x --round-trips is {requests}: expected at most {MAX_REQUESTS}"
        ));
    }
    Ok(options)
}

/// One line naming the machine: CPU model, cores, load average (Linux's
/// `/proc`; "unknown" elsewhere).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    format!("{cpu}, {cores} cores, load average {load}")
}

/// The CPU time one request's work takes on this thread, measured.
fn work_cost(rounds: u32) -> Duration {
    const SAMPLES: u32 = 1_000;
    let request = message(0, 0);
    let before = thread_cpu();
    for _ in 0..SAMPLES {
        busy_work(&request, rounds);
    }
    thread_cpu().saturating_sub(before) / SAMPLES
}

/// The three servers of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// One evloop runtime, one thread, one listener.
    OneLoop,
    /// `--threads` evloop runtimes, each with its own listener.
    PerCore,
    /// tokio's multi-threaded runtime with `--threads` workers.
    Tokio,
}

impl Contender {
    /// Starts this server on a free port, runs the load against it, stops it.
    ///
    /// # Errors
    ///
    /// If the server cannot start, or the load fails (see [`run_load`]).
    pub fn measure(self, options: &Options) -> io::Result<Load> {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        let load = |addr| {
            run_load(
                addr,
                options.connections,
                options.round_trips,
                options.client_threads,
            )
        };
        match self {
            Contender::OneLoop | Contender::PerCore => {
                let loops = if self == Contender::OneLoop {
                    1
                } else {
                    options.threads
                };
                let server = PerCoreServer::start(loops, any_port, options.service())?;
                let result = load(server.addr());
                server.stop();
                result
            }
            Contender::Tokio => {
                let server = TokioServer::start(options.threads, any_port, options.work)?;
                let result = load(server.addr());
                server.stop();
                result
            }
        }
    }

    fn label(self, threads: usize) -> String {
        match self {
            Contender::OneLoop => "one loop".to_string(),
            Contender::PerCore => format!("one loop per core ({threads})"),
            Contender::Tokio => format!("tokio multi-thread ({threads})"),
        }
    }
}

/// Runs every server `options.runs` times, interleaved (so a burst of
/// load from elsewhere hurts them alike), and prints the median run of each.
fn compare(options: &Options) -> io::Result<()> {
    let contenders = [Contender::OneLoop, Contender::PerCore, Contender::Tokio];
    println!(
        "per_core_echo compare: {} connections x {} round trips of {MESSAGE_BYTES} bytes, \
         {} client thread(s), {} run(s), median shown",
        options.connections, options.round_trips, options.client_threads, options.runs
    );
    println!(
        "work per request: {} rounds of hashing (about {:.1} µs of CPU); an evloop connection yields after {} request(s) in a row (0: never)",
        options.work,
        work_cost(options.work).as_secs_f64() * 1e6,
        options.yield_every
    );
    println!("machine: {}", machine());
    let mut loads: Vec<Vec<Load>> = vec![Vec::new(); contenders.len()];
    for _ in 0..options.runs {
        for (contender, runs) in contenders.iter().zip(&mut loads) {
            runs.push(contender.measure(options)?);
        }
    }
    println!(
        "{:<26} {:>11} {:>8} {:>8} {:>14} {:>14}",
        "server", "requests/s", "p50 µs", "p99 µs", "server CPU s", "client CPU s"
    );
    for (contender, mut runs) in contenders.iter().zip(loads) {
        runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        let median = &runs[runs.len() / 2];
        println!(
            "{:<26} {:>11} {:>8} {:>8} {:>14.2} {:>14.2}",
            contender.label(options.threads),
            thousands(median.per_second() as u64),
            median.percentile(0.50).as_micros(),
            median.percentile(0.99).as_micros(),
            median
                .process_cpu
                .saturating_sub(median.client_cpu)
                .as_secs_f64(),
            median.client_cpu.as_secs_f64(),
        );
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Serves until killed, printing the loops' counts whenever they change.
fn serve(options: &Options) -> io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    let server = PerCoreServer::start(options.threads, addr, options.service())?;
    println!(
        "per_core_echo: {} loops on {addr}, one SO_REUSEPORT listener each, {} rounds of work per request",
        options.threads, options.work
    );
    println!(
        "try: nc {} {}, or in another terminal: cargo run --release --example per_core_echo -- client",
        addr.ip(),
        addr.port()
    );
    let mut shown = server.accepted();
    loop {
        thread::sleep(REPORT_EVERY);
        let now = server.accepted();
        if now != shown {
            println!("connections accepted per loop: {now:?}");
            shown = now;
        }
    }
}

/// Loads a running server and prints one line.
fn client(options: &Options) -> io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    println!(
        "client: {} connections to {addr}, {} round trips of {MESSAGE_BYTES} bytes each, {} client thread(s)",
        options.connections, options.round_trips, options.client_threads
    );
    let load = run_load(
        addr,
        options.connections,
        options.round_trips,
        options.client_threads,
    )?;
    println!(
        "{} requests in {:.2} s: {} requests/s, p50 {} µs, p99 {} µs, client CPU {:.2} s",
        load.requests,
        load.elapsed.as_secs_f64(),
        thousands(load.per_second() as u64),
        load.percentile(0.50).as_micros(),
        load.percentile(0.99).as_micros(),
        load.client_cpu.as_secs_f64()
    );
    Ok(())
}

fn main() {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            // Bad input is the user's to fix: say so, and exit non-zero.
            eprintln!("per_core_echo: {message}");
            std::process::exit(2);
        }
    };
    let result = match options.mode {
        Mode::Serve => serve(&options),
        Mode::Client => client(&options),
        Mode::Compare => compare(&options),
    };
    if let Err(e) = result {
        // The port is taken, the server is not there, or a connection
        // failed: the message names which.
        eprintln!("per_core_echo: {e}");
        std::process::exit(1);
    }
}
