//! Output files: their names, their JPEG encoding, and writing them atomically.
//!
//! File names come from the image's number only (`image_3.jpg`), never from a
//! URL or a server's answer, so a hostile server cannot choose where a file
//! lands. [`write_atomic`] writes through [`crate::atomic_file`]: a new file
//! under an unpredictable temporary name in the destination folder, renamed
//! into place, so a reader (or a crash) never sees half a picture under the
//! final name, a symbolic link planted at either name is never written
//! through, and the temporary file is removed when anything fails.
//!
//! # Why no fsync by default
//!
//! The rename makes the switch atomic for every process on the machine; it
//! does not make the new content durable across a power cut. That would need
//! `fsync` on the file and on the folder, which costs from a millisecond to
//! tens of milliseconds per file on a real disk. The pipeline's outputs can be
//! recomputed at any time, the Python scripts it is measured against do not
//! fsync either, and the comparison would be skewed if only one side paid for
//! it. [`write_atomic_durable`] is there for callers that need durability.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use image::error::{EncodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::{ImageError, ImageFormat, RgbImage};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::grey_jpeg::{self, GreyJpegError, GreyPixels};
use crate::atomic_file::{self, WriteError};

/// The JPEG quality of the processed pictures: Pillow's default, which the
/// tutorial's `Image.save` uses.
pub const OUTPUT_JPEG_QUALITY: u8 = 75;

/// The file name of a downloaded picture: `image_<index>.jpg`.
///
/// `index` is the picture's number as in its URL (`/image_3.jpg` is index 3;
/// the tutorial counts from 1).
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::original_name;
///
/// assert_eq!(original_name(3), "image_3.jpg");
/// ```
pub fn original_name(index: usize) -> String {
    format!("image_{index}.jpg")
}

/// The file name of a processed picture (its edge map).
///
/// The same as [`original_name`], as in the tutorial, which saves the edge
/// map under the original's name in the `processed_images` folder.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::{original_name, processed_name};
///
/// assert_eq!(processed_name(12), "image_12.jpg");
/// assert_eq!(processed_name(12), original_name(12));
/// ```
pub fn processed_name(index: usize) -> String {
    original_name(index)
}

/// Why storing an output failed.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::{write_atomic, StoreError};
///
/// let err = write_atomic(std::path::Path::new("."), "../escape.jpg", b"x").unwrap_err();
/// assert!(matches!(err, StoreError::InvalidName { .. }));
/// assert_eq!(err.to_string(), r#"refusing file name "../escape.jpg": it contains a path separator"#);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The file name could lead outside the folder, or is no name at all.
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A file system operation failed.
    Io {
        /// What was being done: `"create"` (the temporary file), `"write"`,
        /// `"sync"`, `"rename onto"` (the final name); see
        /// [`WriteError`].
        action: &'static str,
        /// The file (or folder) it was done to.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The picture could not be encoded as JPEG (a JPEG side must be 1..=65535).
    Encode {
        /// The picture's width.
        width: u32,
        /// The picture's height.
        height: u32,
        /// The encoder's error.
        source: image::ImageError,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InvalidName { name, reason } => {
                write!(f, "refusing file name {name:?}: {reason}")
            }
            StoreError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            StoreError::Encode {
                width,
                height,
                source,
            } => write!(
                f,
                "cannot encode a {width}x{height} picture as JPEG: {source}"
            ),
        }
    }
}

impl From<WriteError> for StoreError {
    fn from(err: WriteError) -> StoreError {
        StoreError::Io {
            action: err.action,
            path: err.path,
            source: err.source,
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::InvalidName { .. } => None,
            StoreError::Io { source, .. } => Some(source),
            StoreError::Encode { source, .. } => Some(source),
        }
    }
}

/// Encodes a picture (an edge map) as a baseline JPEG of quality
/// [`OUTPUT_JPEG_QUALITY`].
///
/// # Errors
///
/// [`StoreError::Encode`] when a side is 0 or over 65535 pixels, which JPEG
/// cannot express.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::encode_jpeg;
/// use image::RgbImage;
///
/// let jpeg = encode_jpeg(&RgbImage::new(16, 8))?;
/// assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
/// assert!(encode_jpeg(&RgbImage::new(0, 8)).is_err());
/// # Ok::<(), evloop::pipeline::store::StoreError>(())
/// ```
pub fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, StoreError> {
    encode(img.as_raw(), img.width(), img.height(), ColorType::Rgb)
}

/// Encodes `width` x `height` pixels of `color` as a baseline JPEG of quality
/// [`OUTPUT_JPEG_QUALITY`], every channel at full resolution (no chroma
/// subsampling), with the `jpeg-encoder` crate: twice as fast as `image`'s
/// own encoder here (see `benches/pipeline_steps.rs`).
fn encode(pixels: &[u8], width: u32, height: u32, color: ColorType) -> Result<Vec<u8>, StoreError> {
    encode_with(width, height, pixels.len() / 8, |encoder, w, h| {
        encoder.encode(pixels, w, h, color)
    })
}

/// Checks the size, sets up the encoder as [`encode`] describes, and lets
/// `run` encode with it (sides as `u16`, known to be in 1..=65535).
fn encode_with(
    width: u32,
    height: u32,
    capacity: usize,
    run: impl FnOnce(Encoder<&mut Vec<u8>>, u16, u16) -> Result<(), jpeg_encoder::EncodingError>,
) -> Result<Vec<u8>, StoreError> {
    let failed = |source| StoreError::Encode {
        width,
        height,
        source,
    };
    let (Ok(w @ 1..), Ok(h @ 1..)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(failed(ImageError::Limits(LimitError::from_kind(
            LimitErrorKind::DimensionError,
        ))));
    };
    let mut out = Vec::with_capacity(capacity);
    let mut encoder = Encoder::new(&mut out, OUTPUT_JPEG_QUALITY);
    encoder.set_sampling_factor(SamplingFactor::F_1_1);
    run(encoder, w, h).map_err(|e| {
        failed(ImageError::Encoding(EncodingError::new(
            ImageFormatHint::Exact(ImageFormat::Jpeg),
            e,
        )))
    })?;
    Ok(out)
}

/// Encodes an edge map (black and white pixels only) as a greyscale JPEG at
/// [`OUTPUT_JPEG_QUALITY`].
///
/// The picture is the same as an RGB JPEG of it would show, for a third of
/// the encoding work: one channel instead of three. The encoder is the
/// pipeline's own ([`grey_jpeg`]), written for edge maps:
/// it skips the transform of the flat blocks (about half of them) and the
/// zero coefficients of the others, and writes the same tables, and a
/// picture that decodes the same, as the `jpeg-encoder` crate in well
/// under half its time (about 5 ms against 12 ms at 1920x1080:
/// `cargo bench --bench pipeline_steps`). Encoding was the largest step
/// of processing an image before it.
///
/// # Errors
///
/// As [`encode_jpeg`].
///
/// # Examples
///
/// ```
/// use evloop::pipeline::{edge, store};
/// let photo = image::RgbImage::from_fn(32, 16, |x, _| image::Rgb([(x * 8) as u8, 0, 0]));
/// let jpeg = store::encode_edge_map(&edge::edge_map(&photo)).unwrap();
/// let back = image::load_from_memory(&jpeg).unwrap();
/// assert_eq!(back.color(), image::ColorType::L8);
/// assert_eq!((back.width(), back.height()), (32, 16));
/// ```
pub fn encode_edge_map(edges: &RgbImage) -> Result<Vec<u8>, StoreError> {
    // Every pixel is (0, 0, 0) or (255, 255, 255): the red byte says it all.
    let pixels = GreyPixels {
        bytes: edges.as_raw(),
        width: edges.width(),
        height: edges.height(),
        step: 3,
    };
    let mut out = Vec::with_capacity(edges.len() / 24);
    grey_jpeg::encode(pixels, OUTPUT_JPEG_QUALITY, &mut out).map_err(|e| {
        let source = match e {
            GreyJpegError::Size { .. } => {
                ImageError::Limits(LimitError::from_kind(LimitErrorKind::DimensionError))
            }
            other => ImageError::Encoding(EncodingError::new(
                ImageFormatHint::Exact(ImageFormat::Jpeg),
                other,
            )),
        };
        StoreError::Encode {
            width: edges.width(),
            height: edges.height(),
            source,
        }
    })?;
    Ok(out)
}

/// Checks that `name` is a plain file name: not empty, not `.`, no path
/// separator, no `..`, no NUL byte.
fn check_name(name: &str) -> Result<(), StoreError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if name.contains("..") {
        Some("it contains \"..\"")
    } else if name == "." {
        Some("it names the folder itself")
    } else if name.contains('\0') {
        Some("it contains a NUL byte")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Writes `bytes` to `dir/name` atomically, without fsync; returns the path
/// written.
///
/// The bytes go to a new temporary file in `dir` under an unpredictable
/// name, which is then renamed over `dir/name` (see [`crate::atomic_file`]).
/// Another process sees either the old file or the complete new one, never
/// a mix; a symbolic link planted at `dir/name` is replaced, its target left
/// as it was. On any error the temporary file is removed, and an existing
/// `dir/name` is left as it was. See the [module docs](self) for why there
/// is no fsync; [`write_atomic_durable`] has one.
///
/// # Errors
///
/// [`StoreError::InvalidName`] when `name` is empty, `.`, or contains a path
/// separator, `..` or NUL (nothing is touched then); [`StoreError::Io`] naming
/// the operation and path that failed (a missing folder, a full disk, no
/// permission, a folder in the way).
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::write_atomic;
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-store-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = write_atomic(&dir, "image_1.jpg", b"first")?;
/// write_atomic(&dir, "image_1.jpg", b"second")?;
/// assert_eq!(std::fs::read(&path)?, b"second");
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 1); // no temporary file left
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    write(dir, name, bytes, false)
}

/// Like [`write_atomic`], and also durable: the file's content is flushed to
/// the disk before the rename, and the folder's entry after it.
///
/// # Errors
///
/// As [`write_atomic`], plus `"sync"` failures.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::store::write_atomic_durable;
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-durable-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = write_atomic_durable(&dir, "image_2.jpg", b"bytes")?;
/// assert_eq!(std::fs::read(&path)?, b"bytes");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic_durable(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    write(dir, name, bytes, true)
}

fn write(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<PathBuf, StoreError> {
    check_name(name)?;
    let target = dir.join(name);
    let written = if durable {
        atomic_file::write_durable(&target, bytes)
    } else {
        atomic_file::write(&target, bytes)
    };
    Ok(written?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file::test_dir::TempDir;
    use std::fs;

    #[test]
    fn names_come_from_the_index_only() {
        assert_eq!(original_name(1), "image_1.jpg");
        assert_eq!(original_name(48), "image_48.jpg");
        assert_eq!(processed_name(7), "image_7.jpg");
        assert!(check_name(&original_name(usize::MAX)).is_ok());
    }

    #[test]
    fn writes_and_overwrites_leaving_only_the_file() {
        let dir = TempDir::new("store-overwrite");
        let path = write_atomic(&dir.0, "image_1.jpg", b"old contents").expect("first write");
        assert_eq!(path, dir.0.join("image_1.jpg"));
        assert_eq!(fs::read(&path).expect("read"), b"old contents");

        write_atomic(&dir.0, "image_1.jpg", b"new").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        write_atomic_durable(&dir.0, "image_1.jpg", b"").expect("third write, empty");
        assert_eq!(fs::read(&path).expect("read"), b"");
        assert_eq!(dir.names(), ["image_1.jpg"]);
    }

    #[test]
    fn refuses_names_that_leave_the_folder() {
        let dir = TempDir::new("store-names");
        let outside = dir.0.join("sub");
        fs::create_dir(&outside).expect("create sub");
        let inside = outside.join("in");
        fs::create_dir(&inside).expect("create sub/in");
        for (name, reason) in [
            ("../image_1.jpg", "it contains a path separator"),
            ("..", "it contains \"..\""),
            ("a..b", "it contains \"..\""),
            ("sub/image_1.jpg", "it contains a path separator"),
            ("..\\image_1.jpg", "it contains a path separator"),
            ("/etc/passwd", "it contains a path separator"),
            (".", "it names the folder itself"),
            ("", "it is empty"),
            ("nul\0.jpg", "it contains a NUL byte"),
        ] {
            let err = write_atomic(&inside, name, b"x").unwrap_err();
            match &err {
                StoreError::InvalidName { name: n, reason: r } => {
                    assert_eq!((n.as_str(), *r), (name, reason));
                }
                other => panic!("{name:?}: {other}"),
            }
            assert!(err.to_string().starts_with("refusing file name"), "{err}");
        }
        // Nothing was written anywhere.
        assert_eq!(dir.names(), ["sub"]);
        assert_eq!(fs::read_dir(&outside).expect("list").count(), 1);
        assert_eq!(fs::read_dir(&inside).expect("list").count(), 0);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_path() {
        let dir = TempDir::new("store-missing");
        let missing = dir.0.join("no-such-folder");
        let err = write_atomic(&missing, "image_1.jpg", b"x").unwrap_err();
        match &err {
            StoreError::Io {
                action,
                path,
                source,
            } => {
                assert_eq!(*action, "create");
                assert!(path.starts_with(&missing), "{}", path.display());
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("no-such-folder"), "{err}");
        assert!(!missing.exists());
        assert!(dir.names().is_empty());
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file_and_keeps_the_target() {
        let dir = TempDir::new("store-rename");
        // The target is a folder with something in it: renaming a file over
        // it fails after the temporary file has been written.
        let target = dir.0.join("image_2.jpg");
        fs::create_dir(&target).expect("create the blocking folder");
        fs::write(target.join("keep"), b"keep").expect("write inside");

        let err = write_atomic(&dir.0, "image_2.jpg", b"bytes").unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Io {
                    action: "rename onto",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(dir.names(), ["image_2.jpg"]);
        assert_eq!(fs::read(target.join("keep")).expect("still there"), b"keep");
    }

    #[test]
    fn concurrent_writers_never_share_a_temporary_file() {
        let dir = TempDir::new("store-concurrent");
        let payloads: Vec<Vec<u8>> = (0..4u8).map(|t| vec![t; 64 * 1024]).collect();
        std::thread::scope(|s| {
            for payload in &payloads {
                let dir = &dir.0;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(dir, "image_3.jpg", payload).expect("write");
                    }
                });
            }
        });
        // The file is one writer's whole payload, never a mix.
        let got = fs::read(dir.0.join("image_3.jpg")).expect("read");
        assert!(payloads.contains(&got));
        assert_eq!(dir.names(), ["image_3.jpg"]);
    }

    #[test]
    fn encode_jpeg_round_trips_an_edge_map() {
        let mut map = RgbImage::new(64, 32);
        for x in 0..64 {
            map.put_pixel(x, 16, image::Rgb([255, 255, 255]));
        }
        let jpeg = encode_jpeg(&map).expect("encode");
        let back = crate::pipeline::decode::decode_jpeg(
            &jpeg,
            crate::pipeline::decode::DecodeLimits::default(),
        )
        .expect("decode");
        assert_eq!(back.dimensions(), (64, 32));
        assert!(back.get_pixel(10, 16)[0] > 200 && back.get_pixel(10, 2)[0] < 50);
    }

    #[test]
    fn an_edge_map_encodes_as_its_grey_copy_would() {
        // The red channel, read every third byte, gives the very bytes of
        // encoding a grey copy of the map, at sizes that are and are not
        // whole blocks.
        for (w, h) in [(64, 32), (37, 23), (1, 1), (9, 17)] {
            let map = crate::pipeline::edge::edge_map(&crate::pipeline::synth::photo(2, w, h));
            let grey: Vec<u8> = map.as_raw().chunks_exact(3).map(|p| p[0]).collect();
            let mut copy = Vec::new();
            let pixels = GreyPixels {
                bytes: &grey,
                width: w,
                height: h,
                step: 1,
            };
            grey_jpeg::encode(pixels, OUTPUT_JPEG_QUALITY, &mut copy).expect("encode the copy");
            assert!(
                encode_edge_map(&map).expect("encode the map") == copy,
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn encode_jpeg_refuses_sizes_jpeg_cannot_hold() {
        for (w, h) in [(0, 0), (0, 4), (70_000, 1)] {
            let err = encode_jpeg(&RgbImage::new(w, h)).unwrap_err();
            assert!(
                matches!(err, StoreError::Encode { width, height, .. } if (width, height) == (w, h))
            );
            assert!(err.to_string().contains(&format!("{w}x{h}")), "{err}");
        }
    }
}
