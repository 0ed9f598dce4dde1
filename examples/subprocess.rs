//! Run: `cargo run --example subprocess`
//!
//! You will see, after about 1 second:
//!
//! ```text
//! Started 4 children, each sleeping 1 s...
//! child 1 finished (exit status 0)
//! child 2 finished (exit status 0)
//! child 3 finished (exit status 0)
//! child 4 finished (exit status 0)
//! Finished in 1.01 seconds
//! ```
//!
//! Child processes are the one kind of work that was parallel all along:
//! each is a program of its own, run by the OS on its own. What the loop
//! adds is that *waiting* for them costs nothing. asyncio's version:
//!
//! ```text
//! procs = [await asyncio.create_subprocess_exec("sh", "-c", f"sleep 1; echo child {n}",
//!                                               stdout=PIPE) for n in range(1, 5)]
//! outputs = await asyncio.gather(*(p.communicate() for p in procs))
//! ```
//!
//! Here `Command::output` starts a child with its stdout piped and returns
//! a future of everything it printed and its exit status; `join_all` awaits
//! the four futures together (asyncio's `gather`). All four children start
//! at once and sleep side by side, so the whole thing takes about 1 s, not
//! 4. The results come back in the order the futures were given, whatever
//! order the children finished in.
//!
//! How the loop waits without a thread per child: each child's stdout is a
//! pipe, registered with the reactor like a socket, and on Linux each child
//! also gets a *pidfd*, a file descriptor that turns readable when the child
//! exits. One `epoll_wait` watches all twelve (elsewhere, `SIGCHLD` tells
//! the loop that some child exited).
//!
//! Simplified on purpose: the children are `sh -c 'sleep 1; echo ...'`, so
//! this needs a Unix shell; a failure to start one ends the lesson with a
//! message instead of a result.

use std::cell::RefCell;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use evloop::process::Command;
use evloop::time::Instant;

/// How many children run at once.
pub const CHILDREN: u32 = 4;

/// How long each one sleeps.
pub const SLEEP: Duration = Duration::from_secs(1);

/// Starts one child that sleeps [`SLEEP`] and then prints its name, and
/// returns what it printed once it has exited.
pub async fn run_child(n: u32) -> io::Result<String> {
    let script = format!("sleep {}; echo child {n}", SLEEP.as_secs_f64());
    // `output` pipes stdout and stderr and waits for both the exit and the
    // end of the output; `kill_on_drop` stops the child if this future is
    // dropped first (a timeout, Ctrl-C).
    let output = Command::new("sh")
        .args(["-c", &script])
        .kill_on_drop(true)
        .output()
        .await?;
    let printed = String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned();
    // `code()` is `None` only for a child killed by a signal.
    let status = match output.status.code() {
        Some(code) => format!("exit status {code}"),
        None => format!("ended by {}", output.status),
    };
    Ok(format!("{printed} finished ({status})"))
}

/// The lesson: start all the children at once, then gather what each one
/// printed, in order.
pub async fn main_task() -> io::Result<Vec<String>> {
    say(format!(
        "Started {CHILDREN} children, each sleeping {} s...",
        SLEEP.as_secs()
    ));
    let children = (1..=CHILDREN).map(run_child);
    // Each result in the order given, whichever child ended first.
    evloop::try_join_all(children).await
}

/// Runs the lesson, timing it, and prints what each child said.
pub fn main() -> ExitCode {
    let started = Instant::now();
    match evloop::run(main_task()) {
        Ok(lines) => {
            for line in lines {
                say(line);
            }
            println!("Finished in {:.2} seconds", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            // `sh` could not be started (not a Unix system?), or a pipe
            // failed: nothing to gather.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// What the lesson printed, kept so that `tests/process.rs` can check the
// lines and their order. `say` is `println!` with a memory.
thread_local! {
    static TRANSCRIPT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Prints `line` and remembers it in this thread's transcript.
pub fn say(line: String) {
    println!("{line}");
    TRANSCRIPT.with_borrow_mut(|t| t.push(line));
}

/// The lines `say` printed on this thread so far, emptying the transcript.
#[allow(dead_code, reason = "called by tests/process.rs")]
pub fn take_transcript() -> Vec<String> {
    TRANSCRIPT.take()
}
