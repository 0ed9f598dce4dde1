//! [`Command`]: a process builder, as std's, whose children are awaited.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use super::exit::{ExitWatch, Watch};
use super::orphans;
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use crate::runtime::handle;

/// Builds and starts a child process (asyncio's
/// `create_subprocess_exec`, tokio's `tokio::process::Command`).
///
/// The methods mirror [`std::process::Command`]'s, and so do the defaults:
/// [`spawn`](Command::spawn) and [`status`](Command::status) inherit
/// stdin, stdout and stderr; [`output`](Command::output) pipes stdout and
/// stderr and gives the child an empty stdin. A stream set to
/// [`Stdio::piped`] comes back on the [`Child`] as an evloop stream.
///
/// What evloop adds is [`kill_on_drop`](Command::kill_on_drop).
///
/// # Examples
///
/// ```
/// use evloop::process::Command;
///
/// evloop::run(async {
///     let output = Command::new("echo").arg("hello").output().await.unwrap();
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
    watch: Watch,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no
    /// slash), with no arguments, this process's environment and working
    /// directory.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what
    /// [`env`](Command::env) adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// What the child's stdin is: inherited (default), `Stdio::null()`, or
    /// `Stdio::piped()` for a [`ChildStdin`] to write to.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// What the child's stdout is: inherited (default), `Stdio::null()`, or
    /// `Stdio::piped()` for a [`ChildStdout`] to read.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// What the child's stderr is: inherited (default), `Stdio::null()`, or
    /// `Stdio::piped()` for a [`ChildStderr`] to read.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether a [`Child`] dropped before it was waited for is killed
    /// (`SIGKILL`). Off by default, as in tokio: a dropped child runs on,
    /// and the runtime reaps it when it exits (see the
    /// [module docs](super)). With it on, a cancelled task that owned a
    /// child (a timeout, an abort, Ctrl-C) takes the child down with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut sleeper = Command::new("sleep");
    ///     sleeper.arg("30").kill_on_drop(true);
    ///     let gave_up = evloop::time::timeout(Duration::from_millis(50), sleeper.output()).await;
    ///     assert!(gave_up.is_err()); // and the `sleep` was killed with it
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// The std command inside, for what this one does not mirror
    /// (`std::os::unix::process::CommandExt`'s `uid`, `process_group`...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The std command inside.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Watches children for their exit through `SIGCHLD` even where pidfds
    /// work (for the fallback's own tests).
    pub(crate) fn watch_by_sigchld(&mut self) -> &mut Command {
        self.watch = Watch::SigChld;
        self
    }

    /// Starts the child on the current runtime.
    ///
    /// The child runs at once; its piped streams are registered with the
    /// reactor, and so is its exit (a pidfd on Linux, else `SIGCHLD`).
    /// Spawning also reaps children left adrift by a runtime that ended
    /// (see the module docs).
    ///
    /// # Errors
    ///
    /// Outside a runtime (before anything is started); if the program
    /// cannot be started (not found, not executable), naming it; if the
    /// pipes or the exit watch cannot be registered (out of file
    /// descriptors): then the child, already started, is killed if
    /// [`kill_on_drop`](Command::kill_on_drop) is set, and reaped in the
    /// background either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let missing = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(missing.to_string().contains("no-such-program-here"), "{missing}");
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        if !handle::in_runtime() {
            return Err(io::Error::other(format!(
                "evloop: cannot spawn {}: child processes can only be started inside a runtime \
                 (evloop::run or Runtime::block_on)",
                self.program()
            )));
        }
        orphans::take_over_adrift();
        let mut child = self
            .std
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("spawning {}: {e}", self.program())))?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let watch = match ExitWatch::new(child.id(), self.watch) {
            Ok(watch) => watch,
            Err(e) => {
                if self.kill_on_drop {
                    let _ = child.kill();
                }
                // Cannot watch it now: left for the next spawn to take over.
                drop((stdin, stdout, stderr));
                orphans::set_adrift(child);
                return Err(self.failed_to_watch(e));
            }
        };
        let pid = child.id();
        // From here on, an error drops `child`, whose `Drop` kills it (if
        // asked) and hands it to the reaper.
        let mut child = Child::new(child, watch, self.kill_on_drop, self.program());
        child.stdin = stdin
            .map(|s| ChildStdin::new(s.into(), pid))
            .transpose()
            .map_err(|e| self.failed_to_watch(e))?;
        child.stdout = stdout
            .map(|s| ChildStdout::new(s.into(), pid))
            .transpose()
            .map_err(|e| self.failed_to_watch(e))?;
        child.stderr = stderr
            .map(|s| ChildStderr::new(s.into(), pid))
            .transpose()
            .map_err(|e| self.failed_to_watch(e))?;
        Ok(child)
    }

    /// Runs the child to its end and returns its exit status (std's
    /// `status`). Streams not set are inherited.
    ///
    /// `Pending` until the child exits. Cancel safety: dropping the future
    /// drops the [`Child`], so the child is killed if
    /// [`kill_on_drop`](Command::kill_on_drop) is set, and otherwise runs
    /// on and is reaped in the background.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), and what `waitpid(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let status = Command::new("sh").args(["-c", "exit 7"]).status().await.unwrap();
    ///     assert_eq!(status.code(), Some(7));
    /// });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child to its end, collecting its stdout and stderr (std's
    /// `output`; asyncio's `create_subprocess_exec(..., stdout=PIPE,
    /// stderr=PIPE)` then `communicate()`).
    ///
    /// stdout and stderr are piped whatever was set; stdin is empty
    /// (`Stdio::null()`) unless set. This changes the command's settings
    /// for later spawns too, as tokio's `output` does.
    ///
    /// `Pending` until the child exited and both pipes reached end of
    /// file. Cancel safety: as [`status`](Command::status); what was read
    /// is lost.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), a read error, or what `waitpid(2)`
    /// reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 1"]).output().await.unwrap();
    ///     assert_eq!(output.status.code(), Some(1));
    ///     assert_eq!(output.stdout, b"out\n");
    ///     assert_eq!(output.stderr, b"err\n");
    /// });
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }

    fn program(&self) -> String {
        self.std.get_program().to_string_lossy().into_owned()
    }

    fn failed_to_watch(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!("watching {} after starting it: {e}", self.program()),
        )
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command, keeping its settings.
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            watch: Watch::Best,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
