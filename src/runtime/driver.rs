//! The loop's connection to the operating system: one `mio::Poll`.
//!
//! The loop blocks here, and only here (invariant 7), until an IO event, the
//! next timer deadline, or a cross-thread wake through the `mio::Waker`
//! registered under [`WAKER_TOKEN`]. IO sources and their readiness slots are
//! kept by the reactor (`crate::io`), which this driver calls back with each
//! event.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::{Duration, Instant};

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
    /// The deadline the timerfd is armed for and has not yet reported. A
    /// busy loop parks thousands of times a second with the same next
    /// deadline (a task sleeping 20 ms while sockets come and go); arming
    /// again for the same instant would cost a syscall each time for
    /// nothing.
    #[cfg(target_os = "linux")]
    armed: Cell<Option<Instant>>,
    /// How many times the timerfd was armed (for the unit test).
    #[cfg(all(test, target_os = "linux"))]
    arms: Cell<u64>,
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
                #[cfg(target_os = "linux")]
                armed: Cell::new(None),
                #[cfg(all(test, target_os = "linux"))]
                arms: Cell::new(0),
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
    ///
    /// `deadline` is the instant `timeout` ends at, when the wait is for a
    /// timer: on Linux the timerfd is armed for it (once per deadline), so
    /// the wait ends on time to the microsecond.
    pub(crate) fn poll(
        &self,
        timeout: Option<Duration>,
        deadline: Option<Instant>,
        dispatch: Option<&dyn Dispatch>,
    ) -> usize {
        let mut events = self.events.borrow_mut();
        #[cfg(target_os = "linux")]
        if let (Some(timer), Some(t), Some(deadline)) = (&self.timer, timeout, deadline)
            && !t.is_zero()
            && self.armed.get() != Some(deadline)
        {
            // The timerfd ends the wait on time; epoll's own (rounded up)
            // timeout stays as a safety net.
            precise::arm(timer, t);
            self.armed.set(Some(deadline));
            #[cfg(test)]
            self.arms.set(self.arms.get() + 1);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = deadline;
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
                // The expiration count is not read back: arming again
                // resets it, and mio registers edge-triggered, so every
                // expiry is reported anyway. One syscall fewer between
                // the deadline and the task it wakes.
                self.armed.set(None);
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
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::{Duration, Instant};

    use super::Driver;

    #[test]
    fn the_timerfd_is_armed_once_per_deadline_and_every_expiry_is_reported() {
        let (driver, waker) = Driver::new().unwrap();
        assert!(driver.timer.is_some(), "timerfd_create failed on Linux");
        // A far deadline, and waits cut short by a wake from another thread
        // (in a busy loop: by an IO event): resumed for the same deadline,
        // they do not arm the timer again.
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..3 {
            waker.wake().unwrap();
            driver.poll(Some(Duration::from_secs(3600)), Some(far), None);
        }
        assert_eq!(driver.arms.get(), 1, "armed again for the same deadline");
        // Another deadline arms it again; its expiry is reported and
        // forgets the armed deadline.
        let fire = |arms: u64| {
            let soon = Instant::now() + Duration::from_millis(2);
            driver.poll(Some(Duration::from_millis(2)), Some(soon), None);
            assert_eq!(driver.arms.get(), arms);
            let give_up = Instant::now() + Duration::from_secs(10);
            while driver.armed.get().is_some() && Instant::now() < give_up {
                driver.poll(Some(Duration::from_millis(1)), None, None);
            }
            assert_eq!(driver.armed.get(), None, "the expiry was not reported");
        };
        fire(2);
        // The first expiry was never read back, yet the next is reported:
        // arming resets the count and the registration is edge-triggered.
        fire(3);
    }
}
