//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: a child's standard
//! streams as evloop streams, when they are piped.
//!
//! Each is one end of a pipe, made nonblocking and registered with the
//! reactor, and read or written exactly as a [`TcpStream`] is: the syscall
//! first, and `Pending` only after it answered `WouldBlock`, until the
//! reactor reports the pipe ready again. They implement the runtime-neutral
//! [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`] too.
//!
//! [`TcpStream`]: crate::net::TcpStream

use std::fmt;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe;

use crate::io::reactor::Direction;
use crate::io::registration::Evented;

/// The read end of a pipe from a child (its stdout or stderr).
struct ReadEnd {
    inner: Evented<pipe::Receiver>,
}

impl ReadEnd {
    fn new(receiver: pipe::Receiver, label: String) -> io::Result<ReadEnd> {
        receiver.set_nonblocking(true)?;
        Ok(ReadEnd {
            inner: Evented::new(receiver, |_| label)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_io(cx, Direction::Read, |mut r| r.read(buf))
    }

    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.io(Direction::Read, |mut r| r.read(buf)).await
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_io(Direction::Read, |mut r| r.read(buf))
    }

    async fn read_to_end(&self, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        // On the heap: a future holding it across `.await` stays small.
        let mut chunk = vec![0u8; 8192];
        loop {
            match self.read(&mut chunk).await? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

macro_rules! read_end {
    ($name:ident, $stream:literal, $example_cmd:literal, $example_out:literal) => {
        #[doc = concat!("The child's ", $stream, ", when piped ([`Stdio::piped`](std::process::Stdio::piped)): read it as a stream.")]
        ///
        /// Reads take `&self`. Each returns `Pending` only after `read(2)`
        /// answered `WouldBlock`; the reactor wakes the task when the pipe
        /// turns readable (data, or the child closed its end). `Ok(0)` means
        /// end of file: the child closed it, usually by exiting.
        ///
        /// Cancel safety: `read` reads nothing until it is `Ready`, so
        /// dropping it mid-wait loses no bytes; `read_to_end` keeps what it
        /// read so far in the caller's vector.
        ///
        /// Errors are the OS's own, unchanged.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::process::Stdio;
        /// use evloop::process::Command;
        ///
        /// evloop::run(async {
        #[doc = concat!("    let mut child = Command::new(\"sh\").args([\"-c\", \"", $example_cmd, "\"])")]
        #[doc = concat!("        .", $stream, "(Stdio::piped())")]
        ///         .spawn()
        ///         .unwrap();
        #[doc = concat!("    let pipe = child.", $stream, ".take().unwrap();")]
        ///     let mut text = Vec::new();
        ///     pipe.read_to_end(&mut text).await.unwrap();
        #[doc = concat!("    assert_eq!(text, b\"", $example_out, "\");")]
        ///     assert!(child.wait().await.unwrap().success());
        /// });
        /// ```
        pub struct $name {
            end: ReadEnd,
        }

        impl $name {
            pub(super) fn new(receiver: pipe::Receiver, pid: u32) -> io::Result<$name> {
                Ok($name {
                    end: ReadEnd::new(receiver, format!(concat!($stream, " of child {}"), pid))?,
                })
            }

            /// Reads some bytes into `buf`; `Ok(0)` at end of file (or if
            /// `buf` is empty).
            ///
            /// # Errors
            ///
            /// What `read(2)` reports.
            pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.end.read(buf).await
            }

            /// Polls a read: `Pending` only after `read(2)` said
            /// `WouldBlock`, and the reactor wakes `cx`'s waker when the
            /// pipe turns readable. The trait's `poll_read` is this one.
            pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.end.poll_read(cx, buf)
            }

            /// Reads without waiting: `WouldBlock` if nothing is there.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or what `read(2)` reports.
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.end.try_read(buf)
            }

            /// Reads until end of file, appending to `out`; returns how many
            /// bytes it appended.
            ///
            /// # Errors
            ///
            /// What `read(2)` reports; the bytes read before stay in `out`.
            pub async fn read_to_end(&self, out: &mut Vec<u8>) -> io::Result<usize> {
                self.end.read_to_end(out).await
            }
        }

        /// Reading through the runtime-neutral trait. `Pending` only after
        /// `read(2)` said `WouldBlock`; the reactor wakes the latest poll's
        /// waker when the pipe turns readable. Cancel safe: nothing is read
        /// until `Ready`.
        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.end.poll_read(cx, buf)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

read_end!(ChildStdout, "stdout", "echo out", "out\\n");
read_end!(ChildStderr, "stderr", "echo err >&2", "err\\n");

/// The child's stdin, when piped ([`Stdio::piped`](std::process::Stdio::piped)):
/// write to it as a stream.
///
/// Writes take `&self`. Each returns `Pending` only after `write(2)`
/// answered `WouldBlock` (the pipe is full: the child reads slower than we
/// write); the reactor wakes the task when it drains. The child sees end of
/// file when this is dropped or [`close`](ChildStdin::close)d; `Child::wait`
/// closes it first, as std's does, so a child that reads to the end can
/// finish.
///
/// A child that closed its stdin (or exited) makes every later write fail
/// with `BrokenPipe` at once, never hang: Rust programs ignore `SIGPIPE`,
/// so the write reports the error instead of ending the process. (A program
/// that restores `SIGPIPE`'s default dies of it, as with any pipe.)
///
/// Cancel safety: `write` writes nothing until it is `Ready`; `write_all`
/// may have written part of the buffer when dropped.
///
/// # Examples
///
/// ```
/// use std::process::Stdio;
/// use evloop::process::Command;
///
/// evloop::run(async {
///     let mut cat = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = cat.stdin.take().unwrap();
///     stdin.write_all(b"through the pipe").await.unwrap();
///     stdin.close(); // cat sees end of file
///     let mut echoed = Vec::new();
///     cat.stdout.take().unwrap().read_to_end(&mut echoed).await.unwrap();
///     assert_eq!(echoed, b"through the pipe");
/// });
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    inner: Option<Evented<pipe::Sender>>,
}

impl ChildStdin {
    pub(super) fn new(sender: pipe::Sender, pid: u32) -> io::Result<ChildStdin> {
        sender.set_nonblocking(true)?;
        Ok(ChildStdin {
            inner: Some(Evented::new(sender, |_| format!("stdin of child {pid}"))?),
        })
    }

    fn open(&self) -> io::Result<&Evented<pipe::Sender>> {
        self.inner.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "evloop: writing to a child's stdin that was closed",
            )
        })
    }

    /// Writes some bytes of `buf`; returns how many.
    ///
    /// # Errors
    ///
    /// What `write(2)` reports: `BrokenPipe` once the child closed its end.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.open()?
            .io(Direction::Write, |mut w| w.write(buf))
            .await
    }

    /// Polls a write: `Pending` only after `write(2)` said `WouldBlock`,
    /// and the reactor wakes `cx`'s waker when the pipe has room again (or
    /// the child closed its end). The trait's `poll_write` is this one.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.open() {
            Ok(pipe) => pipe.poll_io(cx, Direction::Write, |mut w| w.write(buf)),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Writes without waiting: `WouldBlock` if the pipe is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `write(2)` reports.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.open()?.try_io(Direction::Write, |mut w| w.write(buf))
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    ///
    /// A write error (`BrokenPipe` if the child stopped reading), or
    /// `WriteZero`.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let mut written = 0;
        while written < buf.len() {
            match self.write(&buf[written..]).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => written += n,
            }
        }
        Ok(())
    }

    /// Closes our end: the child reads end of file once it has read what
    /// was written. Later writes fail with `BrokenPipe`. Dropping the
    /// `ChildStdin` does the same.
    pub fn close(&mut self) {
        self.inner = None;
    }
}

/// Writing through the runtime-neutral trait. `poll_write` returns
/// `Pending` only after `write(2)` said `WouldBlock`; the reactor wakes the
/// latest poll's waker when the pipe has room. `poll_flush` is always
/// ready (nothing is buffered here). `poll_close` closes our end, as
/// [`close`](ChildStdin::close) does. Cancel safe: nothing is written until
/// `Ready`.
impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ChildStdin::poll_write(&self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("open", &self.inner.is_some())
            .finish()
    }
}
