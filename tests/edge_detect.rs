//! The edge detector gives exactly the tutorial's map: small images worked out
//! by hand, the threshold on both sides, other pixel types, and random images
//! against a line-by-line copy of the Python loop.

use evloop::pipeline::edge::{BLACK, THRESHOLD, WHITE, count_white, edge_map};
use evloop::pipeline::synth::{SplitMix64, photo};
use image::{DynamicImage, GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};

const B: u8 = 0;
const W: u8 = 1;

/// Builds an RGB image from rows of pixels.
fn image_of(rows: &[&[[u8; 3]]]) -> RgbImage {
    let height = rows.len() as u32;
    let width = rows.first().map_or(0, |r| r.len()) as u32;
    RgbImage::from_fn(width, height, |x, y| Rgb(rows[y as usize][x as usize]))
}

/// The map as rows of `B` / `W`, failing on any pixel that is neither.
fn shape(map: &RgbImage) -> Vec<Vec<u8>> {
    (0..map.height())
        .map(|y| {
            (0..map.width())
                .map(|x| match *map.get_pixel(x, y) {
                    p if p == WHITE => W,
                    p if p == BLACK => B,
                    p => panic!("pixel ({x}, {y}) is {p:?}, neither black nor white"),
                })
                .collect()
        })
        .collect()
}

/// The Python loop of `workload.py::edge_map`, transcribed without cleverness:
/// one flat list of pixels, an index per pixel, the two offsets in a list.
fn naive_reference(img: &RgbImage) -> RgbImage {
    let (width, height) = (img.width() as i64, img.height() as i64);
    let pixels: Vec<(i64, i64, i64)> = img
        .pixels()
        .map(|p| (i64::from(p[0]), i64::from(p[1]), i64::from(p[2])))
        .collect();
    let mut result = Vec::new();
    for idx in 0..pixels.len() as i64 {
        let (r0, g0, b0) = pixels[idx as usize];
        let mut acc = 0;
        let mut seen = 0;
        for (dx, dy) in [(1, 0), (0, 1)] {
            let nx = idx % width + dx;
            let ny = idx / width + dy;
            if 0 <= nx && nx < width && 0 <= ny && ny < height {
                let (r1, g1, b1) = pixels[(ny * width + nx) as usize];
                acc += (r0 - r1).abs() + (g0 - g1).abs() + (b0 - b1).abs();
                seen += 1;
            }
        }
        // Python's `//` floors; all values here are non-negative, so `/` agrees.
        if seen > 0 && acc / seen > i64::from(THRESHOLD) {
            result.extend([255u8, 255, 255]);
        } else {
            result.extend([0u8, 0, 0]);
        }
    }
    RgbImage::from_raw(img.width(), img.height(), result).expect("one RGB triple per pixel")
}

/// A random image whose channel values lie in `lo..=hi`.
fn random_image(seed: u64, width: u32, height: u32, lo: i64, hi: i64) -> RgbImage {
    let mut rng = SplitMix64::new(seed);
    RgbImage::from_fn(width, height, |_, _| {
        Rgb([
            rng.range(lo, hi) as u8,
            rng.range(lo, hi) as u8,
            rng.range(lo, hi) as u8,
        ])
    })
}

#[test]
fn one_pixel_has_no_neighbour_and_is_black() {
    let map = edge_map(&image_of(&[&[[255, 0, 255]]]));
    assert_eq!(shape(&map), vec![vec![B]]);
}

#[test]
fn empty_images_give_empty_maps() {
    for (w, h) in [(0, 0), (0, 5), (5, 0)] {
        let map = edge_map(&RgbImage::new(w, h));
        assert_eq!(map.dimensions(), (w, h));
        assert_eq!(count_white(&map), 0);
    }
}

#[test]
fn one_column_compares_with_the_pixel_below_only() {
    // 1 wide, 5 high: each pixel has only a lower neighbour, so mean = step.
    let img = image_of(&[
        &[[0, 0, 0]],
        &[[10, 10, 10]], // y0: |0-10|*3 = 30, not > 30 -> black
        &[[10, 10, 41]], // y1: 0 + 0 + |10-41| = 31 -> white
        &[[0, 200, 41]], // y2: |10-0| + |10-200| + 0 = 200 -> white
        &[[0, 200, 41]], // y3: 0 -> black; y4: last pixel, no neighbour -> black
    ]);
    assert_eq!(
        shape(&edge_map(&img)),
        vec![vec![B], vec![W], vec![W], vec![B], vec![B]]
    );
}

#[test]
fn one_row_compares_with_the_pixel_to_the_right_only() {
    // 5 wide, 1 high: each pixel has only a right neighbour, so mean = step.
    let img = image_of(&[&[
        [0, 0, 0],       // x0: |0-31| = 31 -> white
        [31, 0, 0],      // x1: |31-31| + |0-0| + |0-30| = 30 -> black
        [31, 0, 30],     // x2: |31-0| + 0 + |30-0| = 61 -> white
        [0, 0, 0],       // x3: |0-255| * 3 = 765 -> white
        [255, 255, 255], // x4: last pixel, no neighbour -> black
    ]]);
    assert_eq!(shape(&edge_map(&img)), vec![vec![W, B, W, W, B]]);
}

#[test]
fn three_by_three_worked_by_hand() {
    let a = [0, 0, 0];
    let b = [40, 0, 0];
    let c = [40, 20, 0];
    let d = [21, 0, 0];
    let e = [40, 11, 0];
    let f = [0, 0, 0];
    let g = [21, 0, 30];
    let h = [40, 11, 11];
    let i = [100, 100, 100];
    let img = image_of(&[&[a, b, c], &[d, e, f], &[g, h, i]]);
    // a: right b 40, down d 21          -> 61 // 2 = 30, not > 30 -> black
    // b: right c 0+20+0 = 20, down e 0+11+0 = 11 -> 31 // 2 = 15  -> black
    // c: last column, down f 40+20+0 = 60                        -> white
    // d: right e 19+11+0 = 30, down g 0+0+30 = 30 -> 60 // 2 = 30 -> black
    // e: right f 40+11+0 = 51, down h 0+0+11 = 11 -> 62 // 2 = 31 -> white
    // f: last column, down i 100*3 = 300                         -> white
    // g: last row, right h 19+11+19 = 49                         -> white
    // h: last row, right i 60+89+89 = 238                        -> white
    // i: bottom-right, no neighbour                              -> black
    let map = edge_map(&img);
    assert_eq!(
        shape(&map),
        vec![vec![B, B, W], vec![B, W, W], vec![W, W, B]]
    );
    assert_eq!(count_white(&map), 5);
}

#[test]
fn threshold_is_strict_for_one_neighbour() {
    // Mean exactly 30 stays black, 31 turns white (2x1: x0 has one neighbour).
    let at = image_of(&[&[[0, 0, 0], [10, 10, 10]]]); // 10+10+10 = 30
    let over = image_of(&[&[[0, 0, 0], [10, 10, 11]]]); // 10+10+11 = 31
    assert_eq!(shape(&edge_map(&at)), vec![vec![B, B]]);
    assert_eq!(shape(&edge_map(&over)), vec![vec![W, B]]);
}

#[test]
fn threshold_floors_the_mean_of_two_neighbours() {
    // 2x2; the top-left pixel has both neighbours. Totals 61 and 62 floor to
    // 30 (black) and 31 (white). The other three pixels: top-right and
    // bottom-left have steps of 0 to their only neighbour, bottom-right none.
    let at = image_of(&[&[[0, 0, 0], [30, 0, 0]], &[[31, 0, 0], [31, 0, 0]]]);
    // top-left: 30 + 31 = 61 -> 30; top-right: down |30-31| = 1; bottom-left: 0
    let over = image_of(&[&[[0, 0, 0], [31, 0, 0]], &[[31, 0, 0], [31, 0, 0]]]);
    // top-left: 31 + 31 = 62 -> 31
    assert_eq!(shape(&edge_map(&at)), vec![vec![B, B], vec![B, B]]);
    assert_eq!(shape(&edge_map(&over)), vec![vec![W, B], vec![B, B]]);
}

/// The edge map of a decoded image of another pixel type, converted to 8-bit
/// RGB the way `pipeline::decode` converts it (`DynamicImage::into_rgb8`).
fn edge_map_of(img: DynamicImage) -> RgbImage {
    edge_map(&img.into_rgb8())
}

#[test]
fn grey_input_counts_each_grey_step_three_times() {
    // Grey v becomes (v, v, v): a grey step of 10 is 30 (black), 11 is 33 (white).
    let grey = GrayImage::from_raw(4, 1, vec![0, 10, 21, 21]).expect("4 pixels");
    // x0: |0-10|*3 = 30 -> black; x1: |10-21|*3 = 33 -> white; x2: 0 -> black; x3: last
    let map = edge_map_of(DynamicImage::ImageLuma8(grey));
    assert_eq!(shape(&map), vec![vec![B, W, B, B]]);

    let grey16: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_raw(2, 1, vec![0, 11 * 257]).expect("2 pixels");
    // 16-bit 11*257 scales to 8-bit 11: step 33 -> white.
    let map = edge_map_of(DynamicImage::ImageLuma16(grey16));
    assert_eq!(shape(&map), vec![vec![W, B]]);
}

#[test]
fn rgba_input_ignores_alpha() {
    let img = RgbaImage::from_raw(
        4,
        1,
        vec![
            0, 0, 0, 255, // x0: colour step to x1 is 31 -> white
            31, 0, 0, 255, // x1: only alpha differs from x2 (255 vs 0) -> black
            31, 0, 0, 0, // x2: step to x3 is 30 -> black
            31, 0, 30, 128, // x3: last pixel -> black
        ],
    )
    .expect("4 RGBA pixels");
    let map = edge_map_of(DynamicImage::ImageRgba8(img.clone()));
    assert_eq!(shape(&map), vec![vec![W, B, B, B]]);
    assert_eq!(img.get_pixel(2, 0), &Rgba([31, 0, 0, 0]));
}

#[test]
fn rgb8_through_the_conversion_is_unchanged() {
    let img = random_image(11, 9, 7, 0, 40);
    assert_eq!(
        edge_map_of(DynamicImage::ImageRgb8(img.clone())),
        edge_map(&img)
    );
}

#[test]
fn random_images_match_the_naive_reference() {
    // Channel values 0..=40 put many pixels close to the threshold; 0..=255
    // covers large steps. Odd sizes exercise the last row and column.
    let sizes = [
        (1, 1),
        (1, 9),
        (9, 1),
        (2, 2),
        (3, 5),
        (37, 23),
        (64, 48),
        (129, 17),
    ];
    for (seed, &(w, h)) in sizes.iter().enumerate() {
        for (lo, hi) in [(0, 40), (0, 255), (100, 115)] {
            let img = random_image(seed as u64 * 31 + hi as u64, w, h, lo, hi);
            let fast = edge_map(&img);
            let slow = naive_reference(&img);
            assert_eq!(fast, slow, "{w}x{h}, values {lo}..={hi}");
            assert_eq!(count_white(&fast), count_white(&slow));
        }
    }
}

#[test]
fn a_synthetic_photo_matches_the_naive_reference() {
    let img = photo(4, 320, 180);
    let map = edge_map(&img);
    assert_eq!(map, naive_reference(&img));
    let white = count_white(&map);
    let total = u64::from(map.width()) * u64::from(map.height());
    assert!(white > 0 && white < total, "{white} white of {total}");
}

#[test]
fn count_white_counts_only_pure_white() {
    let mut img = RgbImage::new(4, 1);
    img.put_pixel(0, 0, Rgb([255, 255, 255]));
    img.put_pixel(1, 0, Rgb([255, 255, 255]));
    img.put_pixel(2, 0, Rgb([254, 255, 255]));
    assert_eq!(count_white(&img), 2);
}

/// The detector as it was before its passes were laid out byte by byte
/// (pixel by pixel over two rows of per-byte differences): the new one must
/// draw the very same maps.
fn previous_detector(img: &RgbImage) -> RgbImage {
    let sum3 = |d: &[u8]| u32::from(d[0]) + u32::from(d[1]) + u32::from(d[2]);
    let shade = |mean: u32| if mean > THRESHOLD { WHITE.0 } else { BLACK.0 };
    let (width, height) = img.dimensions();
    let mut out = RgbImage::new(width, height);
    if width == 0 || height == 0 {
        return out;
    }
    let row_len = width as usize * 3;
    let src: &[u8] = img.as_raw();
    let dst: &mut [u8] = &mut out;
    let mut right = vec![0u8; row_len];
    let mut down = vec![0u8; row_len];
    for (y, out_row) in dst.chunks_exact_mut(row_len).enumerate() {
        let row = &src[y * row_len..(y + 1) * row_len];
        for ((d, x), r) in right.iter_mut().zip(row).zip(&row[3..]) {
            *d = x.abs_diff(*r);
        }
        let (out_body, out_last) = out_row.split_at_mut(row_len - 3);
        if let Some(below) = src.get((y + 1) * row_len..(y + 2) * row_len) {
            for ((d, x), b) in down.iter_mut().zip(row).zip(below) {
                *d = x.abs_diff(*b);
            }
            for ((o, r), d) in out_body
                .chunks_exact_mut(3)
                .zip(right.chunks_exact(3))
                .zip(down.chunks_exact(3))
            {
                o.copy_from_slice(&shade((sum3(r) + sum3(d)) / 2));
            }
            out_last.copy_from_slice(&shade(sum3(&down[row_len - 3..])));
        } else {
            for (o, r) in out_body.chunks_exact_mut(3).zip(right.chunks_exact(3)) {
                o.copy_from_slice(&shade(sum3(r)));
            }
            out_last.copy_from_slice(&BLACK.0);
        }
    }
    out
}

#[test]
fn photos_give_the_same_map_as_the_previous_detector() {
    // Several photos, sizes whose rows are and are not a multiple of 16 or
    // 32 bytes, so that the vector loops' remainders are exercised.
    for (k, (w, h)) in [(320, 180), (641, 359), (97, 61), (1, 40), (40, 1), (2, 2)]
        .into_iter()
        .enumerate()
    {
        let img = photo(k as u32 + 1, w, h);
        assert_eq!(
            edge_map(&img),
            previous_detector(&img),
            "photo {} at {w}x{h}",
            k + 1
        );
    }
}

#[test]
fn sums_near_the_saturation_point_match_the_naive_reference() {
    // The passes add the differences with saturation at 255: steps around
    // the limits and far above them must still give the tutorial's answer.
    for seed in 0..20 {
        for (lo, hi) in [(0, 25), (0, 70), (120, 255), (0, 255)] {
            let img = random_image(1000 + seed, 23, 11, lo, hi);
            assert_eq!(
                edge_map(&img),
                naive_reference(&img),
                "seed {seed}, {lo}..={hi}"
            );
        }
    }
}

#[test]
fn a_reused_buffer_gives_the_same_map_and_pixels_as_a_fresh_one() {
    use evloop::pipeline::decode::{DecodeLimits, decode_jpeg, decode_jpeg_reusing};
    use evloop::pipeline::edge::edge_map_reusing;
    use evloop::pipeline::synth::photo_jpeg;

    // Spares as a CPU thread holds them after earlier pictures: longer,
    // shorter or as long as the next one, full of stale bytes.
    for (w, h) in [(64, 48), (65, 17), (1, 1)] {
        for stale in [
            vec![0xAA; 64 * 48 * 3 + 999],
            vec![0x55; 7],
            vec![0xFF; w * h * 3],
        ] {
            let img = photo(3, w as u32, h as u32);
            assert_eq!(
                edge_map_reusing(&img, stale.clone()),
                edge_map(&img),
                "{w}x{h}, a spare of {} bytes",
                stale.len()
            );
            let jpeg = photo_jpeg(5, w as u32, h as u32);
            let limits = DecodeLimits::default();
            assert_eq!(
                decode_jpeg_reusing(&jpeg, limits, stale.clone()).unwrap(),
                decode_jpeg(&jpeg, limits).unwrap(),
                "{w}x{h}, a spare of {} bytes",
                stale.len()
            );
        }
    }
}
