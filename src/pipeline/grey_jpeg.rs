//! A baseline greyscale JPEG encoder, written for the pipeline's edge maps.
//!
//! An edge map is black with thin white lines: on the demo's photos about
//! half of its 8×8 blocks are one flat colour, and the rest hold a few
//! scattered white pixels whose transform has many small coefficients to
//! write. A general-purpose encoder gives every block the same work; this
//! one, measured on those maps (`cargo bench --bench pipeline_steps`),
//! spends its time where that work is:
//!
//! - **flat blocks skip the transform.** A block of one value has only a DC
//!   coefficient, eight times the value less 128; the encoder checks the
//!   eight rows of a block as eight 64-bit words and, when they are all the
//!   same byte, writes the DC difference and an end-of-block, nothing else;
//! - **the transform is two passes of eight-lane arithmetic.** The other
//!   blocks go through the forward DCT of the JPEG standard (ITU T.81,
//!   A.3.3) in `f32`, the eight rows (then the eight columns) side by side,
//!   loops the compiler turns into vector instructions, with each 1-D
//!   transform split into its even and odd halves (12 and 16
//!   multiplications instead of 64), and the quantisation folded into one
//!   multiplication per coefficient;
//! - **the entropy coder skips zeros without looking at them.** The
//!   quantised coefficients in zig-zag order become a 64-bit mask of the
//!   non-zero ones, and the coder jumps from one to the next with
//!   `trailing_zeros`; each code and its extra bits go into a 64-bit
//!   accumulator in one step, and leave it 32 bits at a time, byte by byte
//!   only when one of the four bytes is `0xFF` and needs its stuffed zero.
//!
//! The output is a plain baseline JFIF file: one component, the standard's
//! example luminance quantisation table scaled to the quality as libjpeg
//! (and Pillow, and the `jpeg-encoder` crate) scale it, and the standard's
//! example Huffman tables (K.3). Any decoder reads it; the tests check it
//! against `jpeg-encoder`'s file of the same pixels, table for table and
//! pixel for pixel after decoding.
//!
//! What it does not do: colour, chroma subsampling, progressive files,
//! restart markers, optimised Huffman tables. [`encode`] takes any grey
//! pixels, not only black and white, and is correct for all of them; it is
//! fast where edge maps need it to be.

use std::fmt;

/// The pixels to encode: one grey byte per pixel, every `step` bytes.
///
/// `step` is 1 for a grey image and 3 to take the first channel of RGB
/// pixels (the pipeline's edge maps, whose three channels are equal).
#[derive(Debug, Clone, Copy)]
pub struct GreyPixels<'a> {
    /// The pixels, row after row, `width * step` bytes a row.
    pub bytes: &'a [u8],
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes from one pixel to the next (1 for grey, 3 for RGB).
    pub step: usize,
}

/// Why a picture could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GreyJpegError {
    /// A JPEG side must be 1..=65535 pixels.
    Size {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// The quality must be 1..=100.
    Quality(u8),
    /// `bytes` is shorter than `width * height * step`, or `step` is 0.
    Pixels {
        /// The bytes given.
        given: usize,
        /// The bytes the sizes need.
        needed: usize,
    },
}

impl fmt::Display for GreyJpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreyJpegError::Size { width, height } => write!(
                f,
                "cannot encode a {width}x{height} picture as JPEG: each side must be 1..=65535"
            ),
            GreyJpegError::Quality(q) => write!(f, "JPEG quality {q} is not in 1..=100"),
            GreyJpegError::Pixels { given, needed } => write!(
                f,
                "the picture needs {needed} bytes of pixels at the given step, but {given} were given"
            ),
        }
    }
}

impl std::error::Error for GreyJpegError {}

/// Encodes grey pixels as a baseline JPEG of the given quality (1..=100, as
/// libjpeg's and Pillow's `quality`), appending the file to `out`.
///
/// # Errors
///
/// A side outside 1..=65535, a quality outside 1..=100, or fewer bytes than
/// the sizes and step need; `out` is left as it was.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::grey_jpeg::{encode, GreyPixels};
///
/// // A white square on black, 20x12 (not a whole number of blocks).
/// let pixels: Vec<u8> = (0..20 * 12)
///     .map(|i| if (5..10).contains(&(i % 20)) && (3..9).contains(&(i / 20)) { 255 } else { 0 })
///     .collect();
/// let mut jpeg = Vec::new();
/// encode(GreyPixels { bytes: &pixels, width: 20, height: 12, step: 1 }, 75, &mut jpeg)?;
/// let back = image::load_from_memory(&jpeg)?.to_luma8();
/// assert_eq!(back.dimensions(), (20, 12));
/// assert!(back.get_pixel(7, 5).0[0] > 200 && back.get_pixel(15, 10).0[0] < 50);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode(pixels: GreyPixels<'_>, quality: u8, out: &mut Vec<u8>) -> Result<(), GreyJpegError> {
    let GreyPixels {
        bytes,
        width,
        height,
        step,
    } = pixels;
    let (Ok(w @ 1..), Ok(h @ 1..)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(GreyJpegError::Size { width, height });
    };
    if !(1..=100).contains(&quality) {
        return Err(GreyJpegError::Quality(quality));
    }
    let needed = usize::from(w) * usize::from(h) * step;
    if step == 0 || bytes.len() < needed {
        return Err(GreyJpegError::Pixels {
            given: bytes.len(),
            needed,
        });
    }
    let table = quant_table(quality);
    write_headers(out, w, h, &table);
    let mut coder = Coder::new(out, &table);
    let (w, h) = (usize::from(w), usize::from(h));
    // One strip of eight rows, padded to whole blocks by repeating the last
    // column (and, below the picture, the last row), as libjpeg pads.
    let padded = w.div_ceil(8) * 8;
    let mut strip = vec![0u8; 8 * padded];
    for top in (0..h).step_by(8) {
        for (dy, line) in strip.chunks_exact_mut(padded).enumerate() {
            let y = (top + dy).min(h - 1);
            let row = &bytes[y * w * step..(y + 1) * w * step];
            let (inside, pad) = line.split_at_mut(w);
            if step == 1 {
                inside.copy_from_slice(row);
            } else {
                gather(inside, row, step);
            }
            pad.fill(inside[w - 1]);
        }
        for left in (0..padded).step_by(8) {
            coder.block(&strip, padded, left);
        }
    }
    coder.finish();
    out.extend_from_slice(&[0xFF, 0xD9]); // EOI
    Ok(())
}

/// Every `step`-th byte of `from` into `to`, eight at a time: loops of a
/// fixed length, which the compiler unrolls without bounds checks.
fn gather(to: &mut [u8], from: &[u8], step: usize) {
    let mut to_chunks = to.chunks_exact_mut(8);
    let mut from_chunks = from.chunks_exact(8 * step);
    for (to, from) in (&mut to_chunks).zip(&mut from_chunks) {
        let to: &mut [u8; 8] = to.try_into().expect("chunks of eight");
        if step == 3 {
            let from: &[u8; 24] = from.try_into().expect("chunks of 24");
            *to = std::array::from_fn(|j| from[3 * j]);
        } else {
            *to = std::array::from_fn(|j| from[step * j]);
        }
    }
    let rest = from_chunks.remainder().chunks_exact(step);
    for (to, from) in to_chunks.into_remainder().iter_mut().zip(rest) {
        *to = from[0];
    }
}

/// The standard's example luminance quantisation table (ITU T.81, K.1), in
/// natural (row by row) order.
const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99,
];

/// [`LUMA_QUANT`] scaled to `quality` as libjpeg scales it: by `5000 / q`
/// percent below 50 and `200 - 2q` percent from 50 up, rounded, each entry
/// kept in 1..=255 (baseline JPEG stores them in a byte).
fn quant_table(quality: u8) -> [u8; 64] {
    let q = u32::from(quality);
    let percent = if q < 50 { 5000 / q } else { 200 - 2 * q };
    LUMA_QUANT.map(|base| {
        let scaled = (u32::from(base) * percent + 50) / 100;
        u8::try_from(scaled.clamp(1, 255)).expect("clamped to a byte")
    })
}

/// The zig-zag order: `ZIGZAG[k]` is the natural index (row * 8 + column)
/// of the `k`-th coefficient written.
const ZIGZAG: [u8; 64] = zigzag();

/// Walks the anti-diagonals of the 8×8 block, alternating direction: up and
/// to the right on even diagonals, down and to the left on odd ones.
const fn zigzag() -> [u8; 64] {
    let mut order = [0u8; 64];
    let mut k = 0;
    let mut diagonal = 0;
    while diagonal < 15 {
        let mut i = 0;
        while i < 8 {
            // On diagonal d, the rows from max(0, d-7) to min(d, 7).
            let row = if diagonal % 2 == 0 { 7 - i } else { i };
            if row <= diagonal && diagonal - row < 8 {
                let column = diagonal - row;
                order[k] = (row * 8 + column) as u8;
                k += 1;
            }
            i += 1;
        }
        diagonal += 1;
    }
    order
}

/// The standard's example Huffman table for luminance DC differences (K.3):
/// how many codes of each length 1..=16, then the symbols in code order.
const DC_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// The standard's example Huffman table for luminance AC coefficients
/// (K.5): a symbol is `run << 4 | size`, `0x00` ending a block and `0xF0`
/// standing for sixteen zeros.
const AC_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
const AC_SYMBOLS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
    0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
];

/// The code of every symbol of a Huffman table, as (bits, length), built
/// the canonical way (T.81, C.2): codes of one length are consecutive, and
/// moving to the next length doubles the next code.
fn huffman_codes(bits: &[u8; 16], symbols: &[u8]) -> [(u16, u8); 256] {
    let mut codes = [(0u16, 0u8); 256];
    let mut code = 0u16;
    let mut symbol = symbols.iter();
    for (length, &count) in (1u8..).zip(bits) {
        for _ in 0..count {
            let s = *symbol.next().expect("the counts add up to the symbols");
            codes[usize::from(s)] = (code, length);
            code += 1;
        }
        code <<= 1;
    }
    codes
}

/// Appends a marker segment: the marker, its length (which counts itself),
/// and its body.
fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    let length = u16::try_from(body.len() + 2).expect("headers are short");
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
}

/// SOI, the JFIF header, the quantisation table, the frame, both Huffman
/// tables and the start of the scan.
fn write_headers(out: &mut Vec<u8>, width: u16, height: u16, table: &[u8; 64]) {
    out.extend_from_slice(&[0xFF, 0xD8]); // SOI
    // JFIF 1.1, no density unit, aspect 1:1, no thumbnail.
    segment(
        out,
        0xE0,
        &[b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
    );
    let mut dqt = vec![0u8]; // 8-bit entries, table 0
    dqt.extend(ZIGZAG.iter().map(|&n| table[usize::from(n)]));
    segment(out, 0xDB, &dqt);
    let mut sof = vec![8]; // 8-bit samples
    sof.extend_from_slice(&height.to_be_bytes());
    sof.extend_from_slice(&width.to_be_bytes());
    sof.extend_from_slice(&[1, 1, 0x11, 0]); // one component, id 1, 1x1, table 0
    segment(out, 0xC0, &sof);
    for (class, bits, symbols) in [
        (0x00, &DC_BITS, &DC_SYMBOLS[..]),
        (0x10, &AC_BITS, &AC_SYMBOLS[..]),
    ] {
        let mut dht = vec![class]; // class (DC 0, AC 1) and table 0
        dht.extend_from_slice(bits);
        dht.extend_from_slice(symbols);
        segment(out, 0xC4, &dht);
    }
    // One component (id 1, tables 0 and 0), spectral 0..=63, no approximation.
    segment(out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
}

/// An 8×8 block of `f32`, row after row: in the transform, each row holds
/// one sample (or one frequency) of eight independent 1-D transforms.
type Block = [f32; 64];

/// `cos(k π / 16) / 2`, the 1-D transform's constants (with its factor of
/// one half), for k = 1..=7; `C[0]` is `1 / (2 √2)`, the DC term's.
const C: [f32; 8] = [
    0.353_553_38, // 1 / (2 √2)
    0.490_392_65, // cos(π/16) / 2
    0.461_939_77, // cos(2π/16) / 2
    0.415_734_8,  // cos(3π/16) / 2
    0.353_553_38, // cos(4π/16) / 2
    0.277_785_12, // cos(5π/16) / 2
    0.191_341_72, // cos(6π/16) / 2
    0.097_545_16, // cos(7π/16) / 2
];

/// The 8-point forward DCT of T.81 (A.3.3) with its factor of one half,
/// `X(u) = C(u)/2 · Σ x(k) cos((2k+1)uπ/16)`, on the eight columns of `v`
/// at once (row k holds sample k of each; afterwards row u holds X(u)).
///
/// The sums and differences of mirrored inputs split it in two: the even
/// outputs are a 4-point transform of the sums, the odd ones a 4×4 product
/// of the differences. Each column is the same arithmetic on its own
/// numbers, which the compiler does four or eight columns at a time.
#[inline(always)]
fn dct8(v: &mut Block) {
    for i in 0..8 {
        let x: [f32; 8] = std::array::from_fn(|k| v[k * 8 + i]);
        let (s0, s1, s2, s3) = (x[0] + x[7], x[1] + x[6], x[2] + x[5], x[3] + x[4]);
        let (d0, d1, d2, d3) = (x[0] - x[7], x[1] - x[6], x[2] - x[5], x[3] - x[4]);
        let (a0, a1) = (s0 + s3, s1 + s2);
        let (b0, b1) = (s0 - s3, s1 - s2);
        v[i] = C[0] * (a0 + a1);
        v[32 + i] = C[4] * (a0 - a1);
        v[16 + i] = C[2] * b0 + C[6] * b1;
        v[48 + i] = C[6] * b0 - C[2] * b1;
        // cos((2k+1)uπ/16) for u odd, reduced to C[1..=7] with signs.
        v[8 + i] = C[1] * d0 + C[3] * d1 + C[5] * d2 + C[7] * d3;
        v[24 + i] = C[3] * d0 - C[7] * d1 - C[1] * d2 - C[5] * d3;
        v[40 + i] = C[5] * d0 - C[1] * d1 + C[7] * d2 + C[3] * d3;
        v[56 + i] = C[7] * d0 - C[5] * d1 + C[3] * d2 - C[1] * d3;
    }
}

/// The entropy coder, with what it needs from the tables.
///
/// The scan is written in two passes. The first appends the bits to `out`
/// as they come, without looking at them: each [`Coder::put`] stores the
/// whole 64-bit accumulator and moves on by the bytes it completed, with no
/// branch on how full the accumulator is. The second, in
/// [`Coder::finish`], inserts the zero byte that must follow every `0xFF`
/// of the scan (about one byte in 256), moving the bytes between them with
/// `copy_within`.
struct Coder<'a> {
    out: &'a mut Vec<u8>,
    /// Where the scan starts in `out`, and where its next byte goes.
    scan_start: usize,
    at: usize,
    /// Bits not yet counted in `at`, the oldest highest: the top `filled`
    /// bits of `bits` matter (fewer than 8 between calls).
    bits: u64,
    filled: u32,
    /// The previous block's quantised DC coefficient (differences are coded).
    previous_dc: i32,
    dc_codes: [(u16, u8); 256],
    /// For every run (0..=15) and size (1..=10), `run << 4 | size`: the AC
    /// symbol's code, shifted left by `size` to make room for the extra bits,
    /// with its length plus `size`; 0xF0 (sixteen zeros) and 0x00 (end of
    /// block) as they are.
    ac_codes: [(u32, u32); 256],
    /// `1 / q` for every coefficient, in the layout [`Coder::transform`]
    /// leaves them in: `u * 8 + v`, u the horizontal frequency.
    reciprocals: Block,
    /// The quantiser of the DC coefficient.
    dc_quant: f32,
}

/// For the `k`-th coefficient in zig-zag order, its index in the layout
/// [`Coder::transform`] computes (`u * 8 + v`, u the horizontal frequency).
const ZIGZAG_TURNED: [u8; 64] = {
    let mut turned = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG[k];
        turned[k] = (n % 8) * 8 + n / 8;
        k += 1;
    }
    turned
};

/// The extra bits of every AC value in -1023..=1023, and its size, packed
/// as `size << 16 | bits`: the value itself when positive, its ones'
/// complement in `size` bits when negative (T.81, F.1.2.1.1).
static AC_VALUES: [u32; 2047] = {
    let mut table = [0u32; 2047];
    let mut i = 0;
    while i < 2047 {
        let value = i as i32 - 1023;
        table[i] = value_bits(value);
        i += 1;
    }
    table
};

/// `size << 16 | extra bits` of a coefficient or DC difference.
const fn value_bits(value: i32) -> u32 {
    let size = 32 - value.unsigned_abs().leading_zeros();
    // value - 1 for a negative value, kept to its low `size` bits.
    let bits = (value + (value >> 31)) as u32 & ((1u32 << size) - 1);
    size << 16 | bits
}

impl<'a> Coder<'a> {
    fn new(out: &'a mut Vec<u8>, table: &[u8; 64]) -> Coder<'a> {
        let plain = huffman_codes(&AC_BITS, &AC_SYMBOLS);
        let ac_codes = std::array::from_fn(|symbol| {
            let (code, length) = plain[symbol];
            let size = (symbol & 0x0F) as u32;
            (u32::from(code) << size, u32::from(length) + size)
        });
        let scan_start = out.len();
        Coder {
            out,
            scan_start,
            at: scan_start,
            bits: 0,
            filled: 0,
            previous_dc: 0,
            dc_codes: huffman_codes(&DC_BITS, &DC_SYMBOLS),
            ac_codes,
            reciprocals: std::array::from_fn(|n| 1.0 / f32::from(table[(n % 8) * 8 + n / 8])),
            dc_quant: f32::from(table[0]),
        }
    }

    /// Encodes the block whose top-left pixel is column `left` of `strip`
    /// (eight rows of `stride` bytes).
    fn block(&mut self, strip: &[u8], stride: usize, left: usize) {
        let mut rows = [[0u8; 8]; 8];
        for (y, row) in rows.iter_mut().enumerate() {
            let start = y * stride + left;
            *row = strip[start..start + 8]
                .try_into()
                .expect("a block row is eight bytes");
        }
        let first = u64::from_ne_bytes(rows[0]);
        let flat = first == u64::from(rows[0][0]) * 0x0101_0101_0101_0101
            && rows.iter().all(|row| u64::from_ne_bytes(*row) == first);
        if flat {
            // Only the DC coefficient: eight times the level-shifted value.
            let dc = round(8.0 * (f32::from(rows[0][0]) - 128.0) / self.dc_quant);
            self.dc(dc);
            self.end_of_block();
            return;
        }
        let zz = self.transform(&rows);
        self.dc(i32::from(zz[0]));
        // Bit k set: the k-th AC coefficient in zig-zag order is not zero.
        let mut nonzero = nonzero_mask(&zz) & !1;
        let mut k = 0;
        while nonzero != 0 {
            let next = nonzero.trailing_zeros();
            let mut run = next - k - 1;
            while run >= 16 {
                let (code, length) = self.ac_codes[0xF0];
                self.put(code, length);
                run -= 16;
            }
            let value = AC_VALUES[(i32::from(zz[next as usize]) + 1023) as usize];
            let size = value >> 16;
            let (code, length) = self.ac_codes[((run << 4) | size) as usize];
            self.put(code | (value & 0xFFFF), length);
            k = next;
            nonzero &= nonzero - 1;
        }
        if k < 63 {
            self.end_of_block();
        }
    }

    /// The forward DCT of one block, quantised, in zig-zag order.
    fn transform(&self, rows: &[[u8; 8]; 8]) -> [i16; 64] {
        // Rows as they are: the first pass transforms down the columns.
        let mut v: Block = [0.0; 64];
        for (lane, &pixel) in v.iter_mut().zip(rows.as_flattened()) {
            *lane = f32::from(pixel) - 128.0;
        }
        dct8(&mut v);
        // Now v[vertical frequency * 8 + x]; turned, the second pass goes
        // along the rows and leaves t[u * 8 + v], u the horizontal frequency.
        let mut t: Block = [0.0; 64];
        for (n, lane) in t.iter_mut().enumerate() {
            *lane = v[(n % 8) * 8 + n / 8];
        }
        dct8(&mut t);
        let mut quantised = [0i16; 64];
        for ((q, c), r) in quantised.iter_mut().zip(&t).zip(&self.reciprocals) {
            // At most 1024 in magnitude (see `round`): an i16 holds it.
            *q = round(c * r) as i16;
        }
        ZIGZAG_TURNED.map(|n| quantised[usize::from(n)])
    }

    /// Writes a DC coefficient as its difference from the previous block's.
    fn dc(&mut self, dc: i32) {
        let diff = dc - self.previous_dc;
        self.previous_dc = dc;
        let value = value_bits(diff);
        let size = value >> 16;
        let (code, length) = self.dc_codes[size as usize];
        self.put(
            (u32::from(code) << size) | (value & 0xFFFF),
            u32::from(length) + size,
        );
    }

    fn end_of_block(&mut self) {
        let (code, length) = self.ac_codes[0x00];
        self.put(code, length);
    }

    /// Appends the low `count` bits of `value` (`count` at most 27: a
    /// 16-bit code and 11 extra bits).
    #[inline(always)]
    fn put(&mut self, value: u32, count: u32) {
        debug_assert!(count <= 27 && self.filled < 8);
        self.bits |= u64::from(value) << (64 - self.filled - count);
        self.filled += count;
        if self.at + 8 > self.out.len() {
            self.grow();
        }
        // All eight bytes are stored; the next call overwrites those not
        // yet complete.
        self.out[self.at..self.at + 8].copy_from_slice(&self.bits.to_be_bytes());
        let whole = self.filled / 8;
        self.at += whole as usize;
        self.bits <<= whole * 8;
        self.filled -= whole * 8;
    }

    /// Room for more of the scan (rarely: `out` doubles each time).
    #[cold]
    fn grow(&mut self) {
        let more = self.out.len().max(4096);
        self.out.resize(self.out.len() + more, 0);
    }

    /// Pads the last byte with ones (T.81, F.1.2.3), stuffs a zero after
    /// every `0xFF` of the scan, and leaves `out` ending with the scan.
    fn finish(self) {
        let mut this = self;
        if this.filled > 0 {
            let padding = 8 - this.filled;
            this.put((1 << padding) - 1, padding);
        }
        let Coder {
            out,
            scan_start,
            at,
            ..
        } = this;
        out.truncate(at);
        let scan = &out[scan_start..at];
        // Where the 0xFF bytes are, eight bytes at a time: a byte of `!word`
        // is zero exactly where `word` has 0xFF.
        let mut marks = Vec::new();
        let mut chunks = scan.chunks_exact(8);
        let mut offset = scan_start;
        for chunk in &mut chunks {
            let inverse = !u64::from_ne_bytes(chunk.try_into().expect("chunks of eight"));
            let has_ff =
                inverse.wrapping_sub(0x0101_0101_0101_0101) & !inverse & 0x8080_8080_8080_8080;
            if has_ff != 0 {
                marks.extend((0..8).filter(|&i| chunk[i] == 0xFF).map(|i| offset + i));
            }
            offset += 8;
        }
        marks.extend(
            chunks
                .remainder()
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == 0xFF)
                .map(|(i, _)| offset + i),
        );
        // From the last 0xFF back: the bytes after the j-th move right by
        // j + 1, and the zero goes right after it.
        out.resize(at + marks.len(), 0);
        let mut end = at;
        for (j, &mark) in marks.iter().enumerate().rev() {
            out.copy_within(mark + 1..end, mark + 2 + j);
            out[mark + 1 + j] = 0;
            end = mark + 1;
        }
    }
}

/// Bit `k` set when `zz[k]` is not zero.
///
/// The comparisons give one byte (0 or 1) per coefficient, which the
/// compiler does sixteen at a time; a multiplication then gathers the eight
/// bytes of each word into one byte of bits (byte `j` of `g` times
/// `2^(56 - 7j)` lands on bit `56 + j`, and no other product reaches bits
/// 56 to 63 or carries into them).
fn nonzero_mask(zz: &[i16; 64]) -> u64 {
    let flags: [u8; 64] = zz.map(|c| u8::from(c != 0));
    let mut mask = 0u64;
    for (j, word) in flags.chunks_exact(8).enumerate() {
        let g = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
        mask |= (g.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * j);
    }
    mask
}

/// `x` rounded to the nearest integer (halves to even), for |x| < 2^22.
///
/// Adding 1.5 · 2^23 leaves the integer in the low mantissa bits of the
/// sum, rounded by the addition itself; taking it out is integer
/// arithmetic. Neither `f32::round` (a libm call on baseline x86-64) nor
/// `as i32` (which checks for overflow and NaN) stands in the way of the
/// compiler doing eight of these at once. A quantised coefficient is at
/// most 1024 in magnitude: the DC of a flat block of 0 with a quantiser
/// of 1; an AC coefficient stays under 900.
fn round(x: f32) -> i32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23
    (x + SHIFT).to_bits() as i32 - SHIFT.to_bits() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition of the 1-D transform, term by term, in `f64`.
    fn dct8_by_definition(x: &[f64; 8]) -> [f64; 8] {
        std::array::from_fn(|u| {
            let c = if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
            let sum: f64 = (0..8)
                .map(|k| x[k] * ((2 * k + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos())
                .sum();
            c / 2.0 * sum
        })
    }

    #[test]
    fn the_even_odd_transform_is_the_standards_dct() {
        let mut state = 12345u32;
        let mut next = || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            f64::from((state >> 16) % 256) - 128.0
        };
        let inputs: [[f64; 8]; 8] = std::array::from_fn(|_| std::array::from_fn(|_| next()));
        // Column i of row k is sample k of input i.
        let mut v: Block = std::array::from_fn(|n| inputs[n % 8][n / 8] as f32);
        dct8(&mut v);
        for (i, input) in inputs.iter().enumerate() {
            let want = dct8_by_definition(input);
            for u in 0..8 {
                let got = f64::from(v[u * 8 + i]);
                assert!(
                    (got - want[u]).abs() < 1e-3,
                    "column {i}, X({u}): {got} against {}",
                    want[u]
                );
            }
        }
    }

    #[test]
    fn the_constants_are_the_cosines_they_say() {
        assert!((f64::from(C[0]) - 1.0 / (2.0 * 2f64.sqrt())).abs() < 1e-7);
        for (k, &c) in C.iter().enumerate().skip(1) {
            let want = (k as f64 * std::f64::consts::PI / 16.0).cos() / 2.0;
            assert!((f64::from(c) - want).abs() < 1e-7, "C[{k}]");
        }
    }

    #[test]
    fn the_zigzag_order_visits_every_coefficient_once_in_the_standards_order() {
        let mut seen = [false; 64];
        for &n in &ZIGZAG {
            assert!(!seen[usize::from(n)]);
            seen[usize::from(n)] = true;
        }
        // The start of T.81's figure A.6, in natural indices.
        assert_eq!(ZIGZAG[..10], [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
        assert_eq!(ZIGZAG[60..], [47, 55, 62, 63]);
    }

    #[test]
    fn the_huffman_tables_are_whole_and_prefix_free() {
        for (bits, symbols) in [(&DC_BITS, &DC_SYMBOLS[..]), (&AC_BITS, &AC_SYMBOLS[..])] {
            let total: usize = bits.iter().map(|&b| usize::from(b)).sum();
            assert_eq!(total, symbols.len());
            let codes = huffman_codes(bits, symbols);
            let used: Vec<(u16, u8)> = symbols.iter().map(|&s| codes[usize::from(s)]).collect();
            for (i, &(a, la)) in used.iter().enumerate() {
                for &(b, lb) in &used[i + 1..] {
                    let (short, ls, long, ll) = if la <= lb {
                        (a, la, b, lb)
                    } else {
                        (b, lb, a, la)
                    };
                    assert_ne!(long >> (ll - ls), short, "one code is a prefix of another");
                }
            }
        }
        // Every AC symbol a baseline coder may need: end of block, sixteen
        // zeros, and every run 0..=15 with every size 1..=10.
        let mut wanted: Vec<u8> = vec![0x00, 0xF0];
        wanted.extend((0..16u8).flat_map(|run| (1..=10u8).map(move |size| run << 4 | size)));
        let mut have = AC_SYMBOLS.to_vec();
        have.sort_unstable();
        wanted.sort_unstable();
        assert_eq!(have, wanted);
    }

    #[test]
    fn quality_scales_the_table_as_libjpeg_does() {
        assert_eq!(quant_table(50)[..3], [16, 11, 10]);
        assert_eq!(quant_table(75)[..3], [8, 6, 5]);
        assert!(quant_table(100).iter().all(|&q| q == 1));
        assert!(quant_table(1).iter().all(|&q| q == 255));
    }

    #[test]
    fn rounding_is_to_the_nearest_integer() {
        for (x, want) in [
            (0.0, 0),
            (0.4, 0),
            (0.6, 1),
            (-0.6, -1),
            (2.5, 2),
            (3.5, 4),
            (-1024.0, -1024),
            (1023.7, 1024),
            (-899.2, -899),
        ] {
            assert_eq!(round(x), want, "round({x})");
        }
    }

    #[test]
    fn values_are_written_as_their_size_and_extra_bits() {
        // (size, bits) for each value (T.81, table F.1 and F.1.2.1.1).
        for (value, size, bits) in [
            (0, 0, 0),
            (1, 1, 0b1),
            (-1, 1, 0b0),
            (2, 2, 0b10),
            (-3, 2, 0b00),
            (-2, 2, 0b01),
            (4, 3, 0b100),
            (1023, 10, 1023),
            (-1023, 10, 0),
            (-2047, 11, 0),
            (2047, 11, 2047),
        ] {
            assert_eq!(value_bits(value), size << 16 | bits, "value {value}");
        }
        for value in -1023..=1023 {
            assert_eq!(AC_VALUES[(value + 1023) as usize], value_bits(value));
        }
    }

    #[test]
    fn the_nonzero_mask_has_a_bit_for_every_nonzero_coefficient() {
        let mut state = 99u32;
        for _ in 0..1000 {
            let zz: [i16; 64] = std::array::from_fn(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if (state >> 16).is_multiple_of(3) {
                    ((state >> 20) % 7) as i16 - 3
                } else {
                    0
                }
            });
            let want = zz
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &c)| m | (u64::from(c != 0) << k));
            assert_eq!(nonzero_mask(&zz), want);
        }
        assert_eq!(nonzero_mask(&[1; 64]), u64::MAX);
        assert_eq!(nonzero_mask(&[0; 64]), 0);
    }

    #[test]
    fn zeros_are_stuffed_after_every_ff_of_the_scan() {
        let mut out = vec![0xAB; 3]; // a header the stuffing must not touch
        let mut coder = Coder::new(&mut out, &quant_table(75));
        // 0xFF, 0x12, 0xFF, 0xFF, then 0x34 and the last bits.
        for byte in [0xFFu32, 0x12, 0xFF, 0xFF, 0x34] {
            coder.put(byte, 8);
        }
        coder.put(0b101, 3);
        coder.finish();
        assert_eq!(
            out,
            [
                0xAB,
                0xAB,
                0xAB,
                0xFF,
                0,
                0x12,
                0xFF,
                0,
                0xFF,
                0,
                0x34,
                0b1011_1111
            ]
        );
    }

    #[test]
    fn bad_sizes_quality_and_short_buffers_are_refused() {
        let px = [0u8; 16];
        let grey = |width, height, step| GreyPixels {
            bytes: &px,
            width,
            height,
            step,
        };
        let mut out = Vec::new();
        assert_eq!(
            encode(grey(0, 4, 1), 75, &mut out),
            Err(GreyJpegError::Size {
                width: 0,
                height: 4
            })
        );
        assert_eq!(
            encode(grey(70_000, 1, 1), 75, &mut out)
                .unwrap_err()
                .to_string(),
            "cannot encode a 70000x1 picture as JPEG: each side must be 1..=65535"
        );
        assert_eq!(
            encode(grey(4, 4, 1), 0, &mut out),
            Err(GreyJpegError::Quality(0))
        );
        assert_eq!(
            encode(grey(4, 4, 1), 101, &mut out),
            Err(GreyJpegError::Quality(101))
        );
        assert_eq!(
            encode(grey(4, 4, 3), 75, &mut out),
            Err(GreyJpegError::Pixels {
                given: 16,
                needed: 48
            })
        );
        assert!(matches!(
            encode(grey(4, 4, 0), 75, &mut out),
            Err(GreyJpegError::Pixels { .. })
        ));
        assert!(
            out.is_empty(),
            "nothing is written when the input is refused"
        );
    }
}
