//! How the loop learns that a child exited, without a thread per child.
//!
//! * **Linux (5.3 and later): a pidfd.** `pidfd_open(2)` gives a file
//!   descriptor for the child that turns readable when it exits. It is
//!   registered with the reactor like a socket, so a child's exit is one
//!   more readiness event; the task then reaps the child with
//!   `waitpid(WNOHANG)` (std's `try_wait`).
//! * **Elsewhere, or where `pidfd_open` is refused (an older kernel, a
//!   seccomp filter): `SIGCHLD`.** The kernel sends `SIGCHLD` to the parent
//!   when a child exits; each waiting child holds a `SIGCHLD` listener of
//!   the signal driver, and on every `SIGCHLD` tries `waitpid(WNOHANG)` for
//!   itself. That is a syscall per waiting child per `SIGCHLD` (the OS
//!   merges `SIGCHLD`s, so a signal may stand for several exits, and cannot
//!   say whose): fine for tens of children, slower for thousands. While a
//!   runtime waits for children this way, `SIGCHLD` is caught; a program
//!   that set it to `SIG_IGN` (which makes the kernel reap children itself)
//!   gets a handler instead while evloop waits, and children exit as
//!   zombies until reaped.
//!
//! Both are polled the same way: try `waitpid`, and only if the child is
//! still running, wait for the next event (the same rule as a socket's
//! `WouldBlock`), so no exit between the two is missed.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitStatus;
use std::task::{Context, Poll};

use crate::io::reactor::Direction;
use crate::io::registration::Evented;
use crate::signal::{Signal, SignalKind};

/// What a child's exit is observed through.
#[derive(Debug)]
pub(super) enum ExitWatch {
    /// A pidfd on the reactor (Linux).
    PidFd(Evented<PidFd>),
    /// A `SIGCHLD` listener (the fallback).
    SigChld(Signal),
}

/// A pidfd, as a mio source.
#[derive(Debug)]
pub(super) struct PidFd(OwnedFd);

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// Which way to watch children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Watch {
    /// A pidfd where the platform has it, else `SIGCHLD`.
    #[default]
    Best,
    /// `SIGCHLD`, even where pidfds work (for the fallback's own tests).
    SigChld,
}

impl ExitWatch {
    /// Starts watching the child `pid` (already spawned; it cannot be
    /// reaped behind our back, so its pid stays its own until we reap it).
    ///
    /// # Errors
    ///
    /// If the pidfd or the signal listener cannot be made (out of file
    /// descriptors).
    pub(super) fn new(pid: u32, how: Watch) -> io::Result<ExitWatch> {
        #[cfg(target_os = "linux")]
        if how == Watch::Best
            && let Some(pidfd) = linux::pidfd(pid)?
        {
            let watch = Evented::new(PidFd(pidfd), |_| format!("exit of child {pid}"))?;
            return Ok(ExitWatch::PidFd(watch));
        }
        let _ = (pid, how);
        Ok(ExitWatch::SigChld(crate::signal::signal(
            SignalKind::child(),
        )?))
    }

    /// `Ready` with the exit status once `child` has exited (and is
    /// reaped); otherwise `Pending`, with `cx`'s waker left where the next
    /// exit event will find it.
    pub(super) fn poll_exit(
        &mut self,
        child: &mut std::process::Child,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            // The reactor's rule: try, and wait only after "not yet".
            ExitWatch::PidFd(pidfd) => {
                pidfd.poll_io(cx, Direction::Read, |_| match child.try_wait() {
                    Ok(Some(status)) => Ok(status),
                    Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Err(e),
                })
            }
            ExitWatch::SigChld(sigchld) => loop {
                if let Some(status) = child.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // A SIGCHLD since the last try (ours or another child's):
                // try again; none: wait for the next one.
                if sigchld.poll_recv(cx).is_pending() {
                    return Poll::Pending;
                }
            },
        }
    }

    /// Which kind of watch this is (for tests and traces).
    pub(super) fn is_pidfd(&self) -> bool {
        matches!(self, ExitWatch::PidFd(_))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    use rustix::io::Errno;
    use rustix::process::{Pid, PidfdFlags, pidfd_open};

    /// Set once `pidfd_open` turned out not to exist here.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// A pidfd for `pid`, or `None` where the kernel has none (then the
    /// caller falls back to `SIGCHLD`, and so does every later child).
    pub(super) fn pidfd(pid: u32) -> io::Result<Option<OwnedFd>> {
        if UNSUPPORTED.load(Relaxed) {
            return Ok(None);
        }
        let pid = i32::try_from(pid)
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| io::Error::other(format!("evloop: {pid} is not a child's pid")))?;
        match pidfd_open(pid, PidfdFlags::empty()) {
            Ok(fd) => Ok(Some(fd)),
            // Before Linux 5.3, or forbidden by a seccomp filter.
            Err(Errno::NOSYS | Errno::PERM) => {
                UNSUPPORTED.store(true, Relaxed);
                Ok(None)
            }
            Err(e) => Err(io::Error::from(e)),
        }
    }
}
