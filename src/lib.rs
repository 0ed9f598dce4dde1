//! # evloop
//!
//! A single-threaded async runtime built from first principles, to learn how
//! async really works, and good enough to keep using afterwards.
//!
//! It retells a well-known Python asyncio tutorial in Rust: coroutines and
//! tasks, why awaiting one by one gains nothing, how a blocking call stalls
//! the loop, offloading blocking and CPU-bound work, `gather` versus
//! `TaskGroup`, and a semaphore. The book in `book/` builds every piece.
//!
//! | asyncio | evloop |
//! | --- | --- |
//! | `asyncio.run(main())` | [`run`]`(main())` |
//! | `asyncio.create_task(c)` | [`spawn`]`(f)` → [`JoinHandle`] (tokio's `task::spawn_local`, not `tokio::spawn`: `f` need not be `Send`) |
//! | `task.cancel()` | [`JoinHandle::abort`] |
//! | `await asyncio.sleep(s)` | [`time::sleep`]`(d).await` |
//! | `asyncio.sleep(0)` | [`yield_now`]`().await` |
//! | `asyncio.wait_for` | [`time::timeout`] |
//! | `gather(*c, return_exceptions=True)` | [`join_all`] |
//! | `gather(*c)` | [`try_join_all`] |
//! | `asyncio.TaskGroup()` | [`TaskGroup`] |
//! | `asyncio.Semaphore`, `Lock`, `Event`, `Queue` | [`sync`] |
//! | `open_connection`, `create_datagram_endpoint` | [`net`] |
//! | `asyncio.to_thread`, a process pool | [`spawn_blocking`], [`spawn_cpu`] |
//! | `asyncio.run` cancelled by Ctrl-C, `loop.add_signal_handler` | [`run_interruptible`], `signal` (Unix) |
//! | `asyncio.create_subprocess_exec` | `process::Command` (Unix) |
//!
//! # Features
//!
//! Without default features, evloop is the runtime alone: tasks, the loop,
//! [`time`], the reactor and [`net`], the pools ([`offload`]), [`fs`],
//! [`sync`], [`join_all`] and [`TaskGroup`], and the trace recorder with its
//! summary table ([`trace`]), and on Unix Ctrl-C, signals and child
//! processes (`signal`, `process`). It depends on mio, crossbeam-channel,
//! num_cpus, futures-io and futures-core, and on what the platform needs:
//! signal-hook on Unix (the signal handler), rustix on Linux (timerfd,
//! pidfd).
//!
//! * `http`: `evloop::http`, the HTTP/1.1 client (TLS by rustls) and the
//!   small server;
//! * `render`: `evloop::trace::svg` and `evloop::trace::chrome`, the
//!   timeline picture and the Chrome trace (serde_json);
//! * `app` (the default; implies both): `evloop::pipeline`, the demo binary
//!   and the pipeline examples (image, ureq, clap, indicatif).
//!
//! # The layers
//!
//! Calls flow one way, down: the app → `http` → [`io`]/[`net`], [`sync`],
//! [`offload`], [`time`], [`fs`], the combinators → [`runtime`] → [`task`]
//! and [`trace`]. The bottom floors import nothing of evloop; the floors
//! above reach the loop through methods of a handle, not its fields; no two
//! modules import each other (`tests/house.rs` checks it on the source).
//!
//! ```
//! use std::time::Duration;
//! use evloop::time::{sleep, Instant};
//!
//! async fn fetch_data(seconds: u64) -> String {
//!     sleep(Duration::from_secs(seconds)).await;
//!     format!("Result of {seconds}")
//! }
//!
//! let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let t1 = evloop::spawn(fetch_data(1));
//!     let t2 = evloop::spawn(fetch_data(2));
//!     assert_eq!(t1.await.unwrap(), "Result of 1");
//!     assert_eq!(t2.await.unwrap(), "Result of 2");
//!     assert_eq!(start.elapsed(), Duration::from_secs(2)); // not 3: they overlapped
//! });
//! ```

#![doc(test(attr(deny(warnings))))]

pub mod atomic_file;
mod combine;
pub mod fs;
#[cfg(feature = "http")]
pub mod http;
pub mod io;
pub mod offload;
#[cfg(feature = "app")]
pub mod pipeline;
#[cfg(unix)]
pub mod process;
pub mod runtime;
#[cfg(unix)]
pub mod signal;
pub mod sync;
pub mod task {
    //! Tasks: the unit the loop schedules.
    //!
    //! What a caller of [`spawn`](crate::spawn()) gets is here: a [`JoinHandle`] to
    //! await the task's result or [`abort`](JoinHandle::abort) it, an
    //! [`AbortHandle`] to cancel it from anywhere, a [`JoinError`] saying why a
    //! task gave no output, the task's [`Id`], and [`Builder`] to spawn a task
    //! with a name.
    //!
    //! [`Builder`] comes from the runtime and is only re-exported here. The
    //! rest lives in `src/task/`, the bottom floor of the crate: those files use
    //! nothing else of evloop, and all of evloop's `unsafe` code lives there:
    //!
    //! * `raw.rs`: one allocation per task, a header (state flags, reference
    //!   count, a vtable, the task's id, name and spawn location) followed by the
    //!   future, later its result; and `RawTask`, a counted reference to it,
    //!   whose construction is `unsafe` and whose methods are then safe;
    //! * `vtable.rs`: the functions that know the future's concrete type: poll,
    //!   cancel, complete, hand out the result, free;
    //! * `state.rs`: the state machine, written down as a table;
    //! * `waker.rs`: the hand-written `RawWaker` vtable over a task reference;
    //! * `join.rs`: `JoinHandle`, `AbortHandle` and `JoinError`;
    //! * `owned.rs`: `Task`, a reference as it sits in a run queue, and
    //!   `OwnedTasks`, the loop's list of live tasks, the only thing that can
    //!   poll one;
    //! * `id.rs` and `schedule.rs`: the task's [`Id`], and what a task tells the
    //!   loop (queue me; how I ended);
    //! * `sync_prims.rs`: the atomics, locks and cells of every cross-thread
    //!   protocol (here, in the runtime's remote queue and in the offload
    //!   pools), std's in a normal build and loom's in the loom models
    //!   (`loom_tests.rs`, run by `.ci/loom`).

    // Private: the rest of the crate sees only what is re-exported below, so
    // the reasoning about `unsafe` here never depends on code outside it.
    mod id;
    mod join;
    #[cfg(all(evloop_loom, test))]
    mod loom_tests;
    mod owned;
    mod raw;
    mod schedule;
    mod state;
    pub(crate) mod sync_prims;
    mod vtable;
    mod waker;

    pub use id::Id;
    pub use join::{AbortHandle, JoinError, JoinHandle};
    pub(crate) use owned::{OwnedTasks, Ran, Task};
    pub(crate) use schedule::{End, Schedule};

    /// The public face of spawning lives with the runtime, above this floor.
    pub use crate::runtime::spawn::Builder;
}
#[doc(hidden)]
pub mod testing;
pub mod time;
pub mod trace;

pub use combine::{Either, Failure, GroupError, TaskGroup, join_all, select, try_join_all};
pub use io::net;
pub use offload::{spawn_blocking, spawn_cpu};
pub use runtime::{Runtime, run, spawn, yield_now};
#[cfg(unix)]
pub use signal::run_interruptible;
pub use task::{JoinError, JoinHandle};

/// The book's chapters, compiled and run as doctests by `cargo test`.
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../book/src/introduction.md")]
    pub mod introduction {}
    #[doc = include_str!("../book/src/why-async.md")]
    pub mod why_async {}
    #[doc = include_str!("../book/src/futures-by-hand.md")]
    pub mod futures_by_hand {}
    #[doc = include_str!("../book/src/wakers-and-block-on.md")]
    pub mod wakers_and_block_on {}
    #[doc = include_str!("../book/src/tasks-and-the-run-queue.md")]
    pub mod tasks_and_the_run_queue {}
    #[doc = include_str!("../book/src/join-handles.md")]
    pub mod join_handles {}
    #[doc = include_str!("../book/src/panics-and-task-states.md")]
    pub mod panics_and_task_states {}
    #[doc = include_str!("../book/src/time.md")]
    pub mod time {}
    #[doc = include_str!("../book/src/paused-clock.md")]
    pub mod paused_clock {}
    #[doc = include_str!("../book/src/blocking-the-loop.md")]
    pub mod blocking_the_loop {}
    #[doc = include_str!("../book/src/what-to-do-instead.md")]
    pub mod what_to_do_instead {}
    #[doc = include_str!("../book/src/reactor.md")]
    pub mod reactor {}
    #[doc = include_str!("../book/src/sockets.md")]
    pub mod sockets {}
    #[doc = include_str!("../book/src/offloading.md")]
    pub mod offloading {}
    #[doc = include_str!("../book/src/semaphore.md")]
    pub mod semaphore {}
    #[doc = include_str!("../book/src/gather-and-taskgroup.md")]
    pub mod gather_and_taskgroup {}
    // Signals and child processes (pidfd_open in the child-exit block) are
    // Linux's in this chapter.
    #[cfg(target_os = "linux")]
    #[doc = include_str!("../book/src/toolbox.md")]
    pub mod toolbox {}
    #[cfg(feature = "http")]
    #[doc = include_str!("../book/src/http-client.md")]
    pub mod http_client {}
    #[cfg(feature = "render")]
    #[doc = include_str!("../book/src/seeing-the-loop.md")]
    pub mod seeing_the_loop {}
    #[cfg(feature = "app")]
    #[doc = include_str!("../book/src/pipeline.md")]
    pub mod pipeline {}
    #[doc = include_str!("../book/src/making-it-fast.md")]
    pub mod making_it_fast {}
    #[doc = include_str!("../book/src/one-loop-per-core.md")]
    pub mod one_loop_per_core {}
    #[doc = include_str!("../book/src/rosetta.md")]
    pub mod rosetta {}
}
