//! Signals through the reactor: every listener sees each arrival, a signal
//! wakes a parked loop at once, a listener dropped mid-wait leaves the
//! others working, a signal nobody listens to does what it did before, and
//! Ctrl-C cancels a run, dropping every task once.
//!
//! Signals are process-wide, and the tests of one binary share a process:
//! the in-process tests take [`serial`] so that one test's signal never
//! reaches another's listeners, and they raise only signals some listener
//! of theirs is waiting for. What must end a process (the default action,
//! a real Ctrl-C from outside) runs in a child: this test binary again,
//! told by an environment variable which scenario to play, and driven by
//! the test through its stdout and `kill`.

#![cfg(unix)]

mod common;

use std::cell::Cell;
use std::future::{Future, pending, poll_fn};
use std::io::{BufRead, BufReader, Write};
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{Counters, LIMIT, watchdog};
use evloop::Runtime;
use evloop::signal::{Interrupted, SignalKind, ctrl_c, raise, signal};
use evloop::testing::signal_census;
use evloop::time::{sleep, timeout};
use futures_util::StreamExt;

/// In-process signal tests run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signal` (a `kill` name: `INT`, `USR1`) to `pid` from outside,
/// as a user or a supervisor would.
fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{signal} {pid}: {status}");
}

/// Whether `signum` is ignored in this process (and so, across `exec`, in
/// the children it starts): then its default action cannot be observed.
fn ignored_here(signum: i32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signum - 1)) != 0)
}

// ---------------------------------------------------------------------------
// Scenarios played in a child process.

const SCENARIO: &str = "EVLOOP_SIGNAL_SCENARIO";

/// Whether this process is the child playing `test`'s scenario.
fn playing(test: &str) -> bool {
    std::env::var(SCENARIO).as_deref() == Ok(test)
}

/// Starts this test binary again, running only `test`, which plays its
/// scenario and reports on stdout in lines marked `@@ `.
fn start_scenario(test: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, test)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary starts again");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    (child, stdout)
}

/// The scenario's next report line (after `@@ `), skipping the harness's
/// own lines; `None` at end of output.
fn report(stdout: &mut BufReader<std::process::ChildStdout>) -> Option<String> {
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("reading the child") == 0 {
            return None;
        }
        // The harness may have printed `test NAME ... ` on the same line.
        if let Some(at) = line.find("@@ ") {
            return Some(line[at + 3..].trim_end().to_owned());
        }
    }
}

/// Waits at most `limit` for `child` to end.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the scenario's process did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Prints a report line for the parent.
fn tell(line: impl std::fmt::Display) {
    println!("@@ {line}");
}

/// Counts its drops in a shared cell.
struct Dropped(Rc<Cell<u32>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

// ---------------------------------------------------------------------------
// Listeners.

#[test]
fn two_listeners_both_woken() {
    let _serial = serial();
    watchdog(LIMIT, || {
        evloop::run(async {
            let (a, b) = (Counters::new(), Counters::new());
            let mut first = signal(SignalKind::user_defined1()).unwrap();
            let mut second = signal(SignalKind::user_defined1()).unwrap();
            assert_eq!(signal_census(&first), (2, 1));
            let ta = evloop::spawn(a.probe(async move {
                first.recv().await;
                first.recv().await;
            }));
            let tb = evloop::spawn(b.probe(async move {
                second.recv().await;
                second.recv().await;
            }));
            evloop::yield_now().await;
            a.assert("both wait", 1, 0, 0);
            b.assert("both wait", 1, 0, 0);

            raise(SignalKind::user_defined1()).unwrap();
            evloop::yield_now().await;
            evloop::yield_now().await;
            a.assert("the first arrival", 2, 1, 0);
            b.assert("the first arrival", 2, 1, 0);
            assert!(a.waiting() && b.waiting(), "each waits for a second one");

            raise(SignalKind::user_defined1()).unwrap();
            ta.await.unwrap();
            tb.await.unwrap();
            a.assert("the second arrival", 3, 2, 1);
            b.assert("the second arrival", 3, 2, 1);
        })
    });
}

#[test]
fn a_signal_raised_while_the_loop_is_parked_wakes_it_promptly() {
    let _serial = serial();
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (sent, woke) = rt.block_on(async {
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            // Nothing else to do for a minute: the loop parks in the poller
            // with a timeout of about 60 s.
            let far_timer = evloop::spawn(sleep(Duration::from_secs(60)));
            let pid = std::process::id();
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let sent = Instant::now();
                kill("USR2", pid); // from another process, as a user would
                sent
            });
            usr2.recv().await;
            let woke = Instant::now();
            far_timer.abort();
            (sender.join().unwrap(), woke)
        });
        let delay = woke.saturating_duration_since(sent);
        // `kill` is a process of its own: starting it takes a while, so the
        // bound is generous; what matters is that it is nowhere near the
        // 60 s timer the loop was parked on.
        assert!(
            delay < Duration::from_secs(3),
            "woken {delay:?} after the signal was sent"
        );
    });
}

#[test]
fn a_listener_dropped_mid_wait_leaves_the_others_working() {
    let _serial = serial();
    watchdog(LIMIT, || {
        evloop::run(async {
            let kind = SignalKind::hangup();
            let counters: Vec<Counters> = (0..3).map(|_| Counters::new()).collect();
            let mut tasks = Vec::new();
            let mut census = None;
            for c in &counters {
                let mut listener = signal(kind).unwrap();
                census = Some(signal(kind).unwrap()); // a spare one, to count with
                tasks.push(evloop::spawn(c.probe(async move { listener.recv().await })));
            }
            let census = census.unwrap();
            assert_eq!(signal_census(&census), (4, 1));
            evloop::yield_now().await;
            for c in &counters {
                c.assert("all wait", 1, 0, 0);
            }

            // The middle one is cancelled while it waits: its future (and
            // its listener) is dropped.
            tasks[1].abort();
            evloop::yield_now().await;
            counters[1].assert("cancelled", 1, 0, 1);
            assert_eq!(signal_census(&census), (3, 1));

            raise(kind).unwrap();
            let first = tasks.remove(0);
            let last = tasks.pop().unwrap();
            first.await.unwrap();
            last.await.unwrap();
            counters[0].assert("woken", 2, 1, 1);
            counters[2].assert("woken", 2, 1, 1);
            counters[1].assert("still cancelled", 1, 0, 1);
            assert_eq!(signal_census(&census), (1, 1));
        })
    });
}

#[test]
fn a_receive_dropped_mid_wait_keeps_the_next_arrival() {
    let _serial = serial();
    watchdog(LIMIT, || {
        evloop::run(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let gave_up = timeout(Duration::from_millis(20), usr1.recv()).await;
            assert!(gave_up.is_err(), "nothing arrived yet");
            raise(SignalKind::user_defined1()).unwrap();
            // No one was waiting when it came: the listener kept it.
            let got = timeout(Duration::from_secs(5), usr1.recv()).await;
            assert!(got.is_ok(), "the arrival was kept for the next recv");
            // Coalesced and taken: nothing more is there.
            let again = timeout(Duration::from_millis(20), usr1.recv()).await;
            assert!(again.is_err());
        })
    });
}

#[test]
fn a_listener_sees_only_signals_after_it_was_made() {
    let _serial = serial();
    watchdog(LIMIT, || {
        evloop::run(async {
            let mut early = signal(SignalKind::user_defined2()).unwrap();
            raise(SignalKind::user_defined2()).unwrap();
            let mut late = signal(SignalKind::user_defined2()).unwrap();
            assert!(
                timeout(Duration::from_secs(5), early.recv()).await.is_ok(),
                "the early listener sees it"
            );
            assert!(
                timeout(Duration::from_millis(20), late.recv())
                    .await
                    .is_err(),
                "the late one does not"
            );
        })
    });
}

#[test]
fn a_signal_is_a_stream() {
    let _serial = serial();
    watchdog(LIMIT, || {
        evloop::run(async {
            let mut hangups = signal(SignalKind::hangup()).unwrap();
            assert_eq!(hangups.kind(), SignalKind::hangup());
            let mut seen = 0;
            for _ in 0..3 {
                raise(SignalKind::hangup()).unwrap();
                assert_eq!(hangups.next().await, Some(()));
                seen += 1;
            }
            assert_eq!(seen, 3);
        })
    });
}

#[test]
fn every_runtime_that_listens_sees_the_signal() {
    let _serial = serial();
    let kind = SignalKind::user_defined1();
    // Two runtimes on two threads, each waiting for SIGUSR1.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let listeners: Vec<_> = (0..2)
        .map(|n| {
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                evloop::run(async move {
                    let mut usr1 = signal(kind).unwrap();
                    ready.send(()).unwrap();
                    timeout(Duration::from_secs(10), usr1.recv())
                        .await
                        .map(|()| n)
                })
            })
        })
        .collect();
    ready_rx.recv().unwrap();
    ready_rx.recv().unwrap();
    // One signal, raised from a third thread.
    raise(kind).unwrap();
    let mut got: Vec<_> = listeners
        .into_iter()
        .map(|t| t.join().unwrap().expect("each runtime saw the signal"))
        .collect();
    got.sort();
    assert_eq!(got, [0, 1]);

    // The runtimes are gone: nobody in the process listens any more.
    evloop::run(async {
        let probe = signal(kind).unwrap();
        assert_eq!(signal_census(&probe), (1, 1), "only this runtime");
    });
}

#[test]
fn signals_that_cannot_be_listened_for_are_refused() {
    evloop::run(async {
        // SIGKILL cannot be caught; SIGSEGV reports a fault in the program.
        for raw in [9, 11] {
            let err = signal(SignalKind::from_raw(raw)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("cannot be listened for"), "{err}");
        }
    });
    let outside = signal(SignalKind::hangup()).unwrap_err();
    assert!(
        outside.to_string().contains("inside a runtime"),
        "{outside}"
    );
}

#[test]
fn ctrl_c_made_outside_a_runtime_listens_from_its_first_poll() {
    let _serial = serial();
    let interrupted = ctrl_c(); // no runtime yet: not listening
    let result = evloop::run(async {
        let mut interrupted = pin!(interrupted);
        poll_fn(|cx| {
            assert!(interrupted.as_mut().poll(cx).is_pending(), "no Ctrl-C yet");
            Poll::Ready(())
        })
        .await;
        raise(SignalKind::interrupt()).unwrap(); // caught: it listens now
        timeout(Duration::from_secs(5), interrupted).await
    });
    assert!(matches!(result, Ok(Ok(()))), "{result:?}");
}

// ---------------------------------------------------------------------------
// Nobody listening.

#[test]
fn a_signal_nobody_listens_to_gets_its_default_action_back() {
    const TEST: &str = "a_signal_nobody_listens_to_gets_its_default_action_back";
    if playing(TEST) {
        evloop::run(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            raise(SignalKind::user_defined1()).unwrap();
            usr1.recv().await;
            tell("caught while listening");
        });
        // The runtime and its listener are gone: SIGUSR1 ends the process
        // again (its default), unless it was ignored to begin with.
        raise(SignalKind::user_defined1()).unwrap();
        tell("survived");
        std::process::exit(0);
    }
    let (mut child, mut stdout) = start_scenario(TEST);
    assert_eq!(
        report(&mut stdout).as_deref(),
        Some("caught while listening")
    );
    let after = report(&mut stdout);
    let status = wait_at_most(&mut child, LIMIT);
    use std::os::unix::process::ExitStatusExt;
    if ignored_here(10) {
        // Ignored before evloop (inherited from whoever started the
        // tests): ignored again.
        assert_eq!(after.as_deref(), Some("survived"));
        assert!(status.success());
    } else {
        assert_eq!(after, None, "the default action ended the process");
        assert_eq!(status.signal(), Some(10), "killed by SIGUSR1: {status}");
    }
}

#[test]
fn a_signal_ignored_before_evloop_stays_ignored_when_nobody_listens() {
    const TEST: &str = "a_signal_ignored_before_evloop_stays_ignored_when_nobody_listens";
    if playing(TEST) {
        evloop::run(async {
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            raise(SignalKind::user_defined2()).unwrap();
            usr2.recv().await;
            tell("caught while listening");
        });
        raise(SignalKind::user_defined2()).unwrap();
        tell("survived");
        std::process::exit(0);
    }
    // `trap '' USR2` makes the shell ignore SIGUSR2, and an ignored signal
    // stays ignored across exec: the scenario starts with SIGUSR2 ignored,
    // as `nohup` starts a program with SIGHUP ignored.
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("sh")
        .args(["-c", "trap '' USR2; exec \"$0\" \"$@\""])
        .arg(exe)
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, TEST)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    assert_eq!(
        report(&mut stdout).as_deref(),
        Some("caught while listening")
    );
    assert_eq!(report(&mut stdout).as_deref(), Some("survived"));
    assert!(wait_at_most(&mut child, LIMIT).success());
}

// ---------------------------------------------------------------------------
// Ctrl-C cancels a run.

#[test]
fn ctrl_c_cancels_the_main_future_and_drops_every_task_once() {
    const TEST: &str = "ctrl_c_cancels_the_main_future_and_drops_every_task_once";
    if playing(TEST) {
        let drops: Vec<Rc<Cell<u32>>> = (0..21).map(|_| Rc::new(Cell::new(0))).collect();
        let rt = Runtime::new().unwrap();
        let result = rt.block_on_interruptible({
            let drops = drops.clone();
            async move {
                let _main = Dropped(drops[0].clone());
                for count in &drops[1..=10] {
                    // A task parked on a timer, holding a value to drop.
                    let held = Dropped(count.clone());
                    evloop::spawn(async move {
                        let _held = held;
                        sleep(Duration::from_secs(3600)).await;
                    });
                }
                for i in 11..=15 {
                    // A task that awaits a task it spawned: both cancelled.
                    let (outer, inner) = (Dropped(drops[i].clone()), Dropped(drops[i + 5].clone()));
                    evloop::spawn(async move {
                        let _outer = outer;
                        let child = evloop::spawn(async move {
                            let _inner = inner;
                            pending::<()>().await
                        });
                        let _ = child.await;
                    });
                }
                sleep(Duration::from_millis(10)).await; // every task is waiting now
                tell("ready");
                pending::<()>().await
            }
        });
        tell(format!("result {result:?}"));
        let counts: Vec<u32> = drops.iter().map(|d| d.get()).collect();
        tell(format!("drops {counts:?}"));
        tell(format!("tasks {}", rt.task_count()));
        std::process::exit(0);
    }
    let (mut child, mut stdout) = start_scenario(TEST);
    assert_eq!(report(&mut stdout).as_deref(), Some("ready"));
    kill("INT", child.id()); // Ctrl-C, from outside
    assert_eq!(
        report(&mut stdout),
        Some(format!("result {:?}", Err::<(), _>(Interrupted::new())))
    );
    assert_eq!(
        report(&mut stdout),
        Some(format!("drops {:?}", [1; 21])),
        "the main future and each of the 20 tasks dropped exactly once"
    );
    assert_eq!(report(&mut stdout).as_deref(), Some("tasks 0"));
    assert!(wait_at_most(&mut child, LIMIT).success());
}

#[test]
fn a_second_ctrl_c_during_the_cancellation_ends_the_process_at_once() {
    const TEST: &str = "a_second_ctrl_c_during_the_cancellation_ends_the_process_at_once";
    if playing(TEST) {
        /// Its drop takes as long as the parent wants: it waits for a
        /// line on stdin.
        struct SlowDrop;
        impl Drop for SlowDrop {
            fn drop(&mut self) {
                tell("dropping");
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                tell("dropped");
            }
        }
        let result = evloop::run_interruptible(async {
            let slow = SlowDrop;
            evloop::spawn(async move {
                let _slow = slow;
                pending::<()>().await
            });
            tell("ready");
            pending::<()>().await
        });
        tell(format!("result {result:?}"));
        std::process::exit(0);
    }
    let (mut child, mut stdout) = start_scenario(TEST);
    assert_eq!(report(&mut stdout).as_deref(), Some("ready"));
    kill("INT", child.id());
    assert_eq!(report(&mut stdout).as_deref(), Some("dropping"));
    // The cancellation is stuck in a drop; the user presses Ctrl-C again.
    kill("INT", child.id());
    if ignored_here(2) {
        // SIGINT was ignored before evloop (a background job): the second
        // one is ignored too. Let the drop finish.
        std::thread::sleep(Duration::from_millis(200));
        assert!(child.try_wait().unwrap().is_none());
        writeln!(child.stdin.as_mut().unwrap()).unwrap();
        assert_eq!(report(&mut stdout).as_deref(), Some("dropped"));
        assert!(wait_at_most(&mut child, LIMIT).success());
    } else {
        use std::os::unix::process::ExitStatusExt;
        let status = wait_at_most(&mut child, Duration::from_secs(10));
        assert_eq!(status.signal(), Some(2), "ended by SIGINT: {status}");
        assert_eq!(report(&mut stdout), None, "the drop never finished");
    }
}

#[test]
fn cancel_on_ctrl_c_makes_block_on_panic_after_cancelling_everything() {
    let _serial = serial();
    common::quiet_expected_panics();
    let drops = Rc::new(Cell::new(0));
    let rt = Runtime::builder().cancel_on_ctrl_c(true).build().unwrap();
    // Without a Ctrl-C, nothing changes.
    assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    let held = Dropped(drops.clone());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            evloop::spawn(async move {
                let _held = held;
                pending::<()>().await
            });
            evloop::yield_now().await;
            raise(SignalKind::interrupt()).unwrap();
            pending::<()>().await
        })
    }));
    let message = common::panic_text(&*outcome.unwrap_err()).unwrap();
    assert_eq!(message, "interrupted by Ctrl-C (SIGINT)");
    assert_eq!(drops.get(), 1, "the task was cancelled once");
    assert_eq!(rt.task_count(), 0);
}

#[test]
fn block_on_interruptible_returns_the_output_when_no_ctrl_c_comes() {
    let _serial = serial();
    let rt = Runtime::builder().paused_clock(true).build().unwrap();
    let out = rt.block_on_interruptible(async {
        sleep(Duration::from_secs(5)).await;
        "finished"
    });
    assert_eq!(out, Ok("finished"));
    // The runtime goes on as usual afterwards.
    let spawned = rt.block_on(async { evloop::spawn(async { 1 }).await.unwrap() });
    assert_eq!(spawned, 1);
    // And Ctrl-C after it cancels the next run.
    let interrupted = rt.block_on_interruptible(async {
        raise(SignalKind::interrupt()).unwrap();
        pending::<()>().await
    });
    assert_eq!(interrupted, Err(Interrupted::new()));
}
