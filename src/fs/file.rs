//! [`File`]: an open file whose reads, writes and seeks run on the blocking
//! pool, one job at a time.
//!
//! A file has no readiness to wait for, so every operation is a job handed to
//! a pool thread. The job takes the `std::fs::File` and a byte buffer with
//! it and hands both back when it ends. Between polls the `File` remembers
//! which job is in flight (its `JoinHandle`), so a poll that returned
//! `Pending` and is polled again after the wake continues the *same* job:
//! nothing is read twice, written twice, or lost.
//!
//! | state | what the `File` holds | next |
//! | --- | --- | --- |
//! | idle | the std file and the buffer (maybe bytes read ahead) | an operation starts a job: busy |
//! | busy | the job's `JoinHandle` | the job ends: idle, and the first poll to see it takes its outcome |
//! | lost | why | every operation fails, naming the path |
//!
//! A job's outcome goes to the first poll that sees it end. A read's bytes
//! land in the buffer, where the next read finds them, whoever polls. A write
//! or sync that failed is reported by the next operation of any kind, so an
//! error is never dropped. A finished seek goes to the `poll_seek` that asks
//! for the same position again; other operations just see the new position.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{blocking, with_path};
use crate::offload::spawn_blocking;
use crate::task::JoinHandle;

/// The least one read job asks the OS for: a reader polling with a tiny
/// buffer (a line reader, `read_to_end`'s first rounds) still costs one pool
/// round trip per 16 KiB, not per call.
const READ_AHEAD: usize = 16 * 1024;

/// The most one job reads or writes, so one call cannot pin a huge copy.
const CHUNK_MAX: usize = 1024 * 1024;

/// An open file whose operations run on the blocking pool.
///
/// The inherent methods ([`write_all`](File::write_all),
/// [`read_to_end`](File::read_to_end), [`sync_all`](File::sync_all)) wait
/// for their own job. The runtime-neutral traits [`AsyncRead`],
/// [`AsyncWrite`] and [`AsyncSeek`] let code written for them (futures-util's
/// `copy`, `BufReader`, codecs) use the file; each impl below says when it
/// returns `Pending` and what a dropped future leaves behind.
///
/// futures-util's `AsyncReadExt::read_to_end(&mut buf)` and the inherent
/// `read_to_end()` share a name, and a plain method call picks the inherent
/// one: call the extension's by its path
/// (`AsyncReadExt::read_to_end(&mut file, &mut buf)`), or from generic code.
///
/// # Dropping a `File`
///
/// A job in flight finishes on its pool thread and then closes the file:
/// bytes a write already accepted are still written, but an error is seen by
/// nobody. Close or flush the file (or use [`write_all`](File::write_all),
/// which waits) to know that the bytes reached the OS. If the runtime shuts
/// down first, a job that has not started yet is dropped unrun, as every
/// queued pool job is.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("evloop-doc-file-{}", std::process::id()));
/// evloop::run(async {
///     let mut file = evloop::fs::File::create(&path).await.unwrap();
///     file.write_all(b"chunk 1, ").await.unwrap();
///     file.write_all(b"chunk 2").await.unwrap();
///     file.sync_all().await.unwrap();
/// });
/// assert_eq!(std::fs::read(&path).unwrap(), b"chunk 1, chunk 2");
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct File {
    state: State,
    path: PathBuf,
}

enum State {
    /// No job in flight: the file and its buffer are here.
    Idle(Parts),
    /// A job on the blocking pool has them, and hands them back when done.
    Busy(JoinHandle<(Parts, Done)>),
    /// A job ended without handing the file back (it was dropped unrun at
    /// shutdown); the text says why.
    Lost(String),
}

/// What travels to the pool thread and back with every job.
struct Parts {
    file: std::fs::File,
    buf: Buf,
}

/// Bytes read ahead (`bytes[pos..]` not yet handed out), or, inside a
/// write job, the bytes to write.
#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    pos: usize,
}

/// What a job did.
#[derive(Debug)]
enum Done {
    /// Read into the buffer (how many bytes, or why not).
    Read(io::Result<usize>),
    /// Wrote the buffer, then emptied it.
    Write(io::Result<()>),
    /// Moved the position as asked by this `SeekFrom` of the caller.
    Seek(SeekFrom, io::Result<u64>),
    /// `fsync`.
    Sync(io::Result<()>),
}

impl Buf {
    fn unread(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }

    fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.pos = 0;
    }

    /// Hands out as much as fits in `dst`.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.unread().len());
        dst[..n].copy_from_slice(&self.unread()[..n]);
        self.pos += n;
        n
    }

    /// Hands out as much as fits in `dsts`, filling them in order.
    fn copy_to_vectored(&mut self, dsts: &mut [IoSliceMut<'_>]) -> usize {
        let mut total = 0;
        for dst in dsts {
            let n = self.copy_to(dst);
            total += n;
            if self.is_empty() {
                break;
            }
        }
        total
    }

    /// How many bytes were read ahead: the OS position is that far past
    /// the position the caller sees.
    fn ahead(&self) -> i64 {
        i64::try_from(self.unread().len()).expect("a Vec's length fits in isize, so in i64")
    }

    /// Drops the bytes already handed out, keeping the unread ones.
    fn compact(&mut self) {
        self.bytes.drain(..self.pos);
        self.pos = 0;
    }

    /// Takes every unread byte.
    fn take_unread(&mut self) -> Vec<u8> {
        self.compact();
        std::mem::take(&mut self.bytes)
    }
}

impl File {
    /// Creates (or truncates) a file for writing.
    ///
    /// As `std::fs::File::create` does, this follows a symbolic link at
    /// `path` and truncates its target. For a file in a folder others can
    /// write to, write through [`atomic_file`](crate::atomic_file) instead
    /// (and [`from_std`](File::from_std) to stream into it here).
    ///
    /// # Errors
    ///
    /// What `std::fs::File::create` reports, naming the path.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let p = path.clone();
        let file = blocking("creating", &path, move || std::fs::File::create(p)).await?;
        Ok(File::new(file, path))
    }

    /// Opens an existing file for reading.
    ///
    /// # Errors
    ///
    /// What `std::fs::File::open` reports, naming the path.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let p = path.clone();
        let file = blocking("opening", &path, move || std::fs::File::open(p)).await?;
        Ok(File::new(file, path))
    }

    /// Opens a file with the given options (read and write, append...).
    ///
    /// # Errors
    ///
    /// What `OpenOptions::open` reports, naming the path.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::fs::OpenOptions;
    ///
    /// let path = std::env::temp_dir().join(format!("evloop-doc-open-with-{}", std::process::id()));
    /// std::fs::write(&path, b"old").unwrap();
    /// evloop::run(async {
    ///     let options = OpenOptions::new().append(true).clone();
    ///     let mut file = evloop::fs::File::open_with(&path, &options).await.unwrap();
    ///     file.write_all(b" new").await.unwrap();
    /// });
    /// assert_eq!(std::fs::read(&path).unwrap(), b"old new");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: &std::fs::OpenOptions,
    ) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let (p, options) = (path.clone(), options.clone());
        let file = blocking("opening", &path, move || options.open(p)).await?;
        Ok(File::new(file, path))
    }

    /// Wraps a file opened elsewhere (with options `std` offers and this
    /// module does not, such as a file created by
    /// [`AtomicFile`](crate::atomic_file::AtomicFile)); `path` is what errors
    /// name. Opening it already happened, so this does not block.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("evloop-doc-from-std-{}", std::process::id()));
    /// let std_file = std::fs::File::create(&path).unwrap();
    /// evloop::run(async {
    ///     let mut file = evloop::fs::File::from_std(std_file, &path);
    ///     assert_eq!(file.path(), path);
    ///     file.write_all(b"written on the pool").await.unwrap();
    /// });
    /// assert_eq!(std::fs::read(&path).unwrap(), b"written on the pool");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_std(file: std::fs::File, path: impl Into<PathBuf>) -> File {
        File::new(file, path.into())
    }

    fn new(file: std::fs::File, path: PathBuf) -> File {
        File {
            state: State::Idle(Parts {
                file,
                buf: Buf::default(),
            }),
            path,
        }
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes all of `buf` and waits until the OS has it (copied in chunks
    /// of at most 1 MiB, since the writes happen on another thread).
    ///
    /// Cancel safety: if the future is dropped midway, the chunks already
    /// handed to the pool are still written, in order, and the rest is not;
    /// the `File` stays usable, and a failure of those chunks is reported by
    /// its next operation.
    ///
    /// # Errors
    ///
    /// A write error (or one of an earlier write), naming the path.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut written = 0;
        while written < buf.len() {
            let rest = &buf[written..];
            written +=
                poll_fn(|cx| self.poll_write_with(cx, rest.len(), |to| fill(to, rest))).await?;
        }
        poll_fn(|cx| self.poll_idle(cx)).await
    }

    /// Flushes data and metadata to the disk (`fsync`), after any write in
    /// flight.
    ///
    /// Cancel safety: if the future is dropped midway, the `fsync` still
    /// runs, and its failure is reported by the file's next operation.
    ///
    /// # Errors
    ///
    /// What `fsync` (or an earlier write) reports, naming the path.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.start(|parts| Done::Sync(parts.file.sync_all()))?;
        match poll_fn(|cx| self.poll_done(cx)).await? {
            Some(Done::Sync(result)) => result.map_err(|e| with_path(e, "syncing", &self.path)),
            other => unreachable!("the sync started above is the job in flight, not {other:?}"),
        }
    }

    /// Reads the rest of the file (in one job, whatever its size).
    ///
    /// Cancel safety: if the future is dropped midway, the bytes the job
    /// reads stay in the file's buffer, and the next read returns them.
    ///
    /// # Errors
    ///
    /// A read error (or one of an earlier write), naming the path.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.start(|parts| {
            parts.buf.compact();
            Done::Read(parts.file.read_to_end(&mut parts.buf.bytes))
        })?;
        match poll_fn(|cx| self.poll_done(cx)).await? {
            Some(Done::Read(result)) => {
                result.map_err(|e| with_path(e, "reading", &self.path))?;
                Ok(self.parts().buf.take_unread())
            }
            other => unreachable!("the read started above is the job in flight, not {other:?}"),
        }
    }

    /// The file and buffer; only called when idle.
    fn parts(&mut self) -> &mut Parts {
        match &mut self.state {
            State::Idle(parts) => parts,
            _ => unreachable!("File::parts is only called when no job is in flight"),
        }
    }

    /// Hands the file and buffer to a job on the blocking pool; only called
    /// when idle.
    fn start(&mut self, job: impl FnOnce(&mut Parts) -> Done + Send + 'static) -> io::Result<()> {
        self.in_runtime()?;
        let taken = std::mem::replace(&mut self.state, State::Lost(String::new()));
        let State::Idle(mut parts) = taken else {
            unreachable!("File::start is only called when no job is in flight")
        };
        self.state = State::Busy(spawn_blocking(move || {
            let done = job(&mut parts);
            (parts, done)
        }));
        Ok(())
    }

    /// The pool exists only inside a runtime: outside, an error naming the
    /// file rather than `spawn_blocking`'s panic.
    fn in_runtime(&self) -> io::Result<()> {
        match crate::runtime::handle::with_current(|_| ()) {
            Some(()) => Ok(()),
            None => Err(io::Error::other(format!(
                "{}: evloop::fs::File used outside a runtime: use it inside evloop::run",
                self.path.display()
            ))),
        }
    }

    /// Waits for the job in flight, if any, and returns what it did (`None`:
    /// there was none). The file is idle after `Ready(Ok(_))`.
    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Done>>> {
        let ended = match &mut self.state {
            State::Idle(_) => return Poll::Ready(Ok(None)),
            State::Lost(why) => {
                return Poll::Ready(Err(io::Error::other(format!(
                    "{}: {why}",
                    self.path.display()
                ))));
            }
            State::Busy(job) => ready!(Pin::new(job).poll(cx)),
        };
        match ended {
            Ok((parts, done)) => {
                self.state = State::Idle(parts);
                Poll::Ready(Ok(Some(done)))
            }
            Err(join) => {
                let why = format!(
                    "the file was lost: its job on the blocking pool ended without it ({join})"
                );
                let error = io::Error::other(format!("{}: {why}", self.path.display()));
                self.state = State::Lost(why);
                Poll::Ready(Err(error))
            }
        }
    }

    /// Takes in the outcome of a job whose caller is not waiting for it: a
    /// failed write or sync is returned (it must not go unseen); read bytes
    /// stay in the buffer; a read error and a seek's answer are dropped (the
    /// read changed nothing, the seek's effect shows in the position).
    fn settle(&self, done: Done) -> io::Result<()> {
        match done {
            Done::Write(Err(e)) => Err(with_path(e, "writing", &self.path)),
            Done::Sync(Err(e)) => Err(with_path(e, "syncing", &self.path)),
            Done::Write(Ok(())) | Done::Sync(Ok(())) | Done::Read(_) | Done::Seek(..) => Ok(()),
        }
    }

    /// Waits until no job is in flight, settling the one that was.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match ready!(self.poll_done(cx))? {
            Some(done) => Poll::Ready(self.settle(done)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// The read protocol: hand out buffered bytes if there are any, else
    /// start a read job of at least `want` bytes (bounded) and wait for it.
    /// `copy` moves bytes from the buffer to the caller.
    fn poll_read_with(
        &mut self,
        cx: &mut Context<'_>,
        want: usize,
        mut copy: impl FnMut(&mut Buf) -> usize,
    ) -> Poll<io::Result<usize>> {
        loop {
            match ready!(self.poll_done(cx))? {
                // A read ended: this poll's own (started by an earlier poll
                // that returned Pending) or an abandoned one; either way its
                // bytes come next in the file.
                Some(Done::Read(Err(e))) => {
                    return Poll::Ready(Err(with_path(e, "reading", &self.path)));
                }
                Some(Done::Read(Ok(_))) => return Poll::Ready(Ok(copy(&mut self.parts().buf))),
                Some(other) => self.settle(other)?,
                None => {}
            }
            let buf = &mut self.parts().buf;
            if !buf.is_empty() || want == 0 {
                return Poll::Ready(Ok(copy(buf)));
            }
            let len = want.clamp(READ_AHEAD, CHUNK_MAX);
            self.start(move |parts| {
                let Parts { file, buf } = parts;
                buf.clear();
                buf.bytes.resize(len, 0);
                let result = loop {
                    match file.read(&mut buf.bytes) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        result => break result,
                    }
                };
                buf.bytes.truncate(*result.as_ref().unwrap_or(&0));
                Done::Read(result)
            })?;
            // Polled once at the top of the loop: that registers our waker
            // with the job's handle.
        }
    }

    /// The write protocol: wait for the job in flight (reporting its
    /// failure), then copy up to 1 MiB of the caller's bytes (`fill` does,
    /// returning how many), start the job that writes them, and say they
    /// were accepted.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        fill: impl FnOnce(&mut Vec<u8>) -> usize,
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_idle(cx))?;
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        self.in_runtime()?;
        let buf = &mut self.parts().buf;
        // The OS position is past bytes read ahead; the write goes where the
        // caller's position is.
        let back = buf.ahead();
        buf.clear();
        let accepted = fill(&mut buf.bytes);
        self.start(move |parts| {
            let Parts { file, buf } = parts;
            let result = (|| {
                if back > 0 {
                    file.seek(SeekFrom::Current(-back))?;
                }
                file.write_all(&buf.bytes)
            })();
            buf.clear();
            Done::Write(result)
        })?;
        Poll::Ready(Ok(accepted))
    }
}

/// Appends up to `CHUNK_MAX` bytes of `src` to `to`; returns how many.
fn fill(to: &mut Vec<u8>, src: &[u8]) -> usize {
    let n = src.len().min(CHUNK_MAX);
    to.extend_from_slice(&src[..n]);
    n
}

/// Appends up to `CHUNK_MAX` bytes of `srcs`, in order; returns how many.
fn fill_vectored(to: &mut Vec<u8>, srcs: &[IoSlice<'_>]) -> usize {
    let mut total = 0;
    for src in srcs {
        let n = fill(to, &src[..src.len().min(CHUNK_MAX - total)]);
        total += n;
        if total == CHUNK_MAX {
            break;
        }
    }
    total
}

/// Reading through the runtime-neutral trait.
///
/// `poll_read` first hands out bytes an earlier job read ahead. With none
/// left, it starts a read job on the blocking pool (at least 16 KiB, at most
/// 1 MiB) and returns `Pending`; the job's handle wakes the task when the
/// pool thread is done, and the next poll continues that same job: it hands
/// out its bytes, never starting a second read. `Pending` also while an
/// earlier job (a write, a seek) is still in flight. `Ok(0)` is end of file.
/// `poll_read_vectored` fills the slices in order from one job.
///
/// Cancel safety: a read future dropped after `Pending` loses nothing: the
/// job goes on, its bytes wait in the file's buffer, and the next read gets
/// them.
///
/// # Examples
///
/// ```
/// use futures_io::AsyncRead;
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// let path = std::env::temp_dir().join(format!("evloop-doc-file-read-{}", std::process::id()));
/// std::fs::write(&path, b"abc").unwrap();
/// evloop::run(async {
///     let mut file = evloop::fs::File::open(&path).await.unwrap();
///     let mut buf = [0u8; 2];
///     // What `AsyncReadExt::read` does: the first poll starts the job.
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"ab");
///     // The job read ahead: this one is served from the buffer.
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"c");
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_read_with(cx, buf.len(), |from| from.copy_to(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let want = bufs.iter().map(|b| b.len()).sum();
        self.get_mut()
            .poll_read_with(cx, want, |from| from.copy_to_vectored(bufs))
    }
}

/// Writing through the runtime-neutral trait.
///
/// `poll_write` returns `Pending` only while an earlier job is in flight
/// (the task is woken by that job's handle when the pool thread is done);
/// a `Pending` write has taken nothing. Once the file is idle it copies up to
/// 1 MiB of `buf`, starts a job that writes them, and returns `Ready(n)` at
/// once: those `n` bytes are accepted and will be written exactly once, in
/// order, whatever the caller does next. A failure of that job is returned by
/// the next operation (`poll_write`, `poll_flush`, `poll_close`, a read or a
/// seek), so no error is lost. `poll_write_vectored` gathers the slices into
/// one job.
///
/// `poll_flush` and `poll_close` wait (`Pending`, woken the same way) until
/// no job is in flight, and return the failure of the last write. Neither
/// `fsync`s (see [`File::sync_all`]); the OS file is closed when the `File`
/// is dropped.
///
/// Cancel safety: a write future dropped after `Pending` wrote nothing; one
/// dropped after some `Ready` leaves exactly the accepted bytes to be written.
///
/// # Examples
///
/// ```
/// use futures_io::AsyncWrite;
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// let path = std::env::temp_dir().join(format!("evloop-doc-file-write-{}", std::process::id()));
/// evloop::run(async {
///     let mut file = evloop::fs::File::create(&path).await.unwrap();
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"hello")).await.unwrap();
///     assert_eq!(n, 5); // accepted: the job is on its way
///     poll_fn(|cx| Pin::new(&mut file).poll_close(cx)).await.unwrap();
/// });
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// std::fs::remove_file(&path).unwrap();
/// ```
impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, buf.len(), |to| fill(to, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.get_mut()
            .poll_write_with(cx, len, |to| fill_vectored(to, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }
}

/// Seeking through the runtime-neutral trait.
///
/// `poll_seek` waits for the job in flight, then starts a seek job and
/// returns `Pending`; the job's handle wakes the task when the pool thread
/// is done, and the next `poll_seek` with the same `pos` returns the new
/// position (the one the caller sees: bytes read ahead are accounted for, so
/// `SeekFrom::Current(0)` tells where the next read starts).
///
/// Cancel safety: a seek future dropped after `Pending` may still move the
/// position. A later `poll_seek` with the very same `pos` takes that job's
/// answer instead of seeking again; any other operation just goes on from
/// the new position.
///
/// # Examples
///
/// ```
/// use futures_io::{AsyncRead, AsyncSeek};
/// use std::future::poll_fn;
/// use std::io::SeekFrom;
/// use std::pin::Pin;
///
/// let path = std::env::temp_dir().join(format!("evloop-doc-file-seek-{}", std::process::id()));
/// std::fs::write(&path, b"0123456789").unwrap();
/// evloop::run(async {
///     let mut file = evloop::fs::File::open(&path).await.unwrap();
///     let at = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::End(-3))).await.unwrap();
///     assert_eq!(at, 7);
///     let mut buf = [0u8; 8];
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"789");
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            match ready!(this.poll_done(cx))? {
                Some(Done::Seek(asked, result)) if asked == pos => {
                    return Poll::Ready(result.map_err(|e| with_path(e, "seeking in", &this.path)));
                }
                Some(other) => this.settle(other)?,
                None => {}
            }
            this.in_runtime()?;
            let ahead = this.parts().buf.ahead();
            let target = match pos {
                // Relative to what the caller has read, not to the OS
                // position, which is past the bytes read ahead.
                SeekFrom::Current(n) => match n.checked_sub(ahead) {
                    Some(n) => SeekFrom::Current(n),
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!(
                                "seeking in {}: offset {n} out of range",
                                this.path.display()
                            ),
                        )));
                    }
                },
                other => other,
            };
            this.parts().buf.clear();
            this.start(move |parts| Done::Seek(pos, parts.file.seek(target)))?;
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(_) => "idle",
            State::Busy(_) => "busy",
            State::Lost(_) => "lost",
        };
        f.debug_struct("File")
            .field("path", &self.path)
            .field("state", &state)
            .finish()
    }
}
