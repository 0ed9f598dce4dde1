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
//! a row and the row below it as byte slices, so the optimiser sees plain loops
//! without bounds checks (about 4 ms for 1920×1080 against Python's 2 s), but
//! the arithmetic, and so every output pixel, is the same.
//! `tests/edge_detect.rs` checks that against a deliberately naive copy of the
//! Python loop.

use image::{Rgb, RgbImage};

/// A pixel is white when the floor of its mean neighbour difference is strictly
/// greater than this (the tutorial's `EDGE_THRESHOLD`).
pub const THRESHOLD: u32 = 30;

/// The colour of an edge pixel in the map.
pub const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// The colour of a non-edge pixel in the map.
pub const BLACK: Rgb<u8> = Rgb([0, 0, 0]);

/// Sum of one pixel's three per-channel differences (0..=765).
#[inline(always)]
fn sum3(diff: &[u8]) -> u32 {
    u32::from(diff[0]) + u32::from(diff[1]) + u32::from(diff[2])
}

/// Writes `|a[i] - b[i]|` into `out[i]`, as far as the shortest of the three goes.
#[inline(always)]
fn abs_diff_into(out: &mut [u8], a: &[u8], b: &[u8]) {
    for ((d, x), y) in out.iter_mut().zip(a).zip(b) {
        *d = x.abs_diff(*y);
    }
}

/// The output bytes of one pixel for a floor-divided mean `mean`.
#[inline(always)]
fn shade(mean: u32) -> [u8; 3] {
    if mean > THRESHOLD { WHITE.0 } else { BLACK.0 }
}

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
    let (width, height) = img.dimensions();
    let mut out = RgbImage::new(width, height);
    if width == 0 || height == 0 {
        return out;
    }
    let row_len = width as usize * 3;
    let src: &[u8] = img.as_raw();
    let dst: &mut [u8] = &mut out;

    // Two passes per row. First, byte by byte, the difference of every
    // channel to the same channel of the right neighbour (3 bytes on) and of
    // the pixel below (one row on): plain `u8` loops that the compiler
    // vectorises. Then, pixel by pixel, sum the channels and threshold.
    // `right[i]` is |ΔR|, |ΔG| or |ΔB| of byte i's pixel and its right neighbour.
    let mut right = vec![0u8; row_len];
    let mut down = vec![0u8; row_len];
    for (y, out_row) in dst.chunks_exact_mut(row_len).enumerate() {
        let row = &src[y * row_len..(y + 1) * row_len];
        // The last pixel's bytes of `right` are never written nor read.
        abs_diff_into(&mut right, row, &row[3..]);
        let (out_body, out_last) = out_row.split_at_mut(row_len - 3);
        if let Some(below) = src.get((y + 1) * row_len..(y + 2) * row_len) {
            abs_diff_into(&mut down, row, below);
            // Both neighbours: the floor of the mean is total / 2.
            for ((o, r), d) in out_body
                .chunks_exact_mut(3)
                .zip(right.chunks_exact(3))
                .zip(down.chunks_exact(3))
            {
                o.copy_from_slice(&shade((sum3(r) + sum3(d)) / 2));
            }
            // Last column: the lower neighbour only.
            out_last.copy_from_slice(&shade(sum3(&down[row_len - 3..])));
        } else {
            // Last row: the right neighbour only.
            for (o, r) in out_body.chunks_exact_mut(3).zip(right.chunks_exact(3)) {
                o.copy_from_slice(&shade(sum3(r)));
            }
            // The bottom-right pixel has no neighbour: black.
            out_last.copy_from_slice(&BLACK.0);
        }
    }
    out
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
