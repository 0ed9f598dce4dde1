//! Child processes on the reactor: statuses and output of concurrent
//! children, pipes that report a broken pipe instead of hanging, children
//! killed or dropped and reaped (no zombie, checked in `/proc`), a hundred
//! children at once without a thread each, and the `subprocess` lesson.
//!
//! Each behaviour is checked twice where the exit watch matters: with the
//! pidfd (Linux's way) and with the `SIGCHLD` fallback of other Unixes,
//! which `evloop::testing::watch_exit_by_sigchld` selects here.
//!
//! Real processes do not follow the paused clock: times here are real, and
//! bounded generously.

#![cfg(unix)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{LIMIT, watchdog};
use evloop::process::Command;
use evloop::testing::{watch_exit_by_sigchld, watched_by_pidfd};
use evloop::time::{sleep, timeout};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/subprocess.rs"]
mod subprocess;

/// How a test watches its children's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    PidFd,
    SigChld,
}

/// A command watched the way `watch` says.
fn command(watch: Watch, program: &str) -> Command {
    let mut command = Command::new(program);
    if watch == Watch::SigChld {
        watch_exit_by_sigchld(&mut command);
    }
    command
}

/// A `sh -c script` command, with `args` as `$0`, `$1`...
fn shell(watch: Watch, script: &str, args: &[&str]) -> Command {
    let mut command = command(watch, "sh");
    command.arg("-c").arg(script).args(args);
    command
}

/// The state letter of process `pid` in `/proc` (`R`, `S`, `Z` for a
/// zombie...), or `None` if there is no such process.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the command may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// Waits (on the loop) until process `pid` is gone from `/proc`: exited
/// and reaped. `false` if it is still there after `limit`.
async fn gone_within(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    while proc_state(pid).is_some() {
        if start.elapsed() > limit {
            return false;
        }
        sleep(Duration::from_millis(10)).await;
    }
    true
}

/// How many threads this process has.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

// ---------------------------------------------------------------------------
// Status and output.

fn several_concurrent_children(watch: Watch) {
    watchdog(LIMIT, move || {
        evloop::run(async move {
            let runs = (1..=5).map(|n| {
                let n = n.to_string();
                async move {
                    let mut command = shell(
                        watch,
                        "sleep 0.$0; echo out $0; echo err $0 >&2; exit $0",
                        &[&n],
                    );
                    command.output().await
                }
            });
            let start = Instant::now();
            let outputs = evloop::join_all(runs).await;
            let took = start.elapsed();
            for (n, output) in (1..=5).zip(outputs) {
                let output = output.unwrap();
                assert_eq!(output.status.code(), Some(n), "child {n}'s status");
                assert_eq!(output.stdout, format!("out {n}\n").as_bytes());
                assert_eq!(output.stderr, format!("err {n}\n").as_bytes());
            }
            // They slept 0.1 s to 0.5 s side by side, not 1.5 s in a row.
            assert!(took >= Duration::from_millis(500), "{took:?}");
            assert!(took < Duration::from_millis(1400), "{took:?}");
        })
    });
}

#[test]
fn several_concurrent_children_report_status_and_output() {
    several_concurrent_children(Watch::PidFd);
}

#[test]
fn several_concurrent_children_report_status_and_output_by_sigchld() {
    several_concurrent_children(Watch::SigChld);
}

#[test]
fn linux_watches_exits_through_a_pidfd() {
    evloop::run(async {
        let mut child = Command::new("true").spawn().unwrap();
        let by_pidfd = watched_by_pidfd(&child);
        child.wait().await.unwrap();
        // Linux 5.3 and later has pidfds (unless a seccomp filter forbids
        // them, which this machine's kernel does not).
        assert_eq!(by_pidfd, Some(cfg!(target_os = "linux")));
    });
}

#[test]
fn wait_is_cancel_safe_and_kill_ends_the_child() {
    for watch in [Watch::PidFd, Watch::SigChld] {
        watchdog(LIMIT, move || {
            evloop::run(async move {
                let mut child = command(watch, "sleep").arg("30").spawn().unwrap();
                let pid = child.id().unwrap();
                // A wait dropped mid-way leaves the child running and usable.
                let early = timeout(Duration::from_millis(50), child.wait()).await;
                assert!(early.is_err(), "still sleeping");
                assert_eq!(child.try_wait().unwrap(), None);
                assert_eq!(proc_state(pid).map(|s| s != 'Z'), Some(true));

                child.kill().unwrap();
                let status = child.wait().await.unwrap();
                assert_eq!(status.signal(), Some(9), "{watch:?}: {status}");
                assert_eq!(child.id(), None);
                assert_eq!(proc_state(pid), None, "reaped by wait");
                child.kill().unwrap(); // killing an exited child does nothing
                assert_eq!(child.wait().await.unwrap().signal(), Some(9));
            })
        });
    }
}

#[test]
fn status_and_spawn_errors_name_the_program() {
    evloop::run(async {
        let status = Command::new("sh").args(["-c", "exit 4"]).status().await;
        assert_eq!(status.unwrap().code(), Some(4));
        let missing = Command::new("evloop-no-such-program")
            .status()
            .await
            .unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        assert!(
            missing.to_string().contains("evloop-no-such-program"),
            "{missing}"
        );
    });
    let outside = Command::new("true").spawn().unwrap_err();
    assert!(
        outside.to_string().contains("inside a runtime"),
        "{outside}"
    );
}

// ---------------------------------------------------------------------------
// Pipes.

#[test]
fn a_megabyte_through_cat_with_back_pressure_both_ways() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
            let mut cat = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = cat.stdin.take().unwrap();
            let mut stdout = cat.stdout.take().unwrap();
            // A pipe holds 64 KiB: the writer waits for cat, cat waits for
            // the reader. Through the futures-io traits, as generic code
            // would use them.
            let sent = data.clone();
            let writer = evloop::spawn(async move {
                AsyncWriteExt::write_all(&mut stdin, &sent).await.unwrap();
                AsyncWriteExt::close(&mut stdin).await.unwrap(); // cat sees end of file
            });
            let mut echoed = Vec::new();
            AsyncReadExt::read_to_end(&mut stdout, &mut echoed)
                .await
                .unwrap();
            writer.await.unwrap();
            assert_eq!(echoed.len(), data.len());
            assert!(echoed == data, "the bytes came back unchanged");
            assert!(cat.wait().await.unwrap().success());
        })
    });
}

#[test]
fn a_child_that_closes_its_pipes_early_gives_broken_pipe_not_a_hang() {
    for watch in [Watch::PidFd, Watch::SigChld] {
        watchdog(LIMIT, move || {
            evloop::run(async move {
                // The child closes its stdin and stdout, then lives on.
                let mut child = shell(watch, "exec 0<&- 1>&-; sleep 30", &[])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let stdin = child.stdin.take().unwrap();
                let stdout = child.stdout.take().unwrap();
                let mut buf = [0u8; 16];
                let read = timeout(Duration::from_secs(5), stdout.read(&mut buf)).await;
                assert_eq!(read.expect("no hang").unwrap(), 0, "end of file");
                let big = vec![7u8; 4 << 20];
                let wrote = timeout(Duration::from_secs(5), stdin.write_all(&big)).await;
                let err = wrote.expect("no hang").unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{watch:?}");
                assert_eq!(child.try_wait().unwrap(), None, "the child lives on");
            })
        });
    }
}

#[test]
fn a_child_that_exits_mid_stream_gives_broken_pipe_and_its_output() {
    watchdog(LIMIT, || {
        evloop::run(async {
            // `head -c 5` reads a little, prints 5 bytes and exits while we
            // are still writing megabytes to it.
            let mut head = Command::new("head")
                .args(["-c", "5"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = head.stdin.take().unwrap();
            let big: Vec<u8> = b"hello, world"
                .iter()
                .copied()
                .cycle()
                .take(4 << 20)
                .collect();
            let writer = evloop::spawn(async move { stdin.write_all(&big).await });
            let mut out = Vec::new();
            head.stdout
                .take()
                .unwrap()
                .read_to_end(&mut out)
                .await
                .unwrap();
            assert_eq!(out, b"hello");
            let wrote = timeout(Duration::from_secs(5), writer)
                .await
                .expect("no hang");
            let err = wrote.unwrap().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
            assert!(head.wait().await.unwrap().success());
        })
    });
}

// ---------------------------------------------------------------------------
// Dropped children.

fn killed_on_drop_leaves_no_zombie(watch: Watch) {
    watchdog(LIMIT, move || {
        let rt = evloop::Runtime::new().unwrap();
        rt.block_on(async move {
            let child = command(watch, "sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            assert_eq!(proc_state(pid).map(|s| s != 'Z'), Some(true), "running");
            drop(child); // SIGKILL, then the runtime reaps it
            assert!(
                gone_within(pid, Duration::from_secs(10)).await,
                "{watch:?}: child {pid} is still in /proc: {:?}",
                proc_state(pid)
            );
            // The reaping task is done once nothing is left to reap.
            evloop::yield_now().await;
        });
        assert_eq!(rt.task_count(), 0, "the reaper ended");
    });
}

#[test]
fn a_child_killed_on_drop_leaves_no_zombie() {
    killed_on_drop_leaves_no_zombie(Watch::PidFd);
}

#[test]
fn a_child_killed_on_drop_leaves_no_zombie_by_sigchld() {
    killed_on_drop_leaves_no_zombie(Watch::SigChld);
}

#[test]
fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let start = Instant::now();
            let child = shell(Watch::PidFd, "sleep 0.3", &[]).spawn().unwrap();
            let pid = child.id().unwrap();
            drop(child); // no kill_on_drop: it sleeps on
            sleep(Duration::from_millis(100)).await;
            assert!(
                matches!(proc_state(pid), Some(s) if s != 'Z'),
                "still running, not killed: {:?}",
                proc_state(pid)
            );
            assert!(gone_within(pid, Duration::from_secs(10)).await, "reaped");
            assert!(
                start.elapsed() >= Duration::from_millis(300),
                "it ran its course"
            );
        })
    });
}

#[test]
fn a_cancelled_task_takes_its_kill_on_drop_child_down() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let (pid_tx, pid_rx) = evloop::sync::oneshot::channel();
            let task = evloop::spawn(async move {
                let mut child = Command::new("sleep")
                    .arg("30")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                pid_tx.send(child.id().unwrap()).unwrap();
                child.wait().await
            });
            let pid = pid_rx.await.unwrap();
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(
                gone_within(pid, Duration::from_secs(10)).await,
                "killed and reaped"
            );
        })
    });
}

// ---------------------------------------------------------------------------
// Many.

fn hundred_children(watch: Watch) {
    watchdog(Duration::from_secs(60), move || {
        evloop::run(async move {
            const N: usize = 100;
            let threads_before = threads();
            let mut children = Vec::new();
            for n in 0..N {
                let child = shell(watch, "sleep 0.5; echo $0", &[&n.to_string()])
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                children.push(child);
            }
            let start = Instant::now();
            // While all of them sleep, no thread was started for them.
            sleep(Duration::from_millis(100)).await;
            let threads_during = threads();
            assert!(
                threads_during < threads_before + 20,
                "{threads_before} threads before, {threads_during} with {N} children waiting"
            );
            let outputs =
                evloop::join_all(children.into_iter().map(|c| c.wait_with_output())).await;
            for (n, output) in outputs.into_iter().enumerate() {
                let output = output.unwrap();
                assert!(output.status.success(), "child {n}: {}", output.status);
                assert_eq!(output.stdout, format!("{n}\n").as_bytes());
            }
            let took = start.elapsed();
            // 100 half-second sleeps side by side, not 50 s in a row.
            assert!(took < Duration::from_secs(20), "{watch:?}: {took:?}");
        })
    });
}

#[test]
fn a_hundred_children_in_parallel() {
    hundred_children(Watch::PidFd);
}

#[test]
fn a_hundred_children_in_parallel_by_sigchld() {
    hundred_children(Watch::SigChld);
}

// ---------------------------------------------------------------------------
// The lesson.

#[test]
fn the_subprocess_lesson_runs_four_children_in_about_a_second() {
    watchdog(LIMIT, || {
        let start = Instant::now();
        let lines = evloop::run(subprocess::main_task()).unwrap();
        let took = start.elapsed();
        assert_eq!(
            subprocess::take_transcript(),
            ["Started 4 children, each sleeping 1 s..."]
        );
        assert_eq!(
            lines,
            [
                "child 1 finished (exit status 0)",
                "child 2 finished (exit status 0)",
                "child 3 finished (exit status 0)",
                "child 4 finished (exit status 0)",
            ]
        );
        // Side by side: at least the 1 s each sleeps, far below the 4 s of
        // one after another (generous: a loaded machine starts `sh` slowly).
        assert!(took >= Duration::from_secs(1), "{took:?}");
        assert!(took < Duration::from_millis(3500), "{took:?}");
    });
}
