//! Child processes on the loop (Unix only): start them, talk to them
//! through pipes, and await their exit.
//!
//! | asyncio | evloop | tokio |
//! | --- | --- | --- |
//! | `await asyncio.create_subprocess_exec(prog, *args, stdout=PIPE)` | [`Command::new`]`(prog).args(args).stdout(Stdio::piped()).spawn()` | `tokio::process::Command::spawn` |
//! | `create_subprocess_shell(cmd)` | `Command::new("sh").args(["-c", cmd])` | the same |
//! | `asyncio.subprocess.PIPE`, `DEVNULL` | [`Stdio::piped()`](std::process::Stdio::piped), [`Stdio::null()`](std::process::Stdio::null) (std's) | the same |
//! | `Process` | [`Child`] | `tokio::process::Child` |
//! | `proc.pid` | [`Child::id`] | `Child::id` |
//! | `proc.stdin.write(b); await proc.stdin.drain()` | [`ChildStdin::write_all`]`(b).await` | `AsyncWriteExt::write_all` |
//! | `await proc.stdout.read()` | [`ChildStdout::read_to_end`] | `AsyncReadExt::read_to_end` |
//! | `await proc.wait()` | [`Child::wait`]`().await` | `Child::wait` |
//! | `await proc.communicate()` | [`Child::wait_with_output`], [`Command::output`] | `wait_with_output`, `output` |
//! | `proc.kill()` | [`Child::kill`] | `Child::start_kill` |
//! | (none: asyncio leaves the process running) | [`Command::kill_on_drop`] | `Command::kill_on_drop` |
//!
//! ```
//! use std::process::Stdio;
//! use evloop::process::Command;
//!
//! evloop::run(async {
//!     // proc = await asyncio.create_subprocess_exec("tr", "a-z", "A-Z", stdin=PIPE, stdout=PIPE)
//!     let child = Command::new("tr")
//!         .args(["a-z", "A-Z"])
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     // out, _ = await proc.communicate(b"shout")
//!     child.stdin.as_ref().unwrap().write_all(b"shout").await.unwrap();
//!     let output = child.wait_with_output().await.unwrap(); // closes stdin first
//!     assert_eq!(output.stdout, b"SHOUT");
//!     assert!(output.status.success());
//! });
//! ```
//!
//! # On the reactor, without a thread per child
//!
//! A child's piped stdin, stdout and stderr are pipes, made nonblocking and
//! registered with the reactor like sockets: [`ChildStdin`],
//! [`ChildStdout`] and [`ChildStderr`] read and write as a
//! [`TcpStream`](crate::net::TcpStream) does, and implement the same
//! [`futures_io`] traits.
//!
//! Its exit is one more event on the reactor. On Linux (5.3 and later)
//! each child gets a *pidfd* (`pidfd_open(2)`), a file descriptor that
//! turns readable when the child exits, registered with the reactor. On
//! other Unixes, and on Linux where `pidfd_open` is refused (an older
//! kernel, a seccomp filter), evloop falls back to `SIGCHLD` through
//! [`evloop::signal`](crate::signal): each waiting child listens for it
//! and, at every one, asks `waitpid(WNOHANG)` whether it was its own exit.
//! That costs a syscall per waiting child per `SIGCHLD`, fine for tens of
//! children; and while evloop waits that way, `SIGCHLD` is caught (see
//! the signal module for what that means). No thread waits for anything
//! either way.
//!
//! Children run in real time: the paused clock does not wait for them (with
//! a timer armed and nothing else ready, virtual time jumps to it), so a
//! test of a child's timing measures real time.
//!
//! # Dropped children, and zombies
//!
//! A child that has exited stays in the process table (a zombie) until its
//! parent reaps it. Dropping a [`Child`] before it was waited for leaves
//! the process running, as std and tokio do, or kills it with `SIGKILL`
//! if the command said [`kill_on_drop(true)`](Command::kill_on_drop); in
//! both cases the runtime reaps it in the background the moment it exits
//! (one task, `evloop: reaping dropped children`, exists while there is
//! something to reap). A child still running when its runtime ends is
//! kept in a process-wide list, and the next [`Command::spawn`] on any
//! runtime reaps it or takes it over; a program that never spawns again
//! leaves it a zombie after it exits, until the program itself exits.
//!
//! The files: `command.rs` ([`Command`]), `child.rs` ([`Child`]), `pipe.rs`
//! (the three streams), `exit.rs` (the pidfd or `SIGCHLD` exit watch) and
//! `orphans.rs` (reaping dropped children).

mod child;
mod command;
mod exit;
mod orphans;
mod pipe;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

pub(crate) use orphans::adrift;
