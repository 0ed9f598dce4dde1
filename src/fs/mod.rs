//! Async file helpers over the blocking pool (what `aiofiles` does for the
//! tutorial).
//!
//! Operating systems offer no readiness model for regular files (a file is
//! always "ready", and a read may still block on the disk), so each call
//! here runs the `std::fs` call on the blocking pool and awaits it. Errors
//! name the path.
//!
//! [`File`] implements the runtime-neutral [`futures_io::AsyncRead`],
//! [`futures_io::AsyncWrite`] and [`futures_io::AsyncSeek`], so code written
//! for those traits reads and writes it: here futures-util's `write_all`,
//! `close` and a `BufReader`'s `lines`.
//!
//! ```
//! use evloop::fs::File;
//! use futures_util::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use futures_util::stream::TryStreamExt;
//!
//! let path = std::env::temp_dir().join(format!("evloop-doc-fs-traits-{}", std::process::id()));
//! evloop::run(async {
//!     let mut file = File::create(&path).await.unwrap();
//!     // The trait's `write_all` (File's own method of that name would win
//!     // the plain `file.write_all(..)` call; both write everything).
//!     AsyncWriteExt::write_all(&mut file, b"one\ntwo\n").await.unwrap();
//!     file.close().await.unwrap(); // waits until the OS has the bytes
//!     let lines: Vec<String> = BufReader::new(File::open(&path).await.unwrap())
//!         .lines()
//!         .try_collect()
//!         .await
//!         .unwrap();
//!     assert_eq!(lines, ["one", "two"]);
//! });
//! std::fs::remove_file(&path).unwrap();
//! ```

mod file;

use std::io;
use std::path::Path;

pub use file::File;

use crate::offload::spawn_blocking;

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

async fn blocking<T: Send + 'static>(
    what: &'static str,
    path: &Path,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    match spawn_blocking(f).await {
        Ok(result) => result.map_err(|e| with_path(e, what, path)),
        Err(join) => Err(io::Error::other(format!(
            "{what} {}: {join}",
            path.display()
        ))),
    }
}

/// Reads a whole file.
///
/// # Errors
///
/// What `std::fs::read` reports, naming the path.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("evloop-doc-fs-{}", std::process::id()));
/// evloop::run(async {
///     evloop::fs::create_dir_all(&dir).await.unwrap();
///     evloop::fs::write(dir.join("a.txt"), b"hello".to_vec()).await.unwrap();
///     assert_eq!(evloop::fs::read(dir.join("a.txt")).await.unwrap(), b"hello");
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    let p = path.clone();
    blocking("reading", &path, move || std::fs::read(p)).await
}

/// Writes `contents` to a file, creating or truncating it.
///
/// As `std::fs::write` does, this follows a symbolic link at `path`; see
/// [`crate::atomic_file::write`] for a write that replaces a link instead.
///
/// # Errors
///
/// What `std::fs::write` reports, naming the path.
pub async fn write(path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let p = path.clone();
    let contents = contents.into();
    blocking("writing", &path, move || std::fs::write(p, contents)).await
}

/// Creates a directory and all its missing parents.
///
/// # Errors
///
/// What `std::fs::create_dir_all` reports, naming the path.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let p = path.clone();
    blocking("creating directory", &path, move || {
        std::fs::create_dir_all(p)
    })
    .await
}

/// Renames a file (atomic within one file system).
///
/// # Errors
///
/// What `std::fs::rename` reports, naming both paths.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    let (f, t) = (from.clone(), to.clone());
    let what = format!("to {}", to.display());
    blocking("renaming", &from, move || std::fs::rename(f, t))
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{e} ({what})")))
}

/// Removes a file.
///
/// # Errors
///
/// What `std::fs::remove_file` reports, naming the path.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let p = path.clone();
    blocking("removing", &path, move || std::fs::remove_file(p)).await
}
