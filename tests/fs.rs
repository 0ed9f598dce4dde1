//! `evloop::fs`: file helpers that run `std::fs` on the blocking pool.
//! Round trips of whole files and of chunks, directories, renames, and
//! errors that name the path they are about.

mod common;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use evloop::fs;

use common::watchdog;

const WATCHDOG: Duration = Duration::from_secs(60);

/// A fresh, empty directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("evloop-fs-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn write_then_read_round_trips_bytes() {
    let dir = Scratch::new("round-trip");
    let path = dir.path().join("data.bin");
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
    let back = watchdog(WATCHDOG, {
        let (path, bytes) = (path.clone(), bytes.clone());
        move || {
            evloop::run(async move {
                fs::write(&path, bytes).await.unwrap();
                // Writing again truncates.
                let back = fs::read(&path).await.unwrap();
                fs::write(&path, b"short".to_vec()).await.unwrap();
                (back, fs::read(&path).await.unwrap())
            })
        }
    });
    assert!(back.0 == bytes, "the file came back changed");
    assert_eq!(back.1, b"short");
    assert_eq!(std::fs::read(&path).unwrap(), b"short");
}

#[test]
fn create_dir_all_makes_every_missing_parent() {
    let dir = Scratch::new("dirs");
    let deep = dir.path().join("a").join("b").join("c");
    watchdog(WATCHDOG, {
        let deep = deep.clone();
        move || {
            evloop::run(async move {
                fs::create_dir_all(&deep).await.unwrap();
                // Again: already there is fine.
                fs::create_dir_all(&deep).await.unwrap();
                fs::write(deep.join("leaf.txt"), "leaf").await.unwrap();
            })
        }
    });
    assert!(deep.is_dir());
    assert_eq!(
        std::fs::read_to_string(deep.join("leaf.txt")).unwrap(),
        "leaf"
    );
}

#[test]
fn file_write_all_chunk_by_chunk_keeps_order() {
    let dir = Scratch::new("chunks");
    let path = dir.path().join("chunks.txt");
    let (written, read_back, name) = watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            evloop::run(async move {
                let mut file = fs::File::create(&path).await.unwrap();
                let mut written = Vec::new();
                for i in 0..50 {
                    let chunk = format!("chunk {i};");
                    file.write_all(chunk.as_bytes()).await.unwrap();
                    written.extend_from_slice(chunk.as_bytes());
                }
                file.sync_all().await.unwrap();
                let name = file.path().to_owned();
                drop(file);
                let mut file = fs::File::open(&path).await.unwrap();
                let read_back = file.read_to_end().await.unwrap();
                (written, read_back, name)
            })
        }
    });
    assert_eq!(read_back, written);
    assert_eq!(std::fs::read(&path).unwrap(), written);
    assert_eq!(name, path);
}

#[test]
fn rename_moves_the_file_and_remove_file_deletes_it() {
    let dir = Scratch::new("rename");
    let (from, to) = (dir.path().join("draft.txt"), dir.path().join("final.txt"));
    watchdog(WATCHDOG, {
        let (from, to) = (from.clone(), to.clone());
        move || {
            evloop::run(async move {
                fs::write(&from, "content").await.unwrap();
                fs::rename(&from, &to).await.unwrap();
                assert_eq!(fs::read(&to).await.unwrap(), b"content");
                assert_eq!(
                    fs::read(&from).await.unwrap_err().kind(),
                    ErrorKind::NotFound
                );
                fs::remove_file(&to).await.unwrap();
            })
        }
    });
    assert!(!from.exists() && !to.exists());
}

#[test]
fn every_error_names_its_path() {
    let dir = Scratch::new("errors");
    let missing = dir.path().join("no-such-file.txt");
    let blocker = dir.path().join("a-file-not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let errors = watchdog(WATCHDOG, {
        let (missing, blocker) = (missing.clone(), blocker.clone());
        move || {
            evloop::run(async move {
                let under_file = blocker.join("child");
                vec![
                    (
                        "read",
                        fs::read(&missing).await.unwrap_err(),
                        vec![missing.clone()],
                    ),
                    (
                        "write",
                        fs::write(&under_file, "x").await.unwrap_err(),
                        vec![under_file.clone()],
                    ),
                    (
                        "create_dir_all",
                        fs::create_dir_all(under_file.join("deeper"))
                            .await
                            .unwrap_err(),
                        vec![under_file.join("deeper")],
                    ),
                    (
                        "rename",
                        fs::rename(&missing, dir_of(&missing).join("target.txt"))
                            .await
                            .unwrap_err(),
                        vec![missing.clone(), dir_of(&missing).join("target.txt")],
                    ),
                    (
                        "remove_file",
                        fs::remove_file(&missing).await.unwrap_err(),
                        vec![missing.clone()],
                    ),
                    (
                        "File::open",
                        fs::File::open(&missing).await.unwrap_err(),
                        vec![missing.clone()],
                    ),
                    (
                        "File::create",
                        fs::File::create(&under_file).await.unwrap_err(),
                        vec![under_file.clone()],
                    ),
                ]
            })
        }
    });
    for (call, err, paths) in errors {
        let message = err.to_string();
        for path in paths {
            assert!(
                message.contains(&path.display().to_string()),
                "{call}: the error {message:?} does not name {}",
                path.display()
            );
        }
    }
}

#[test]
fn an_error_keeps_its_kind() {
    let dir = Scratch::new("kinds");
    let missing = dir.path().join("missing");
    let kind = watchdog(WATCHDOG, move || {
        evloop::run(async move { fs::read(&missing).await.unwrap_err().kind() })
    });
    assert_eq!(kind, ErrorKind::NotFound);
}

fn dir_of(path: &Path) -> PathBuf {
    path.parent().expect("a file in a directory").to_owned()
}
