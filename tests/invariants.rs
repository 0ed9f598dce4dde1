//! DESIGN.md's invariant 8, checked on the source itself: `unsafe` code lives
//! only in `src/task/`, every unsafe block or impl there carries a
//! `// SAFETY:` comment just above it, every `unsafe fn` there says its
//! contract in a `# Safety` section, and no safe function there takes a raw
//! task pointer (a `NonNull<Header>`, or a waker's `*const ()`).

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

/// Each function of `src/task/`: its signature (joined onto one line, up to
/// its body or `;`), the doc comment and attributes above it, and where it is.
fn task_functions() -> Vec<(String, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("task");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file is UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let code = code_of(line);
            let words: Vec<&str> = code.split_whitespace().collect();
            if !words.contains(&"fn") {
                continue;
            }
            let mut signature = String::new();
            for next in &lines[n..] {
                let code = code_of(next);
                let end = code.find(['{', ';']);
                signature.push_str(&code[..end.unwrap_or(code.len())]);
                signature.push(' ');
                if end.is_some() {
                    break;
                }
            }
            let docs: Vec<&str> = lines[..n]
                .iter()
                .rev()
                .take_while(|l| {
                    let l = l.trim_start();
                    l.starts_with("///") || l.starts_with("#[")
                })
                .copied()
                .collect();
            let place = format!("{}:{}", file.display(), n + 1);
            found.push((signature, docs.join("\n"), place));
        }
    }
    found
}

#[test]
fn every_unsafe_fn_in_src_task_has_a_safety_section() {
    let unsafe_fns: Vec<_> = task_functions()
        .into_iter()
        .filter(|(signature, _, _)| signature.contains("unsafe fn "))
        .collect();
    assert!(
        unsafe_fns.len() > 10,
        "found the unsafe fns ({})",
        unsafe_fns.len()
    );
    let undocumented: Vec<&str> = unsafe_fns
        .iter()
        .filter(|(_, docs, _)| !docs.contains("# Safety"))
        .map(|(_, _, place)| place.as_str())
        .collect();
    assert!(
        undocumented.is_empty(),
        "unsafe fn without a # Safety section:\n{}",
        undocumented.join("\n")
    );
}

#[test]
fn no_safe_fn_in_src_task_takes_a_raw_task_pointer() {
    let functions = task_functions();
    assert!(
        functions.len() > 30,
        "found the functions ({})",
        functions.len()
    );
    let offending: Vec<String> = functions
        .iter()
        .filter(|(signature, _, _)| {
            // The parameters only: returning a pointer it made is fine.
            let head = signature.split(" -> ").next().unwrap_or("");
            let params = head.split_once('(').map_or("", |(_, rest)| rest);
            let takes_pointer = params.contains("NonNull<Header>") || params.contains("*const ()");
            takes_pointer && !signature.contains("unsafe fn ")
        })
        .map(|(signature, _, place)| format!("{place}: {}", signature.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "safe fn taking a raw task pointer:\n{}",
        offending.join("\n")
    );
}
