//! Run: `cargo run --example udp_echo`
//! (options: `--count N` datagrams, `--window N` unanswered at most,
//! `--timeout-ms N` to wait for each answer)
//!
//! A UDP echo server and a client in one program, on one loop. The client
//! sends 1,000 numbered datagrams from 1,000 tasks at once, counts the
//! answers, and gives each datagram a timeout, after which it counts it as
//! lost. You will see something like
//!
//! ```text
//! udp echo server on 127.0.0.1:40349
//! client on 127.0.0.1:50812: 1000 datagrams, at most 64 unanswered at a time, 1000 ms to answer
//! sent 1000, answered 1000, lost 0, late 0, in 4.0 ms
//! ```
//!
//! (a release build; a debug build takes a few times longer).
//!
//! UDP promises nothing: no delivery, no order, no flow control. A datagram
//! that arrives while the receiver's buffer is full is dropped without a
//! word to anyone. That is why the client keeps a *window*: at most 64
//! datagrams unanswered at a time, so neither end's buffer can overflow. Try
//! `--window 1000`: all 1,000 leave in one burst, the server's receive buffer
//! (about 200 KiB on Linux, a few hundred small datagrams) overflows, and the
//! client reports the datagrams that never came back as lost once their
//! timeout passes: one run on Linux printed `answered 256, lost 744` after
//! the 1 s timeout. An answer that comes back after its timeout is counted
//! as late.
//!
//! Simplified on purpose: both ends bind 127.0.0.1 only, a lost datagram is
//! counted, never sent again, and the server answers whoever writes to it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use evloop::net::UdpSocket;
use evloop::sync::{Semaphore, oneshot};
use evloop::time::{Instant, timeout};

/// How many datagrams the client sends unless told otherwise.
const DEFAULT_COUNT: u32 = 1_000;

/// How many datagrams may be unanswered at once unless told otherwise: small
/// enough that 64 small datagrams fit in any receive buffer.
const DEFAULT_WINDOW: u32 = 64;

/// How long the client waits for each answer unless told otherwise.
const DEFAULT_TIMEOUT_MS: u64 = 1_000;

/// The most datagrams a run may send (`--count`, `--window`).
const MAX_COUNT: u32 = 100_000;

/// The longest `--timeout-ms` accepted.
const MAX_TIMEOUT_MS: u64 = 60_000;

/// Room for one datagram; ours are a dozen bytes.
const BUFFER_SIZE: usize = 1_500;

/// What the client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Datagrams the client tried to send.
    pub sent: u32,
    /// Answers that came back in time.
    pub answered: u32,
    /// Datagrams whose answer did not come back in time (or that the OS
    /// refused to send).
    pub lost: u32,
    /// Answers that came back after their datagram was counted lost.
    pub late: u32,
}

/// Echoes every datagram back to its sender, for ever.
pub async fn serve(socket: UdpSocket) {
    let mut buf = [0u8; BUFFER_SIZE];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            // On Linux an unconnected socket is never told about ICMP errors,
            // but Windows reports "connection reset" here when an earlier
            // answer met a closed port. Either way it concerns one client
            // that went away: report it and serve the others.
            Err(e) => {
                eprintln!("server: receive failed: {e}");
                continue;
            }
        };
        if let Err(e) = socket.send_to(&buf[..n], from).await {
            // This client's address cannot be sent to (it is not ours to
            // fix); it simply gets no answer, as on a lossy network.
            eprintln!("server: answering {from} failed: {e}");
        }
    }
}

/// The datagram with sequence number `seq`.
fn datagram(seq: u32) -> Vec<u8> {
    format!("ping {seq}").into_bytes()
}

/// The sequence number in an answer, if it is one of ours.
fn sequence_of(answer: &[u8]) -> Option<u32> {
    std::str::from_utf8(answer)
        .ok()?
        .strip_prefix("ping ")?
        .parse()
        .ok()
}

/// Who waits for which answer: sequence number -> the sending task's wake-up.
type Waiting = RefCell<HashMap<u32, oneshot::Sender<()>>>;

/// Receives answers and hands each to the task that waits for it; counts
/// those nobody waits for any more.
async fn receive_answers(socket: Rc<UdpSocket>, waiting: Rc<Waiting>, late: Rc<Cell<u32>>) {
    let mut buf = [0u8; BUFFER_SIZE];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            // The server's port is closed (the ICMP "port unreachable" shows
            // up here, on a connected socket): the datagrams in flight will
            // be counted lost by their timeouts.
            Err(e) => {
                eprintln!("client: receive failed: {e}");
                continue;
            }
        };
        // An answer we cannot read is not one of ours; ignore it.
        let Some(seq) = sequence_of(&buf[..n]) else {
            continue;
        };
        match waiting.borrow_mut().remove(&seq) {
            // The sender may have just timed out and gone: then it is late.
            Some(tx) => {
                if tx.send(()).is_err() {
                    late.set(late.get() + 1);
                }
            }
            None => late.set(late.get() + 1),
        }
    }
}

/// Sends `count` datagrams to `server`, one task each, at most `window`
/// unanswered at a time, and waits up to `answer_timeout` for each answer.
///
/// # Errors
///
/// If the client's socket cannot be bound or connected. A failed send is
/// not an error of the run: that datagram is counted lost.
pub async fn run_client(
    server: SocketAddr,
    count: u32,
    window: u32,
    answer_timeout: Duration,
) -> io::Result<Tally> {
    let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await?);
    // Connected: only the server's datagrams reach us, and a closed server
    // port is reported as an error instead of silence.
    socket.connect(server).await?;
    println!(
        "client on {}: {count} datagrams, at most {window} unanswered at a time, {} ms to answer",
        socket.local_addr()?,
        answer_timeout.as_millis()
    );
    let waiting = Rc::new(Waiting::default());
    let late = Rc::new(Cell::new(0));
    let receiver = evloop::spawn(receive_answers(
        socket.clone(),
        waiting.clone(),
        late.clone(),
    ));

    let window = Rc::new(Semaphore::new(window as usize));
    let senders = (0..count).map(|seq| {
        let (socket, waiting, window) = (socket.clone(), waiting.clone(), window.clone());
        evloop::spawn(async move {
            // Wait for room in the window; the permit is given back when
            // this task ends, answered or not.
            let _room = window.acquire().await.expect("the window is never closed");
            let (tx, rx) = oneshot::channel();
            waiting.borrow_mut().insert(seq, tx);
            if let Err(e) = socket.send(&datagram(seq)).await {
                // On a connected socket, an ICMP "port unreachable" for an
                // earlier datagram is reported by the next send or receive,
                // whichever comes first. This datagram was not sent, so it
                // will never be answered: it counts as lost.
                eprintln!("client: sending datagram {seq} failed: {e}");
                waiting.borrow_mut().remove(&seq);
                return false;
            }
            match timeout(answer_timeout, rx).await {
                Ok(Ok(())) => true,
                // The receiver task never drops a sender without sending,
                // so only the timeout gets here.
                Ok(Err(_)) | Err(_) => {
                    waiting.borrow_mut().remove(&seq);
                    false
                }
            }
        })
    });
    let results = evloop::join_all(senders.collect::<Vec<_>>()).await;
    receiver.abort();

    let mut tally = Tally::default();
    for result in results {
        tally.sent += 1;
        if result.expect("a sender task does not panic") {
            tally.answered += 1;
        } else {
            tally.lost += 1;
        }
    }
    tally.late = late.get();
    Ok(tally)
}

/// The command line's settings.
#[derive(Debug, Clone, Copy)]
struct Options {
    count: u32,
    window: u32,
    answer_timeout: Duration,
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

/// Reads the options from the command line.
fn options_from_args() -> Result<Options, String> {
    let mut options = Options {
        count: DEFAULT_COUNT,
        window: DEFAULT_WINDOW,
        answer_timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--count" => options.count = number("--count", args.next(), 1, MAX_COUNT)?,
            "--window" => options.window = number("--window", args.next(), 1, MAX_COUNT)?,
            "--timeout-ms" => {
                let ms = number("--timeout-ms", args.next(), 1, MAX_TIMEOUT_MS)?;
                options.answer_timeout = Duration::from_millis(ms);
            }
            other => {
                return Err(format!(
                    "unknown option {other:?} (expected --count, --window or --timeout-ms)"
                ));
            }
        }
    }
    Ok(options)
}

fn main() {
    let options = match options_from_args() {
        Ok(options) => options,
        Err(message) => {
            // Bad input is the user's to fix: say so, and exit non-zero.
            eprintln!("udp_echo: {message}");
            std::process::exit(2);
        }
    };
    let result = evloop::run(async move {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let server_addr = server.local_addr()?;
        println!("udp echo server on {server_addr}");
        // The server runs as a task beside the client; the runtime cancels
        // it when `run` returns.
        evloop::spawn(serve(server));
        let start = Instant::now();
        let tally = run_client(
            server_addr,
            options.count,
            options.window,
            options.answer_timeout,
        )
        .await?;
        io::Result::Ok((tally, start.elapsed()))
    });
    match result {
        Ok((tally, took)) => println!(
            "sent {}, answered {}, lost {}, late {}, in {:.1} ms",
            tally.sent,
            tally.answered,
            tally.lost,
            tally.late,
            took.as_secs_f64() * 1e3
        ),
        Err(e) => {
            // No socket could be bound or sent on: nothing to measure.
            eprintln!("udp_echo: {e}");
            std::process::exit(1);
        }
    }
}
