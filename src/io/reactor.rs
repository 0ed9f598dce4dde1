//! The reactor: which socket is ready, and which task to wake for it.
//!
//! Every registered source has a slot holding its readiness (readable,
//! writable) and one waker per direction, so a reader and a writer on the
//! same socket never overwrite each other's waker. mio is edge-triggered: the
//! OS reports a socket once when it *becomes* ready, not while it *stays*
//! ready. So readiness is remembered here, and cleared only when a syscall
//! answers `WouldBlock`; an operation returns `Pending` only after that.
//!
//! A slot's token carries a generation next to its index. When a socket is
//! closed and its slot reused, an event still in flight for the old socket
//! names the old generation and is ignored: it never wakes the new owner.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::{Interest, Registry, Token};

use crate::runtime::handle::{self, Dispatch};

/// A direction of IO on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, or accepting on a listener.
    Read,
    /// Writing, or completing a connect.
    Write,
}

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    live: bool,
    readable: bool,
    writable: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// Counters for tests: syscalls that said WouldBlock, and Pendings returned.
    would_block: u64,
    pendings: u64,
    /// What tracing calls this socket (only set when tracing is on).
    label: Option<String>,
}

/// The slots of one loop. Lives on the loop thread only.
#[derive(Debug)]
pub(crate) struct Reactor {
    registry: Registry,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
}

fn token(index: u32, generation: u32) -> Token {
    Token(((generation as usize) << 32) | index as usize)
}

fn split(token: Token) -> (u32, u32) {
    ((token.0 & 0xffff_ffff) as u32, (token.0 >> 32) as u32)
}

impl Reactor {
    /// The reactor of the current loop, created at the first registration.
    pub(crate) fn current() -> io::Result<Rc<Reactor>> {
        let found = handle::with_current(|h| {
            h.reactor(|registry| Reactor {
                registry,
                slots: RefCell::new(Vec::new()),
                free: RefCell::new(Vec::new()),
            })
        });
        found.unwrap_or_else(|| {
            Err(io::Error::other(
                "evloop: sockets can only be used inside a runtime (evloop::run or Runtime::block_on)",
            ))
        })
    }

    /// Registers `source` for both directions; returns its key.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        label: Option<String>,
    ) -> io::Result<SlotKey> {
        let index = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                let mut slots = self.slots.borrow_mut();
                slots.push(Slot::default());
                u32::try_from(slots.len() - 1).expect("fewer than 2^32 sockets")
            }
        };
        let generation = {
            let mut slots = self.slots.borrow_mut();
            let slot = &mut slots[index as usize];
            // Fresh sockets are assumed ready: the first operation tries the
            // syscall, and only a WouldBlock makes it wait.
            *slot = Slot {
                generation: slot.generation,
                live: true,
                readable: true,
                writable: true,
                label,
                ..Slot::default()
            };
            slot.generation
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .registry
            .register(source, token(index, generation), interest)
        {
            self.release(index);
            return Err(e);
        }
        handle::with_current(|h| h.source_added());
        Ok(SlotKey { index, generation })
    }

    /// Deregisters `source` and frees its slot. Wakers still stored are
    /// dropped (their futures are gone: the socket is being dropped).
    pub(crate) fn deregister(&self, key: SlotKey, source: &mut impl mio::event::Source) {
        // Deregistering can only fail if the fd is already closed; either way
        // the slot is freed and no event can name this generation again.
        let _ = self.registry.deregister(source);
        handle::with_current(|h| h.source_removed());
        self.release(key.index);
    }

    fn release(&self, index: u32) {
        let (reader, writer) = {
            let mut slots = self.slots.borrow_mut();
            let slot = &mut slots[index as usize];
            slot.live = false;
            slot.generation = slot.generation.wrapping_add(1);
            (slot.reader.take(), slot.writer.take())
        };
        drop((reader, writer));
        self.free.borrow_mut().push(index);
    }

    /// `Ready` if the direction is (still) ready; else stores the waker.
    pub(crate) fn poll_ready(
        &self,
        key: SlotKey,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key.index as usize];
        debug_assert!(slot.live && slot.generation == key.generation);
        let (ready, waker) = match dir {
            Direction::Read => (slot.readable, &mut slot.reader),
            Direction::Write => (slot.writable, &mut slot.writer),
        };
        if ready {
            return Poll::Ready(());
        }
        match waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        slot.pendings += 1;
        Poll::Pending
    }

    /// The syscall said `WouldBlock`: the direction is not ready any more.
    pub(crate) fn clear_ready(&self, key: SlotKey, dir: Direction) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key.index as usize];
        slot.would_block += 1;
        match dir {
            Direction::Read => slot.readable = false,
            Direction::Write => slot.writable = false,
        }
    }

    /// Forgets the waker of a direction (an IO future was dropped mid-wait).
    pub(crate) fn clear_waker(&self, key: SlotKey, dir: Direction) {
        let waker = {
            let mut slots = self.slots.borrow_mut();
            let Some(slot) = slots.get_mut(key.index as usize) else {
                return;
            };
            if slot.generation != key.generation {
                return;
            }
            match dir {
                Direction::Read => slot.reader.take(),
                Direction::Write => slot.writer.take(),
            }
        };
        drop(waker);
    }

    /// (WouldBlock answers, Pending returns) for a slot: for tests.
    pub(crate) fn counters(&self, key: SlotKey) -> (u64, u64) {
        let slots = self.slots.borrow();
        let slot = &slots[key.index as usize];
        (slot.would_block, slot.pendings)
    }
}

impl Dispatch for Reactor {
    fn dispatch(&self, event: &mio::event::Event) {
        let (index, generation) = split(event.token());
        let woken = {
            let mut slots = self.slots.borrow_mut();
            let Some(slot) = slots.get_mut(index as usize) else {
                return;
            };
            if !slot.live || slot.generation != generation {
                // A stale event for a socket that is gone: ignore it.
                return;
            }
            let mut reader = None;
            let mut writer = None;
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                slot.readable = true;
                reader = slot.reader.take();
            }
            if event.is_writable() || event.is_write_closed() || event.is_error() {
                slot.writable = true;
                writer = slot.writer.take();
            }
            (reader, writer, slot.label.clone())
        };
        let (reader, writer, label) = woken;
        if reader.is_none() && writer.is_none() {
            return;
        }
        // Only a traced socket has a label: untraced, the wakes go straight
        // through, without telling the recorder anything.
        let traced = label.is_some();
        if let Some(label) = label {
            handle::with_current(|h| h.dispatching_io(Some(label)));
        }
        if let Some(w) = reader {
            w.wake();
        }
        if let Some(w) = writer {
            w.wake();
        }
        if traced {
            handle::with_current(|h| h.dispatching_io(None));
        }
    }
}

/// Names a registered source: slot index and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotKey {
    index: u32,
    generation: u32,
}
