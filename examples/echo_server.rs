//! Run: `cargo run --example echo_server` (or `... -- 9000` for another port),
//! then, in another terminal: `nc 127.0.0.1 7878`
//!
//! Type a line into `nc` and press Enter: the same line comes back. Open a
//! second `nc` at the same time and it is served too. The server prints
//!
//! ```text
//! echo server listening on 127.0.0.1:7878 (try: nc 127.0.0.1 7878)
//! connection 1 from 127.0.0.1:53614
//! connection 2 from 127.0.0.1:53620
//! connection 1 closed after 12 bytes
//! ```
//!
//! and runs until you stop it with Ctrl-C.
//!
//! An echo server is the "hello world" of async IO. One loop thread serves
//! every client: each connection gets its own task, and a task waiting for
//! bytes costs nothing while it waits, because the reactor wakes it only when
//! its socket has data. A thread-per-connection server would do the same work
//! with one thread (and its stack) per client.
//!
//! Simplified on purpose: it binds 127.0.0.1 only (no one else can reach it),
//! it has no limit on connections, and it stops only when killed.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};

/// The port used when none is given on the command line.
const DEFAULT_PORT: u16 = 7878;

/// How much one read may take at a time.
const BUFFER_SIZE: usize = 4096;

/// How long to back off when `accept` itself fails (say, out of file
/// descriptors), so the server does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Echoes everything one client sends until it closes; returns the byte count.
pub async fn echo(conn: &TcpStream) -> io::Result<u64> {
    let mut buf = [0u8; BUFFER_SIZE];
    let mut total = 0u64;
    loop {
        // `read` waits (without blocking the loop) until bytes arrive.
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            // The client closed its side: we are done.
            return Ok(total);
        }
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Accepts connections forever, serving each in its own task.
///
/// Returns only if the listener cannot tell its own address.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let addr = listener.local_addr()?;
    println!(
        "echo server listening on {addr} (try: nc {} {})",
        addr.ip(),
        addr.port()
    );
    let mut count = 0u64;
    loop {
        let (conn, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // The listener is fine, this one accept was not (too many open
                // files, a connection aborted before we took it): report it,
                // wait a little, and keep serving the others.
                eprintln!("accept failed: {e}");
                evloop::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        count += 1;
        let id = count;
        println!("connection {id} from {peer}");
        // A task per connection: the accept loop goes straight back to
        // waiting for the next client.
        evloop::spawn(async move {
            match echo(&conn).await {
                Ok(bytes) => println!("connection {id} closed after {bytes} bytes"),
                // A reset or broken connection ends that client only.
                Err(e) => println!("connection {id} ended with an error: {e}"),
            }
        });
    }
}

/// Reads the optional port argument.
fn port_from_args() -> Result<u16, String> {
    match std::env::args().nth(1) {
        None => Ok(DEFAULT_PORT),
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("not a port number: {arg:?} (expected 0 to 65535)")),
    }
}

fn main() {
    let port = match port_from_args() {
        Ok(port) => port,
        Err(message) => {
            // Bad input is the user's to fix: say so, and exit non-zero.
            eprintln!("echo_server: {message}");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let result = evloop::run(async move {
        let listener = TcpListener::bind(addr).await?;
        serve(listener).await
    });
    if let Err(e) = result {
        // The port is taken, or not ours to use: nothing to serve.
        eprintln!("echo_server: {e}");
        std::process::exit(1);
    }
}
