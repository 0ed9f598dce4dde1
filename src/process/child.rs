//! [`Child`]: a running child process, its pipes, and its exit as a future.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::pin;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use super::exit::ExitWatch;
use super::orphans::{self, Orphan};
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};

/// A child process started by [`Command::spawn`](super::Command::spawn)
/// (asyncio's `Process`, tokio's `tokio::process::Child`).
///
/// Its piped streams are the public fields, as in std: take them out to
/// read and write concurrently with waiting. [`wait`](Child::wait) is a
/// future; the loop learns of the exit through the reactor (see the
/// [module docs](super)), never through a thread per child.
///
/// # Dropping
///
/// Dropping a `Child` that has not been waited for does not stop the
/// process (as with std and tokio), unless the command said
/// [`kill_on_drop(true)`](super::Command::kill_on_drop): then it is sent
/// `SIGKILL`. Either way the runtime reaps it in the background when it
/// exits, so it does not linger as a zombie; see the module docs for what
/// happens after the runtime ends.
///
/// # Examples
///
/// ```
/// use evloop::process::Command;
///
/// evloop::run(async {
///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
///     assert!(child.id().is_some());
///     let status = child.wait().await.unwrap();
///     assert_eq!(status.code(), Some(3));
///     assert_eq!(child.id(), None); // reaped: the pid is no longer its
/// });
/// ```
pub struct Child {
    /// The child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    state: State,
    /// What it was started as, for errors and `Debug`.
    program: String,
}

enum State {
    Running {
        child: std::process::Child,
        watch: ExitWatch,
        kill_on_drop: bool,
    },
    Exited(ExitStatus),
    /// Only while `Drop` or `into_orphan` takes the running state apart.
    Gone,
}

impl Child {
    pub(super) fn new(
        child: std::process::Child,
        watch: ExitWatch,
        kill_on_drop: bool,
        program: String,
    ) -> Child {
        Child {
            stdin: None,
            stdout: None,
            stderr: None,
            state: State::Running {
                child,
                watch,
                kill_on_drop,
            },
            program,
        }
    }

    /// The OS's process id, while the child has not been reaped; `None`
    /// after [`wait`](Child::wait) (or [`try_wait`](Child::try_wait))
    /// reported its exit, since the id may then belong to a new process.
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running { child, .. } => Some(child.id()),
            State::Exited(_) | State::Gone => None,
        }
    }

    /// Waits for the child to exit and returns its status (asyncio's
    /// `await proc.wait()`).
    ///
    /// Closes the child's stdin first (drops `self.stdin`, if it is still
    /// there), as std's `wait` does, so a child that reads to the end of
    /// its input can finish. Once it returned a status, later calls return
    /// the same status at once.
    ///
    /// `Pending` until the child exits; the reactor wakes the task through
    /// the child's pidfd (Linux) or a `SIGCHLD` listener. Cancel safe:
    /// dropping the future leaves the child running and the `Child`
    /// usable; wait again later.
    ///
    /// A child that fills a piped stdout or stderr nobody reads blocks
    /// forever, and so does this `wait`: read the pipes concurrently, or
    /// use [`wait_with_output`](Child::wait_with_output).
    ///
    /// # Errors
    ///
    /// What `waitpid(2)` reports (the child was reaped by someone else).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("true").spawn().unwrap();
    ///     assert!(child.wait().await.unwrap().success());
    ///     assert!(child.wait().await.unwrap().success()); // the same status again
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Polls for the exit: `Ready` with the status once the child exited
    /// (it is then reaped), else `Pending` with `cx`'s waker registered
    /// for the exit event. Does not close stdin.
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let polled = match &mut self.state {
            State::Exited(status) => return Poll::Ready(Ok(*status)),
            State::Gone => unreachable!("a Child is only taken apart when dropped"),
            State::Running { child, watch, .. } => watch.poll_exit(child, cx),
        };
        if let Poll::Ready(Ok(status)) = polled {
            // Reaped: the watch (pidfd or listener) is dropped with the state.
            self.state = State::Exited(status);
        }
        polled
    }

    /// The status if the child has exited (reaping it), `None` if it is
    /// still running; never waits.
    ///
    /// # Errors
    ///
    /// What `waitpid(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("10").kill_on_drop(true).spawn().unwrap();
    ///     assert!(child.try_wait().unwrap().is_none()); // still sleeping
    /// });
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.state {
            State::Exited(status) => Ok(Some(*status)),
            State::Gone => unreachable!("a Child is only taken apart when dropped"),
            State::Running { child, .. } => {
                let status = child.try_wait()?;
                if let Some(status) = status {
                    self.state = State::Exited(status);
                }
                Ok(status)
            }
        }
    }

    /// Sends `SIGKILL` (asyncio's `proc.kill()`); does not wait. Await
    /// [`wait`](Child::wait) afterwards to reap it and see the status
    /// (killed by signal 9). Killing a child that already exited does
    /// nothing and returns `Ok`, as std's `kill` does.
    ///
    /// # Errors
    ///
    /// What `kill(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.kill().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    /// });
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running { child, .. } => child.kill(),
            State::Exited(_) | State::Gone => Ok(()),
        }
    }

    /// Waits for the child while reading all of its piped stdout and
    /// stderr, and returns them with the status (asyncio's
    /// `proc.communicate()` without input; std's `wait_with_output`).
    ///
    /// Closes stdin first. Streams that were not piped come back empty.
    /// Reading and waiting go on concurrently, so a child that writes more
    /// than a pipe holds does not block.
    ///
    /// Cancel safety: dropping the future drops the `Child` (it was moved
    /// in), with what that means (see [Dropping](Child#dropping)); what was
    /// read is lost.
    ///
    /// # Errors
    ///
    /// A read error on a pipe, or a `waitpid(2)` error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let output = child.wait_with_output().await.unwrap();
    ///     assert_eq!((&output.stdout[..], &output.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    ///     assert!(output.status.success());
    /// });
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let read_out = read_all(self.stdout.take());
        let read_err = read_all(self.stderr.take());
        let (mut read_out, mut read_err) = (pin!(read_out), pin!(read_err));
        let (mut stdout, mut stderr, mut status) = (None, None, None);
        // The three at once, each polled until it is done.
        poll_fn(|cx| {
            if stdout.is_none()
                && let Poll::Ready(r) = read_out.as_mut().poll(cx)
            {
                stdout = Some(r);
            }
            if stderr.is_none()
                && let Poll::Ready(r) = read_err.as_mut().poll(cx)
            {
                stderr = Some(r);
            }
            if status.is_none()
                && let Poll::Ready(r) = self.poll_wait(cx)
            {
                status = Some(r);
            }
            let failed = |r: &Option<io::Result<_>>| matches!(r, Some(Err(_)));
            let done = stdout.is_some() && stderr.is_some() && status.is_some();
            // An error ends it early: no use reading on.
            if done || failed(&stdout) || failed(&stderr) || matches!(status, Some(Err(_))) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        let stdout = stdout.transpose()?;
        let stderr = stderr.transpose()?;
        let status = status.transpose()?;
        match (status, stdout, stderr) {
            (Some(status), Some(stdout), Some(stderr)) => Ok(Output {
                status,
                stdout,
                stderr,
            }),
            _ => unreachable!("the poll ends early only on an error, returned above"),
        }
    }

    /// Whether the child's exit is watched through a pidfd (`true`) or
    /// `SIGCHLD` (`false`); `None` once reaped. For the tests' hooks.
    pub(crate) fn watched_by_pidfd(&self) -> Option<bool> {
        match &self.state {
            State::Running { watch, .. } => Some(watch.is_pidfd()),
            State::Exited(_) | State::Gone => None,
        }
    }
}

/// Everything `pipe` has to give, until end of file (nothing if there is no
/// pipe).
async fn read_all<R: ReadToEnd>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(pipe) = pipe {
        pipe.read_all_into(&mut out).await?;
    }
    Ok(out)
}

/// The two read ends, for [`read_all`].
trait ReadToEnd {
    async fn read_all_into(&self, out: &mut Vec<u8>) -> io::Result<usize>;
}

impl ReadToEnd for ChildStdout {
    async fn read_all_into(&self, out: &mut Vec<u8>) -> io::Result<usize> {
        self.read_to_end(out).await
    }
}

impl ReadToEnd for ChildStderr {
    async fn read_all_into(&self, out: &mut Vec<u8>) -> io::Result<usize> {
        self.read_to_end(out).await
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let State::Running {
            mut child,
            watch,
            kill_on_drop,
        } = std::mem::replace(&mut self.state, State::Gone)
        else {
            return;
        };
        if kill_on_drop {
            // Fails only if it already exited: then there is nothing to kill.
            let _ = child.kill();
        }
        orphans::adopt(Orphan { child, watch });
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Child");
        d.field("program", &self.program).field("id", &self.id());
        if let State::Exited(status) = &self.state {
            d.field("status", status);
        }
        d.field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .finish()
    }
}
