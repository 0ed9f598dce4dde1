//! The pool of idle keep-alive connections, per origin.
//!
//! Opening a connection costs a round trip (two for TLS, plus the crypto),
//! so a finished response hands its connection back here, and the next
//! request to the same origin (scheme, host, port) takes it out again.
//!
//! Only connections known to be clean come back: the body was read to its
//! end, its framing allows reuse, the server did not say `Connection:
//! close`, and nothing is left unread. A connection that fails any of these
//! is closed instead (the response in [`response`](super::response)
//! decides). Taking a connection out checks it once more: the server may
//! have closed it while it sat idle, and a zero-length read says so.
//!
//! The pool lives in a `RefCell` inside the client, and no method here
//! awaits, so no borrow is ever held across an `.await`.

use std::collections::HashMap;
use std::time::Duration;

use super::conn::Conn;
use super::url::{Scheme, Url};
use crate::time::Instant;

/// The origin a connection goes to: connections are shared only within one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl PoolKey {
    /// The origin of `url`.
    pub(crate) fn of(url: &Url) -> PoolKey {
        PoolKey {
            scheme: url.scheme(),
            host: url.host().to_owned(),
            port: url.port(),
        }
    }
}

/// An idle connection and when it became idle.
#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Instant,
}

/// Idle connections by origin, most recently used last.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: HashMap<PoolKey, Vec<Idle>>,
    max_idle_per_host: usize,
    idle_timeout: Duration,
}

impl Pool {
    /// An empty pool keeping at most `max_idle_per_host` idle connections
    /// per origin, each for at most `idle_timeout`.
    pub(crate) fn new(max_idle_per_host: usize, idle_timeout: Duration) -> Pool {
        Pool {
            idle: HashMap::new(),
            max_idle_per_host,
            idle_timeout,
        }
    }

    /// Takes an idle connection to `key`'s origin that is still open, the
    /// most recently used first; closes the stale ones it meets on the way.
    pub(crate) fn take(&mut self, key: &PoolKey) -> Option<Conn> {
        let list = self.idle.get_mut(key)?;
        let mut found = None;
        while let Some(mut idle) = list.pop() {
            if idle.since.elapsed() < self.idle_timeout && idle.conn.is_idle_and_open() {
                found = Some(idle.conn);
                break;
            }
            // Stale: dropping it closes the socket.
        }
        if list.is_empty() {
            self.idle.remove(key);
        }
        found
    }

    /// Returns a clean connection to the pool; the oldest idle one of its
    /// origin is closed if that origin already has the most allowed.
    pub(crate) fn put(&mut self, conn: Conn) {
        if self.max_idle_per_host == 0 {
            return;
        }
        let list = self.idle.entry(conn.key().clone()).or_default();
        if list.len() >= self.max_idle_per_host {
            list.remove(0);
        }
        list.push(Idle {
            conn,
            since: Instant::now(),
        });
    }

    /// How many idle connections the pool holds, over all origins.
    pub(crate) fn len(&self) -> usize {
        self.idle.values().map(Vec::len).sum()
    }
}
