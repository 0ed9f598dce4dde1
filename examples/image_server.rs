//! Run: `cargo run --release --example image_server -- --port 8765 [--images 12] [--latency-ms 300]`
//!
//! You will see, after about a second of drawing:
//!
//! ```text
//! drew 12 images of 1920×1080 (343 KiB on average) in 0.9 s
//! listening http://127.0.0.1:8765 images=12 latency_ms=300
//!   http://127.0.0.1:8765/image_1.jpg
//!   ...
//!   http://127.0.0.1:8765/image_12.jpg
//! serving until Ctrl-C
//! ```
//!
//! The embedded image host on its own: the same server the demo and the tests
//! download from, standing alone so that other clients (the Python reference
//! scripts, `curl`, a browser) can use it. It listens on 127.0.0.1 only.
//!
//! Try `curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n'
//! http://127.0.0.1:8765/image_3.jpg`: a 200 of a few hundred KiB after the
//! latency.
//!
//! Simplified: Ctrl-C is not caught (the standard library cannot); the
//! default signal action ends the process, which closes every socket. So the
//! counters are printed every few seconds while they change, not at the end.

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use evloop::pipeline::host::{self, ImageHost};

/// How often the counters are looked at.
const REPORT_EVERY: Duration = Duration::from_secs(5);

// Every number is checked against the host's limits as it is parsed: a value
// out of range is a usage error (exit status 2) naming the flag.
/// Serve synthetic photos as `/image_<k>.jpg` on 127.0.0.1.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// How many images to serve, 1..=1000.
    #[arg(
        long,
        default_value_t = host::DEFAULT_IMAGES,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(host::MAX_IMAGES)),
    )]
    images: u32,
    /// Delay before each image response, in milliseconds, 0..=3600000.
    #[arg(
        long,
        default_value_t = host::DEFAULT_LATENCY.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(0..=host::MAX_LATENCY.as_millis() as u64),
    )]
    latency_ms: u64,
    /// Image width in pixels, 1..=8192.
    #[arg(long, default_value_t = 1920, value_parser = side())]
    width: u32,
    /// Image height in pixels, 1..=8192.
    #[arg(long, default_value_t = 1080, value_parser = side())]
    height: u32,
}

/// A width or height the host can draw.
fn side() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..=i64::from(host::MAX_SIDE))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let host = match ImageHost::builder()
        .port(args.port)
        .images(args.images)
        .latency(Duration::from_millis(args.latency_ms))
        .size(args.width, args.height)
        .build()
    {
        Ok(host) => host,
        // A taken port, or a thread that cannot start (the settings were
        // range-checked by clap already): the message says which.
        Err(e) => {
            eprintln!("image_server: {e}");
            return ExitCode::FAILURE;
        }
    };

    // The host listens at once and draws its photos in the background;
    // `image` waits for each. So "listening" below is printed only once
    // every photo is drawn, as before: the Python comparison scripts
    // (examples/python/compare.py) start timing at that line.
    let total: usize = (1..=host.image_count())
        .filter_map(|k| host.image(k))
        .map(<[u8]>::len)
        .sum();
    let mean_kib = total / (host.image_count().max(1) as usize) / 1024;
    println!(
        "drew {} images of {}×{} ({mean_kib} KiB on average) in {:.1} s",
        host.image_count(),
        args.width,
        args.height,
        started.elapsed().as_secs_f64()
    );
    println!(
        "listening {} images={} latency_ms={}",
        host.base_url(),
        host.image_count(),
        args.latency_ms
    );
    for url in host.urls() {
        println!("  {url}");
    }
    println!("serving until Ctrl-C");

    // The server runs on the host's own thread; this one only reports.
    let mut last = (0, 0);
    loop {
        thread::sleep(REPORT_EVERY);
        let now = (host.connections_accepted(), host.requests_served());
        if now != last {
            println!(
                "connections {}, responses {}, image requests {}, most at once {}",
                now.0,
                now.1,
                host.image_requests(),
                host.max_in_flight()
            );
            last = now;
        }
    }
}
