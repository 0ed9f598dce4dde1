//! The signal driver of one runtime: a self-pipe per signal on the reactor,
//! and a fan-out to every listener.
//!
//! For each signal that at least one listener of this runtime waits for,
//! the driver keeps an entry:
//!
//! * a nonblocking pipe: signal-hook's handler writes one byte to its write
//!   end each time the signal arrives (whatever thread it lands on), and its
//!   read end is registered with the reactor like a socket;
//! * `delivered`, how many bytes were read from it so far;
//! * the wakers of the listeners that wait, one each.
//!
//! The reactor keeps one waker per direction of a source, so the listeners
//! cannot each leave theirs on the pipe. Instead the pipe's read waker is a
//! [`FanOut`]: when the pipe turns readable it wakes every waiting listener
//! of that signal. Each listener, when polled, drains the pipe (whoever
//! comes first reads the bytes and adds them to `delivered`), and compares
//! `delivered` with the count it last saw. Draining re-arms the fan-out, so
//! the next signal is reported again. Nothing here is `Send` except the
//! fan-out's list of wakers, which the waker type requires.
//!
//! An entry lives while it has listeners: the first listener registers the
//! pipe with signal-hook (and claims the signal process-wide, see
//! `disposition.rs`), the last one to go unregisters it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, btree_map};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use signal_hook::SigId;

use super::SignalKind;
use super::disposition::{self, Claim};
use crate::io::reactor::Direction;
use crate::io::registration::Evented;
use crate::runtime::handle::Extension;

/// The signal driver of one runtime (an extension of its loop).
#[derive(Debug, Default)]
pub(super) struct Signals {
    entries: RefCell<BTreeMap<SignalKind, Entry>>,
    next_listener: Cell<u64>,
}

/// One signal this runtime listens to.
#[derive(Debug)]
struct Entry {
    /// The read end of the self-pipe, on the reactor.
    pipe: Evented<mio::unix::pipe::Receiver>,
    /// signal-hook's action that writes to the pipe's other end.
    action: SigId,
    /// This runtime counted as listening, process-wide. Released after the
    /// action is unregistered (fields drop after `Drop::drop` runs).
    _claim: Claim,
    /// Bytes read from the pipe so far: signals seen by this runtime.
    delivered: u64,
    /// The waiting listeners' wakers, woken together.
    fanout: Arc<FanOut>,
    /// `fanout` as a waker, left on the pipe's read direction.
    fanout_waker: Waker,
    listeners: usize,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // The action owns the pipe's write end and closes it now.
        signal_hook::low_level::unregister(self.action);
    }
}

/// The pipe's read waker: wakes every waiting listener of one signal.
#[derive(Debug, Default)]
struct FanOut {
    wakers: Mutex<BTreeMap<u64, Waker>>,
}

impl Wake for FanOut {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Taken under the lock, woken after it: a woken task never finds it
        // held.
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|e| e.into_inner()));
        for waker in wakers.into_values() {
            waker.wake();
        }
    }
}

impl FanOut {
    fn store(&self, listener: u64, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        match wakers.get_mut(&listener) {
            Some(w) if w.will_wake(waker) => {}
            Some(w) => w.clone_from(waker),
            None => {
                wakers.insert(listener, waker.clone());
            }
        }
    }

    fn forget(&self, listener: u64) {
        let waker = self
            .wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&listener);
        drop(waker);
    }
}

impl Signals {
    /// Adds a listener of `kind`: returns its id and the count of signals
    /// delivered so far, so that it sees only the ones that come after.
    ///
    /// # Errors
    ///
    /// If the pipe cannot be made or registered (out of file descriptors),
    /// or signal-hook cannot install its handler.
    pub(super) fn listen(&self, kind: SignalKind) -> io::Result<(u64, u64)> {
        let mut entries = self.entries.borrow_mut();
        let entry = match entries.entry(kind) {
            btree_map::Entry::Occupied(known) => known.into_mut(),
            btree_map::Entry::Vacant(first) => first.insert(Entry::new(kind)?),
        };
        entry.listeners += 1;
        // Whatever arrived before this listener is not its business.
        entry.drain();
        let id = self.next_listener.get();
        self.next_listener.set(id + 1);
        Ok((id, entry.delivered))
    }

    /// `Ready` with the count of signals delivered if it is above `seen`;
    /// otherwise stores `cx`'s waker for the next signal.
    pub(super) fn poll(
        &self,
        kind: SignalKind,
        listener: u64,
        seen: u64,
        cx: &mut Context<'_>,
    ) -> Poll<u64> {
        let mut entries = self.entries.borrow_mut();
        let entry = entries
            .get_mut(&kind)
            .expect("a listener keeps its signal's entry alive");
        entry.drain();
        if entry.delivered > seen {
            entry.fanout.forget(listener);
            Poll::Ready(entry.delivered)
        } else {
            entry.fanout.store(listener, cx.waker());
            Poll::Pending
        }
    }

    /// Removes a listener; the last one of its signal takes the entry away.
    pub(super) fn unlisten(&self, kind: SignalKind, listener: u64) {
        let gone = {
            let mut entries = self.entries.borrow_mut();
            let Some(entry) = entries.get_mut(&kind) else {
                return;
            };
            entry.fanout.forget(listener);
            entry.listeners -= 1;
            if entry.listeners == 0 {
                entries.remove(&kind)
            } else {
                None
            }
        };
        // Dropped outside the borrow: it deregisters from the reactor.
        drop(gone);
    }

    /// How many listeners of `kind` this runtime has.
    pub(super) fn listeners(&self, kind: SignalKind) -> usize {
        self.entries.borrow().get(&kind).map_or(0, |e| e.listeners)
    }
}

impl Entry {
    fn new(kind: SignalKind) -> io::Result<Entry> {
        let claim = disposition::claim(kind)?;
        let (sender, receiver) = mio::unix::pipe::new()?;
        let pipe = Evented::new(receiver, |_| format!("signal {kind}"))?;
        let action = signal_hook::low_level::pipe::register(kind.as_raw(), sender)
            .map_err(|e| io::Error::new(e.kind(), format!("evloop: cannot handle {kind}: {e}")))?;
        let fanout = Arc::new(FanOut::default());
        Ok(Entry {
            pipe,
            action,
            _claim: claim,
            delivered: 0,
            fanout_waker: Waker::from(fanout.clone()),
            fanout,
            listeners: 0,
        })
    }

    /// Reads every byte waiting in the pipe into `delivered`, and leaves
    /// the fan-out as the pipe's read waker for the next one.
    ///
    /// It reads before asking the reactor: a signal raised a moment ago
    /// (by `raise`, on this thread) is in the pipe before the reactor has
    /// heard of it, and a listener made now must count it as the past.
    fn drain(&mut self) {
        let mut buf = [0u8; 64];
        loop {
            let read = self.pipe.try_io(Direction::Read, |mut r| r.read(&mut buf));
            match read {
                Ok(n) if n > 0 => self.delivered += n as u64,
                // WouldBlock: drained (and the readiness cleared).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The write end lives until this entry drops, and reading a
                // nonblocking pipe fails with nothing but the two above.
                Ok(_) => unreachable!("the signal pipe's write end is open"),
                Err(e) => panic!("evloop: reading the signal pipe failed: {e}"),
            }
        }
        // Now wait for the next byte: the reactor holds the fan-out.
        let mut cx = Context::from_waker(&self.fanout_waker);
        loop {
            let read = self
                .pipe
                .poll_io(&mut cx, Direction::Read, |mut r| r.read(&mut buf));
            match read {
                Poll::Pending => return,
                Poll::Ready(Ok(n)) if n > 0 => self.delivered += n as u64,
                Poll::Ready(Ok(_)) => unreachable!("the signal pipe's write end is open"),
                Poll::Ready(Err(e)) => panic!("evloop: reading the signal pipe failed: {e}"),
            }
        }
    }
}

impl Extension for Signals {
    fn shutdown(&self) {
        // Nothing to do: an entry lives exactly as long as its listeners,
        // which the runtime's shutdown has dropped with their tasks (a
        // listener kept outside the runtime keeps its entry, harmlessly).
    }
}

/// How many runtimes listen to `kind` now (for the tests' hooks).
pub(super) fn runtimes_listening(kind: SignalKind) -> usize {
    disposition::listening(kind)
}
