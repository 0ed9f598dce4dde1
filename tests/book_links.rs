//! The book's links hold, without mdBook: every link from a chapter to a
//! chapter (and to a heading in it), every picture, and every path of the
//! repository the book names (`src/...`, `examples/...`, `tests/...`,
//! `benches/...`) exists. Also: every chapter is in `SUMMARY.md`, and every
//! chapter of `SUMMARY.md` is a doc module of `src/lib.rs`, so its Rust
//! blocks run as doctests.

mod book_common;

use std::collections::{HashMap, HashSet};

use book_common::{Chapter, book_src, chapters, links, prose_lines, read, repo};

/// Paths the book names that are not in the repository on purpose, and why.
const NOT_IN_THE_REPO: &[(&str, &str)] = &[
    (
        "examples/unheard.rs",
        "gather-and-taskgroup.md asks the reader to make it",
    ),
    (
        "examples/interrupt.rs",
        "toolbox.md's Try it asks the reader to make it",
    ),
    (
        "tests/NAME.rs",
        "introduction.md: a placeholder for any test file",
    ),
];

/// The id mdBook gives a heading: its text, lowercased, with spaces turned
/// into dashes and everything but letters, digits, `-` and `_` dropped.
fn heading_id(heading: &str) -> String {
    let mut text = String::new();
    // The rendered text: no code marks or emphasis, a link's text only.
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let Some(middle) = rest[open..].find("](") else {
            break;
        };
        let Some(close) = rest[open + middle..].find(')') else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..open + middle]);
        rest = &rest[open + middle + close + 1..];
    }
    text.push_str(rest);
    text.chars()
        .filter_map(|c| match c {
            '`' | '*' => None,
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// The ids of a chapter's headings; a repeated heading gets `-1`, `-2`...
fn heading_ids(chapter: &Chapter) -> HashSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for (_, line) in prose_lines(&chapter.text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let id = heading_id(line[hashes..].trim());
        let count = seen.entry(id.clone()).or_insert(0);
        ids.insert(if *count == 0 {
            id
        } else {
            format!("{id}-{count}")
        });
        *count += 1;
    }
    ids
}

#[test]
fn heading_ids_follow_mdbook() {
    assert_eq!(heading_id("Join handles"), "join-handles");
    assert_eq!(
        heading_id("`sync`: one after another"),
        "sync-one-after-another"
    );
    assert_eq!(
        heading_id("The task's state machine, as a table"),
        "the-tasks-state-machine-as-a-table"
    );
    assert_eq!(
        heading_id("[Offloading](offloading.md), again"),
        "offloading-again"
    );
    // mdBook keeps the dash of a space before a dropped symbol.
    assert_eq!(
        heading_id("Signals and processes †"),
        "signals-and-processes-"
    );
}

#[test]
fn every_link_between_chapters_and_every_picture_exists() {
    let chapters = chapters();
    let ids: HashMap<&str, HashSet<String>> = chapters
        .iter()
        .map(|chapter| (chapter.file.as_str(), heading_ids(chapter)))
        .collect();
    let mut broken = Vec::new();
    let mut checked = 0;
    for chapter in &chapters {
        for (line, target) in links(&chapter.text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                chapter.file.as_str()
            } else {
                path
            };
            let at = format!("{}:{line}: ({target})", chapter.file);
            if !book_src().join(file).exists() {
                broken.push(format!("{at}: no such file in book/src"));
            } else if let Some(anchor) = anchor {
                match ids.get(file) {
                    Some(ids) if ids.contains(anchor) => {}
                    Some(_) => broken.push(format!("{at}: no heading with id #{anchor}")),
                    None => broken.push(format!("{at}: #{anchor} in a file that is not a chapter")),
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} links found: is the parser blind?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every `src/`, `examples/`, `tests/` or `benches/` path in `text`, where
/// it starts a word (so `book/src/img` is not taken for `src/img`), with its
/// line number; a `:line:column` after a file name is dropped.
fn repo_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for root in ["src/", "examples/", "tests/", "benches/"] {
            let mut from = 0;
            while let Some(at) = line[from..].find(root) {
                let start = from + at;
                from = start + root.len();
                let before = line[..start].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c)) {
                    continue;
                }
                let path: String = line[start..]
                    .chars()
                    .take_while(|&c| c.is_alphanumeric() || "/._-*".contains(c))
                    .collect();
                let path = path.trim_end_matches(['.', '-']);
                found.push((index + 1, path.to_owned()));
            }
        }
    }
    found
}

/// True if `path` exists; a `*` in its last part matches any run of characters.
fn exists(path: &str) -> bool {
    let full = repo().join(path);
    let Some((dir, pattern)) = path.rsplit_once('/').filter(|_| path.contains('*')) else {
        return full.exists();
    };
    let (prefix, suffix) = pattern.split_once('*').expect("a pattern has a star");
    std::fs::read_dir(repo().join(dir)).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
    })
}

#[test]
fn every_path_of_the_repo_the_book_names_exists() {
    let allowed: HashMap<&str, &str> = NOT_IN_THE_REPO.iter().copied().collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        for (line, path) in repo_paths(&chapter.text) {
            checked += 1;
            if !allowed.contains_key(path.as_str()) && !exists(&path) {
                missing.push(format!("{}:{line}: {path}", chapter.file));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} paths found: is the parser blind?"
    );
    assert!(
        missing.is_empty(),
        "paths the book names that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_path_finder_reads_paths_as_the_book_writes_them() {
    let text = "see `src/task/state.rs`, book/src/img/a.svg, and\n\
                panicked at examples/unheard.rs:9:13: (in `examples/pipeline_*.rs`).";
    let paths: Vec<String> = repo_paths(text).into_iter().map(|(_, path)| path).collect();
    assert_eq!(
        paths,
        [
            "src/task/state.rs",
            "examples/unheard.rs",
            "examples/pipeline_*.rs"
        ]
    );
    assert!(exists("examples/pipeline_*.rs"));
    assert!(!exists("examples/pipeline_*.py"));
}

#[test]
fn every_chapter_is_in_the_summary_and_runs_as_doctests() {
    let listed: HashSet<String> = chapters().into_iter().map(|chapter| chapter.file).collect();
    let mut on_disk = HashSet::new();
    for entry in std::fs::read_dir(book_src()).expect("book/src can be listed") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy().into_owned();
        if name.ends_with(".md") && name != "SUMMARY.md" {
            on_disk.insert(name);
        }
    }
    let mut unlisted: Vec<_> = on_disk.difference(&listed).collect();
    unlisted.sort();
    assert!(
        unlisted.is_empty(),
        "chapters missing from SUMMARY.md: {unlisted:?}"
    );

    let lib = read(&repo().join("src/lib.rs"));
    let mut not_tested: Vec<_> = listed
        .iter()
        .filter(|file| !lib.contains(&format!("include_str!(\"../book/src/{file}\")")))
        .collect();
    not_tested.sort();
    assert!(
        not_tested.is_empty(),
        "chapters that are no doc module of src/lib.rs (their Rust blocks never run): {not_tested:?}"
    );
}
