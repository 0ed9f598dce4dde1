//! Shared by the pipeline's end-to-end tests: a fresh output folder per
//! test, a snapshot of a folder's file tree, a job writing under a folder,
//! the edge map the pipeline must produce for a given download, a progress
//! recorder, hand-made pictures (small PNGs, decompression bombs), and a
//! scripted HTTP server on std threads that can misbehave per path, down to
//! resetting the connection before it reads the request.
//!
//! The server side never uses the code under test: plain std sockets and
//! threads, so a bug in evloop cannot hide a bug in evloop.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use evloop::pipeline::decode::{DecodeLimits, decode_jpeg};
use evloop::pipeline::edge::edge_map;
use evloop::pipeline::store::encode_edge_map;
use evloop::pipeline::{ItemError, Job, Progress};

/// A folder of its own under the system's temporary folder, removed (with
/// everything in it) when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/evloop-<name>-<pid>-<n>`, empty.
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("evloop-{name}-{}-{n}", std::process::id()));
        // A leftover of an earlier run with the same pid would spoil the
        // snapshots.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Every file and folder under `root`, as paths relative to it with `/`
/// separators; folders end with `/`.
pub fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("a directory entry can be read");
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .expect("walked paths are under the root")
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().expect("a file type").is_dir() {
                out.insert(format!("{relative}/"));
                walk(root, &path, out);
            } else {
                out.insert(relative);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// What the tree of a job's folder must be after a run: the two folders,
/// `originals/image_k.jpg` for every `k` in `downloaded`, and
/// `processed/image_k.jpg` for every `k` in `processed`. Nothing else: no
/// temporary file, nothing for a failed image.
pub fn expected_tree(downloaded: &[usize], processed: &[usize]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["originals/".to_owned(), "processed/".to_owned()].into();
    out.extend(
        downloaded
            .iter()
            .map(|k| format!("originals/image_{k}.jpg")),
    );
    out.extend(processed.iter().map(|k| format!("processed/image_{k}.jpg")));
    out
}

/// A job for `urls` writing under `dir/originals` and `dir/processed`, both
/// created.
pub fn job_in(dir: &Path, urls: impl IntoIterator<Item = String>) -> Job {
    let mut job = Job::new(urls, dir);
    job.originals = dir.join("originals");
    job.processed = dir.join("processed");
    job.prepare().expect("the test's folders can be created");
    job
}

/// The edge map the pipeline must save for a download of `bytes`: decoded,
/// edge-detected and encoded by the library's own steps.
pub fn expected_edges(bytes: &[u8]) -> Vec<u8> {
    let image = decode_jpeg(bytes, DecodeLimits::default()).expect("the test image decodes");
    encode_edge_map(&edge_map(&image)).expect("the test image's edge map encodes")
}

/// Counts what a run told its [`Progress`].
#[derive(Debug, Default)]
pub struct Recorder {
    downloaded: Mutex<Vec<usize>>,
    processed: Mutex<Vec<usize>>,
    failed: Mutex<Vec<usize>>,
}

impl Recorder {
    /// The indices told as downloaded, processed, failed; each sorted.
    pub fn seen(&self) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let sorted = |m: &Mutex<Vec<usize>>| {
            let mut v = m.lock().unwrap_or_else(|e| e.into_inner()).clone();
            v.sort_unstable();
            v
        };
        (
            sorted(&self.downloaded),
            sorted(&self.processed),
            sorted(&self.failed),
        )
    }
}

impl Progress for Recorder {
    fn downloaded(&self, index: usize) {
        self.downloaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(index);
    }
    fn processed(&self, index: usize) {
        self.processed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(index);
    }
    fn failed(&self, error: &ItemError) {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(error.index);
    }
}

/// `image` encoded as PNG.
pub fn png_of(image: &image::RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG encodes");
    out.into_inner()
}

/// The CRC-32 of PNG chunks, bit by bit.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small valid PNG whose header declares `width`x`height`, with a correct
/// checksum, so that only the size gives it away: a decompression bomb.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut png = png_of(&image::RgbImage::new(8, 8));
    // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; the
    // chunk's CRC covers "IHDR" and its 13 bytes of data and sits at 29.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A small valid JPEG whose frame header declares `width`x`height`.
pub fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = evloop::pipeline::synth::photo_jpeg(1, 16, 16);
    // SOF0 is FF C0, a 2-byte length, 1 byte of precision, height, width.
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("the encoder writes a baseline JPEG");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// A `200` response with `Content-Type` and `Content-Length`.
pub fn ok(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A `200` JPEG response.
pub fn ok_jpeg(body: &[u8]) -> Vec<u8> {
    ok("image/jpeg", body)
}

/// What the scripted server does with one request.
#[derive(Debug, Clone)]
pub enum Act {
    /// Write the bytes, then wait for the next request on the connection.
    Reply(Vec<u8>),
    /// Write the bytes, then close.
    ReplyClose(Vec<u8>),
    /// Write the bytes, then keep the connection open without a word until
    /// the client gives up (a stall).
    ReplyStall(Vec<u8>),
    /// Write the bytes one at a time, `gap` apart, then close; stops as
    /// soon as the client has gone.
    Dribble(Vec<u8>, Duration),
    /// Close without reading the request: with unread bytes in its receive
    /// buffer, the kernel answers with RST (a reset).
    Reset,
}

/// A scripted HTTP/1.1 server on 127.0.0.1: each connection on its own
/// thread, each request answered by the script's [`Act`] for its path.
#[derive(Debug)]
pub struct ScriptServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl ScriptServer {
    /// Starts serving with `script(path)` deciding each answer.
    pub fn start(script: impl Fn(&str) -> Act + Send + Sync + 'static) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let (counter, log) = (accepted.clone(), paths.clone());
        // The accepting thread lives as long as the test process; each
        // connection's thread ends when its client goes.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let (script, log) = (script.clone(), log.clone());
                thread::spawn(move || serve_connection(stream, &*script, &log));
            }
        });
        ScriptServer {
            addr,
            accepted,
            paths,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every request path it saw, in arrival order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Answers requests on one connection until the client closes it or the
/// script closes it.
fn serve_connection(mut stream: TcpStream, script: &dyn Fn(&str) -> Act, log: &Mutex<Vec<String>>) {
    loop {
        let Some((head_len, path)) = peek_head(&stream) else {
            return;
        };
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        let act = script(&path);
        if let Act::Reset = act {
            // The request is still unread: closing now makes the kernel
            // send RST instead of FIN.
            return;
        }
        let mut head = vec![0u8; head_len];
        if stream.read_exact(&mut head).is_err() {
            return;
        }
        match act {
            Act::Reply(bytes) => {
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            Act::ReplyClose(bytes) => {
                let _ = stream.write_all(&bytes);
                // Half-close first, so that every byte written is
                // delivered before the socket goes.
                let _ = stream.shutdown(std::net::Shutdown::Write);
                return;
            }
            Act::ReplyStall(bytes) => {
                if stream.write_all(&bytes).is_ok() {
                    wait_for_close(&mut stream);
                }
                return;
            }
            Act::Dribble(bytes, gap) => {
                for byte in bytes {
                    if stream.write_all(&[byte]).is_err() {
                        return;
                    }
                    thread::sleep(gap);
                }
                return;
            }
            Act::Reset => unreachable!("handled before the head was read"),
        }
    }
}

/// Waits (without consuming anything) until a whole request head has
/// arrived; its length and the path of its request line. `None` when the
/// client closed, or sent something that is no request head.
fn peek_head(stream: &TcpStream) -> Option<(usize, String)> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // `peek` blocks only while nothing at all has arrived; a partial
        // head comes back at once, so wait a little before looking again.
        let n = stream.peek(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]);
            let path = head.split(' ').nth(1)?.to_owned();
            return Some((end + 4, path));
        }
        if n == buf.len() {
            return None;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Reads and discards until the client closes (or the socket fails).
fn wait_for_close(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Runs the demo binary with `args` and the environment variables `env`
/// (an inherited `EVLOOP_TRACE` removed), killing it if it runs past
/// `limit` of real time: a hung demo fails the test instead of hanging it.
/// This is a watchdog, not a timing assertion.
pub fn demo(args: &[&str], env: &[(&str, &str)], limit: Duration) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_evloop"))
        .args(args)
        .env_remove("EVLOOP_TRACE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo binary starts");
    let started = std::time::Instant::now();
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child
                .wait_with_output()
                .expect("the killed child is reaped");
            panic!(
                "watchdog: `evloop {}` did not finish within {limit:?}; stderr:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the child's output")
}
