//! The pipeline's own greyscale JPEG encoder (`evloop::pipeline::grey_jpeg`)
//! against the `jpeg-encoder` crate on the same pixels: the same tables in
//! the file, and the same picture after decoding, to within the rounding of
//! a coefficient.

use evloop::pipeline::grey_jpeg::{GreyPixels, encode};
use evloop::pipeline::{edge, synth};

/// jpeg-encoder's baseline greyscale JPEG of the same pixels.
fn reference(grey: &[u8], width: u16, height: u16, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(grey, width, height, jpeg_encoder::ColorType::Luma)
        .expect("jpeg-encoder encodes any size it is given");
    out
}

fn ours(grey: &[u8], width: u32, height: u32, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    encode(
        GreyPixels {
            bytes: grey,
            width,
            height,
            step: 1,
        },
        quality,
        &mut out,
    )
    .expect("a valid picture encodes");
    out
}

/// The bodies of every segment with this marker, in file order, up to the
/// start of the scan.
fn segments(jpeg: &[u8], marker: u8) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut at = 2; // after SOI
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let kind = jpeg[at + 1];
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if kind == marker {
            found.push(jpeg[at + 4..at + 2 + length].to_vec());
        }
        if kind == 0xDA {
            break;
        }
        at += 2 + length;
    }
    found
}

fn decode(jpeg: &[u8]) -> Vec<u8> {
    image::load_from_memory(jpeg)
        .expect("the file decodes")
        .to_luma8()
        .into_raw()
}

#[test]
fn the_file_holds_the_same_tables_as_jpeg_encoders() {
    let grey: Vec<u8> = (0..64 * 48).map(|i| (i * 7 % 256) as u8).collect();
    for quality in [10, 50, 75, 95] {
        let a = ours(&grey, 64, 48, quality);
        let b = reference(&grey, 64, 48, quality);
        // Table 0 (jpeg-encoder also writes a chroma table, unused here).
        let first_table = |jpeg: &[u8]| segments(jpeg, 0xDB)[0][..65].to_vec();
        assert_eq!(first_table(&a), first_table(&b), "DQT at quality {quality}");
        let mut ours_dht = segments(&a, 0xC4);
        let mut their_dht = segments(&b, 0xC4);
        // jpeg-encoder writes one DHT per table or all in one: compare the tables.
        let split = |segs: &mut Vec<Vec<u8>>| -> Vec<Vec<u8>> {
            let mut tables = Vec::new();
            for seg in segs.drain(..) {
                let mut rest = &seg[..];
                while !rest.is_empty() {
                    let count: usize = rest[1..17].iter().map(|&n| usize::from(n)).sum();
                    tables.push(rest[..17 + count].to_vec());
                    rest = &rest[17 + count..];
                }
            }
            tables.sort();
            tables
        };
        // Ours are the luminance DC and AC tables; jpeg-encoder also
        // writes the chrominance ones.
        let theirs = split(&mut their_dht);
        for table in split(&mut ours_dht) {
            assert!(
                theirs.contains(&table),
                "DHT {:#04x} at quality {quality}",
                table[0]
            );
        }
        // The frame: the same but for the component's id (any byte will do;
        // ours is 1, as libjpeg's, jpeg-encoder's 0).
        let frame = |jpeg: &[u8]| {
            let mut sof = segments(jpeg, 0xC0).remove(0);
            sof[6] = 0;
            sof
        };
        assert_eq!(frame(&a), frame(&b), "SOF0 at quality {quality}");
    }
}

#[test]
fn edge_maps_decode_to_the_same_picture_as_jpeg_encoders() {
    for index in 1..=3 {
        let map = edge::edge_map(&synth::photo(index, 320, 180));
        let grey: Vec<u8> = map.as_raw().chunks_exact(3).map(|p| p[0]).collect();
        let a = decode(&ours(&grey, 320, 180, 75));
        let b = decode(&reference(&grey, 320, 180, 75));
        let error = |decoded: &[u8]| -> f64 {
            decoded
                .iter()
                .zip(&grey)
                .map(|(&d, &s)| f64::from(d.abs_diff(s)))
                .sum::<f64>()
                / grey.len() as f64
        };
        let (ours_error, their_error) = (error(&a), error(&b));
        assert!(
            (ours_error - their_error).abs() < 0.05 * their_error + 0.01,
            "photo {index}: mean error {ours_error:.3} against jpeg-encoder's {their_error:.3}"
        );
        // A coefficient rounded the other way moves a few pixels of its
        // block; no more than one pixel in fifty differs by more than 8.
        let differing = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.abs_diff(**y) > 8)
            .count();
        assert!(
            differing * 50 < a.len(),
            "photo {index}: {differing} pixels differ by more than 8 levels"
        );
    }
}

#[test]
fn every_size_and_content_round_trips() {
    let mut state = 7u32;
    let mut next = move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        state >> 16
    };
    for width in [1u32, 2, 7, 8, 9, 15, 16, 17, 33] {
        for height in [1u32, 3, 8, 11, 24] {
            let kind = next() % 3;
            let grey: Vec<u8> = (0..width * height)
                .map(|i| match kind {
                    0 => {
                        if next() % 5 == 0 {
                            255
                        } else {
                            0
                        }
                    }
                    1 => (next() % 256) as u8,
                    _ => (i * 255 / (width * height)) as u8,
                })
                .collect();
            let a = ours(&grey, width, height, 75);
            let decoded = image::load_from_memory(&a).expect("decodes").to_luma8();
            assert_eq!(decoded.dimensions(), (width, height));
            let b = decode(&reference(&grey, width as u16, height as u16, 75));
            let worst = decoded
                .as_raw()
                .iter()
                .zip(&b)
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
            assert!(
                worst <= 64,
                "{width}x{height} kind {kind}: a pixel differs by {worst}"
            );
        }
    }
}

#[test]
fn the_rgb_step_reads_the_first_channel() {
    let rgb: Vec<u8> = (0..40 * 24)
        .flat_map(|i| [(i % 251) as u8, 9, 200])
        .collect();
    let grey: Vec<u8> = rgb.chunks_exact(3).map(|p| p[0]).collect();
    let mut from_rgb = Vec::new();
    encode(
        GreyPixels {
            bytes: &rgb,
            width: 40,
            height: 24,
            step: 3,
        },
        75,
        &mut from_rgb,
    )
    .unwrap();
    assert_eq!(from_rgb, ours(&grey, 40, 24, 75));
}
