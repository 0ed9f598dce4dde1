//! `evloop tour`: the tutorial's lessons, run for real: each lesson's
//! heading, then what it prints, then how long it took on the real clock
//! (about 30 s in all).
//!
//! The tour runs the examples' own code (each `examples/*.rs` file is
//! included below as a module), so it shows exactly what
//! `cargo run --example NAME` shows.

use std::process::ExitCode;

#[path = "../../examples/terms.rs"]
mod terms;

#[path = "../../examples/example1.rs"]
mod example1;

#[path = "../../examples/example2.rs"]
mod example2;

#[path = "../../examples/example3.rs"]
mod example3;

#[path = "../../examples/example4.rs"]
mod example4;

#[path = "../../examples/example5.rs"]
mod example5;

#[path = "../../examples/example6.rs"]
mod example6;

#[path = "../../examples/example7.rs"]
mod example7;

/// One stop of the tour.
struct Lesson {
    /// The example's name, as in `cargo run --example NAME`.
    name: &'static str,
    /// What it shows, in one line.
    shows: &'static str,
    /// The example's `main`: prints the lesson and its time.
    run: fn() -> ExitCode,
}

/// The lessons in the tutorial's order.
const LESSONS: [Lesson; 8] = [
    Lesson {
        name: "terms",
        shows: "a future, an async fn (coroutine), a task, a settable future",
        run: terms::main,
    },
    Lesson {
        name: "example1",
        shows: "plain synchronous code: 1 s + 2 s = 3 s",
        run: example1::main,
    },
    Lesson {
        name: "example2",
        shows: "futures are lazy: awaiting them one by one is still 3 s",
        run: example2::main,
    },
    Lesson {
        name: "example3",
        shows: "spawn runs them concurrently: 2 s",
        run: example3::main,
    },
    Lesson {
        name: "example4",
        shows: "awaiting in another order changes nothing: 2 s",
        run: example4::main,
    },
    Lesson {
        name: "example5",
        shows: "a blocking sleep holds the loop: 3 s again, and the runtime warns",
        run: example5::main,
    },
    Lesson {
        name: "example6",
        shows: "spawn_blocking and spawn_cpu take the blocking work off the loop: 4 s",
        run: example6::main,
    },
    Lesson {
        name: "example7",
        shows: "four ways to wait for both (8 s), then what each does on failure (4 s)",
        run: example7::main,
    },
];

/// Runs every lesson in order; stops at the first that fails (a usage
/// error of the trace flags, say) and returns its status.
pub fn run() -> ExitCode {
    println!("evloop tour: the asyncio tutorial's lessons, on the real clock (about 30 s).");
    for lesson in &LESSONS {
        println!();
        println!("=== {}: {}", lesson.name, lesson.shows);
        let status = (lesson.run)();
        if status != ExitCode::SUCCESS {
            return status;
        }
    }
    ExitCode::SUCCESS
}
