//! Every combination of how a task ends, when its handle goes away, and when
//! it is aborted (after tokio's `task_combinations.rs`):
//!
//! * the future: returns normally, panics in `poll`, or panics in `drop`;
//! * the `JoinHandle`: dropped at once, after the first poll, after completion
//!   without reading it, or awaited after completion;
//! * `abort()`: never, before the first poll, while pending, after completion.
//!
//! Each of the 3 × 4 × 4 = 48 runs checks, step by step, that the future is
//! polled as often as it should be, dropped exactly once, that the output is
//! dropped exactly once when one was produced (never otherwise), and that an
//! awaited handle gives the right result: `Ok`, cancelled, or the panic.

mod common;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{Counters, DropCount, EXPECTED, Gate, GateWait, LIMIT, Token, watchdog};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panics {
    No,
    InPoll,
    InDrop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handle {
    DropAtOnce,
    DropAfterFirstPoll,
    DropAfterCompletion,
    AwaitAfterCompletion,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Abort {
    No,
    BeforeFirstPoll,
    WhilePending,
    AfterCompletion,
}

#[derive(Clone, Copy, Debug)]
struct Combo {
    panics: Panics,
    handle: Handle,
    abort: Abort,
}

const POLL_PANIC: &str = "panic in poll (a panic the test expects)";
const DROP_PANIC: &str = "panic in drop (a panic the test expects)";

/// The future under test: pending until its gate opens, then it returns a
/// counted output (or panics, as configured).
struct Subject {
    panics: Panics,
    wait: GateWait,
    outputs: DropCount,
}

impl Future for Subject {
    type Output = Token;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Token> {
        match Pin::new(&mut self.wait).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) if self.panics == Panics::InPoll => panic!("{POLL_PANIC}"),
            Poll::Ready(()) => Poll::Ready(self.outputs.token(42)),
        }
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        if self.panics == Panics::InDrop {
            panic!("{DROP_PANIC}");
        }
    }
}

async fn scenario(combo: Combo) {
    let Combo {
        panics,
        handle: handle_mode,
        abort: abort_mode,
    } = combo;
    let counters = Counters::new();
    let outputs = DropCount::new();
    let gate = Gate::new();

    let mut handle = Some(evloop::spawn(counters.probe(Subject {
        panics,
        wait: gate.wait(),
        outputs: outputs.clone(),
    })));
    let abort = handle.as_ref().expect("just spawned").abort_handle();
    counters.assert("spawn", 0, 0, 0);

    if handle_mode == Handle::DropAtOnce {
        handle = None;
    }
    if abort_mode == Abort::BeforeFirstPoll {
        abort.abort();
    }

    // Step 1: the loop polls the task once (or cancels it unpolled).
    common::yield_until(|| counters.polls() >= 1 || abort.is_finished()).await;
    if abort_mode == Abort::BeforeFirstPoll {
        counters.assert("abort before the first poll", 0, 0, 1);
        assert!(abort.is_finished());
    } else {
        counters.assert("the first poll", 1, 0, 0);
        assert!(!abort.is_finished());
    }

    if handle_mode == Handle::DropAfterFirstPoll {
        handle = None;
    }
    if abort_mode == Abort::WhilePending {
        abort.abort();
    }

    // Step 2: let the future finish (a no-op for a cancelled one).
    gate.open();
    common::yield_until(|| abort.is_finished()).await;
    let cancelled = matches!(abort_mode, Abort::BeforeFirstPoll | Abort::WhilePending);
    let (polls, wakes) = match abort_mode {
        Abort::BeforeFirstPoll => (0, 0),
        // The gate's wake reached the probe, but the task was already
        // queued for cancellation: no second poll.
        Abort::WhilePending => (1, 1),
        _ => (2, 1),
    };
    counters.assert("the task finished", polls, wakes, 1);
    let produced = !cancelled && panics != Panics::InPoll;
    // Where the output is right now: stored for the handle, or already
    // dropped (by the loop for a detached task, or when the drop panic
    // replaced it with the panic).
    let stored = produced && panics == Panics::No && handle.is_some();
    assert_eq!(
        outputs.get(),
        usize::from(produced && !stored),
        "outputs dropped once the task finished"
    );

    if abort_mode == Abort::AfterCompletion {
        abort.abort();
    }

    // Step 3: the handle, if it is still here.
    match handle_mode {
        Handle::DropAfterCompletion => handle = None,
        Handle::AwaitAfterCompletion => {
            let result = handle.take().expect("kept until now").await;
            let expected_panic = match (cancelled, panics) {
                (_, Panics::InDrop) => Some(DROP_PANIC),
                (false, Panics::InPoll) => Some(POLL_PANIC),
                _ => None,
            };
            match (result, expected_panic) {
                (Ok(token), None) if !cancelled => {
                    assert_eq!(token.value, 42);
                    assert_eq!(outputs.get(), 0, "the output is in our hands");
                }
                (Err(e), None) => {
                    assert!(cancelled && e.is_cancelled(), "unexpected {e}");
                }
                (Err(e), Some(message)) => {
                    assert!(e.is_panic(), "expected a panic, got {e}");
                    let payload = e.into_panic();
                    assert_eq!(common::panic_text(&*payload).as_deref(), Some(message));
                }
                (Ok(_), _) => panic!("expected an error, got Ok"),
            }
        }
        Handle::DropAtOnce | Handle::DropAfterFirstPoll => {}
    }
    assert!(handle.is_none());

    // The loop goes round a few times: nothing more may happen.
    for _ in 0..3 {
        evloop::yield_now().await;
    }
    counters.assert("the end", polls, wakes, 1);
    assert_eq!(outputs.get(), usize::from(produced), "outputs dropped");
    drop(abort);
}

#[test]
fn every_combination_of_panic_handle_drop_and_abort() {
    // The provoked panics stay quiet in the test output.
    assert!(POLL_PANIC.contains(EXPECTED) && DROP_PANIC.contains(EXPECTED));
    let mut combos = Vec::new();
    for panics in [Panics::No, Panics::InPoll, Panics::InDrop] {
        for handle in [
            Handle::DropAtOnce,
            Handle::DropAfterFirstPoll,
            Handle::DropAfterCompletion,
            Handle::AwaitAfterCompletion,
        ] {
            for abort in [
                Abort::No,
                Abort::BeforeFirstPoll,
                Abort::WhilePending,
                Abort::AfterCompletion,
            ] {
                combos.push(Combo {
                    panics,
                    handle,
                    abort,
                });
            }
        }
    }
    assert_eq!(combos.len(), 48);

    let failures = watchdog(LIMIT, move || {
        let mut failures = Vec::new();
        for combo in combos {
            let rt = common::paused();
            let run = catch_unwind(AssertUnwindSafe(|| rt.block_on(scenario(combo))));
            drop(rt);
            if let Err(payload) = run {
                let message = common::panic_text(&*payload).unwrap_or_default();
                failures.push(format!("{combo:?}: {message}"));
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} of 48 combinations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
