//! Ctrl-C and Unix signals, delivered through the reactor (Unix only).
//!
//! | asyncio | evloop | tokio |
//! | --- | --- | --- |
//! | `asyncio.run(main())` catching Ctrl-C | [`run_interruptible`]`(main())` → `Err(`[`Interrupted`]`)` | (by hand, with `select!` on `ctrl_c()`) |
//! | the same, on a loop you made | [`Runtime::block_on_interruptible`](crate::Runtime::block_on_interruptible), [`Builder::cancel_on_ctrl_c`](crate::runtime::Builder::cancel_on_ctrl_c) | (by hand) |
//! | `loop.add_signal_handler(SIGINT, cb)` for one Ctrl-C | [`ctrl_c`]`().await` | `tokio::signal::ctrl_c().await` |
//! | `loop.add_signal_handler(sig, cb)` | [`signal`]`(kind)`, then `recv().await` in a task | `tokio::signal::unix::signal(kind)` |
//! | `loop.remove_signal_handler(sig)` | drop the [`Signal`] | drop the `Signal` |
//! | `signal.SIGTERM`, `signal.SIGHUP`, ... | [`SignalKind::terminate`], [`SignalKind::hangup`], ... | `SignalKind::terminate()`, ... |
//! | `signal.raise_signal(sig)` | [`raise`]`(kind)` | (`libc::raise`) |
//!
//! asyncio calls a callback; evloop gives a listener to await, which a
//! task turns into a callback if it likes:
//!
//! ```
//! use evloop::signal::{SignalKind, raise, signal};
//!
//! evloop::run(async {
//!     // loop.add_signal_handler(signal.SIGHUP, reload)
//!     let mut hangups = signal(SignalKind::hangup()).unwrap();
//!     let reloader = evloop::spawn(async move {
//!         hangups.recv().await;
//!         "configuration reloaded"
//!     });
//!     raise(SignalKind::hangup()).unwrap(); // kill -HUP <pid>
//!     assert_eq!(reloader.await.unwrap(), "configuration reloaded");
//! });
//! ```
//!
//! # How a signal reaches a task
//!
//! A signal handler may run on any thread, at any instruction, and may do
//! almost nothing (no locks, no allocation). So the handler, installed
//! process-wide by the signal-hook crate, only writes one byte to a pipe:
//! the *self-pipe*. Each runtime has one pipe per signal it listens to, its
//! read end registered with the reactor like a socket, so the byte wakes a
//! parked loop at once (a signal that lands on the loop's own thread while
//! it waits in `epoll_wait` also interrupts the wait; the loop just goes
//! round). The runtime's signal driver then wakes every listener of that
//! signal, each through its own waker (the reactor keeps one waker per
//! source, so a fan-out sits between them).
//!
//! # The rules
//!
//! * **Several listeners** of the same signal, on one runtime or several,
//!   each see every arrival. A listener sees the arrivals after it was
//!   made; arrivals it has not yet received are kept, coalesced, for its
//!   next `recv`.
//! * **While nobody listens**, a signal does what it did before evloop
//!   first listened to it: with its default action, `SIGINT` and `SIGTERM`
//!   end the process again; if it was ignored (a background job's
//!   `SIGINT`, `nohup`'s `SIGHUP`), it is ignored; if another handler was
//!   installed before, that handler gets it (signal-hook calls it anyway).
//!   "Nobody" means no listener in any runtime of the process; a signal is
//!   never stored for a listener made later. This is asyncio's
//!   `remove_signal_handler`, which restores the default; tokio instead
//!   keeps its handler for good, so that after the first `ctrl_c()` Ctrl-C
//!   never ends the process again.
//!   On Linux evloop reads what the signal did before from
//!   `/proc/self/status`; on other Unixes it assumes the default action.
//!   A signal without a name (a real-time one) is dropped while nobody
//!   listens once evloop has listened to it.
//! * **A second runtime** (on another thread, or the next one on this
//!   thread) has its own pipe and its own listeners: a signal reaches every
//!   runtime that listens to it. A runtime that is dropped stops listening
//!   with its listeners.
//! * **The paused clock** does not wait for signals: they come from
//!   outside, like a socket's data. With nothing ready and a timer armed,
//!   virtual time jumps to the timer; with no timer, the loop parks until
//!   the signal comes.
//! * **Ctrl-C cancelling a run** is asked for, not the default:
//!   [`run_interruptible`], [`Runtime::block_on_interruptible`], or
//!   [`Builder::cancel_on_ctrl_c`] (whose docs say why it is off by
//!   default). The main future and every task are cancelled (their drops
//!   run, once each), and the run returns [`Interrupted`]. A second Ctrl-C
//!   while that cleanup runs ends the process at once.
//!
//! [`Runtime::block_on_interruptible`]: crate::Runtime::block_on_interruptible
//! [`Builder::cancel_on_ctrl_c`]: crate::runtime::Builder::cancel_on_ctrl_c
//!
//! The files: `kind.rs` ([`SignalKind`]), `listener.rs` ([`Signal`],
//! [`signal`], [`raise`]), `ctrl_c.rs`, `interrupt.rs` (Ctrl-C cancelling a
//! run), `driver.rs` (one runtime's pipes and fan-out) and
//! `disposition.rs` (the process-wide count of who listens, and what a
//! signal does while nobody does).

mod ctrl_c;
mod disposition;
mod driver;
mod interrupt;
mod kind;
mod listener;

pub use ctrl_c::{CtrlC, ctrl_c};
pub use interrupt::{Interrupted, run_interruptible};
pub use kind::SignalKind;
pub use listener::{Recv, Signal, raise, signal};
