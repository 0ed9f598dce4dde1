//! Async file helpers over the blocking pool (what `aiofiles` does for the
//! tutorial).
//!
//! Operating systems offer no readiness model for regular files (a file is
//! always "ready", and a read may still block on the disk), so each call
//! here runs the `std::fs` call on the blocking pool and awaits it. Errors
//! name the path.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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

/// An open file written chunk by chunk, each write on the blocking pool.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("evloop-doc-file-{}", std::process::id()));
/// evloop::run(async {
///     let mut file = evloop::fs::File::create(&path).await.unwrap();
///     file.write_all(b"chunk 1, ").await.unwrap();
///     file.write_all(b"chunk 2").await.unwrap();
///     file.sync_all().await.unwrap();
/// });
/// assert_eq!(std::fs::read(&path).unwrap(), b"chunk 1, chunk 2");
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct File {
    /// `None` only while a write is in flight on the pool (or after a write
    /// future was dropped midway, which leaves the file unusable).
    inner: Option<std::fs::File>,
    path: PathBuf,
}

impl File {
    /// Creates (or truncates) a file for writing.
    ///
    /// # Errors
    ///
    /// What `std::fs::File::create` reports, naming the path.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let p = path.clone();
        let inner = blocking("creating", &path, move || std::fs::File::create(p)).await?;
        Ok(File {
            inner: Some(inner),
            path,
        })
    }

    /// Opens an existing file for reading.
    ///
    /// # Errors
    ///
    /// What `std::fs::File::open` reports, naming the path.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let p = path.clone();
        let inner = blocking("opening", &path, move || std::fs::File::open(p)).await?;
        Ok(File {
            inner: Some(inner),
            path,
        })
    }

    fn take(&mut self) -> io::Result<std::fs::File> {
        self.inner.take().ok_or_else(|| {
            io::Error::other(format!(
                "{}: an earlier operation on this file was cancelled midway",
                self.path.display()
            ))
        })
    }

    /// Writes all of `buf` (copied, since the write happens on another thread).
    ///
    /// Not cancel safe: if the future is dropped midway, the write may or may
    /// not happen and the `File` can no longer be used.
    ///
    /// # Errors
    ///
    /// A write error, naming the path.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut file = self.take()?;
        let chunk = buf.to_vec();
        let (file, result) = spawn_blocking(move || {
            let r = file.write_all(&chunk);
            (file, r)
        })
        .await
        .map_err(|e| io::Error::other(format!("writing {}: {e}", self.path.display())))?;
        self.inner = Some(file);
        result.map_err(|e| with_path(e, "writing", &self.path))
    }

    /// Flushes data and metadata to the disk (`fsync`).
    ///
    /// # Errors
    ///
    /// What `fsync` reports, naming the path.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        let file = self.take()?;
        let (file, result) = spawn_blocking(move || {
            let r = file.sync_all();
            (file, r)
        })
        .await
        .map_err(|e| io::Error::other(format!("syncing {}: {e}", self.path.display())))?;
        self.inner = Some(file);
        result.map_err(|e| with_path(e, "syncing", &self.path))
    }

    /// Reads the rest of the file.
    ///
    /// # Errors
    ///
    /// A read error, naming the path.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let mut file = self.take()?;
        let (file, result) = spawn_blocking(move || {
            let mut buf = Vec::new();
            let r = file.read_to_end(&mut buf).map(|_| buf);
            (file, r)
        })
        .await
        .map_err(|e| io::Error::other(format!("reading {}: {e}", self.path.display())))?;
        self.inner = Some(file);
        result.map_err(|e| with_path(e, "reading", &self.path))
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("path", &self.path).finish()
    }
}
