//! DESIGN.md's invariant 8, checked on the source itself: `unsafe` code lives
//! only in `src/task/`, and every unsafe block or impl there carries a
//! `// SAFETY:` comment just above it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code part of a line: comments and doc comments removed, string
/// literals blanked (good enough for this source, which has no `unsafe`
/// inside strings spanning lines).
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if in_string => {}
            _ => code.push(c),
        }
    }
    code
}

fn has_unsafe(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == "unsafe")
}

#[test]
fn unsafe_code_lives_only_in_src_task() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut outside = Vec::new();
    for file in &files {
        if file.starts_with(root.join("task")) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("a source file is UTF-8");
        for (n, line) in text.lines().enumerate() {
            if has_unsafe(&code_of(line)) {
                outside.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "unsafe outside src/task/:\n{}",
        outside.join("\n")
    );
}

#[test]
fn every_unsafe_block_in_src_task_is_argued() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("task");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut unargued = Vec::new();
    let mut blocks = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file is UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let code = code_of(line);
            // Blocks and impls need a SAFETY comment; `unsafe fn` needs a
            // `# Safety` section instead (clippy checks that one).
            let needs_argument = (code.contains("unsafe {") || code.contains("unsafe impl"))
                && !code.contains("unsafe fn");
            if !needs_argument {
                continue;
            }
            blocks += 1;
            let above = lines[n.saturating_sub(8)..=n].join("\n");
            if !above.contains("SAFETY:") {
                unargued.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(blocks > 10, "found the unsafe blocks ({blocks})");
    assert!(
        unargued.is_empty(),
        "unsafe without // SAFETY: above it:\n{}",
        unargued.join("\n")
    );
}
