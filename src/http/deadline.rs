//! [`Deadline`]: one point in time that a whole request must finish by.
//!
//! A timeout per read does not stop a server that sends one byte a second:
//! every read succeeds within its timeout, and the request never ends. So
//! the client computes one instant when a request starts and runs every
//! step of it (connect, TLS handshake, write, each read of the head and of
//! the body) with [`timeout_at`] against that same instant. The connect
//! step gets a second, usually earlier, instant from the connect timeout.
//!
//! [`Deadline::run`] also turns what a step returns into an [`HttpError`]
//! naming the step ([`Phase`]), so the client's code reads as a list of
//! steps rather than a list of error conversions.

use std::future::Future;
use std::io;
use std::time::Duration;

use super::error::{ErrorKind, HttpError, Phase};
use crate::time::{Instant, timeout_at};

/// When a request (or its connect step) must be done, and which limit set
/// that time, for the error message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// `None`: no deadline (a timeout too large to represent).
    at: Option<Instant>,
    /// The duration the deadline was computed from.
    limit: Duration,
    /// Whether this is the connect timeout rather than the request's.
    connect: bool,
}

impl Deadline {
    /// The deadline of a request starting now, `timeout` from now.
    pub(crate) fn request(timeout: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(timeout),
            limit: timeout,
            connect: false,
        }
    }

    /// The earlier of this deadline and `connect_timeout` from now.
    pub(crate) fn for_connect(self, connect_timeout: Duration) -> Deadline {
        let connect = Instant::now().checked_add(connect_timeout);
        match (self.at, connect) {
            (Some(request), Some(connect)) if request <= connect => self,
            (_, None) => self,
            (_, Some(_)) => Deadline {
                at: connect,
                limit: connect_timeout,
                connect: true,
            },
        }
    }

    /// Runs one step of a request: `step` if it finishes in time, else the
    /// timeout error for `phase`. An I/O error becomes [`ErrorKind::Io`],
    /// or [`ErrorKind::Tls`] when it carries a rustls error.
    ///
    /// Dropping `step` when time runs out is what cancels it; every step the
    /// client runs this way leaves its connection unusable, and the client
    /// drops that connection with the error.
    pub(crate) async fn run<T>(
        &self,
        phase: Phase,
        step: impl Future<Output = io::Result<T>>,
    ) -> Result<T, HttpError> {
        let result = match self.at {
            Some(at) => timeout_at(at, step)
                .await
                .map_err(|_| HttpError::new(self.elapsed(phase)))?,
            None => step.await,
        };
        result.map_err(|error| HttpError::new(io_error(phase, error)))
    }

    /// The error for running out of time during `phase`.
    fn elapsed(&self, phase: Phase) -> ErrorKind {
        if self.connect {
            ErrorKind::ConnectTimeout { limit: self.limit }
        } else {
            ErrorKind::Timeout {
                phase,
                limit: self.limit,
            }
        }
    }
}

/// Classifies an I/O error of `phase`: TLS errors travel inside
/// `io::Error` (as tokio-rustls does it) and come out as [`ErrorKind::Tls`].
pub(crate) fn io_error(phase: Phase, error: io::Error) -> ErrorKind {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(tls) => ErrorKind::Tls { error: tls.clone() },
        None if phase == Phase::Connect => ErrorKind::Connect { error },
        None => ErrorKind::Io { phase, error },
    }
}
