//! The shape of the house, checked on the source: no two modules of `src/`
//! import each other (directly or round a longer circle), and the bottom
//! floors import nothing above them.
//!
//! A module here is a top-level module of the crate: a folder or a file
//! directly under `src/` (`src/runtime/`, `src/combine.rs`). An import is
//! any `crate::name` path in its code (a `use`, or a path written out),
//! outside comments and outside `#[cfg(test)]` code. `lib.rs` is the roof:
//! it declares the modules and re-exports their public faces, so it may
//! name any of them. `main.rs` and `src/demo/` are the demo binary, which
//! uses the library from outside.
//!
//! The layers (DESIGN.md): the app → `http` → `net`/`io`, `sync`,
//! `offload`, `time`, `fs`, `combine` → `runtime` → `task`, with the trace's
//! data model at the bottom (it reaches only `atomic_file`, the careful way
//! to write a file, which imports nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files under `src/` that belong to the library (not the demo binary).
fn library_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(&src).expect("under src");
            let first = rel.components().next().expect("a first component");
            let first = first.as_os_str().to_string_lossy();
            !matches!(first.as_ref(), "lib.rs" | "main.rs" | "demo")
        })
        .collect()
}

/// The top-level module a file of `src/` belongs to.
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = path.strip_prefix(&src).expect("under src");
    let first = rel
        .components()
        .next()
        .expect("a first component")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first
        .strip_suffix(".rs")
        .map(str::to_owned)
        .unwrap_or(first)
}

/// The modules that exist at the top of `src/`.
fn top_modules() -> BTreeSet<String> {
    library_files().iter().map(|p| module_of(p)).collect()
}

/// `crate::name` paths in `line`, for names of top-level modules.
fn crate_paths(line: &str, modules: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `evloop_crate::x` or `mycrate::x` are not ours.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&name) {
            found.push(name);
        } else if let Some(braced) = rest.strip_prefix('{') {
            // `use crate::{a, b::c}`: every name at the top of the braces.
            let inner: String = braced.chars().take_while(|c| *c != ';').collect();
            for part in inner.split(',') {
                let head: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&head) {
                    found.push(head);
                }
            }
        }
    }
    found
}

/// `line` with the insides of its string literals blanked out, so that a
/// message naming `crate::x` is not taken for an import.
fn without_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                out.push(c);
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

/// Every import between two different top-level modules: (from, to) with
/// the first place it is made.
fn imports() -> BTreeMap<(String, String), String> {
    let modules = top_modules();
    let mut edges = BTreeMap::new();
    for path in library_files() {
        let me = module_of(&path);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]") {
                // Unit tests sit at the end of a file; they may reach anywhere.
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            let code = without_strings(code.split(" //").next().unwrap_or(code));
            for other in crate_paths(&code, &modules) {
                if other != me {
                    let place = format!("{}:{}", path.display(), n + 1);
                    edges.entry((me.clone(), other)).or_insert(place);
                }
            }
        }
    }
    edges
}

/// The circles of the import graph: strongly connected components of more
/// than one module (Tarjan's algorithm).
fn circles(edges: &BTreeMap<(String, String), String>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        next: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.next.get(v).cloned().unwrap_or_default() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().expect("v is on the stack");
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        next: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for (from, to) in edges.keys() {
        walk.next.entry(from).or_default().push(to);
        walk.next.entry(to).or_default();
    }
    let nodes: Vec<&str> = walk.next.keys().copied().collect();
    for v in nodes {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_two_modules_import_each_other() {
    let edges = imports();
    let found = circles(&edges);
    let mut report = String::new();
    for circle in &found {
        report.push_str(&format!("circle: {}\n", circle.join(", ")));
        for ((from, to), place) in &edges {
            if circle.contains(from) && circle.contains(to) {
                report.push_str(&format!("  {from} -> {to} ({place})\n"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "modules of src/ import each other:\n{report}"
    );
}

/// What each floor may import (DESIGN.md's layers); a floor not listed may
/// import anything that makes no circle.
const BELOW: &[(&str, &[&str])] = &[
    ("task", &[]),
    // The one careful way to write a file, which itself imports nothing.
    ("atomic_file", &[]),
    ("trace", &["atomic_file"]),
    ("runtime", &["task", "trace"]),
    ("time", &["runtime", "task", "trace"]),
    ("offload", &["runtime", "task", "trace"]),
    ("combine", &["runtime", "task", "trace"]),
    ("sync", &["runtime", "task", "trace"]),
];

#[test]
fn the_bottom_floors_import_nothing_above_them() {
    let edges = imports();
    let mut wrong = Vec::new();
    for ((from, to), place) in &edges {
        if let Some((_, allowed)) = BELOW.iter().find(|(floor, _)| floor == from)
            && !allowed.contains(&to.as_str())
        {
            wrong.push(format!("{from} -> {to} ({place})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a floor imports a module above it:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_circles() {
    // The parser finds plain, nested and braced paths, and skips others.
    let modules: BTreeSet<String> = ["runtime", "task", "io", "sync"]
        .map(String::from)
        .into_iter()
        .collect();
    assert_eq!(
        crate_paths("use crate::runtime::handle::{self, Handle};", &modules),
        ["runtime"]
    );
    assert_eq!(
        crate_paths("use crate::{io::net, sync::Semaphore};", &modules),
        ["io", "sync"]
    );
    assert_eq!(
        crate_paths(
            "let x = crate::task::Id::next(); my_crate::io::x();",
            &modules
        ),
        ["task"]
    );
    assert!(crate_paths("use std::io;", &modules).is_empty());
    let quoted = without_strings(r#"f("made by crate::io \" crate::sync"); crate::task::x()"#);
    assert_eq!(crate_paths(&quoted, &modules), ["task"]);

    // A circle of three is found, with its members; a chain is not.
    let edge = |a: &str, b: &str| ((a.to_owned(), b.to_owned()), String::new());
    let chain: BTreeMap<_, _> = [edge("a", "b"), edge("b", "c")].into_iter().collect();
    assert!(circles(&chain).is_empty());
    let ring: BTreeMap<_, _> = [
        edge("a", "b"),
        edge("b", "c"),
        edge("c", "a"),
        edge("c", "d"),
    ]
    .into_iter()
    .collect();
    assert_eq!(circles(&ring), [["a", "b", "c"].map(String::from).to_vec()]);
}
