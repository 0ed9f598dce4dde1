//! The image host's photo cache: photos drawn once, kept in a folder for
//! the next run (the demo's is `output/photo-cache`, see
//! [`host::CACHE_FOLDER`](super::host::CACHE_FOLDER)).
//!
//! A file per photo, named for its number, its size and
//! [`synth::DRAWING_VERSION`] ([`cache_name`]), so that a photo of another
//! size or of another version of the drawing is never mistaken for it. The
//! file is the JPEG followed by a trailer (its length and an FNV-1a
//! checksum), and is read back only if the trailer matches: a file cut
//! short by a crash, or damaged, is a miss and the photo is drawn again.
//!
//! Files are written through [`atomic_file`] (a new file renamed into
//! place, never through a link planted at the name), and read without
//! following a link ([`atomic_file::open_nofollow`]): a link at a photo's
//! name is a miss, and is replaced by the photo drawn again.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::synth;
use crate::atomic_file;

/// The cache file's name for photo `k` at `width`×`height`.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::photo_cache::cache_name;
/// use evloop::pipeline::synth::DRAWING_VERSION;
///
/// assert_eq!(cache_name(3, 1920, 1080), format!("photo-v{DRAWING_VERSION}-1920x1080-3.jpg"));
/// ```
pub fn cache_name(k: u32, width: u32, height: u32) -> String {
    format!("photo-v{}-{width}x{height}-{k}.jpg", synth::DRAWING_VERSION)
}

/// The bytes that close a cache file: the photo's length, then its
/// checksum, each a little-endian `u64`. (JPEG readers ignore what follows
/// the end-of-image marker, so a cache file still opens as a picture.)
const TRAILER_LEN: usize = 16;

/// The largest cache file read (a photo of `MAX_SIDE`² is far below it).
const MAX_CACHE_FILE: u64 = 256 << 20;

/// The photo followed by its trailer.
fn with_trailer(photo: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(photo.len() + TRAILER_LEN);
    bytes.extend_from_slice(photo);
    bytes.extend_from_slice(&(photo.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&fnv1a(photo).to_le_bytes());
    bytes
}

/// Photo `k` of `width`×`height` from the cache folder `dir`, if its file
/// is there, is not a link, and is whole (its trailer matches).
pub fn read(dir: &Path, k: u32, width: u32, height: u32) -> Option<Vec<u8>> {
    read_file(&dir.join(cache_name(k, width, height)))
}

/// Writes photo `k` of `width`×`height` into the cache folder `dir`, with
/// its trailer, as a new file renamed into place ([`atomic_file::write`]:
/// a link planted at the name is replaced, never written through).
///
/// # Errors
///
/// What [`atomic_file::write`] says, naming the file.
pub fn write(
    dir: &Path,
    k: u32,
    width: u32,
    height: u32,
    photo: &[u8],
) -> Result<PathBuf, atomic_file::WriteError> {
    atomic_file::write(dir.join(cache_name(k, width, height)), &with_trailer(photo))
}

/// The photo in a cache file, if the file is there, is not a link, and is
/// whole: the trailer's length and checksum match and the photo is a JPEG
/// from its start marker to its end marker. Anything else is a miss.
fn read_file(path: &Path) -> Option<Vec<u8>> {
    let file = atomic_file::open_nofollow(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_FILE).read_to_end(&mut bytes).ok()?;
    let photo_len = bytes.len().checked_sub(TRAILER_LEN)?;
    let (photo, trailer) = bytes.split_at(photo_len);
    let stored_len = u64::from_le_bytes(trailer[..8].try_into().ok()?);
    let stored_sum = u64::from_le_bytes(trailer[8..].try_into().ok()?);
    let whole = stored_len == photo_len as u64
        && stored_sum == fnv1a(photo)
        && photo.starts_with(&[0xFF, 0xD8])
        && photo.ends_with(&[0xFF, 0xD9]);
    if !whole {
        return None;
    }
    bytes.truncate(photo_len);
    Some(bytes)
}

/// FNV-1a, 64 bits: a checksum against torn or damaged files (not against
/// someone forging one).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Makes the cache folder `dir` (its parent is created if missing; a link
/// in the folder's own place is refused, see [`atomic_file::create_dir`]).
///
/// # Errors
///
/// The parent cannot be created, or something other than a folder of
/// ours is at `dir`.
pub fn prepare_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    atomic_file::create_dir(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file::test_dir::TempDir;

    #[test]
    fn cache_files_round_trip_and_damage_is_a_miss() {
        let dir = TempDir::new("gallery-cache-file");
        let path = dir.path("photo.jpg");
        let photo = synth::photo_jpeg(1, 16, 9);
        atomic_file::write(&path, &with_trailer(&photo)).unwrap();
        assert_eq!(read_file(&path).unwrap(), photo);
        let whole = with_trailer(&photo);
        for cut in [0, 1, TRAILER_LEN, whole.len() - 1] {
            atomic_file::write(&path, &whole[..cut]).unwrap();
            assert!(read_file(&path).is_none(), "cut at {cut}");
        }
        let mut flipped = whole.clone();
        flipped[photo.len() / 2] ^= 0x40;
        atomic_file::write(&path, &flipped).unwrap();
        assert!(read_file(&path).is_none(), "a flipped bit");
        assert!(read_file(&dir.path("missing.jpg")).is_none());
    }
}
