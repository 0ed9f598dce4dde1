//! [`SignalKind`]: which Unix signal a listener waits for.

use std::fmt;

/// A Unix signal, by number: what [`signal`](super::signal()) listens for.
///
/// The named constructors cover the signals a program usually handles;
/// [`from_raw`](SignalKind::from_raw) takes any number (a real-time signal,
/// say). The names follow tokio's `tokio::signal::unix::SignalKind`.
///
/// # Examples
///
/// ```
/// use evloop::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), 2); // SIGINT, on every Unix
/// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
/// assert_eq!(SignalKind::hangup().to_string(), "SIGHUP");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalKind(i32);

impl SignalKind {
    /// The signal with this number.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// Its number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// `SIGINT`: Ctrl-C in a terminal. Kills the process by default.
    pub const fn interrupt() -> SignalKind {
        SignalKind(signal_hook::consts::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop (what `kill PID`, systemd and
    /// Docker send). Kills the process by default.
    pub const fn terminate() -> SignalKind {
        SignalKind(signal_hook::consts::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons take it as "reload your
    /// configuration". Kills the process by default.
    pub const fn hangup() -> SignalKind {
        SignalKind(signal_hook::consts::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal. Kills the process (with a core
    /// dump) by default.
    pub const fn quit() -> SignalKind {
        SignalKind(signal_hook::consts::SIGQUIT)
    }

    /// `SIGUSR1`, for whatever the program says. Kills the process by
    /// default.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(signal_hook::consts::SIGUSR1)
    }

    /// `SIGUSR2`, for whatever the program says. Kills the process by
    /// default.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(signal_hook::consts::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited. Ignored by default.
    pub const fn child() -> SignalKind {
        SignalKind(signal_hook::consts::SIGCHLD)
    }

    /// `SIGWINCH`: the terminal changed size. Ignored by default.
    pub const fn window_change() -> SignalKind {
        SignalKind(signal_hook::consts::SIGWINCH)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` went off. Kills the process
    /// by default.
    pub const fn alarm() -> SignalKind {
        SignalKind(signal_hook::consts::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe or socket nobody reads any more. Rust
    /// programs ignore it from the start (the write fails with
    /// `BrokenPipe` instead).
    pub const fn pipe() -> SignalKind {
        SignalKind(signal_hook::consts::SIGPIPE)
    }

    /// The signal's usual name (`"SIGTERM"`), if it has one.
    pub fn name(self) -> Option<&'static str> {
        signal_hook::low_level::signal_name(self.0)
    }
}

impl fmt::Display for SignalKind {
    /// The name (`SIGTERM`), or `signal 40` for a number without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}
