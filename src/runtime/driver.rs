//! The loop's connection to the operating system: one `mio::Poll`.
//!
//! The loop blocks here, and only here (invariant 7), until an IO event, the
//! next timer deadline, or a cross-thread wake through the `mio::Waker`
//! registered under [`WAKER_TOKEN`]. IO sources and their readiness slots are
//! kept by the reactor (`crate::io`), which this driver calls back with each
//! event.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::Duration;

use mio::{Events, Poll, Token};

/// The token of the cross-thread waker.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

const EVENTS_CAPACITY: usize = 1024;

/// What the driver does with one readiness event (the reactor implements it).
pub(crate) trait Dispatch: std::any::Any {
    /// Hands an IO event to the source registered under its token.
    fn dispatch(&self, event: &mio::event::Event);
}

/// One `mio::Poll` and its event buffer.
#[derive(Debug)]
pub(crate) struct Driver {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    /// How many IO sources are registered; with none, a zero-timeout poll
    /// can only report the waker, which the loop tracks by flags anyway.
    sources: Cell<usize>,
}

impl Driver {
    /// Creates the poller and the waker other threads use to reach it.
    pub(crate) fn new() -> io::Result<(Driver, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        Ok((
            Driver {
                poll: RefCell::new(poll),
                events: RefCell::new(Events::with_capacity(EVENTS_CAPACITY)),
                sources: Cell::new(0),
            },
            waker,
        ))
    }

    /// A handle to register sources with.
    pub(crate) fn registry(&self) -> io::Result<mio::Registry> {
        self.poll.borrow().registry().try_clone()
    }

    /// Counts a registered source.
    pub(crate) fn source_added(&self) {
        self.sources.set(self.sources.get() + 1);
    }

    /// Counts a deregistered source.
    pub(crate) fn source_removed(&self) {
        self.sources.set(self.sources.get().saturating_sub(1));
    }

    /// Whether any IO source is registered.
    pub(crate) fn has_sources(&self) -> bool {
        self.sources.get() > 0
    }

    /// Polls for events, blocking at most `timeout` (`None`: until an event),
    /// and dispatches each IO event. Returns how many IO events came.
    pub(crate) fn poll(&self, timeout: Option<Duration>, dispatch: Option<&dyn Dispatch>) -> usize {
        let mut events = self.events.borrow_mut();
        let result = self.poll.borrow_mut().poll(&mut events, timeout);
        match result {
            Ok(()) => {}
            // A signal interrupted the wait: the loop simply goes round again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
            Err(e) => panic!("evloop: the OS poller failed: {e}"),
        }
        let mut count = 0;
        for event in events.iter() {
            if event.token() != WAKER_TOKEN {
                count += 1;
                if let Some(dispatch) = dispatch {
                    dispatch.dispatch(event);
                }
            }
        }
        count
    }
}
