//! The load client of the `tcp-10k` row: a child process that opens many
//! connections to the server under test and, on each, sends one message per
//! period and times its echo.
//!
//! It is written on plain mio, one thread, so it is the same for every
//! runtime and adds no runtime of its own to the comparison; and it runs in
//! its own process, so that the server has the whole file-descriptor limit
//! for itself (10,000 connections in one process would need 20,000
//! descriptors, both ends).
//!
//! The sends are spread evenly over each period: connection `i` sends at
//! `start + round * period + i * period / connections`, so the server sees a
//! steady trickle (10,000 messages a second) rather than a burst. A round
//! trip is timed from the moment its message is written to the moment the
//! whole echo is read. A connection whose echo has not come back by its next
//! turn skips that turn, and the skip is counted as missed.
//!
//! Invoked as `runtimes --load-client ADDR CONNECTIONS ROUNDS PERIOD_US`; it
//! prints one line, `EVLOOP_BENCH_LOAD trips missed p50 p99` (seconds).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::error::BenchError;
use crate::machine::ensure_fds;
use crate::net::{ECHO_BYTES, FD_MARGIN, LOAD_RESULT};

/// Connections being set up at once: enough to connect 10,000 in well under
/// a second, few enough never to overflow the server's accept queue.
const CONNECT_WINDOW: usize = 256;
/// How long setting up every connection may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(30);
/// Pause between the last connection and the first message, so the server
/// has accepted them all before the timed part begins.
const SETTLE: Duration = Duration::from_millis(100);
/// How long after its last send the client waits for the last echoes.
const DRAIN: Duration = Duration::from_secs(2);

/// Where one connection is in its round trip.
#[derive(Debug)]
enum Phase {
    /// `connect` has started; writable means it is done.
    Connecting,
    /// Nothing in flight.
    Idle,
    /// A message went out at `sent`; `got` bytes of its echo are back.
    Waiting { sent: Instant, got: usize },
}

#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    phase: Phase,
    /// The message in flight (each connection and round sends other bytes,
    /// so an echo that came back to the wrong connection would show).
    message: [u8; ECHO_BYTES],
    echo: [u8; ECHO_BYTES],
}

/// What the client was asked for.
#[derive(Debug)]
struct Plan {
    addr: SocketAddr,
    connections: usize,
    rounds: u32,
    period: Duration,
}

/// The child side: parses `args` (after the flag), runs the load, prints
/// the report line.
pub fn client_main(args: &[String]) -> Result<(), BenchError> {
    let plan = parse(args)?;
    ensure_fds(
        plan.connections as u64 + FD_MARGIN,
        "the tcp-10k load client",
    )?;
    let mut poll = Poll::new().map_err(|error| BenchError::Machine {
        what: "load client: creating the poller".to_string(),
        detail: error.to_string(),
    })?;
    let mut events = Events::with_capacity(1_024);
    let mut connections = connect_all(&plan, &mut poll, &mut events)?;
    let (mut rtts, missed) = run_rounds(&plan, &mut poll, &mut events, &mut connections)?;
    rtts.sort_unstable();
    let at = |fraction: f64| {
        rtts.get(((rtts.len() as f64 * fraction).ceil() as usize).saturating_sub(1))
            .map_or(0.0, Duration::as_secs_f64)
    };
    println!(
        "{LOAD_RESULT} {} {missed} {} {}",
        rtts.len(),
        at(0.50),
        at(0.99)
    );
    Ok(())
}

fn parse(args: &[String]) -> Result<Plan, BenchError> {
    let bad = || {
        BenchError::Args(format!(
            "load client: expected ADDR CONNECTIONS ROUNDS PERIOD_US, got {args:?}"
        ))
    };
    let [addr, connections, rounds, period] = args else {
        return Err(bad());
    };
    Ok(Plan {
        addr: addr.parse().map_err(|_| bad())?,
        connections: connections.parse().map_err(|_| bad())?,
        rounds: rounds.parse().map_err(|_| bad())?,
        period: Duration::from_micros(period.parse().map_err(|_| bad())?),
    })
}

/// Opens every connection, at most [`CONNECT_WINDOW`] in progress at once.
fn connect_all(
    plan: &Plan,
    poll: &mut Poll,
    events: &mut Events,
) -> Result<Vec<Connection>, BenchError> {
    let fail = |i: usize, detail: String| BenchError::Machine {
        what: format!("load client: connection {i} to {}", plan.addr),
        detail,
    };
    let deadline = Instant::now() + CONNECT_DEADLINE;
    let mut connections: Vec<Connection> = Vec::with_capacity(plan.connections);
    let mut connected = 0;
    while connected < plan.connections {
        while connections.len() < plan.connections && connections.len() - connected < CONNECT_WINDOW
        {
            let i = connections.len();
            let mut stream = TcpStream::connect(plan.addr).map_err(|e| fail(i, e.to_string()))?;
            poll.registry()
                .register(&mut stream, Token(i), Interest::WRITABLE)
                .map_err(|e| fail(i, e.to_string()))?;
            connections.push(Connection {
                stream,
                phase: Phase::Connecting,
                message: [0; ECHO_BYTES],
                echo: [0; ECHO_BYTES],
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(BenchError::Machine {
                what: "load client".to_string(),
                detail: format!(
                    "only {connected} of {} connections to {} were set up in {} s",
                    plan.connections,
                    plan.addr,
                    CONNECT_DEADLINE.as_secs()
                ),
            });
        }
        poll.poll(events, Some(left))
            .map_err(|e| fail(connected, format!("poll: {e}")))?;
        for event in events.iter() {
            let i = event.token().0;
            let connection = &mut connections[i];
            if !matches!(connection.phase, Phase::Connecting) {
                continue;
            }
            if let Some(error) = connection
                .stream
                .take_error()
                .map_err(|e| fail(i, e.to_string()))?
            {
                return Err(fail(i, error.to_string()));
            }
            // Writable without an error, and a peer: the handshake is done.
            // (`NotConnected` is a spurious wake-up: keep waiting.)
            match connection.stream.peer_addr() {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::NotConnected => continue,
                Err(error) => return Err(fail(i, error.to_string())),
            }
            connection
                .stream
                .set_nodelay(true)
                .map_err(|e| fail(i, e.to_string()))?;
            poll.registry()
                .reregister(&mut connection.stream, Token(i), Interest::READABLE)
                .map_err(|e| fail(i, e.to_string()))?;
            connection.phase = Phase::Idle;
            connected += 1;
        }
    }
    Ok(connections)
}

/// Sends every round on its schedule and times the echoes; returns the round
/// trips and how many went missing.
fn run_rounds(
    plan: &Plan,
    poll: &mut Poll,
    events: &mut Events,
    connections: &mut [Connection],
) -> Result<(Vec<Duration>, u64), BenchError> {
    let fail = |i: usize, detail: String| BenchError::Machine {
        what: format!("load client: connection {i} to {}", plan.addr),
        detail,
    };
    let n = plan.connections;
    let total = plan.rounds as usize * n;
    let period_ns = plan.period.as_nanos() as u64;
    let start = Instant::now() + SETTLE;
    let due = |k: usize| {
        let (round, i) = ((k / n) as u64, (k % n) as u64);
        start + Duration::from_nanos(round * period_ns + i * period_ns / n as u64)
    };
    let mut trips = Vec::with_capacity(total);
    let mut missed = 0u64;
    let mut in_flight = 0usize;
    let mut next = 0usize;
    let mut drain_until = None;
    loop {
        let now = Instant::now();
        while next < total && due(next) <= now {
            let i = next % n;
            let connection = &mut connections[i];
            if let Phase::Waiting { .. } = connection.phase {
                missed += 1;
            } else {
                connection.message = [(i as u8) ^ ((next / n) as u8).wrapping_mul(37); ECHO_BYTES];
                // 64 bytes into an empty socket buffer: written whole, or
                // something is badly wrong.
                let sent = Instant::now();
                match connection.stream.write(&connection.message) {
                    Ok(ECHO_BYTES) => {}
                    Ok(k) => return Err(fail(i, format!("wrote only {k} of {ECHO_BYTES} bytes"))),
                    Err(e) => return Err(fail(i, format!("write: {e}"))),
                }
                connection.phase = Phase::Waiting { sent, got: 0 };
                in_flight += 1;
            }
            next += 1;
        }
        let timeout = if next < total {
            due(next).saturating_duration_since(now)
        } else {
            let until = *drain_until.get_or_insert(now + DRAIN.max(plan.period));
            if in_flight == 0 || now >= until {
                break;
            }
            until - now
        };
        poll.poll(events, Some(timeout))
            .map_err(|e| fail(0, format!("poll: {e}")))?;
        for event in events.iter() {
            let i = event.token().0;
            if let Some(rtt) = read_echo(&mut connections[i]).map_err(|e| fail(i, e))? {
                trips.push(rtt);
                in_flight -= 1;
            }
        }
    }
    Ok((trips, missed + in_flight as u64))
}

/// Reads what has arrived on a connection (all of it: mio's readiness is
/// edge-triggered); the round trip's time once the whole echo is back.
fn read_echo(connection: &mut Connection) -> Result<Option<Duration>, String> {
    loop {
        let Phase::Waiting { sent, got } = connection.phase else {
            // Nothing expected: the server sent bytes nobody asked for, or
            // closed the connection.
            let mut probe = [0u8; 1];
            return match connection.stream.read(&mut probe) {
                Ok(0) => Err("the server closed the connection".to_string()),
                Ok(_) => Err("bytes arrived that were not an echo".to_string()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) => Err(format!("read: {e}")),
            };
        };
        match connection.stream.read(&mut connection.echo[got..]) {
            Ok(0) => return Err("the server closed the connection mid-echo".to_string()),
            Ok(k) if got + k == ECHO_BYTES => {
                let rtt = sent.elapsed();
                if connection.echo != connection.message {
                    return Err("the echo came back changed".to_string());
                }
                connection.phase = Phase::Idle;
                return Ok(Some(rtt));
            }
            Ok(k) => connection.phase = Phase::Waiting { sent, got: got + k },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}
