//! A child still running when its runtime ends is kept in a process-wide
//! list; the next spawn, on any runtime, reaps it or takes it over. Until
//! then an exited one is a zombie, which is the documented cost.
//!
//! One test in its own binary: the list is process-wide, and a spawn by a
//! test running beside it would take the children over early.

#![cfg(unix)]

use std::time::{Duration, Instant};

use evloop::process::Command;
use evloop::testing::children_adrift;
use evloop::time::sleep;

/// The state letter of process `pid` in `/proc`, or `None` if it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// Waits (blocking: no runtime) until `pid` is a zombie or gone.
fn exited_within(pid: u32, limit: Duration) -> Option<char> {
    let start = Instant::now();
    loop {
        match proc_state(pid) {
            Some('Z') | None => return proc_state(pid),
            Some(_) if start.elapsed() > limit => return proc_state(pid),
            Some(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[test]
fn children_left_by_an_ended_runtime_are_taken_over_by_the_next_spawn() {
    assert_eq!(children_adrift(), 0);
    // Two children dropped while running, then their runtime ends.
    let (short, long) = evloop::run(async {
        let short = Command::new("sh")
            .args(["-c", "sleep 0.2"])
            .spawn()
            .unwrap();
        let long = Command::new("sh").args(["-c", "sleep 1"]).spawn().unwrap();
        (short.id().unwrap(), long.id().unwrap())
        // Both `Child`s drop here, inside the runtime, and go to its reaper;
        // the runtime then ends with them still running.
    });
    assert_eq!(children_adrift(), 2, "both left adrift");

    // Nobody reaps the short one when it exits: a zombie, for now.
    assert_eq!(exited_within(short, Duration::from_secs(10)), Some('Z'));
    assert_eq!(children_adrift(), 2);
    assert!(
        matches!(proc_state(long), Some(s) if s != 'Z'),
        "still sleeping"
    );

    // The next spawn, on a new runtime, reaps the zombie at once and hands
    // the sleeper to its own reaper, which reaps it when it exits.
    evloop::run(async move {
        Command::new("true").status().await.unwrap();
        assert_eq!(
            proc_state(short),
            None,
            "the zombie was reaped by the spawn"
        );
        assert_eq!(children_adrift(), 0, "the sleeper was taken over");
        let start = Instant::now();
        while proc_state(long).is_some() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "child {long} still in /proc: {:?}",
                proc_state(long)
            );
            sleep(Duration::from_millis(10)).await;
        }
    });
    assert_eq!(children_adrift(), 0);
}
