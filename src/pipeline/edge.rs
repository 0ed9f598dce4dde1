//! The tutorial's naive edge detector, ported pixel for pixel.
//!
//! This is the CPU-bound work that the pipeline variants schedule in different
//! ways. The rule is the Python tutorial's (`workload.py::edge_map`), unchanged:
//!
//! 1. for each pixel, look at its right neighbour (if `x + 1 < W`) and the one
//!    below it (if `y + 1 < H`);
//! 2. for each neighbour present, add `|ΔR| + |ΔG| + |ΔB|` to a total;
//! 3. floor-divide the total by the number of neighbours present;
//! 4. the pixel is white `(255, 255, 255)` if that mean is strictly above
//!    [`THRESHOLD`] (30), black otherwise. The bottom-right pixel has no
//!    neighbour and is black.
//!
//! The Python version visits one pixel per interpreter iteration; this one walks
//! a row and the row below it as byte slices, in loops over whole bytes that
//! the compiler turns into 16 bytes per instruction (about 4 ms for 1920×1080
//! against Python's 2 s, and against 6 ms for a plain pixel-by-pixel loop:
//! `cargo bench --bench pipeline_steps`), but the decisions, and so every
//! output pixel, are the same. `tests/edge_detect.rs` checks that against a
//! deliberately naive copy of the Python loop and against the previous,
//! pixel-by-pixel version of this file.

use image::{Rgb, RgbImage};

/// A pixel is white when the floor of its mean neighbour difference is strictly
/// greater than this (the tutorial's `EDGE_THRESHOLD`).
pub const THRESHOLD: u32 = 30;

/// The colour of an edge pixel in the map.
pub const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// The colour of a non-edge pixel in the map.
pub const BLACK: Rgb<u8> = Rgb([0, 0, 0]);

/// Computes the edge map of an 8-bit RGB image.
///
/// The result has the same size as `img`; every pixel is either [`WHITE`] or
/// [`BLACK`], by the rule described in the [module docs](self). An empty image
/// (zero width or height) gives an empty map.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::edge::{edge_map, BLACK, WHITE};
/// use image::{Rgb, RgbImage};
///
/// // A black pixel left of a white one: the step is 255 * 3 = 765 > 30.
/// let mut img = RgbImage::new(2, 1);
/// img.put_pixel(1, 0, Rgb([255, 255, 255]));
/// let map = edge_map(&img);
/// assert_eq!(*map.get_pixel(0, 0), WHITE);
/// assert_eq!(*map.get_pixel(1, 0), BLACK); // the last pixel has no neighbour
/// ```
pub fn edge_map(img: &RgbImage) -> RgbImage {
    edge_map_reusing(img, Vec::new())
}

/// [`edge_map`], drawn into the allocation of `spare` (a map returned by
/// [`RgbImage::into_raw`] earlier, say) when it is large enough.
///
/// The pipeline's CPU threads keep one such buffer each: a 1920×1080 map is
/// 6 MB, and a fresh one per image costs the kernel 1,500 page faults, each
/// page zeroed, every time (about a fifth of the processing time measured
/// with `perf` before the buffers were reused).
///
/// # Examples
///
/// ```
/// use evloop::pipeline::edge::{edge_map, edge_map_reusing};
/// use image::RgbImage;
///
/// let img = RgbImage::from_fn(8, 4, |x, _| image::Rgb([x as u8 * 30; 3]));
/// let first = edge_map(&img);
/// let again = edge_map_reusing(&img, first.clone().into_raw());
/// assert_eq!(first, again);
/// ```
pub fn edge_map_reusing(img: &RgbImage, spare: Vec<u8>) -> RgbImage {
    let (width, height) = img.dimensions();
    let mut raw = spare;
    // Every byte is written below, so what the spare held stays only until
    // then; only a longer map zero-fills the bytes it adds.
    raw.resize(img.as_raw().len(), 0);
    let mut out =
        RgbImage::from_raw(width, height, raw).expect("the buffer has exactly the image's length");
    if width == 0 || height == 0 {
        return out;
    }
    let row_len = width as usize * 3;
    let src: &[u8] = img.as_raw();
    let dst: &mut [u8] = &mut out;
    let mut rows = RowPass::new(row_len - 3);
    for (y, out_row) in dst.chunks_exact_mut(row_len).enumerate() {
        let row = &src[y * row_len..(y + 1) * row_len];
        let (out_body, out_last) = out_row.split_at_mut(row_len - 3);
        if let Some(below) = src.get((y + 1) * row_len..(y + 2) * row_len) {
            // Both neighbours: floor((r + d) / 2) > T  <=>  r + d > 2T + 1.
            rows.diff_right_and_down(row, below);
            rows.shade(out_body, BOTH_LIMIT);
            // Last column: the lower neighbour only.
            let down: u32 = row[row_len - 3..]
                .iter()
                .zip(&below[row_len - 3..])
                .map(|(a, b)| u32::from(a.abs_diff(*b)))
                .sum();
            out_last.copy_from_slice(&shade(down));
        } else {
            // Last row: the right neighbour only.
            rows.diff_right(row);
            rows.shade(out_body, ONE_LIMIT);
            // The bottom-right pixel has no neighbour: black.
            out_last.copy_from_slice(&BLACK.0);
        }
    }
    out
}

/// The output bytes of one pixel for a floor-divided mean `mean`.
fn shade(mean: u32) -> [u8; 3] {
    if mean > THRESHOLD { WHITE.0 } else { BLACK.0 }
}

/// The limit of a pixel's six differences when it has both neighbours:
/// `floor(sum / 2) > THRESHOLD` exactly when `sum > 2 * THRESHOLD + 1`.
const BOTH_LIMIT: u8 = 2 * THRESHOLD as u8 + 1;

/// The limit of a pixel's three differences when it has one neighbour.
const ONE_LIMIT: u8 = THRESHOLD as u8;

/// The per-row buffers of [`edge_map`], laid out so that every loop works on
/// whole bytes, which the compiler turns into 16 or 32 bytes per instruction.
///
/// A row of pixels that have a right neighbour is `len` bytes (R, G, B, R,
/// ...). Each pass is a plain loop over equal-length slices, without bounds
/// checks and without the stride of 3 that a pixel-by-pixel loop has:
///
/// 1. `diff[i]`: for byte `i`, `|row[i] - row[i + 3]| + |row[i] - below[i]|`,
///    the byte's two differences added with saturation (at 255);
/// 2. [`shade`](RowPass::shade): for every byte `i` of pixel `p`, the sum of
///    the three `diff` bytes of `p`, again saturating, compared with the
///    limit. Pixel `p` starts 0, 1 or 2 bytes before `i`, so the pass
///    computes the three windows of three bytes starting there and keeps the
///    right one with the masks `phase[k]`.
///
/// Saturating at 255 changes no comparison: the limits (30 and 61) are below
/// 255, and a saturating sum of non-negative values is `min(sum, 255)`.
struct RowPass {
    /// The differences of byte `i` at `diff[i + 2]`, with two zero bytes
    /// before and after the row so that every window stays inside.
    diff: Vec<u8>,
    /// `phase[k][i]` is 255 when byte `i` is channel `k` of its pixel, else 0.
    phase: [Vec<u8>; 3],
}

impl RowPass {
    /// Buffers for rows of `len` bytes (a multiple of 3).
    fn new(len: usize) -> RowPass {
        let mask = |k: usize| (0..len).map(|i| if i % 3 == k { 255 } else { 0 }).collect();
        RowPass {
            diff: vec![0; len + 4],
            phase: [mask(0), mask(1), mask(2)],
        }
    }

    /// The row's width in bytes, without the last pixel.
    fn len(&self) -> usize {
        self.phase[0].len()
    }

    /// Pass 1 with both neighbours: `row` and `below` are whole rows.
    fn diff_right_and_down(&mut self, row: &[u8], below: &[u8]) {
        let n = self.len();
        let (here, right, below) = (&row[..n], &row[3..n + 3], &below[..n]);
        let diff = &mut self.diff[2..n + 2];
        for i in 0..n {
            diff[i] = here[i]
                .abs_diff(right[i])
                .saturating_add(here[i].abs_diff(below[i]));
        }
    }

    /// Pass 1 with the right neighbour only (the last row).
    fn diff_right(&mut self, row: &[u8]) {
        let n = self.len();
        let (here, right) = (&row[..n], &row[3..n + 3]);
        let diff = &mut self.diff[2..n + 2];
        for i in 0..n {
            diff[i] = here[i].abs_diff(right[i]);
        }
    }

    /// Pass 2: every byte of `out` (the row without its last pixel) is 255
    /// when its pixel's differences add up to more than `limit`, else 0.
    fn shade(&self, out: &mut [u8], limit: u8) {
        let n = self.len();
        // With d(j) = diff[j + 2], the slices are d(i - 2) to d(i + 2).
        let back2 = &self.diff[..n];
        let back1 = &self.diff[1..n + 1];
        let here = &self.diff[2..n + 2];
        let next1 = &self.diff[3..n + 3];
        let next2 = &self.diff[4..n + 4];
        let first = &self.phase[0][..n];
        let second = &self.phase[1][..n];
        let third = &self.phase[2][..n];
        let out = &mut out[..n];
        for i in 0..n {
            let mid = here[i].saturating_add(next1[i]);
            // The pixel's sum when byte i is its first, second or third byte.
            let from0 = mid.saturating_add(next2[i]);
            let from1 = back1[i].saturating_add(mid);
            let from2 = back2[i].saturating_add(back1[i]).saturating_add(here[i]);
            let sum = (from0 & first[i]) | (from1 & second[i]) | (from2 & third[i]);
            out[i] = if sum > limit { 255 } else { 0 };
        }
    }
}

/// Counts the white `(255, 255, 255)` pixels of an image.
///
/// Meant for edge maps made by [`edge_map`], whose pixels are all black or
/// white; the count is how the pipeline's variants and the report compare
/// their results. It counts exact white only, so a map that went through a
/// lossy JPEG round trip gives a different figure.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::edge::count_white;
/// use image::{Rgb, RgbImage};
///
/// let mut img = RgbImage::new(3, 3);
/// img.put_pixel(1, 1, Rgb([255, 255, 255]));
/// img.put_pixel(2, 2, Rgb([255, 255, 254])); // not quite white
/// assert_eq!(count_white(&img), 1);
/// ```
pub fn count_white(img: &RgbImage) -> u64 {
    img.as_raw()
        .chunks_exact(3)
        .filter(|px| *px == WHITE.0)
        .count() as u64
}
