//! The pipeline's processing phase per image, step by step, beside the floor
//! each step could reach.
//!
//! ```text
//! cargo bench --bench pipeline_steps                   # 12 photos at 1920x1080, 7 rounds
//! cargo bench --bench pipeline_steps -- --rounds 9     # more rounds
//! cargo bench --bench pipeline_steps -- --images 4     # fewer photos
//! cargo test --bench pipeline_steps                    # a quick smoke run (small photos, 1 round)
//! ```
//!
//! Processing one downloaded photo is three steps (`steps.rs`): decode the
//! bytes ([`decode_jpeg`], with its guards), draw the edge map
//! ([`edge_map`]) and encode the map as a greyscale JPEG
//! ([`encode_edge_map`]). Each is timed here on the demo's own photos
//! ([`synth::photo_jpeg`] at the default 1920x1080, images 1 to 12), beside
//! its floor:
//!
//! - **decode**: the decoder alone on the same bytes: zune-jpeg (the decoder
//!   the `image` crate uses for JPEG) called directly, without the signature,
//!   completeness and size checks and without `image`'s wrapper. The gap is
//!   what the guards and the wrapper cost.
//! - **edge map**: the tutorial's rule over the same pixels as a plain loop
//!   written for the compiler to vectorise: rows as slices, pixel by pixel
//!   (`chunks_exact(3)`, no bounds checks in the inner loop), integer math,
//!   into a buffer allocated once. The pipeline's pass may beat it: it is
//!   laid out so that every loop works on whole bytes (see `edge.rs`).
//! - **encode**: the fastest well-kept encoder for the same output, a
//!   greyscale JPEG of quality 75 of the same map, given the grey pixels
//!   directly. The pipeline's own encoder (`grey_jpeg.rs`, written for
//!   edge maps: flat blocks skip the transform, zero coefficients are
//!   skipped unseen) may beat it. Candidates: the `jpeg-encoder` crate (pure Rust, without its
//!   `simd` feature, which would make the bytes depend on the CPU) and
//!   `image`'s own JPEG encoder; the faster is the floor, and both are
//!   listed under the table. libjpeg-turbo is not a candidate: it needs a C
//!   build or a system library.
//!
//! # How it measures
//!
//! Time is the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`), not the wall
//! clock, so another process taking a turn on the shared cores does not
//! count. Every round runs every step and its floor on every photo (the
//! pipeline's run first on odd photos, the floor's on even ones; what a run
//! returns is dropped after the clock stops), and divides each total by
//! the number of photos; the table gives the median of the rounds (7 by
//! default, one warm-up round first) and the min–max. Before timing, the
//! floors are checked to produce the same pixels (decode, edge map) or a
//! JPEG of the same size (encode) as the pipeline.
//!
//! Run without `--bench` (as `cargo test --bench pipeline_steps` does), the
//! binary makes a quick smoke run: 2 photos at 320x180, one round, no
//! warm-up.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Duration;

use evloop::pipeline::decode::{DecodeLimits, decode_jpeg};
use evloop::pipeline::edge::{THRESHOLD, edge_map};
use evloop::pipeline::store::{OUTPUT_JPEG_QUALITY, encode_edge_map};
use evloop::pipeline::synth;
use image::RgbImage;

/// The command that prints the full table.
const COMMAND: &str = "cargo bench --bench pipeline_steps";

/// What to run.
#[derive(Debug)]
struct Options {
    images: u32,
    rounds: usize,
    warmup: usize,
    width: u32,
    height: u32,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut benching = false;
        let mut images = None;
        let mut rounds = None;
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => benching = true,
                "--images" | "--rounds" => {
                    let value = args.next().ok_or_else(|| format!("{arg} needs a number"))?;
                    let n: u32 = value
                        .parse()
                        .map_err(|_| format!("{arg} {value:?}: not a number"))?;
                    if !(1..=1000).contains(&n) {
                        return Err(format!("{arg} {n}: must be 1..=1000"));
                    }
                    if arg == "--images" {
                        images = Some(n);
                    } else {
                        rounds = Some(n as usize);
                    }
                }
                "--help" | "-h" => {
                    return Err(format!("usage: {COMMAND} -- [--images N] [--rounds N]"));
                }
                // libtest's flags and filters, as `cargo test --bench` may
                // pass them: nothing to select here.
                _ => {}
            }
        }
        Ok(if benching {
            Options {
                images: images.unwrap_or(12),
                rounds: rounds.unwrap_or(7),
                warmup: 1,
                width: synth::WIDTH,
                height: synth::HEIGHT,
            }
        } else {
            Options {
                images: images.unwrap_or(2),
                rounds: rounds.unwrap_or(1),
                warmup: 0,
                width: 320,
                height: 180,
            }
        })
    }
}

/// CPU time this thread has used.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Elsewhere, wall time since an arbitrary start.
#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Runs `f` once and returns its thread CPU time. What `f` returns is
/// dropped after the clock stops: freeing a 6 MB picture (an `munmap`) is
/// no part of the step.
fn cpu<T>(f: impl FnOnce() -> T) -> Duration {
    let start = thread_cpu_time();
    let result = black_box(f());
    let spent = thread_cpu_time().saturating_sub(start);
    drop(result);
    spent
}

/// The decode floor: zune-jpeg alone, to RGB.
fn decode_floor(bytes: &[u8]) -> Vec<u8> {
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(bytes), options)
        .decode()
        .expect("the demo's photos decode")
}

/// The edge floor: the tutorial's rule as a plain per-pixel loop over row
/// slices, into `out` (the same size as `src`).
fn edge_floor(src: &[u8], width: usize, out: &mut [u8]) {
    let row_len = width * 3;
    if row_len == 0 {
        return;
    }
    let both = 2 * THRESHOLD; // floor((r + d) / 2) > T  <=>  r + d > 2T + 1
    for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        let row = &src[y * row_len..(y + 1) * row_len];
        let (body, last) = out_row.split_at_mut(row_len - 3);
        let below = src.get((y + 1) * row_len..(y + 2) * row_len);
        match below {
            Some(below) => {
                for (((o, p), r), b) in body
                    .chunks_exact_mut(3)
                    .zip(row.chunks_exact(3))
                    .zip(row[3..].chunks_exact(3))
                    .zip(below.chunks_exact(3))
                {
                    let s = u32::from(p[0].abs_diff(r[0]))
                        + u32::from(p[1].abs_diff(r[1]))
                        + u32::from(p[2].abs_diff(r[2]))
                        + u32::from(p[0].abs_diff(b[0]))
                        + u32::from(p[1].abs_diff(b[1]))
                        + u32::from(p[2].abs_diff(b[2]));
                    o.fill(if s > both + 1 { 255 } else { 0 });
                }
                let (p, b) = (&row[row_len - 3..], &below[row_len - 3..]);
                let s = u32::from(p[0].abs_diff(b[0]))
                    + u32::from(p[1].abs_diff(b[1]))
                    + u32::from(p[2].abs_diff(b[2]));
                last.fill(if s > THRESHOLD { 255 } else { 0 });
            }
            None => {
                for ((o, p), r) in body
                    .chunks_exact_mut(3)
                    .zip(row.chunks_exact(3))
                    .zip(row[3..].chunks_exact(3))
                {
                    let s = u32::from(p[0].abs_diff(r[0]))
                        + u32::from(p[1].abs_diff(r[1]))
                        + u32::from(p[2].abs_diff(r[2]));
                    o.fill(if s > THRESHOLD { 255 } else { 0 });
                }
                last.fill(0);
            }
        }
    }
}

/// The grey bytes of an edge map (its red channel: every pixel is black or
/// white).
fn grey_of(edges: &RgbImage) -> Vec<u8> {
    edges.as_raw().chunks_exact(3).map(|p| p[0]).collect()
}

/// Encode floor candidate: the `jpeg-encoder` crate.
fn encode_jpeg_encoder(grey: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(grey.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, OUTPUT_JPEG_QUALITY)
        .encode(
            grey,
            u16::try_from(width).expect("a JPEG side"),
            u16::try_from(height).expect("a JPEG side"),
            jpeg_encoder::ColorType::Luma,
        )
        .expect("a grey picture encodes");
    out
}

/// Encode floor candidate: `image`'s own JPEG encoder.
fn encode_image_crate(grey: &[u8], width: u32, height: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::with_capacity(grey.len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, OUTPUT_JPEG_QUALITY)
        .write_image(grey, width, height, image::ExtendedColorType::L8)
        .expect("a grey picture encodes");
    out
}

/// Per-round figures of one column, in ms per image.
#[derive(Debug, Default)]
struct Column(Vec<f64>);

impl Column {
    fn push(&mut self, total: Duration, images: u32) {
        self.0.push(total.as_secs_f64() * 1e3 / f64::from(images));
    }

    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    fn range(&self) -> String {
        let min = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.0.iter().copied().fold(0.0, f64::max);
        format!("{min:.2}–{max:.2}")
    }
}

/// The six columns: pipeline and floor for each step, plus the encoder
/// candidates.
#[derive(Debug, Default)]
struct Figures {
    decode: Column,
    decode_floor: Column,
    edge: Column,
    edge_floor: Column,
    encode: Column,
    encode_jpeg_encoder: Column,
    encode_image: Column,
}

/// The demo's photos and what each step makes of them.
struct Inputs {
    jpegs: Vec<Vec<u8>>,
    pixels: Vec<RgbImage>,
    edges: Vec<RgbImage>,
    greys: Vec<Vec<u8>>,
}

fn prepare(options: &Options) -> Result<Inputs, String> {
    let jpegs: Vec<Vec<u8>> = (1..=options.images)
        .map(|k| synth::photo_jpeg(k, options.width, options.height))
        .collect();
    let mut pixels = Vec::new();
    let mut edges = Vec::new();
    let mut greys = Vec::new();
    for (k, jpeg) in jpegs.iter().enumerate() {
        let k = k + 1;
        let img =
            decode_jpeg(jpeg, DecodeLimits::default()).map_err(|e| format!("photo {k}: {e}"))?;
        if decode_floor(jpeg) != *img.as_raw() {
            return Err(format!("photo {k}: zune-jpeg alone decodes other pixels"));
        }
        let map = edge_map(&img);
        let mut floor = vec![0u8; img.len()];
        edge_floor(img.as_raw(), img.width() as usize, &mut floor);
        if floor != *map.as_raw() {
            return Err(format!("photo {k}: the edge floor draws another map"));
        }
        let grey = grey_of(&map);
        let ours = encode_edge_map(&map).map_err(|e| format!("photo {k}: {e}"))?;
        for (name, theirs) in [
            (
                "jpeg-encoder",
                encode_jpeg_encoder(&grey, map.width(), map.height()),
            ),
            (
                "image",
                encode_image_crate(&grey, map.width(), map.height()),
            ),
        ] {
            let back = image::load_from_memory(&theirs)
                .map_err(|e| format!("photo {k}: {name}'s JPEG does not decode: {e}"))?;
            if (back.width(), back.height()) != (map.width(), map.height()) {
                return Err(format!("photo {k}: {name}'s JPEG has another size"));
            }
        }
        image::load_from_memory(&ours).map_err(|e| format!("photo {k}: ours: {e}"))?;
        pixels.push(img);
        edges.push(map);
        greys.push(grey);
    }
    Ok(Inputs {
        jpegs,
        pixels,
        edges,
        greys,
    })
}

/// One round: every step and its floor on every photo.
fn round(inputs: &Inputs, figures: &mut Figures) {
    let n = u32::try_from(inputs.jpegs.len()).expect("at most 1000 photos");
    let mut t = [Duration::ZERO; 7];
    for (k, (((jpeg, img), map), grey)) in inputs
        .jpegs
        .iter()
        .zip(&inputs.pixels)
        .zip(&inputs.edges)
        .zip(&inputs.greys)
        .enumerate()
    {
        let (w, h) = map.dimensions();
        // Each step's pipeline run and floor run take turns at going first,
        // photo by photo, so that neither always finds the caches as the
        // other step left them.
        let first = k % 2 == 0;
        let mut pair =
            |a: usize, b: usize, run_a: &dyn Fn() -> Duration, run_b: &dyn Fn() -> Duration| {
                if first {
                    t[a] += run_a();
                    t[b] += run_b();
                } else {
                    t[b] += run_b();
                    t[a] += run_a();
                }
            };
        pair(
            0,
            1,
            &|| cpu(|| decode_jpeg(jpeg, DecodeLimits::default())),
            &|| cpu(|| decode_floor(jpeg)),
        );
        pair(2, 3, &|| cpu(|| edge_map(img)), &|| {
            cpu(|| {
                let mut out = vec![0u8; img.len()];
                edge_floor(img.as_raw(), w as usize, &mut out);
                out
            })
        });
        pair(4, 5, &|| cpu(|| encode_edge_map(map)), &|| {
            cpu(|| encode_jpeg_encoder(grey, w, h))
        });
        t[6] += cpu(|| encode_image_crate(grey, w, h));
    }
    figures.decode.push(t[0], n);
    figures.decode_floor.push(t[1], n);
    figures.edge.push(t[2], n);
    figures.edge_floor.push(t[3], n);
    figures.encode.push(t[4], n);
    figures.encode_jpeg_encoder.push(t[5], n);
    figures.encode_image.push(t[6], n);
}

fn run(options: &Options) -> Result<(), String> {
    let inputs = prepare(options)?;
    let mut figures = Figures::default();
    for _ in 0..options.warmup {
        round(&inputs, &mut Figures::default());
    }
    for _ in 0..options.rounds {
        round(&inputs, &mut figures);
    }

    let command = if options.width == synth::WIDTH && options.height == synth::HEIGHT {
        COMMAND.to_string()
    } else {
        format!(
            "{COMMAND} (quick run: {}x{})",
            options.width, options.height
        )
    };
    let (enc_floor, enc_name) =
        if figures.encode_jpeg_encoder.median() <= figures.encode_image.median() {
            (&figures.encode_jpeg_encoder, "jpeg-encoder")
        } else {
            (&figures.encode_image, "image's encoder")
        };
    println!(
        "pipeline steps: {} photos of {}x{}, thread CPU time per image, median of {} rounds (min–max)",
        options.images, options.width, options.height, options.rounds
    );
    println!();
    println!("| step | pipeline ms/image | floor ms/image | pipeline / floor | floor | command |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let rows: [(&str, &Column, &Column, &str); 3] = [
        (
            "decode",
            &figures.decode,
            &figures.decode_floor,
            "zune-jpeg alone",
        ),
        (
            "edge map",
            &figures.edge,
            &figures.edge_floor,
            "plain per-pixel loop",
        ),
        ("encode", &figures.encode, enc_floor, enc_name),
    ];
    let mut total = 0.0;
    let mut total_floor = 0.0;
    for (step, ours, floor, what) in rows {
        total += ours.median();
        total_floor += floor.median();
        println!(
            "| {step} | {:.2} ({}) | {:.2} ({}) | {:.2} | {what} | `{command}` |",
            ours.median(),
            ours.range(),
            floor.median(),
            floor.range(),
            ours.median() / floor.median(),
        );
    }
    println!(
        "| all three | {total:.2} | {total_floor:.2} | {:.2} | | `{command}` |",
        total / total_floor
    );
    println!();
    println!("encode floor candidates (the same grey map, quality {OUTPUT_JPEG_QUALITY}):");
    for (name, column) in [
        ("jpeg-encoder", &figures.encode_jpeg_encoder),
        ("image's JpegEncoder", &figures.encode_image),
    ] {
        println!(
            "  {name:<20} {:.2} ms/image ({})",
            column.median(),
            column.range()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("pipeline_steps bench: {message}");
            return ExitCode::FAILURE;
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pipeline_steps bench: {message}");
            ExitCode::FAILURE
        }
    }
}
