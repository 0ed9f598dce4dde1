//! Reading the book's markdown for the tests that guard it
//! (`tests/book_links.rs`, `tests/book_drift.rs`): the chapters in the order
//! of `SUMMARY.md`, and the fenced blocks of a chapter. Plain string work,
//! no mdBook and no markdown crate: the book uses a small, regular subset.

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root (where `Cargo.toml` is).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `book/src`.
pub fn book_src() -> PathBuf {
    repo().join("book").join("src")
}

/// Reads a file of the repository, naming it if that fails.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// One chapter of the book: its file name (`time.md`) and its text.
pub struct Chapter {
    pub file: String,
    pub text: String,
}

/// Every `(target)` of a `[text](target)` link in `text`, with its line
/// number (1-based). Links inside fenced blocks and inline code are skipped.
pub fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in prose_lines(text) {
        let line = without_inline_code(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            found.push((number, after[..end].trim().to_owned()));
            rest = &after[end..];
        }
    }
    found
}

/// The chapters listed in `SUMMARY.md`, in reading order.
pub fn chapters() -> Vec<Chapter> {
    let summary = read(&book_src().join("SUMMARY.md"));
    links(&summary)
        .into_iter()
        .map(|(_, file)| Chapter {
            text: read(&book_src().join(&file)),
            file,
        })
        .collect()
}

/// A fenced block: its info string (`rust`, `text`, `rust,should_panic`),
/// the line number of its first body line (1-based), and its body lines.
pub struct Fence<'a> {
    pub info: &'a str,
    pub first_line: usize,
    pub body: Vec<&'a str>,
}

/// The fenced blocks of a chapter (```` ``` ```` fences at the line's start).
pub fn fences(text: &str) -> Vec<Fence<'_>> {
    let mut fences = Vec::new();
    let mut open: Option<Fence<'_>> = None;
    for (index, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Fence {
                    info: info.trim(),
                    first_line: index + 2,
                    body: Vec::new(),
                })
            }
            (Some(_), Some("")) => fences.extend(open.take()),
            (Some(fence), _) => fence.body.push(line),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    fences
}

/// The lines outside fenced blocks, with their line numbers (1-based).
pub fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut inside = false;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            inside = !inside;
        } else if !inside {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// `line` with its `inline code` spans removed.
pub fn without_inline_code(line: &str) -> String {
    let mut out = String::new();
    for (index, piece) in line.split('`').enumerate() {
        if index % 2 == 0 {
            out.push_str(piece);
        }
    }
    out
}
