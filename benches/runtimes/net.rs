//! The socket rows: `tcp-echo` (100 clients on the runtime under test,
//! each doing round trips back to back) and the scale row `tcp-10k` (10,000
//! connections, each doing one round trip a second for 10 s, the load coming
//! from a separate process so that only the server runs on the runtime under
//! test).
//!
//! For `tcp-10k` the server listens with a backlog of one slot per
//! connection (socket2; the kernel caps it at `net.core.somaxconn`), raises
//! its file-descriptor limit, and reads the CPU time of its loop thread
//! between the moment the last connection is accepted and the moment the
//! last one closes. The load client (`load_client.rs`) runs on plain mio in
//! a child process, the same for every runtime, and reports the round trips
//! it timed.

use std::io;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::BenchError;
use crate::machine::CpuTimes;
use crate::rows::Load;

/// Bytes per echo message, in both socket rows.
pub const ECHO_BYTES: usize = 64;
/// File descriptors a process needs beyond one per connection (the
/// listener, the poller, pipes, the standard streams, the binary's own).
pub const FD_MARGIN: u64 = 64;
/// How often the `tcp-10k` server looks whether its load client has ended.
pub const CLIENT_CHECK: Duration = Duration::from_millis(20);
/// How long the `tcp-10k` server waits, after its client ended, for every
/// connection to be seen closed.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// The first argument that turns this binary into the `tcp-10k` load client.
pub const LOAD_CLIENT_FLAG: &str = "--load-client";
/// Prefix of the line on which the load client reports.
pub const LOAD_RESULT: &str = "EVLOOP_BENCH_LOAD";

/// The socket workloads, written once and compiled against each runtime
/// (see [`task_workloads!`] for how the names resolve), over each runtime
/// module's small adapters (`bind`, `listener_from_std`, `accept`,
/// `connect`, `read`, `write_all`).
macro_rules! net_workloads {
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

        /// What the server side of the `tcp-10k` row counts.
        static TALLY: ServerTally = ServerTally::new();

        /// Serves `load.connections` echo connections from a load client in
        /// another process; reports the client's median and p99 round trip, the CPU
        /// time of the loop thread and of the whole process while every
        /// connection was open, and the round trips that went missing.
        pub fn many_connections(load: Load) -> Result<Sample, BenchError> {
            ensure_fds(load.connections as u64 + FD_MARGIN, "the tcp-10k server")?;
            let listener = backlog_listener(load.connections).map_err(io_error)?;
            let addr = listener.local_addr().map_err(io_error)?;
            TALLY.reset();
            let expected = load.connections;
            block_on(async move {
                let listener = listener_from_std(listener).map_err(io_error)?;
                let mut client = LoadClient::start(addr, load)?;
                detach(spawn(async move {
                    loop {
                        let mut stream = match accept(&listener).await {
                            Ok(stream) => stream,
                            // Out of file descriptors, most likely: the
                            // count of accepted connections will say so.
                            Err(error) => return TALLY.accept_failed(&error),
                        };
                        TALLY.accepted(expected);
                        detach(spawn(async move {
                            let mut buf = [0u8; ECHO_BYTES];
                            // Echo until the client closes; a broken
                            // connection ends the same way, and the client
                            // counts the round trips that went missing.
                            while let Ok(n @ 1..) = read(&mut stream, &mut buf).await {
                                if write_all(&mut stream, &buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                            TALLY.closed(expected);
                        }));
                    }
                }));
                let report = loop {
                    if let Some(report) = client.try_finish()? {
                        break report;
                    }
                    sleep(CLIENT_CHECK).await;
                };
                // The client's sockets closed when it exited; let the server
                // see every end of file.
                let grace = Instant::now() + CLOSE_GRACE;
                while !TALLY.all_closed() && Instant::now() < grace {
                    sleep(CLIENT_CHECK).await;
                }
                let cpu = TALLY.cpu(NAME, expected)?;
                let asked = load.connections as u64 * u64::from(load.rounds);
                expect_count(
                    NAME,
                    "round trips timed + missed",
                    report.trips + report.missed,
                    asked,
                )?;
                Ok(vec![
                    report.p50,
                    report.p99,
                    cpu.thread.as_secs_f64(),
                    cpu.process.as_secs_f64(),
                    report.missed as f64,
                ])
            })
        }
    };
}

/// A listener on 127.0.0.1 (a free port) whose accept queue may hold
/// `backlog` connections, as far as `net.core.somaxconn` allows (std's
/// `TcpListener::bind` asks for 128). Nonblocking, ready for any runtime.
pub fn backlog_listener(backlog: usize) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// What the tasks of a `tcp-10k` server count: connections accepted and
/// closed, and the CPU clocks when the last one was accepted and when the
/// last one closed. A static per runtime, so the tasks need no shared
/// pointer (tokio's `spawn` wants `Send`), reset before each run.
#[derive(Debug)]
pub struct ServerTally {
    accepted: AtomicUsize,
    closed: AtomicUsize,
    /// `[thread, process]` CPU nanoseconds when the last connection came in.
    start: [AtomicU64; 2],
    /// The same when the last connection closed.
    end: [AtomicU64; 2],
    /// Why the accept loop stopped, if it did.
    accept_error: Mutex<Option<String>>,
}

impl ServerTally {
    pub const fn new() -> ServerTally {
        ServerTally {
            accepted: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            start: [AtomicU64::new(0), AtomicU64::new(0)],
            end: [AtomicU64::new(0), AtomicU64::new(0)],
            accept_error: Mutex::new(None),
        }
    }

    pub fn reset(&self) {
        self.accepted.store(0, Ordering::Relaxed);
        self.closed.store(0, Ordering::Relaxed);
        for clock in self.start.iter().chain(&self.end) {
            clock.store(0, Ordering::Relaxed);
        }
        *self
            .accept_error
            .lock()
            .expect("no thread panics holding it") = None;
    }

    /// Counts one accepted connection; the last of `expected` starts the clocks.
    pub fn accepted(&self, expected: usize) {
        if self.accepted.fetch_add(1, Ordering::Relaxed) + 1 == expected {
            mark(&self.start);
        }
    }

    /// Counts one closed connection; the last of `expected` stops the clocks.
    pub fn closed(&self, expected: usize) {
        if self.closed.fetch_add(1, Ordering::Relaxed) + 1 == expected {
            mark(&self.end);
        }
    }

    pub fn accept_failed(&self, error: &io::Error) {
        *self
            .accept_error
            .lock()
            .expect("no thread panics holding it") = Some(error.to_string());
    }

    /// Every accepted connection has closed.
    pub fn all_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed) >= self.accepted.load(Ordering::Relaxed)
    }

    /// The CPU time spent while all `expected` connections were open, or
    /// what went wrong on `runtime` if they never all were.
    pub fn cpu(&self, runtime: &'static str, expected: usize) -> Result<CpuTimes, BenchError> {
        let accepted = self.accepted.load(Ordering::Relaxed);
        let closed = self.closed.load(Ordering::Relaxed);
        if accepted != expected || closed != expected {
            let why = match &*self
                .accept_error
                .lock()
                .expect("no thread panics holding it")
            {
                Some(error) => format!("; accept failed: {error}"),
                None => String::new(),
            };
            return Err(BenchError::Wrong {
                runtime,
                detail: format!(
                    "{accepted} of {expected} connections accepted, {closed} closed{why}"
                ),
            });
        }
        let read = |clocks: &[AtomicU64; 2]| CpuTimes {
            thread: Duration::from_nanos(clocks[0].load(Ordering::Relaxed)),
            process: Duration::from_nanos(clocks[1].load(Ordering::Relaxed)),
        };
        Ok(read(&self.end).since(read(&self.start)))
    }
}

/// Stores the CPU clocks of now, read on the calling (loop) thread.
fn mark(clocks: &[AtomicU64; 2]) {
    let now = CpuTimes::now();
    clocks[0].store(now.thread.as_nanos() as u64, Ordering::Relaxed);
    clocks[1].store(now.process.as_nanos() as u64, Ordering::Relaxed);
}

/// What the load client measured.
#[derive(Debug, Clone, Copy)]
pub struct LoadReport {
    /// Round trips timed.
    pub trips: u64,
    /// Round trips that went missing: a message not sent because the one
    /// before had not come back by its time, or an echo that never came.
    pub missed: u64,
    /// Median and 99th percentile round trip, in seconds.
    pub p50: f64,
    pub p99: f64,
}

/// The `tcp-10k` load client, running as a child process of this binary.
///
/// Dropped before it has finished (the server failed), it kills the client.
#[derive(Debug)]
pub struct LoadClient {
    child: Option<Child>,
    command: String,
}

impl LoadClient {
    /// Starts the client against `addr`; it connects at once.
    pub fn start(addr: SocketAddr, load: Load) -> Result<LoadClient, BenchError> {
        let args = [
            LOAD_CLIENT_FLAG.to_string(),
            addr.to_string(),
            load.connections.to_string(),
            load.rounds.to_string(),
            load.period.as_micros().to_string(),
        ];
        let command = format!("runtimes {}", args.join(" "));
        let fail = |detail: String| BenchError::Child {
            command: command.clone(),
            detail,
        };
        let exe = std::env::current_exe()
            .map_err(|error| fail(format!("cannot find own binary: {error}")))?;
        let child = Command::new(&exe)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| fail(format!("cannot start {}: {error}", exe.display())))?;
        Ok(LoadClient {
            child: Some(child),
            command,
        })
    }

    /// The client's report once it has exited; `None` while it runs. Never
    /// blocks.
    pub fn try_finish(&mut self) -> Result<Option<LoadReport>, BenchError> {
        let fail = |detail: String| BenchError::Child {
            command: self.command.clone(),
            detail,
        };
        let Some(child) = self.child.as_mut() else {
            return Err(fail("its report was already taken".to_string()));
        };
        match child.try_wait() {
            Ok(None) => return Ok(None),
            Ok(Some(_)) => {}
            Err(error) => return Err(fail(format!("cannot wait for it: {error}"))),
        }
        let child = self.child.take().expect("looked at just above");
        // It has exited: its pipes hold all it wrote, and reading them ends.
        let output = child
            .wait_with_output()
            .map_err(|error| fail(format!("cannot read its output: {error}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(fail(format!("{}: {}", output.status, stderr.trim())));
        }
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix(LOAD_RESULT))
            .ok_or_else(|| fail(format!("no {LOAD_RESULT} line in {stdout:?}")))?;
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| fail(format!("unreadable report {line:?}")))?;
        let [trips, missed, p50, p99] = fields[..] else {
            return Err(fail(format!("expected 4 values, got {line:?}")));
        };
        Ok(Some(LoadReport {
            trips: trips as u64,
            missed: missed as u64,
            p50,
            p99,
        }))
    }
}

impl Drop for LoadClient {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Failing to kill means it has already exited; wait reaps it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
