//! cargo run --example semaphore
//!
//! At most N at a time, shown. Ten "downloads" (sleeps of 0.4 s to 1.2 s)
//! start together, but a semaphore of 3 lets only three run at once. Each
//! line shows the time, what happened, and a bar of the downloads in flight,
//! so you can watch the count climb to 3 and never pass it: a download starts
//! only in the instant another one ends. At the end: the total time (about
//! 2.9 s, against 7.6 s one after another and 1.2 s with no limit) and the
//! most ever in flight (3).
//!
//! Simplified: the downloads are sleeps, so that the timing is easy to read;
//! examples/pipeline_semaphore.rs does the same with real HTTP requests.

use std::cell::Cell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use evloop::Runtime;
use evloop::sync::Semaphore;
use evloop::time::{Instant, sleep};
use evloop::trace::TraceArgs;

/// How many downloads may run at once.
const MAX_IN_FLIGHT: usize = 3;

/// How long each download takes, in milliseconds (fixed, so every run
/// prints the same story).
const DOWNLOAD_MS: [u64; 10] = [800, 400, 1200, 600, 1000, 500, 900, 700, 1100, 400];

/// Counts the downloads in flight and remembers the most ever seen.
#[derive(Default)]
struct InFlight {
    now: Cell<usize>,
    most: Cell<usize>,
}

impl InFlight {
    fn enter(&self) -> usize {
        self.now.set(self.now.get() + 1);
        self.most.set(self.most.get().max(self.now.get()));
        self.now.get()
    }

    fn leave(&self) -> usize {
        self.now.set(self.now.get() - 1);
        self.now.get()
    }
}

/// One line of the log: time since start, a bar of the downloads in flight,
/// and what happened.
fn log(start: Instant, in_flight: usize, what: &str) {
    let bar = format!("{:<width$}", "#".repeat(in_flight), width = MAX_IN_FLIGHT);
    println!(
        "{:>5.2} s  [{bar}] {in_flight}/{MAX_IN_FLIGHT} in flight  {what}",
        start.elapsed().as_secs_f64()
    );
}

async fn download(
    id: usize,
    millis: u64,
    semaphore: Arc<Semaphore>,
    in_flight: Rc<InFlight>,
    start: Instant,
) {
    // Waits here while three downloads are running. `acquire` fails only if
    // the semaphore is closed, which this program never does.
    let _permit = semaphore
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let now = in_flight.enter();
    log(start, now, &format!("start download {id} ({millis} ms)"));
    sleep(Duration::from_millis(millis)).await;
    let now = in_flight.leave();
    log(start, now, &format!("end   download {id}"));
    // `_permit` drops here, and the oldest waiting download starts.
}

fn main() -> ExitCode {
    // `--timeline t.svg` draws the ten downloads and the cap on them.
    let trace = match TraceArgs::from_env() {
        Ok(trace) => trace.titled("semaphore"),
        Err(usage) => {
            // A flag without its file name: a usage error, as clap would say.
            eprintln!("error: {usage}");
            return ExitCode::from(2);
        }
    };
    let rt = Runtime::builder()
        .trace_output(trace)
        .build()
        .expect("the OS gives a new runtime its poller");
    let start = Instant::now();
    let most = rt.block_on(async move {
        let semaphore = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let in_flight = Rc::new(InFlight::default());
        let downloads = DOWNLOAD_MS
            .iter()
            .enumerate()
            .map(|(id, &millis)| download(id, millis, semaphore.clone(), in_flight.clone(), start));
        // All ten start at once, inside this one task (like asyncio.gather).
        evloop::join_all(downloads).await;
        in_flight.most.get()
    });
    let serial: u64 = DOWNLOAD_MS.iter().sum();
    println!(
        "\n{} downloads, at most {most} in flight (limit {MAX_IN_FLIGHT}), took {:.2} s \
         (one after another: {:.2} s)",
        DOWNLOAD_MS.len(),
        start.elapsed().as_secs_f64(),
        serial as f64 / 1000.0
    );
    ExitCode::SUCCESS
}
