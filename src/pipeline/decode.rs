//! Checked decoding of downloaded pictures.
//!
//! A download is untrusted bytes. [`decode_jpeg`] turns them into 8-bit RGB
//! pixels only after three checks that the `image` crate alone does not make
//! the way the pipeline needs:
//!
//! - **Is it a picture at all?** A server that answers with an HTML error page
//!   and a 200 status is common. The first bytes must be a JPEG or PNG
//!   signature; otherwise the error quotes what the data starts with.
//! - **Is it complete?** The `image` crate decodes a JPEG that was cut short
//!   (a dropped connection, a half-written file) without an error, filling the
//!   missing rows with grey. A JPEG must therefore end with its end-of-image
//!   marker `FF D9`, optionally followed by zero bytes (see [`decode_jpeg`]).
//!   A truncated PNG needs no such check: its decoder reports the missing
//!   data itself.
//! - **Is it a reasonable size?** A few hundred bytes can declare a
//!   60000×60000 picture (a "decompression bomb", 10 GiB of pixels). The
//!   declared size is read from the header and checked against
//!   [`DecodeLimits`] before any pixel buffer is allocated, and the same
//!   limits are handed to the decoder as [`image::Limits`].
//!
//! PNG is accepted as well as JPEG: the Python tutorial opens whatever
//! Pillow recognises, a PNG decodes to the same kind of pixels, and its
//! decoder honours the same limits. The format is told from the bytes, never
//! from a file name. Other picture formats (GIF, WebP, …) are refused with
//! [`DecodeError::Unsupported`], since the crate is built with the JPEG and PNG
//! codecs only.

use std::fmt;
use std::io::Cursor;

use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage};

/// The first bytes of every JPEG file: start-of-image, then another marker.
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The eight-byte signature that starts every PNG file.
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// The JPEG end-of-image marker.
const JPEG_EOI: [u8; 2] = [0xFF, 0xD9];

/// How many leading bytes [`DecodeError::NotAnImage`] quotes at most.
const QUOTE_LEN: usize = 16;

/// Upper bounds on what [`decode_jpeg`] accepts.
///
/// The default allows 10000×10000 pixels and 512 MiB of decoder memory: room
/// for the pipeline's 1920×1080 photos (6 MiB of RGB each) and for any camera
/// picture, while a bomb declaring 60000×60000 is refused.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::decode::DecodeLimits;
///
/// let limits = DecodeLimits::default();
/// assert_eq!((limits.max_width, limits.max_height), (10_000, 10_000));
/// let tight = DecodeLimits { max_width: 2000, max_height: 2000, ..limits };
/// assert!(tight.max_alloc_bytes >= 2000 * 2000 * 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The widest picture accepted, in pixels.
    pub max_width: u32,
    /// The tallest picture accepted, in pixels.
    pub max_height: u32,
    /// The most memory the decoder may allocate, in bytes, including the
    /// decoded pixels.
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits {
            max_width: 10_000,
            max_height: 10_000,
            max_alloc_bytes: 512 * 1024 * 1024,
        }
    }
}

impl DecodeLimits {
    /// These limits in the form the `image` crate takes.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::pipeline::decode::DecodeLimits;
    ///
    /// let limits = DecodeLimits::default().to_image_limits();
    /// assert_eq!(limits.max_image_width, Some(10_000));
    /// ```
    pub fn to_image_limits(&self) -> image::Limits {
        // `image::Limits` is non-exhaustive: start from a value and set fields.
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_alloc_bytes);
        limits
    }
}

/// The two formats [`decode_jpeg`] decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG (JFIF or Exif), baseline or progressive.
    Jpeg,
    /// PNG, any bit depth and colour type.
    Png,
}

impl Format {
    fn to_image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
        })
    }
}

/// Why [`decode_jpeg`] refused or failed to decode some bytes.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::decode::{decode_jpeg, DecodeError, DecodeLimits};
///
/// let err = decode_jpeg(b"<!DOCTYPE html><html>", DecodeLimits::default()).unwrap_err();
/// assert!(matches!(err, DecodeError::NotAnImage { .. }));
/// assert_eq!(err.to_string(), r#"not an image (starts with "<!DOCTYPE")"#);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// There were no bytes at all.
    Empty,
    /// The bytes are no picture format known to the `image` crate.
    NotAnImage {
        /// The first few bytes (up to the first whitespace, at most 16).
        prefix: Vec<u8>,
    },
    /// A picture format other than JPEG and PNG.
    Unsupported {
        /// The format the signature announces.
        format: ImageFormat,
    },
    /// A JPEG that does not end with its end-of-image marker: cut short.
    TruncatedJpeg {
        /// How many bytes there were.
        len: usize,
    },
    /// The header declares a picture larger than the limits allow.
    TooLarge {
        /// The declared width.
        width: u32,
        /// The declared height.
        height: u32,
        /// The limit's width.
        max_width: u32,
        /// The limit's height.
        max_height: u32,
    },
    /// The decoded picture would need more memory than the limits allow.
    TooMuchMemory {
        /// The format being decoded.
        format: Format,
        /// The declared width.
        width: u32,
        /// The declared height.
        height: u32,
        /// The bytes the decoded pixels would take (in the file's own pixel
        /// type, plus the RGB copy when a conversion is needed).
        needed: u64,
        /// The limit.
        max_alloc_bytes: u64,
    },
    /// The decoder itself stopped at one of the limits while decoding (for
    /// example a PNG's compressed text chunks needing too much memory).
    LimitExceeded {
        /// The format being decoded.
        format: Format,
        /// The decoder's own error.
        source: ImageError,
    },
    /// The decoder found the data malformed (or ran out of data).
    Corrupt {
        /// The format being decoded.
        format: Format,
        /// The decoder's own error.
        source: ImageError,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => f.write_str("not an image (no data: 0 bytes)"),
            DecodeError::NotAnImage { prefix } => {
                write!(
                    f,
                    "not an image (starts with \"{}\")",
                    prefix.escape_ascii()
                )
            }
            DecodeError::Unsupported { format } => write!(
                f,
                "unsupported image format {format:?} (only JPEG and PNG are decoded)"
            ),
            DecodeError::TruncatedJpeg { len } => write!(
                f,
                "truncated JPEG: no end-of-image marker (FF D9) at the end of its {len} bytes"
            ),
            DecodeError::TooLarge {
                width,
                height,
                max_width,
                max_height,
            } => write!(
                f,
                "image {width}x{height} exceeds the limit {max_width}x{max_height}"
            ),
            DecodeError::TooMuchMemory {
                format,
                width,
                height,
                needed,
                max_alloc_bytes,
            } => write!(
                f,
                "{format} image {width}x{height} needs {needed} bytes, over the limit of {max_alloc_bytes}"
            ),
            DecodeError::LimitExceeded { format, source } => {
                write!(f, "{format} decoder stopped at a limit: {source}")
            }
            DecodeError::Corrupt { format, source } => write!(f, "corrupt {format}: {source}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Corrupt { source, .. } | DecodeError::LimitExceeded { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// Tells the format from the signature, or says why the bytes are refused.
///
/// # Errors
///
/// [`DecodeError::Empty`], [`DecodeError::Unsupported`] or
/// [`DecodeError::NotAnImage`].
///
/// # Examples
///
/// ```
/// use evloop::pipeline::decode::{sniff, Format};
///
/// assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), Format::Jpeg);
/// assert!(sniff(b"{\"error\": 404}").is_err());
/// ```
pub fn sniff(bytes: &[u8]) -> Result<Format, DecodeError> {
    if bytes.is_empty() {
        Err(DecodeError::Empty)
    } else if bytes.starts_with(JPEG_MAGIC) {
        Ok(Format::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Ok(Format::Png)
    } else if let Ok(format) = image::guess_format(bytes) {
        Err(DecodeError::Unsupported { format })
    } else {
        let word = bytes
            .iter()
            .take(QUOTE_LEN)
            .take_while(|b| !b.is_ascii_whitespace())
            .count();
        // A leading whitespace (or a lone one) still quotes something useful.
        let len = if word == 0 {
            bytes.len().min(QUOTE_LEN)
        } else {
            word
        };
        Err(DecodeError::NotAnImage {
            prefix: bytes[..len].to_vec(),
        })
    }
}

/// Whether a JPEG ends with its end-of-image marker, ignoring trailing zeros.
///
/// Zero padding after `FF D9` is accepted: some writers pad files to a block
/// size, and the padding cannot hide a cut. Entropy-coded JPEG data never
/// contains `FF D9` (an `FF` data byte is always written as `FF 00`), so a
/// file cut inside the picture data cannot end in `FF D9` followed by zeros.
/// Any other trailing byte is refused.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    // The start-of-image marker is FF D8, so four bytes is the least a
    // complete file can have: the EOI must not overlap the SOI.
    end >= 4 && bytes[..end].ends_with(&JPEG_EOI)
}

/// Decodes a downloaded JPEG (or PNG) into 8-bit RGB pixels, refusing data
/// that is not a picture, a JPEG that was cut short and a picture larger
/// than `limits`.
///
/// Grey pictures come back as `(v, v, v)`, alpha is dropped, 16-bit PNG is
/// scaled to 8 bits. The size is checked from the header before the pixels
/// are allocated; the decoder then runs with `limits` as [`image::Limits`].
/// The JPEG check accepts `FF D9` followed by zero bytes (padding) and
/// nothing else after it.
///
/// # Errors
///
/// | case | error |
/// | --- | --- |
/// | no bytes | [`DecodeError::Empty`] |
/// | HTML, JSON, anything without a picture signature | [`DecodeError::NotAnImage`] |
/// | GIF, WebP, BMP, … | [`DecodeError::Unsupported`] |
/// | JPEG without `FF D9` at the end | [`DecodeError::TruncatedJpeg`] |
/// | declared width or height over the limit | [`DecodeError::TooLarge`] |
/// | decoded pixels over `max_alloc_bytes` | [`DecodeError::TooMuchMemory`] |
/// | the decoder stops at a limit on its own | [`DecodeError::LimitExceeded`] |
/// | anything the decoder rejects | [`DecodeError::Corrupt`] |
///
/// # Examples
///
/// ```
/// use evloop::pipeline::decode::{decode_jpeg, DecodeError, DecodeLimits};
/// use evloop::pipeline::synth::photo_jpeg;
///
/// let jpeg = photo_jpeg(1, 64, 48);
/// let img = decode_jpeg(&jpeg, DecodeLimits::default())?;
/// assert_eq!(img.dimensions(), (64, 48));
///
/// // The same file, cut short.
/// let cut = &jpeg[..jpeg.len() / 2];
/// let err = decode_jpeg(cut, DecodeLimits::default()).unwrap_err();
/// assert!(matches!(err, DecodeError::TruncatedJpeg { .. }));
/// # Ok::<(), DecodeError>(())
/// ```
pub fn decode_jpeg(bytes: &[u8], limits: DecodeLimits) -> Result<RgbImage, DecodeError> {
    decode_jpeg_reusing(bytes, limits, Vec::new())
}

/// [`decode_jpeg`], decoding an RGB picture (every JPEG in colour) straight
/// into the allocation of `spare` when it is large enough, rather than into
/// a fresh one. Other pixel types are converted as before, in new buffers.
///
/// The pipeline's CPU threads keep one decoded picture's buffer each: a
/// 1920×1080 picture is 6 MB, and a fresh allocation per picture costs the
/// kernel 1,500 page faults, each page zeroed, every time.
///
/// # Errors
///
/// As [`decode_jpeg`].
///
/// # Examples
///
/// ```
/// use evloop::pipeline::decode::{decode_jpeg, decode_jpeg_reusing, DecodeLimits};
/// use evloop::pipeline::synth::photo_jpeg;
///
/// let first = decode_jpeg(&photo_jpeg(1, 64, 48), DecodeLimits::default())?;
/// let jpeg = photo_jpeg(2, 64, 48);
/// let second = decode_jpeg_reusing(&jpeg, DecodeLimits::default(), first.into_raw())?;
/// assert_eq!(second, decode_jpeg(&jpeg, DecodeLimits::default())?);
/// # Ok::<(), evloop::pipeline::decode::DecodeError>(())
/// ```
pub fn decode_jpeg_reusing(
    bytes: &[u8],
    limits: DecodeLimits,
    spare: Vec<u8>,
) -> Result<RgbImage, DecodeError> {
    let format = sniff(bytes)?;
    if format == Format::Jpeg && !jpeg_is_complete(bytes) {
        return Err(DecodeError::TruncatedJpeg { len: bytes.len() });
    }

    // 1. Read the declared size from the header alone (no pixel buffer yet),
    //    with the dimension limits lifted so that the error can name the size.
    let mut header_limits = limits.to_image_limits();
    header_limits.max_image_width = None;
    header_limits.max_image_height = None;
    let mut header = ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
    header.limits(header_limits);
    let mut decoder = header
        .into_decoder()
        .map_err(|source| decoder_error(format, source))?;
    let (width, height) = decoder.dimensions();
    if width > limits.max_width || height > limits.max_height {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    // The decoded pixels, plus the RGB8 copy if they are of another type.
    let rgb8 = u64::from(width) * u64::from(height) * 3;
    let needed = match decoder.color_type() {
        ColorType::Rgb8 => rgb8,
        _ => decoder.total_bytes().saturating_add(rgb8),
    };
    if needed > limits.max_alloc_bytes {
        return Err(DecodeError::TooMuchMemory {
            format,
            width,
            height,
            needed,
            max_alloc_bytes: limits.max_alloc_bytes,
        });
    }

    // 2. Decode for real, with the same decoder (the bytes are copied and
    //    the header parsed once), under the full limits, as
    //    `ImageReader::decode` does it.
    let decoded = (|| {
        let mut full = limits.to_image_limits();
        full.reserve(decoder.total_bytes())?;
        decoder.set_limits(full)?;
        if decoder.color_type() == ColorType::Rgb8
            && let Ok(len) = usize::try_from(decoder.total_bytes())
        {
            // The decoder writes every byte; only bytes the spare lacks
            // are zero-filled first.
            let mut raw = spare;
            raw.resize(len, 0);
            decoder.read_image(&mut raw)?;
            let rgb = RgbImage::from_raw(width, height, raw)
                .expect("an RGB8 decoder fills width * height * 3 bytes");
            return Ok(image::DynamicImage::ImageRgb8(rgb));
        }
        image::DynamicImage::from_decoder(decoder)
    })();
    match decoded {
        Ok(image::DynamicImage::ImageRgb8(rgb)) => Ok(rgb),
        Ok(other) => Ok(other.into_rgb8()),
        Err(source) => Err(decoder_error(format, source)),
    }
}

/// Names the decoder's error: a limit it stopped at (even while reading
/// the header, when the memory limit leaves no room for the decoder's own
/// buffers), or data it could not decode.
fn decoder_error(format: Format, source: ImageError) -> DecodeError {
    match source {
        ImageError::Limits(_) => DecodeError::LimitExceeded { format, source },
        source => DecodeError::Corrupt { format, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::synth::{photo, photo_jpeg};
    use image::{DynamicImage, GrayImage, ImageBuffer, Rgba, RgbaImage};

    fn png_of(img: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .expect("PNG encodes");
        out.into_inner()
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

    /// A valid small JPEG whose frame header claims `width`x`height`.
    fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
        let mut jpeg = photo_jpeg(1, 16, 16);
        // SOF0 is FF C0, a 2-byte length, 1 byte of precision, then height and width.
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("a baseline JPEG has SOF0");
        jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        jpeg
    }

    /// A valid small PNG whose header (IHDR) claims `width`x`height`, with a
    /// correct checksum so that the decoder believes it.
    fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut png = png_of(&DynamicImage::ImageRgb8(photo(1, 8, 8)));
        // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; CRC at 29.
        assert_eq!(&png[12..16], b"IHDR");
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    #[test]
    fn a_good_jpeg_decodes_close_to_its_source() {
        let source = photo(2, 320, 180);
        let jpeg = photo_jpeg(2, 320, 180);
        let img = decode_jpeg(&jpeg, DecodeLimits::default()).expect("a good JPEG");
        assert_eq!(img.dimensions(), (320, 180));
        // Lossy, but close: the mean channel error of quality 80 is a few levels.
        let total: u64 = source
            .as_raw()
            .iter()
            .zip(img.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = total as f64 / source.as_raw().len() as f64;
        assert!(mean < 8.0, "mean error {mean}");
    }

    #[test]
    fn a_grey_jpeg_comes_back_as_grey_rgb() {
        let grey = GrayImage::from_fn(24, 16, |x, y| image::Luma([(x * 10 + y) as u8]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&grey)
            .expect("grey JPEG encodes");
        let img = decode_jpeg(&jpeg, DecodeLimits::default()).expect("a grey JPEG");
        assert_eq!(img.dimensions(), (24, 16));
        assert!(img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn png_is_accepted_losslessly_in_any_pixel_type() {
        let rgb = photo(3, 40, 30);
        let img = decode_jpeg(
            &png_of(&DynamicImage::ImageRgb8(rgb.clone())),
            DecodeLimits::default(),
        );
        assert_eq!(img.expect("an RGB PNG"), rgb);

        let rgba = RgbaImage::from_fn(3, 2, |x, y| Rgba([x as u8 * 50, y as u8 * 90, 7, 0]));
        let img = decode_jpeg(
            &png_of(&DynamicImage::ImageRgba8(rgba)),
            DecodeLimits::default(),
        )
        .expect("an RGBA PNG");
        assert_eq!(img.get_pixel(2, 1).0, [100, 90, 7]); // alpha dropped

        let deep: ImageBuffer<image::Rgb<u16>, Vec<u16>> =
            ImageBuffer::from_fn(2, 2, |x, _| image::Rgb([x as u16 * 257 * 200, 0, 65535]));
        let img = decode_jpeg(
            &png_of(&DynamicImage::ImageRgb16(deep)),
            DecodeLimits::default(),
        )
        .expect("a 16-bit PNG");
        assert_eq!(img.get_pixel(1, 0).0, [200, 0, 255]);
    }

    #[test]
    fn html_is_not_an_image() {
        let page = b"<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>";
        let err = decode_jpeg(page, DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::NotAnImage { .. }));
        assert_eq!(err.to_string(), r#"not an image (starts with "<!DOCTYPE")"#);

        let err = decode_jpeg(b"{\"error\":\"not found\"}", DecodeLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"not an image (starts with "{\"error\":\"not")"#
        );

        let err = decode_jpeg(&[0x00, 0x01, 0xFE], DecodeLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"not an image (starts with "\x00\x01\xfe")"#
        );

        let err = decode_jpeg(b"  \n", DecodeLimits::default()).unwrap_err();
        assert_eq!(err.to_string(), r#"not an image (starts with "  \n")"#);
    }

    #[test]
    fn nothing_is_not_an_image() {
        let err = decode_jpeg(b"", DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::Empty));
        assert_eq!(err.to_string(), "not an image (no data: 0 bytes)");
    }

    #[test]
    fn other_picture_formats_are_refused_by_name() {
        let err = decode_jpeg(b"GIF89a\x01\x00\x01\x00", DecodeLimits::default()).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Unsupported {
                format: ImageFormat::Gif
            }
        ));
        assert_eq!(
            err.to_string(),
            "unsupported image format Gif (only JPEG and PNG are decoded)"
        );
    }

    #[test]
    fn a_truncated_jpeg_is_refused() {
        let jpeg = photo_jpeg(4, 200, 100);
        // Why the check exists: the `image` crate alone decodes a cut JPEG
        // without complaint (the missing rows come out grey).
        assert!(image::load_from_memory(&jpeg[..jpeg.len() / 2]).is_ok());

        for cut in [3, 4, 700, jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            let err = decode_jpeg(&jpeg[..cut], DecodeLimits::default()).unwrap_err();
            assert!(
                matches!(err, DecodeError::TruncatedJpeg { len } if len == cut),
                "cut at {cut}"
            );
            assert!(
                err.to_string()
                    .starts_with("truncated JPEG: no end-of-image marker"),
                "{err}"
            );
        }
        // The marker alone after the start is no picture either: refused by the decoder.
        let err = decode_jpeg(&[0xFF, 0xD8, 0xFF, 0xD9], DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Corrupt {
                    format: Format::Jpeg,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn zero_padding_after_the_end_marker_is_accepted_and_nothing_else() {
        let mut jpeg = photo_jpeg(4, 64, 32);
        jpeg.extend([0u8; 512]);
        assert_eq!(
            decode_jpeg(&jpeg, DecodeLimits::default())
                .expect("padded")
                .width(),
            64
        );
        jpeg.push(b'x');
        let err = decode_jpeg(&jpeg, DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::TruncatedJpeg { .. }), "{err}");
    }

    #[test]
    fn a_truncated_png_is_refused_by_its_decoder() {
        let png = png_of(&DynamicImage::ImageRgb8(photo(5, 100, 60)));
        let err = decode_jpeg(&png[..png.len() / 2], DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Corrupt {
                    format: Format::Png,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("corrupt PNG: "), "{err}");
    }

    #[test]
    fn a_jpeg_bomb_is_refused_from_its_header() {
        let bomb = jpeg_declaring(60_000, 60_000);
        assert!(bomb.len() < 2_000);
        let err = decode_jpeg(&bomb, DecodeLimits::default()).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::TooLarge {
                width: 60_000,
                height: 60_000,
                max_width: 10_000,
                max_height: 10_000
            }
        ));
        assert_eq!(
            err.to_string(),
            "image 60000x60000 exceeds the limit 10000x10000"
        );

        // One side over is enough.
        let err = decode_jpeg(&jpeg_declaring(10_001, 16), DecodeLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image 10001x16 exceeds the limit 10000x10000"
        );
    }

    #[test]
    fn a_png_bomb_is_refused_from_its_header() {
        let bomb = png_declaring(60_000, 60_000);
        let err = decode_jpeg(&bomb, DecodeLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image 60000x60000 exceeds the limit 10000x10000"
        );
    }

    #[test]
    fn the_memory_limit_is_checked_before_decoding() {
        let jpeg = photo_jpeg(6, 400, 300);
        let limits = DecodeLimits {
            max_alloc_bytes: 100_000,
            ..DecodeLimits::default()
        };
        let err = decode_jpeg(&jpeg, limits).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooMuchMemory {
                    needed: 360_000,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "JPEG image 400x300 needs 360000 bytes, over the limit of 100000"
        );
        // A bomb within the side limits but over the memory limit.
        let limits = DecodeLimits {
            max_alloc_bytes: 100 << 20,
            ..DecodeLimits::default()
        };
        let err = decode_jpeg(&jpeg_declaring(9_000, 9_000), limits).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooMuchMemory {
                    needed: 243_000_000,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn garbage_between_the_markers_is_corrupt() {
        let mut data = vec![0xFF, 0xD8, 0xFF, 0xE0];
        data.extend(std::iter::repeat_n(0x5A, 300));
        data.extend([0xFF, 0xD9]);
        let err = decode_jpeg(&data, DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Corrupt {
                    format: Format::Jpeg,
                    ..
                }
            ),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn the_default_limits_fit_the_pipeline_with_headroom() {
        let limits = DecodeLimits::default();
        assert!(limits.max_width >= 4 * 1920 && limits.max_height >= 4 * 1080);
        assert!(limits.max_alloc_bytes >= 16 * 1920 * 1080 * 3);
    }
}
