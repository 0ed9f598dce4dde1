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

/// The token of the precise timer (Linux's timerfd).
const TIMER_TOKEN: Token = Token(usize::MAX - 1);

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
    /// A timerfd armed for each timed park, so the loop wakes at the
    /// deadline to the microsecond; `epoll_wait`'s own timeout counts in
    /// whole milliseconds (mio rounds up), which would make every timer up
    /// to a millisecond late.
    #[cfg(target_os = "linux")]
    timer: Option<std::os::fd::OwnedFd>,
}

impl Driver {
    /// Creates the poller and the waker other threads use to reach it.
    pub(crate) fn new() -> io::Result<(Driver, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        #[cfg(target_os = "linux")]
        let timer = precise::timer(&poll);
        Ok((
            Driver {
                poll: RefCell::new(poll),
                events: RefCell::new(Events::with_capacity(EVENTS_CAPACITY)),
                sources: Cell::new(0),
                #[cfg(target_os = "linux")]
                timer,
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
        #[cfg(target_os = "linux")]
        let timeout = match (&self.timer, timeout) {
            (Some(timer), Some(t)) if !t.is_zero() => {
                // The timerfd ends the wait on time; epoll's own (rounded
                // up) timeout stays as a safety net.
                precise::arm(timer, t);
                Some(t)
            }
            _ => timeout,
        };
        let result = self.poll.borrow_mut().poll(&mut events, timeout);
        match result {
            Ok(()) => {}
            // A signal interrupted the wait: the loop simply goes round again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
            Err(e) => panic!("evloop: the OS poller failed: {e}"),
        }
        let mut count = 0;
        for event in events.iter() {
            #[cfg(target_os = "linux")]
            if event.token() == TIMER_TOKEN {
                if let Some(timer) = &self.timer {
                    precise::reset(timer);
                }
                continue;
            }
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

/// The precise timer on Linux: a nonblocking timerfd registered with the
/// poller. If it cannot be made, parking falls back to epoll's millisecond
/// timeout.
#[cfg(target_os = "linux")]
mod precise {
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::time::Duration;

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };

    use super::TIMER_TOKEN;

    pub(super) fn timer(poll: &mio::Poll) -> Option<OwnedFd> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )
        .ok()?;
        let raw = fd.as_raw_fd();
        poll.registry()
            .register(
                &mut mio::unix::SourceFd(&raw),
                TIMER_TOKEN,
                mio::Interest::READABLE,
            )
            .ok()?;
        Some(fd)
    }

    /// Fires once, `after` from now.
    pub(super) fn arm(timer: &OwnedFd, after: Duration) {
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: after.as_secs().try_into().unwrap_or(i64::MAX),
                // A zero it_value would disarm the timer: wait at least 1 ns.
                tv_nsec: i64::from(after.subsec_nanos().max(u32::from(after.as_secs() == 0))),
            },
        };
        // Failure only means the safety-net timeout ends the wait instead.
        let _ = timerfd_settime(timer, TimerfdTimerFlags::empty(), &spec);
    }

    /// Consumes the expiration so the next one is reported again.
    pub(super) fn reset(timer: &OwnedFd) {
        let mut count = [0u8; 8];
        let _ = rustix::io::read(timer, &mut count);
    }
}
