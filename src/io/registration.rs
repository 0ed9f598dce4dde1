//! [`Evented`]: a mio source registered with the current loop's reactor,
//! and the one loop every nonblocking operation goes through.

use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::reactor::{Direction, Reactor, SlotKey};

/// A mio source plus its reactor slot. Deregisters on drop.
#[derive(Debug)]
pub(crate) struct Evented<S: mio::event::Source> {
    source: S,
    reactor: Rc<Reactor>,
    key: SlotKey,
}

impl<S: mio::event::Source> Evented<S> {
    /// Registers `source` with the current loop.
    pub(crate) fn new(mut source: S, label: impl FnOnce(&S) -> String) -> io::Result<Evented<S>> {
        let reactor = Reactor::current()?;
        let tracing = crate::runtime::handle::with_current(|h| h.tracing()).unwrap_or(false);
        let label = tracing.then(|| label(&source));
        let key = reactor.register(&mut source, label)?;
        Ok(Evented {
            source,
            reactor,
            key,
        })
    }

    /// The source itself.
    pub(crate) fn get(&self) -> &S {
        &self.source
    }

    /// One nonblocking attempt: runs `op`; on `WouldBlock` clears the
    /// direction's readiness. Never waits.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let result = op(&self.source);
        if let Err(e) = &result
            && e.kind() == io::ErrorKind::WouldBlock
        {
            self.reactor.clear_ready(self.key, dir);
        }
        result
    }

    /// Polls `op` until it does not say `WouldBlock`.
    ///
    /// Returns `Pending` only after the syscall said `WouldBlock` and the
    /// readiness was cleared; the reactor wakes the task on the next edge.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if self.reactor.poll_ready(self.key, dir, cx).is_pending() {
                return Poll::Pending;
            }
            match self.try_io(dir, &mut op) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `op` until it does not say `WouldBlock`, waiting for readiness
    /// in between. Cancel safe as far as the reactor goes: dropping the
    /// future forgets its waker, so no stale wake reaches the task.
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let _forget = ForgetWaker { evented: self, dir };
        poll_fn(|cx| self.poll_io(cx, dir, &mut op)).await
    }

    /// Waits until the direction is ready (without doing IO).
    pub(crate) async fn ready(&self, dir: Direction) {
        let _forget = ForgetWaker { evented: self, dir };
        poll_fn(|cx| self.reactor.poll_ready(self.key, dir, cx)).await
    }

    /// Marks a direction not ready, as a `WouldBlock` answer would.
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.reactor.clear_ready(self.key, dir);
    }

    /// (WouldBlock answers, Pending returns): for tests.
    pub(crate) fn counters(&self) -> (u64, u64) {
        self.reactor.counters(self.key)
    }
}

impl<S: mio::event::Source> Drop for Evented<S> {
    fn drop(&mut self) {
        self.reactor.deregister(self.key, &mut self.source);
    }
}

/// Clears a direction's waker when an IO future ends or is dropped.
struct ForgetWaker<'a, S: mio::event::Source> {
    evented: &'a Evented<S>,
    dir: Direction,
}

impl<S: mio::event::Source> Drop for ForgetWaker<'_, S> {
    fn drop(&mut self) {
        self.evented.reactor.clear_waker(self.evented.key, self.dir);
    }
}
