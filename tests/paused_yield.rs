//! The paused clock's yield rule: a yield costs no virtual time, and only a
//! task that spins on `yield_now` for a long unbroken run of ticks (while it
//! waits for a timer) lets the clock move, with one warning naming it.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evloop::Runtime;
use evloop::runtime::YieldSpin;
use evloop::time::{Instant, sleep};

/// Generous: each test takes well under a second.
const LIMIT: Duration = Duration::from_secs(60);

/// A paused-clock runtime that collects the yield-spin warnings.
fn paused() -> (Runtime, Rc<RefCell<Vec<YieldSpin>>>) {
    let warnings = Rc::new(RefCell::new(Vec::new()));
    let seen = warnings.clone();
    let rt = Runtime::builder()
        .paused_clock(true)
        .on_yield_spin(move |w| seen.borrow_mut().push(w.clone()))
        .build()
        .expect("a runtime can be built");
    (rt, warnings)
}

#[test]
fn thousands_of_yields_leave_a_pending_hour_long_timer_pending() {
    let _dog = common::abort_after("yields with a pending timer", LIMIT);
    let (rt, warnings) = paused();
    rt.block_on(async {
        let start = Instant::now();
        let fired = Rc::new(Cell::new(false));
        let timer = {
            let fired = fired.clone();
            evloop::spawn(async move {
                sleep(Duration::from_secs(3600)).await;
                fired.set(true);
            })
        };
        // A spawned task yields too, so both kinds of yielder are covered.
        let yielder = evloop::spawn(async {
            for _ in 0..5_000 {
                evloop::yield_now().await;
            }
        });
        for n in 0..5_000 {
            evloop::yield_now().await;
            assert_eq!(start.elapsed(), Duration::ZERO, "after {n} yields");
            assert!(!fired.get(), "the timer fired after {n} yields");
        }
        yielder.await.expect("the yielder finishes");
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert!(!timer.is_finished());
        timer.abort();
    });
    assert!(warnings.borrow().is_empty(), "{:?}", warnings.borrow());
}

#[test]
fn a_task_spinning_on_yields_gets_its_timer_and_one_warning() {
    let _dog = common::abort_after("a spinning yielder", LIMIT);
    let (rt, warnings) = paused();
    let (spins, waited) = rt.block_on(async {
        let start = Instant::now();
        let done = Rc::new(Cell::new(false));
        {
            let done = done.clone();
            evloop::spawn(async move {
                sleep(Duration::from_secs(2)).await;
                done.set(true);
            });
        }
        // The mistake: wait for the timer by spinning instead of awaiting.
        let spinner = evloop::task::Builder::new()
            .name("spinner")
            .spawn(async move {
                let mut spins = 0u32;
                while !done.get() {
                    spins += 1;
                    evloop::yield_now().await;
                }
                spins
            });
        let spins = spinner.await.expect("the spinner finishes");
        (spins, start.elapsed())
    });
    // The clock moved exactly to the timer, and only after the threshold.
    assert_eq!(waited, Duration::from_secs(2));
    assert!(spins >= 20_000, "the clock moved after only {spins} spins");
    let warnings = warnings.borrow();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w.name.as_deref(), Some("spinner"));
    assert!(
        w.location
            .is_some_and(|l| l.file().ends_with("paused_yield.rs"))
    );
    assert_eq!(w.ticks, 20_000);
    let text = w.to_string();
    assert!(
        text.contains("task 'spinner'") && text.contains("evloop::time::sleep"),
        "{text}"
    );
}

#[test]
fn the_main_future_spinning_is_named_as_such() {
    let _dog = common::abort_after("a spinning main future", LIMIT);
    let (rt, warnings) = paused();
    let waited = rt.block_on(async {
        let start = Instant::now();
        let timer = evloop::spawn(sleep(Duration::from_millis(1500)));
        while !timer.is_finished() {
            evloop::yield_now().await;
        }
        start.elapsed()
    });
    assert_eq!(waited, Duration::from_millis(1500));
    let warnings = warnings.borrow();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].task, None);
    assert_eq!(
        warnings[0].name.as_deref(),
        Some("the main future (block_on)")
    );
}

#[test]
fn the_run_of_yield_only_ticks_is_broken_by_other_work() {
    // A task that yields between real events (here, timers every 10 ms)
    // never reaches the threshold: each timer breaks the run.
    let _dog = common::abort_after("yields between events", LIMIT);
    let (rt, warnings) = paused();
    let waited = rt.block_on(async {
        let start = Instant::now();
        for _ in 0..100 {
            for _ in 0..1_000 {
                evloop::yield_now().await;
            }
            sleep(Duration::from_millis(10)).await;
        }
        start.elapsed()
    });
    assert_eq!(waited, Duration::from_secs(1));
    assert!(warnings.borrow().is_empty(), "{:?}", warnings.borrow());
}
