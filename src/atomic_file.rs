//! Writing a file so that nothing but that file changes: the one path by
//! which evloop's library and demo write every file of their own (saved
//! pictures, edge maps, timelines, traces).
//!
//! An output folder may be shared: someone else can plant a symbolic link
//! at a name the program is about to write, pointing at a file of theirs
//! (or of the user's), and a plain `std::fs::write` would overwrite that
//! file through the link. [`AtomicFile`] never opens a name that already
//! exists:
//!
//! 1. the bytes go to a **new** file (`O_CREAT | O_EXCL`, std's
//!    `create_new`, which also refuses a link, even a dangling one) under an
//!    **unpredictable** name in the target's own folder
//!    (`.<name>.<16 hex digits>.tmp`), tried again under another name if
//!    that one is taken;
//! 2. it is then **renamed** over the target. A rename replaces the
//!    directory entry itself: a link planted at the final name is replaced
//!    by the new file, and whatever it pointed at is left as it was; a
//!    folder in the way is an error naming the path;
//! 3. on every error, and when an [`AtomicFile`] is dropped without being
//!    committed, the temporary file is removed.
//!
//! A reader (or a crash) sees either the old file or the whole new one at
//! the final name, never half of it. [`write_durable`] adds `fsync` of the
//! file before the rename and of the folder after it.
//!
//! The rest of the module follows the same rule: [`check_writable`] probes
//! a folder with a new file of its own and removes it, [`create_dir`] makes
//! a folder of the program's own and refuses a link in its place, and
//! [`open_nofollow`] reads back a file without following a link planted at
//! its name.
//!
//! This module imports nothing of evloop, so every layer can use it (the
//! runtime's trace output as well as the image pipeline).
//!
//! ```
//! use std::os::unix::fs::symlink;
//!
//! let dir = std::env::temp_dir().join(format!("evloop-doc-atomic-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // Someone plants a link at the name the program writes.
//! std::fs::write(dir.join("theirs.txt"), b"theirs")?;
//! symlink(dir.join("theirs.txt"), dir.join("out.svg"))?;
//!
//! evloop::atomic_file::write(dir.join("out.svg"), b"<svg/>")?;
//! // The link was replaced by the file; its target is untouched.
//! assert!(std::fs::symlink_metadata(dir.join("out.svg"))?.is_file());
//! assert_eq!(std::fs::read(dir.join("out.svg"))?, b"<svg/>");
//! assert_eq!(std::fs::read(dir.join("theirs.txt"))?, b"theirs");
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::hash_map::RandomState;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How many temporary names are tried before giving up. With 64 random
/// bits per name, a second try is already a sign that someone is planting
/// names; a few dozen taken in a row means the folder is being flooded.
const NAME_ATTEMPTS: usize = 32;

/// The longest part of the target's name kept in a temporary name (bytes),
/// so that `.<name>.<16 hex>.tmp` stays within the usual 255-byte limit.
const NAME_PREFIX_MAX: usize = 200;

/// Why writing a file failed: what was being done, and to which path.
///
/// `action` is one of `"create"` (the temporary file), `"write"`, `"sync"`
/// (the file or its folder), `"rename onto"` (the final name), `"remove"`,
/// `"open"`, `"create folder"`; `path` is the file or folder it was done
/// to. It converts into an [`io::Error`] of the same kind and message.
///
/// # Examples
///
/// ```
/// let missing = std::env::temp_dir().join("evloop-doc-no-such-folder/out.svg");
/// let err = evloop::atomic_file::write(&missing, b"x").unwrap_err();
/// assert_eq!(err.action, "create");
/// assert!(err.path.starts_with(missing.parent().unwrap()));
/// assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("cannot create "));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct WriteError {
    /// What was being done.
    pub action: &'static str,
    /// The file or folder it was done to.
    pub path: PathBuf,
    /// The operating system's error (or a message saying what is in the way).
    pub source: io::Error,
}

impl WriteError {
    fn new(action: &'static str, path: &Path, source: io::Error) -> WriteError {
        WriteError {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<WriteError> for io::Error {
    fn from(err: WriteError) -> io::Error {
        io::Error::new(err.source.kind(), err)
    }
}

/// A new file under a temporary name beside its target, renamed over the
/// target by [`commit`](AtomicFile::commit); removed if it is dropped
/// uncommitted or a step fails.
///
/// Write to it with [`write_all`](AtomicFile::write_all) or through
/// [`file`](AtomicFile::file) (`&File` is `Write`); a clone of the file
/// (`file().try_clone()`) may be written elsewhere, such as on another
/// thread, as long as it is closed before the commit.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use evloop::atomic_file::AtomicFile;
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-atomic-file-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let target = dir.join("report.txt");
///
/// let mut file = AtomicFile::new(&target)?;
/// file.write_all(b"part one, ")?;
/// writeln!(file.file(), "part two")?;
/// assert!(!target.exists()); // nothing at the final name until the commit
/// assert_eq!(file.commit()?, target);
/// assert_eq!(std::fs::read_to_string(&target)?, "part one, part two\n");
///
/// // Dropped without a commit: the temporary file goes, the target stays.
/// let mut abandoned = AtomicFile::new(&target)?;
/// abandoned.write_all(b"never seen")?;
/// let temp = abandoned.temp_path().to_owned();
/// drop(abandoned);
/// assert!(!temp.exists());
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    temp: TempName,
}

/// The temporary file's name; removes the file when dropped while armed.
#[derive(Debug)]
struct TempName {
    path: PathBuf,
    target: PathBuf,
    armed: bool,
}

impl Drop for TempName {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the error that matters is the one being
            // returned, or there is none (the file was abandoned).
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl AtomicFile {
    /// Creates a new, empty temporary file in `target`'s folder, to be
    /// renamed over `target` by [`commit`](AtomicFile::commit).
    ///
    /// # Errors
    ///
    /// `"create"` naming the temporary file: the folder is missing or not
    /// writable; or `target` has no file name (it ends in `..` or is a
    /// root).
    pub fn new(target: impl AsRef<Path>) -> Result<AtomicFile, WriteError> {
        let target = target.as_ref();
        let names = std::iter::repeat_with(|| temp_name(target)).take(NAME_ATTEMPTS);
        create_with_names(target, names)
    }

    /// Where the file goes on [`commit`](AtomicFile::commit).
    pub fn target(&self) -> &Path {
        &self.temp.target
    }

    /// Where the bytes are until then.
    pub fn temp_path(&self) -> &Path {
        &self.temp.path
    }

    /// The open temporary file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Writes all of `bytes` at the file's position.
    ///
    /// # Errors
    ///
    /// `"write"` naming the temporary file (a full disk, say).
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.file
            .write_all(bytes)
            .map_err(|e| WriteError::new("write", &self.temp.path, e))
    }

    /// Renames the file over its target; returns the target.
    ///
    /// Whatever was at the target (an old file, a planted link) is
    /// replaced by the new file; a link's target is never touched.
    ///
    /// # Errors
    ///
    /// `"rename onto"` naming the target, when a folder is in the way (a
    /// file cannot replace it) or the rename fails; the temporary file is
    /// removed then.
    pub fn commit(self) -> Result<PathBuf, WriteError> {
        let AtomicFile { file, mut temp } = self;
        drop(file);
        rename_onto(&temp.path, &temp.target)?;
        temp.armed = false;
        Ok(std::mem::take(&mut temp.target))
    }

    /// Like [`commit`](AtomicFile::commit), and durable: the file's content
    /// reaches the disk (`fsync`) before the rename, and the folder's entry
    /// after it.
    ///
    /// # Errors
    ///
    /// As [`commit`](AtomicFile::commit), plus `"sync"` naming the file or
    /// the folder. When only the folder's sync fails, the new file is
    /// already in place.
    pub fn commit_durable(self) -> Result<PathBuf, WriteError> {
        self.file
            .sync_all()
            .map_err(|e| WriteError::new("sync", &self.temp.path, e))?;
        let target = self.commit()?;
        let folder = folder_of(&target);
        File::open(folder)
            .and_then(|d| d.sync_all())
            .map_err(|e| WriteError::new("sync", folder, e))?;
        Ok(target)
    }

    /// Removes the temporary file now, leaving the target as it was.
    ///
    /// # Errors
    ///
    /// `"remove"` naming the temporary file.
    pub fn discard(self) -> Result<(), WriteError> {
        let AtomicFile { file, mut temp } = self;
        drop(file);
        temp.armed = false;
        fs::remove_file(&temp.path).map_err(|e| WriteError::new("remove", &temp.path, e))
    }
}

/// Writes `bytes` to `target` through an [`AtomicFile`], without fsync;
/// returns the target.
///
/// # Errors
///
/// See [`WriteError`]: the folder is missing or not writable, the disk is
/// full, or a folder is in the way at `target`. The temporary file is
/// removed then, and `target` left as it was.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("evloop-doc-write-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = evloop::atomic_file::write(dir.join("t.svg"), b"first")?;
/// evloop::atomic_file::write(&path, b"second")?;
/// assert_eq!(std::fs::read(&path)?, b"second");
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 1); // no temporary file left
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(target: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let mut file = AtomicFile::new(target)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Like [`write()`], and durable (see [`AtomicFile::commit_durable`]).
///
/// # Errors
///
/// As [`write()`], plus `"sync"` failures.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("evloop-doc-durable-w-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = evloop::atomic_file::write_durable(dir.join("a.json"), b"{}")?;
/// assert_eq!(std::fs::read(&path)?, b"{}");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_durable(target: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let mut file = AtomicFile::new(target)?;
    file.write_all(bytes)?;
    file.commit_durable()
}

/// Checks that new files can be written in `dir`: creates one under an
/// unpredictable name, writes two bytes to it, and removes it.
///
/// # Errors
///
/// What failed, naming the probe file (in `dir`).
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("evloop-doc-probe-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// evloop::atomic_file::check_writable(&dir)?;
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 0); // the probe is gone
/// assert!(evloop::atomic_file::check_writable(dir.join("missing")).is_err());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_writable(dir: impl AsRef<Path>) -> Result<(), WriteError> {
    let mut probe = AtomicFile::new(dir.as_ref().join("evloop-write-check"))?;
    probe.write_all(b"ok")?;
    probe.discard()
}

/// Creates the folder `path` (its parent must exist), or accepts a folder
/// already there; refuses a symbolic link or anything else in its place.
///
/// For the folders a program names itself inside a folder it was given:
/// a link planted there would send its files elsewhere.
///
/// # Errors
///
/// `"create folder"` naming `path`: the parent is missing, or a link or a
/// file is in the way.
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::symlink;
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-create-dir-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// evloop::atomic_file::create_dir(dir.join("mine"))?;
/// evloop::atomic_file::create_dir(dir.join("mine"))?; // already there: fine
/// symlink(std::env::temp_dir(), dir.join("planted"))?;
/// let err = evloop::atomic_file::create_dir(dir.join("planted")).unwrap_err();
/// assert!(err.to_string().contains("symbolic link"), "{err}");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_dir(path: impl AsRef<Path>) -> Result<(), WriteError> {
    let path = path.as_ref();
    let fail = |source| Err(WriteError::new("create folder", path, source));
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(meta) if meta.file_type().is_symlink() => fail(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a symbolic link is in its place (remove it: evloop writes only into \
                 folders of its own here)",
            )),
            Ok(_) => fail(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a folder is in its place",
            )),
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}

/// Opens an existing file for reading without following a symbolic link
/// at its name (`O_NOFOLLOW`), so reading back a file the program wrote
/// cannot be turned into reading someone else's.
///
/// # Errors
///
/// The file is missing or unreadable, or a link is at its name; the error
/// names the path.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use std::os::unix::fs::symlink;
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-nofollow-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// evloop::atomic_file::write(dir.join("mine.jpg"), b"bytes")?;
/// let mut text = String::new();
/// evloop::atomic_file::open_nofollow(dir.join("mine.jpg"))?.read_to_string(&mut text)?;
/// assert_eq!(text, "bytes");
/// symlink(dir.join("mine.jpg"), dir.join("link.jpg"))?;
/// assert!(evloop::atomic_file::open_nofollow(dir.join("link.jpg")).is_err());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_nofollow(path: impl AsRef<Path>) -> io::Result<File> {
    let path = path.as_ref();
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path).map_err(|e| {
        let followed = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if followed {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot open {}: a symbolic link is at its name, and evloop does not follow it",
                    path.display()
                ),
            )
        } else {
            io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        }
    })
}

/// The folder a path is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Creates the first free name of `names` as a new file.
fn create_with_names(
    target: &Path,
    names: impl Iterator<Item = PathBuf>,
) -> Result<AtomicFile, WriteError> {
    if target.file_name().is_none() {
        return Err(WriteError::new(
            "create",
            target,
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    }
    let mut last = None;
    for path in names {
        // `create_new` is O_CREAT | O_EXCL: it fails on any existing name,
        // a link included (dangling or not), and never opens one.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                let temp = TempName {
                    path,
                    target: target.to_owned(),
                    armed: true,
                };
                return Ok(AtomicFile { file, temp });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(path),
            Err(e) => return Err(WriteError::new("create", &path, e)),
        }
    }
    let path = last.unwrap_or_else(|| target.to_owned());
    Err(WriteError::new(
        "create",
        &path,
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{NAME_ATTEMPTS} temporary names in a row were taken"),
        ),
    ))
}

/// An unpredictable temporary name beside `target`:
/// `.<name>.<16 hex digits>.tmp`.
fn temp_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut end = name.len().min(NAME_PREFIX_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    folder_of(target).join(format!(".{}.{:016x}.tmp", &name[..end], random_u64()))
}

/// 64 bits nobody outside this process can predict, without a dependency:
/// std's `RandomState` keys its SipHash from the operating system's
/// randomness (once per thread, then a new key per `RandomState`); hashing
/// a counter, the pid and the time with it gives a fresh value each call.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(now);
    hasher.finish()
}

/// Renames `temp` over `target`, saying clearly when a folder is in the way.
fn rename_onto(temp: &Path, target: &Path) -> Result<(), WriteError> {
    fs::rename(temp, target).map_err(|e| {
        let folder_in_the_way = fs::symlink_metadata(target).is_ok_and(|m| m.is_dir());
        let source = if folder_in_the_way {
            io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("a directory is in the way, and a file cannot replace it ({e})"),
            )
        } else {
            e
        };
        WriteError::new("rename onto", target, source)
    })
}

/// A folder of a unit test's own, for the tests here and those of the
/// modules that write through this one.
#[cfg(test)]
pub(crate) mod test_dir {
    use std::fs;
    use std::path::PathBuf;

    /// A fresh folder under the system's temporary folder, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        /// Creates `<tmp>/evloop-<test>-<pid>-<random>`, empty.
        pub(crate) fn new(test: &str) -> TempDir {
            let path = std::env::temp_dir().join(format!(
                "evloop-{test}-{}-{:x}",
                std::process::id(),
                super::random_u64()
            ));
            fs::create_dir_all(&path).expect("create a temporary folder");
            TempDir(path)
        }

        /// `name` in the folder.
        pub(crate) fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }

        /// The names in the folder, sorted.
        pub(crate) fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .expect("list the folder")
                .map(|e| {
                    e.expect("an entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_dir::TempDir;
    use super::*;
    use std::os::unix::fs::symlink;

    const VICTIM: &[u8] = b"must stay as it is";

    /// Puts a file of someone else's, holding [`VICTIM`], at `path` (a
    /// fixture: the one write here that is not through the module).
    fn victim_at(path: impl AsRef<Path>) {
        fs::write(path, VICTIM).expect("the fixture can be written");
    }

    #[test]
    fn temporary_names_are_beside_the_target_and_differ_every_time() {
        let target = Path::new("/some/folder/timeline.svg");
        let names: std::collections::HashSet<PathBuf> =
            (0..1000).map(|_| temp_name(target)).collect();
        assert_eq!(names.len(), 1000);
        for name in &names {
            assert_eq!(name.parent(), Some(Path::new("/some/folder")));
            let file = name.file_name().unwrap().to_str().unwrap();
            assert!(
                file.starts_with(".timeline.svg.") && file.ends_with(".tmp"),
                "{file}"
            );
            assert_eq!(file.len(), ".timeline.svg.".len() + 16 + ".tmp".len());
        }
        // A bare name goes to the current folder; a long one is cut short.
        assert_eq!(temp_name(Path::new("t.svg")).parent(), Some(Path::new(".")));
        let long = "é".repeat(150);
        let name = temp_name(Path::new(&long));
        assert!(name.file_name().unwrap().len() <= 255, "{}", name.display());
    }

    #[test]
    fn a_link_at_the_temporary_name_is_skipped_and_left_alone() {
        let dir = TempDir::new("atomic-temp-link");
        let victim = dir.path("victim");
        victim_at(&victim);
        let (planted, dangling, free) = (
            dir.path(".t.1.tmp"),
            dir.path(".t.2.tmp"),
            dir.path(".t.3.tmp"),
        );
        symlink(&victim, &planted).unwrap();
        symlink(dir.path("nowhere"), &dangling).unwrap();

        let names = [planted.clone(), dangling.clone(), free.clone()].into_iter();
        let mut file = create_with_names(&dir.path("t"), names).expect("the third name is free");
        assert_eq!(file.temp_path(), free);
        file.write_all(b"new").unwrap();
        file.commit().unwrap();

        assert_eq!(fs::read(&victim).unwrap(), VICTIM);
        assert!(
            !dir.path("nowhere").exists(),
            "the dangling link was not followed"
        );
        assert_eq!(fs::read(dir.path("t")).unwrap(), b"new");
        assert_eq!(dir.names(), [".t.1.tmp", ".t.2.tmp", "t", "victim"]);
    }

    #[test]
    fn when_every_name_is_taken_the_error_says_so() {
        let dir = TempDir::new("atomic-all-taken");
        let names: Vec<PathBuf> = (0..3).map(|n| dir.path(&format!(".t.{n}.tmp"))).collect();
        for name in &names {
            victim_at(name);
        }
        let err = create_with_names(&dir.path("t"), names.clone().into_iter()).unwrap_err();
        assert_eq!(
            (err.action, err.source.kind()),
            ("create", io::ErrorKind::AlreadyExists)
        );
        assert_eq!(err.path, names[2]);
        assert!(
            err.to_string()
                .contains("temporary names in a row were taken"),
            "{err}"
        );
        for name in &names {
            assert_eq!(fs::read(name).unwrap(), VICTIM);
        }
    }

    #[test]
    fn a_link_at_the_final_name_is_replaced_not_written_through() {
        let dir = TempDir::new("atomic-final-link");
        let victim = dir.path("victim");
        victim_at(&victim);
        symlink(&victim, dir.path("out")).unwrap();
        write(dir.path("out"), b"mine").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), VICTIM);
        assert!(fs::symlink_metadata(dir.path("out")).unwrap().is_file());
        assert_eq!(fs::read(dir.path("out")).unwrap(), b"mine");

        // A link to a folder is replaced the same way; the folder is untouched.
        let folder = dir.path("folder");
        fs::create_dir(&folder).unwrap();
        victim_at(folder.join("keep"));
        symlink(&folder, dir.path("to-folder")).unwrap();
        write_durable(dir.path("to-folder"), b"mine too").unwrap();
        assert!(
            fs::symlink_metadata(dir.path("to-folder"))
                .unwrap()
                .is_file()
        );
        assert_eq!(fs::read(folder.join("keep")).unwrap(), VICTIM);
        assert_eq!(fs::read_dir(&folder).unwrap().count(), 1);
        assert_eq!(dir.names(), ["folder", "out", "to-folder", "victim"]);
    }

    #[test]
    fn a_folder_at_the_final_name_is_an_error_naming_it() {
        let dir = TempDir::new("atomic-final-folder");
        let target = dir.path("timelines.svg");
        fs::create_dir(&target).unwrap();
        victim_at(target.join("keep"));
        for durable in [false, true] {
            let err = if durable {
                write_durable(&target, b"x")
            } else {
                write(&target, b"x")
            }
            .unwrap_err();
            assert_eq!(err.action, "rename onto");
            assert_eq!(err.path, target);
            assert_eq!(err.source.kind(), io::ErrorKind::IsADirectory);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!(
                    "cannot rename onto {}: a directory is in the way",
                    target.display()
                )),
                "{text}"
            );
            // The folder is as it was, and no temporary file is left.
            assert_eq!(fs::read(target.join("keep")).unwrap(), VICTIM);
            assert_eq!(dir.names(), ["timelines.svg"]);
        }
        let io: io::Error = write(&target, b"x").unwrap_err().into();
        assert_eq!(io.kind(), io::ErrorKind::IsADirectory);
        assert!(io.to_string().contains("timelines.svg"), "{io}");
    }

    #[test]
    fn discard_and_drop_remove_the_temporary_file_and_keep_the_target() {
        let dir = TempDir::new("atomic-discard");
        write(dir.path("t"), b"old").unwrap();
        let mut file = AtomicFile::new(dir.path("t")).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(dir.names().len(), 2);
        file.discard().unwrap();
        assert_eq!(dir.names(), ["t"]);

        let mut file = AtomicFile::new(dir.path("t")).unwrap();
        file.write_all(b"new").unwrap();
        drop(file);
        assert_eq!(dir.names(), ["t"]);
        assert_eq!(fs::read(dir.path("t")).unwrap(), b"old");
    }

    #[test]
    fn a_clone_of_the_file_writes_into_the_temporary_file() {
        let dir = TempDir::new("atomic-clone");
        let file = AtomicFile::new(dir.path("t")).unwrap();
        let mut clone = file.file().try_clone().unwrap();
        clone.write_all(b"through the clone").unwrap();
        drop(clone);
        file.commit().unwrap();
        assert_eq!(fs::read(dir.path("t")).unwrap(), b"through the clone");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        for path in ["/", "..", "a/.."] {
            let err = AtomicFile::new(path).unwrap_err();
            assert_eq!(err.source.kind(), io::ErrorKind::InvalidInput, "{path}");
            assert!(err.to_string().contains("names no file"), "{err}");
        }
    }

    #[test]
    fn the_write_check_leaves_nothing_and_never_follows_a_link() {
        let dir = TempDir::new("atomic-probe");
        let victim = dir.path("victim");
        victim_at(&victim);
        // Links at the names an older check used, and at the probe's name
        // without its random part.
        for name in [
            format!(".evloop-write-test-{}", std::process::id()),
            "evloop-write-check".into(),
        ] {
            symlink(&victim, dir.path(&name)).unwrap();
        }
        for _ in 0..10 {
            check_writable(&dir.0).unwrap();
        }
        assert_eq!(fs::read(&victim).unwrap(), VICTIM);
        assert_eq!(dir.names().len(), 3);
    }

    #[test]
    fn create_dir_accepts_a_folder_and_refuses_links_and_files() {
        let dir = TempDir::new("atomic-dirs");
        create_dir(dir.path("a")).unwrap();
        create_dir(dir.path("a")).unwrap();
        symlink(dir.path("a"), dir.path("link")).unwrap();
        victim_at(dir.path("file"));
        for (name, what) in [("link", "symbolic link"), ("file", "not a folder")] {
            let err = create_dir(dir.path(name)).unwrap_err();
            assert_eq!((err.action, &err.path), ("create folder", &dir.path(name)));
            assert!(err.to_string().contains(what), "{err}");
        }
        let err = create_dir(dir.path("missing/b")).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn open_nofollow_refuses_a_link_and_names_the_path() {
        let dir = TempDir::new("atomic-nofollow");
        victim_at(dir.path("victim"));
        symlink(dir.path("victim"), dir.path("image_1.jpg")).unwrap();
        let err = open_nofollow(dir.path("image_1.jpg")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("image_1.jpg") && text.contains("symbolic link"),
            "{text}"
        );
        let err = open_nofollow(dir.path("missing")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
