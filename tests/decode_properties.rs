//! Properties of the JPEG guard, `pipeline::decode::decode_jpeg`, over
//! generated inputs: real JPEGs and PNGs (several pixel types), with their
//! declared size rewritten, bytes damaged, cut short or padded, and plain
//! random bytes with and without a picture signature.
//!
//! For every input and every (small) set of limits:
//!
//! - it never panics;
//! - the heap it takes while decoding stays within the memory limit plus a
//!   fixed allowance for the decoders' own tables ([`OVERHEAD`]), however
//!   large a size the header declares (a decompression bomb is refused
//!   before its pixels are allocated);
//! - a picture it returns is within the limits;
//! - an error names the problem: the signature, the cut, the declared
//!   size, the memory needed, or the decoder's own complaint, each checked
//!   against the input.
//!
//! Allocations are counted by a global allocator that wraps the system one
//! and counts only on the thread that asked (the property's own thread; the
//! decoders start no threads), like `tests/trace_off_alloc.rs`.
//! Failures are kept in `tests/proptest-regressions/decode_properties.txt`.

mod prop_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::sync::OnceLock;

use evloop::pipeline::decode::{DecodeError, DecodeLimits, decode_jpeg};
use evloop::pipeline::synth::{photo, photo_jpeg};
use image::{
    DynamicImage, GrayImage, ImageBuffer, ImageError, ImageFormat, Luma, Rgb, Rgba, RgbaImage,
};
use proptest::prelude::*;
use proptest::sample::Index;

use prop_common::{apply, config, edits};

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/proptest-regressions/decode_properties.txt"
);

/// What the decoders may take beyond the memory limit: Huffman and
/// quantisation tables, inflate's window, row buffers. Fixed, whatever the
/// declared size.
const OVERHEAD: usize = 512 * 1024;

/// A memory limit this large lets the decoders read any seed's header (the
/// PNG decoder counts its own buffers against the limit).
const HEADER_ROOM: u64 = 64 * 1024;

// ---------------------------------------------------------------- counting

/// The system allocator, tracking live and peak bytes on threads that asked.
struct Tracking;

thread_local! {
    /// Whether this thread's allocations are tracked. `const` and without
    /// a destructor, so reading them never allocates.
    static TRACKED: Cell<bool> = const { Cell::new(false) };
    /// Bytes allocated minus bytes freed since tracking began (negative
    /// when older blocks are freed).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` seen.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: during thread exit the thread-locals may be gone.
    if TRACKED.try_with(Cell::get).unwrap_or(false) {
        let live = LIVE.with(|l| {
            l.set(l.get() + delta);
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(live)));
    }
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System` upholds the `GlobalAlloc` contract; tracking touches only
// const thread-locals, which never allocate.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            note(size(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            note(size(layout.size()));
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            note(size(new_size) - size(layout.size()));
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-size(layout.size()));
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f` and returns its result with the most heap it held at once
/// (beyond what was live before), counting this thread only.
fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    TRACKED.with(|t| t.set(true));
    let out = f();
    TRACKED.with(|t| t.set(false));
    let peak = PEAK.with(Cell::get);
    (out, usize::try_from(peak).unwrap_or(0))
}

// ---------------------------------------------------------------- inputs

/// Where a seed picture declares its size.
#[derive(Debug, Clone, Copy)]
enum SizeAt {
    /// JPEG: the SOF0 segment, height then width, 16 bits each.
    Jpeg(usize),
    /// PNG: IHDR, width then height, 32 bits each, then the chunk's CRC.
    Png,
}

/// The pictures the inputs start from, made once.
fn seeds() -> &'static [(Vec<u8>, SizeAt)] {
    static SEEDS: OnceLock<Vec<(Vec<u8>, SizeAt)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        let jpeg = |bytes: Vec<u8>| {
            let sof = bytes
                .windows(2)
                .position(|w| w == [0xFF, 0xC0])
                .expect("a baseline JPEG has SOF0");
            (bytes, SizeAt::Jpeg(sof))
        };
        for (index, w, h) in [(1, 16, 16), (2, 33, 17), (3, 64, 48), (4, 8, 120)] {
            seeds.push(jpeg(photo_jpeg(index, w, h)));
        }
        let grey = GrayImage::from_fn(24, 16, |x, y| Luma([(x * 10 + y) as u8]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&grey)
            .expect("a grey JPEG encodes");
        seeds.push(jpeg(bytes));
        let png = |img: DynamicImage| {
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, ImageFormat::Png)
                .expect("PNG encodes");
            (out.into_inner(), SizeAt::Png)
        };
        seeds.push(png(DynamicImage::ImageRgb8(photo(5, 20, 12))));
        seeds.push(png(DynamicImage::ImageRgba8(RgbaImage::from_fn(
            9,
            7,
            |x, y| Rgba([x as u8 * 20, y as u8 * 30, 7, 128]),
        ))));
        seeds.push(png(DynamicImage::ImageLuma8(grey)));
        let deep: ImageBuffer<Rgb<u16>, Vec<u16>> =
            ImageBuffer::from_fn(6, 5, |x, y| Rgb([x as u16 * 9000, y as u16 * 13000, 65535]));
        seeds.push(png(DynamicImage::ImageRgb16(deep)));
        seeds
    })
}

/// The standard CRC-32 of PNG chunks (bit by bit: slow, and enough here).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `bytes` (a seed) declaring `width` × `height`, with a valid checksum for
/// PNG so that the decoder believes it.
fn declaring(bytes: &[u8], at: SizeAt, width: u32, height: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match at {
        SizeAt::Jpeg(sof) => {
            let (w, h) = (width.min(65_535) as u16, height.min(65_535) as u16);
            out[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
            out[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        }
        SizeAt::Png => {
            out[16..20].copy_from_slice(&width.to_be_bytes());
            out[20..24].copy_from_slice(&height.to_be_bytes());
            let crc = crc32(&out[12..29]);
            out[29..33].copy_from_slice(&crc.to_be_bytes());
        }
    }
    out
}

/// A declared side: small, near the limits, or huge.
fn side() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 0u32..300,
        1 => 300u32..70_000,
        1 => any::<u32>(),
    ]
}

/// An input and what was done to it.
#[derive(Debug, Clone)]
enum Input {
    /// A seed as it is.
    Seed(Index),
    /// A seed declaring another size.
    Declaring(Index, u32, u32),
    /// A seed (perhaps declaring another size) with bytes damaged.
    Damaged(Index, Option<(u32, u32)>, Vec<prop_common::Edit>),
    /// A seed cut short, or padded.
    Cut(Index, Index),
    Padded(Index, Vec<u8>),
    /// A signature followed by random bytes.
    Signature(Vec<u8>, Vec<u8>),
    /// Random bytes.
    Random(Vec<u8>),
}

impl Input {
    fn bytes(&self) -> Vec<u8> {
        let seed = |i: &Index| &seeds()[i.index(seeds().len())];
        match self {
            Input::Seed(i) => seed(i).0.clone(),
            Input::Declaring(i, w, h) => {
                let (bytes, at) = seed(i);
                declaring(bytes, *at, *w, *h)
            }
            Input::Damaged(i, size, edits) => {
                let (bytes, at) = seed(i);
                let bytes = match size {
                    Some((w, h)) => declaring(bytes, *at, *w, *h),
                    None => bytes.clone(),
                };
                apply(&bytes, edits)
            }
            Input::Cut(i, at) => {
                let bytes = &seed(i).0;
                bytes[..at.index(bytes.len())].to_vec()
            }
            Input::Padded(i, pad) => {
                let mut bytes = seed(i).0.clone();
                bytes.extend_from_slice(pad);
                bytes
            }
            Input::Signature(magic, rest) => {
                let mut bytes = magic.clone();
                bytes.extend_from_slice(rest);
                bytes
            }
            Input::Random(bytes) => bytes.clone(),
        }
    }
}

fn input() -> impl Strategy<Value = Input> {
    let signature = prop::sample::select(vec![
        vec![0xFF, 0xD8, 0xFF],
        vec![0xFF, 0xD8, 0xFF, 0xC0],
        vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'],
        b"GIF89a".to_vec(),
        b"RIFF\x00\x00\x00\x00WEBP".to_vec(),
        b"BM".to_vec(),
        b"<!DOCTYPE html>".to_vec(),
    ]);
    let pad = prop_oneof![
        prop::collection::vec(Just(0u8), 1..64),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        1 => any::<Index>().prop_map(Input::Seed),
        3 => (any::<Index>(), side(), side()).prop_map(|(i, w, h)| Input::Declaring(i, w, h)),
        4 => (any::<Index>(), prop::option::of((side(), side())), edits(6))
            .prop_map(|(i, size, e)| Input::Damaged(i, size, e)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, at)| Input::Cut(i, at)),
        1 => (any::<Index>(), pad).prop_map(|(i, pad)| Input::Padded(i, pad)),
        1 => (signature, prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(m, rest)| Input::Signature(m, rest)),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Input::Random),
    ]
}

/// Small limits, so that every seed can be over or under each of them.
fn limits() -> impl Strategy<Value = DecodeLimits> {
    (
        1u32..=160,
        1u32..=160,
        prop_oneof![0u64..4096, 4096u64..(2 << 20)],
    )
        .prop_map(|(max_width, max_height, max_alloc_bytes)| DecodeLimits {
            max_width,
            max_height,
            max_alloc_bytes,
        })
}

/// Limits whose memory limit leaves the decoders room to read a header.
fn limits_with_room() -> impl Strategy<Value = DecodeLimits> {
    (limits(), HEADER_ROOM..(2 << 20)).prop_map(|(limits, max_alloc_bytes)| DecodeLimits {
        max_alloc_bytes,
        ..limits
    })
}

/// The size the bytes declare, read the way the decoders read it, if the
/// header is there: (width, height).
fn declared(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G'])
        && bytes.len() >= 24
        && &bytes[12..16] == b"IHDR"
    {
        let w = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
        let h = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
        return Some((w, h));
    }
    None
}

/// Whether a JPEG's last non-zero bytes are its end-of-image marker.
fn ends_with_eoi(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    end >= 4 && bytes[..end].ends_with(&[0xFF, 0xD9])
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config(320, REGRESSIONS))]

    /// Any input: no panic, the heap within the limit (plus the fixed
    /// allowance), a result within the limits, an error that names its
    /// cause.
    #[test]
    fn the_guard_holds_for_any_input(input in input(), limits in limits()) {
        let bytes = input.bytes();
        let (result, peak) = peak_heap(|| decode_jpeg(&bytes, limits));
        let allowed = usize::try_from(limits.max_alloc_bytes).unwrap_or(usize::MAX) + OVERHEAD;
        prop_assert!(
            peak <= allowed,
            "{} bytes of heap for a {}-byte input under {:?}: {:?}",
            peak, bytes.len(), limits, result.as_ref().map(|img| img.dimensions())
        );
        let is_jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
        let is_png = bytes.starts_with(&[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n']);
        match result {
            Ok(img) => {
                let (w, h) = img.dimensions();
                prop_assert!(is_jpeg || is_png);
                prop_assert!(w > 0 && h > 0);
                prop_assert!(w <= limits.max_width && h <= limits.max_height, "{}x{} under {:?}", w, h, limits);
                prop_assert!(u64::from(w) * u64::from(h) * 3 <= limits.max_alloc_bytes);
                prop_assert!(!is_jpeg || ends_with_eoi(&bytes), "a JPEG without its end marker was accepted");
                if let Some(size) = declared(&bytes) {
                    prop_assert_eq!((w, h), size);
                }
            }
            Err(err) => {
                let message = err.to_string();
                prop_assert!(!message.is_empty());
                match &err {
                    DecodeError::Empty => prop_assert!(bytes.is_empty()),
                    DecodeError::NotAnImage { prefix } => {
                        prop_assert!(!is_jpeg && !is_png);
                        prop_assert!(!prefix.is_empty() && bytes.starts_with(prefix));
                        let quoted = prefix.escape_ascii().to_string();
                        prop_assert!(message.contains(&quoted), "{}", message);
                    }
                    DecodeError::Unsupported { format } => {
                        prop_assert!(!is_jpeg && !is_png);
                        prop_assert!(message.contains(&format!("{format:?}")), "{}", message);
                    }
                    DecodeError::TruncatedJpeg { len } => {
                        prop_assert!(is_jpeg && !ends_with_eoi(&bytes));
                        prop_assert_eq!(*len, bytes.len());
                        prop_assert!(message.contains(&len.to_string()), "{}", message);
                    }
                    DecodeError::TooLarge { width, height, max_width, max_height } => {
                        prop_assert_eq!((*max_width, *max_height), (limits.max_width, limits.max_height));
                        prop_assert!(width > max_width || height > max_height);
                        if let Some(size) = declared(&bytes) {
                            prop_assert_eq!((*width, *height), size);
                        }
                        prop_assert!(message.contains(&format!("{width}x{height}")), "{}", message);
                    }
                    DecodeError::TooMuchMemory { width, height, needed, max_alloc_bytes, .. } => {
                        prop_assert_eq!(*max_alloc_bytes, limits.max_alloc_bytes);
                        prop_assert!(*width <= limits.max_width && *height <= limits.max_height);
                        prop_assert!(*needed > *max_alloc_bytes);
                        prop_assert!(*needed >= u64::from(*width) * u64::from(*height) * 3);
                        prop_assert!(message.contains(&needed.to_string()), "{}", message);
                    }
                    DecodeError::Corrupt { format, source } => {
                        prop_assert!(is_jpeg || is_png);
                        // A limit is never passed off as corrupt data.
                        prop_assert!(!matches!(source, ImageError::Limits(_)), "{}", message);
                        prop_assert!(message.starts_with(&format!("corrupt {format}: ")), "{}", message);
                        prop_assert!(std::error::Error::source(&err).is_some());
                    }
                    DecodeError::LimitExceeded { format, source } => {
                        prop_assert!(is_jpeg || is_png);
                        prop_assert!(matches!(source, ImageError::Limits(_)), "{}", message);
                        prop_assert!(message.contains(&format!("{format} decoder stopped at a limit")), "{}", message);
                    }
                    other => prop_assert!(false, "an error kind this test does not know: {:?}", other),
                }
            }
        }
    }

    /// A picture that declares more than the limits is refused by name,
    /// with the size it declared, and without allocating its pixels (given
    /// a memory limit with room for the decoder to read the header at all;
    /// see the PNG case inside).
    #[test]
    fn a_declared_size_over_the_limits_is_refused_from_the_header(
        seed in any::<Index>(),
        width in 1u32..=65_535,
        height in 1u32..=65_535,
        limits in limits_with_room(),
    ) {
        prop_assume!(width > limits.max_width || height > limits.max_height);
        let (bytes, at) = &seeds()[seed.index(seeds().len())];
        let bytes = declaring(bytes, *at, width, height);
        let (result, peak) = peak_heap(|| decode_jpeg(&bytes, limits));
        prop_assert!(peak <= OVERHEAD, "{} bytes of heap to refuse {}x{}", peak, width, height);
        match result {
            Err(DecodeError::TooLarge { width: w, height: h, .. }) => {
                prop_assert_eq!((w, h), (width, height));
            }
            // The PNG decoder sizes its row buffers by the declared width
            // while it reads the header, against the memory limit: a width
            // that alone needs more is refused by the decoder, as a limit.
            Err(DecodeError::LimitExceeded { .. }) if matches!(at, SizeAt::Png) => {}
            other => prop_assert!(false, "{}x{} under {:?}: {:?}", width, height, limits, other.map(|i| i.dimensions())),
        }
    }

    /// The seeds themselves decode to their own size under limits that
    /// allow it, and are refused, naming the memory limit, under limits
    /// that do not: from the declared size, or by the decoder when the
    /// limit is too small even for its header buffers.
    #[test]
    fn a_picture_within_the_limits_decodes_to_its_size(seed in any::<Index>(), spare in 0u64..1000) {
        let (bytes, _) = &seeds()[seed.index(seeds().len())];
        let (w, h) = image::load_from_memory(bytes).expect("a seed decodes").into_rgb8().dimensions();
        let roomy = DecodeLimits { max_width: w, max_height: h, max_alloc_bytes: 1 << 20 };
        let img = decode_jpeg(bytes, roomy).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(img.dimensions(), (w, h));
        let tight = DecodeLimits { max_alloc_bytes: (u64::from(w) * u64::from(h) * 3).saturating_sub(1 + spare), ..roomy };
        match decode_jpeg(bytes, tight) {
            Err(DecodeError::TooMuchMemory { needed, .. }) => {
                prop_assert!(needed > tight.max_alloc_bytes);
            }
            Err(err @ DecodeError::LimitExceeded { .. }) => {
                prop_assert!(err.to_string().contains("decoder stopped at a limit"), "{}", err);
            }
            other => prop_assert!(false, "under {:?}: {:?}", tight, other.map(|i| i.dimensions())),
        }
    }
}

/// The case the properties found: a memory limit too small for the PNG
/// decoder to read the header was reported as corrupt data ("corrupt PNG:
/// ... limit"); it is a limit, and says so.
#[test]
fn a_memory_limit_too_small_for_the_header_is_named_as_a_limit() {
    let (png, _) = seeds()
        .iter()
        .find(|(_, at)| matches!(at, SizeAt::Png))
        .expect("a PNG seed");
    let limits = DecodeLimits {
        max_width: 100,
        max_height: 100,
        max_alloc_bytes: 0,
    };
    let err = decode_jpeg(png, limits).unwrap_err();
    assert!(matches!(err, DecodeError::LimitExceeded { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("PNG decoder stopped at a limit"),
        "{err}"
    );
}

/// The generated inputs reach every outcome, so the guard property is not
/// passing because, say, every input is refused at the signature.
#[test]
fn the_generated_inputs_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;

    let mut runner = TestRunner::new(config(1, REGRESSIONS));
    let strategy = (input(), limits());
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut most_over = 0usize;
    for _ in 0..400 {
        let (input, limits) = strategy
            .new_tree(&mut runner)
            .expect("the strategy makes values")
            .current();
        let bytes = input.bytes();
        let (result, peak) = peak_heap(|| decode_jpeg(&bytes, limits));
        most_over = most_over.max(peak.saturating_sub(limits.max_alloc_bytes as usize));
        let kind = match result {
            Ok(_) => "decoded",
            Err(DecodeError::Empty) => "empty",
            Err(DecodeError::NotAnImage { .. }) => "not an image",
            Err(DecodeError::Unsupported { .. }) => "unsupported",
            Err(DecodeError::TruncatedJpeg { .. }) => "truncated",
            Err(DecodeError::TooLarge { .. }) => "too large",
            Err(DecodeError::TooMuchMemory { .. }) => "too much memory",
            Err(DecodeError::LimitExceeded { .. }) => "limit exceeded",
            Err(DecodeError::Corrupt { .. }) => "corrupt",
            Err(_) => "other",
        };
        *seen.entry(kind).or_default() += 1;
    }
    eprintln!(
        "outcomes of 400 inputs: {seen:?}; most heap over the memory limit: {most_over} bytes"
    );
    for kind in [
        "decoded",
        "not an image",
        "unsupported",
        "truncated",
        "too large",
        "too much memory",
        "limit exceeded",
        "corrupt",
    ] {
        assert!(seen.contains_key(kind), "no input was {kind}: {seen:?}");
    }
}
