//! The book cannot drift from the code it shows, in two ways this file
//! checks (the pictures are checked by `the_book_timelines_render` in
//! `tests/trace.rs`):
//!
//! - **Quoted excerpts.** A fenced block whose first line is `// PATH`, with
//!   PATH a file of the repository (`// examples/pipeline_sync.rs`), quotes
//!   that file. Every line of it must be in the file, in the same order;
//!   whitespace and line breaks do not count, nor do `//` comments, so a
//!   long call may be folded differently and a comment may stand for the
//!   lines left out (`// ...then the same for processing`).
//! - **Restated executors.** Chapters grow one small executor, and a block
//!   that needs it restates it in hidden `# ` lines. Each restated item
//!   (a struct, a function, a method of an `impl`) must be the same as the
//!   latest one of the same name that the book showed before it, in this
//!   chapter or an earlier one, or that an earlier block restated. Where a
//!   chapter changes the executor on purpose without showing the change, the
//!   hidden item says so in a comment that starts with `// stage:`, and it
//!   becomes the one later restatements must match.

mod book_common;

use std::collections::HashMap;

use book_common::{chapters, fences, read, repo};

/// Removes the `//` comment that ends `line`, if any (`//` inside a string,
/// as in `"http://..."`, is not preceded by a space, and stays).
fn code_part(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    match line.find(" //") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// `text` without comments or whitespace, the form excerpts are compared in.
fn compact(text: &str) -> String {
    text.lines()
        .flat_map(|line| code_part(line).chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Why an excerpt does not match its file, if it does not.
fn excerpt_mismatch(excerpt: &[&str], file: &str) -> Option<String> {
    let file = compact(file);
    let mut from = 0;
    for (index, line) in excerpt.iter().enumerate() {
        let line_code = compact(line);
        if line_code.is_empty() {
            continue;
        }
        match file[from..].find(&line_code) {
            Some(at) => from += at + line_code.len(),
            None => {
                return Some(format!(
                    "excerpt line {} is not in the file (after the lines before it): {}",
                    index + 1,
                    line.trim()
                ));
            }
        }
    }
    None
}

/// The file an excerpt names in its first line, if it names one.
fn quoted_file(first_line: &str) -> Option<&str> {
    let path = first_line.trim().strip_prefix("//")?.trim();
    let roots = ["src/", "examples/", "tests/", "benches/"];
    (roots.iter().any(|root| path.starts_with(root)) && !path.contains(' ')).then_some(path)
}

#[test]
fn every_quoted_excerpt_matches_its_file() {
    let mut stale = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        for fence in fences(&chapter.text) {
            let Some((first, excerpt)) = fence.body.split_first() else {
                continue;
            };
            let Some(path) = quoted_file(first) else {
                continue;
            };
            checked += 1;
            let at = format!("{}:{}", chapter.file, fence.first_line);
            let full = repo().join(path);
            if !full.is_file() {
                stale.push(format!("{at}: quotes {path}, which does not exist"));
            } else if let Some(why) = excerpt_mismatch(excerpt, &read(&full)) {
                stale.push(format!("{at}: quotes {path}: {why}"));
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} excerpts found: the pipeline chapter has five"
    );
    assert!(stale.is_empty(), "stale excerpts:\n{}", stale.join("\n"));
}

#[test]
fn the_excerpt_check_folds_whitespace_and_skips_comments() {
    let file =
        "fn run() {\n    let x = f(\n        1,\n    );\n    // why\n    g(x); // and how\n}\n";
    assert_eq!(
        excerpt_mismatch(&["let x = f(1,);", "// ...", "g(x);"], file),
        None
    );
    assert!(
        excerpt_mismatch(&["g(x);", "let x = f(1,);"], file).is_some(),
        "order"
    );
    assert!(
        excerpt_mismatch(&["let x = f(2,);"], file).is_some(),
        "a changed line"
    );
    assert_eq!(
        quoted_file("// examples/pipeline_sync.rs"),
        Some("examples/pipeline_sync.rs")
    );
    assert_eq!(quoted_file("// a comment"), None);
}

/// One line of a Rust block: hidden (`# ` in the markdown) or shown.
#[derive(Clone, Copy)]
struct Line<'a> {
    hidden: bool,
    code: &'a str,
    /// Line number in the chapter (1-based).
    number: usize,
}

/// Reads a block's line as rustdoc and mdBook do: `# x` is a hidden `x`,
/// a lone `#` a hidden blank line; `#[attr]` and `#!` are code.
fn parse_line(text: &str, number: usize) -> Line<'_> {
    let (hidden, code) = match text.strip_prefix("# ") {
        Some(code) => (true, code),
        None if text == "#" => (true, ""),
        None => (false, text),
    };
    Line {
        hidden,
        code,
        number,
    }
}

/// How much `code` opens minus how much it closes: braces, brackets and
/// parentheses outside strings, characters and comments. `in_string`
/// carries a string literal that goes on past the end of the line.
fn depth_change(code: &str, in_string: &mut bool) -> i32 {
    let mut change = 0;
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if *in_string {
            match c {
                '\\' => i += 1,
                '"' => *in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => *in_string = true,
                '/' if chars.get(i + 1) == Some(&'/') => break,
                // A character literal, not a lifetime: 'x' or '\n'.
                '\'' if chars.get(i + 1) == Some(&'\\') => i += 3,
                '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
                '{' | '(' | '[' => change += 1,
                '}' | ')' | ']' => change -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    change
}

/// An item of a block: a top-level item, or one member of an `impl`.
struct Item<'a> {
    /// `struct Executor`, `fn spawn`, `impl Executor / fn tick`.
    key: String,
    lines: Vec<Line<'a>>,
}

impl Item<'_> {
    fn hidden(&self) -> bool {
        self.lines.iter().all(|line| line.hidden)
    }

    /// The code, without comments or whitespace, and without a comma
    /// before a closing bracket: `S { a: u32 }` and its one-field-a-line
    /// form with a trailing comma compare equal.
    fn normalized(&self) -> String {
        let code: String = self.lines.iter().map(|line| compact(line.code)).collect();
        let mut out = String::with_capacity(code.len());
        let mut chars = code.chars().peekable();
        while let Some(c) = chars.next() {
            let closes_next = matches!(chars.peek(), Some('}' | ')' | ']'));
            if !(c == ',' && closes_next) {
                out.push(c);
            }
        }
        out
    }

    fn declares_a_stage(&self) -> bool {
        self.lines
            .iter()
            .any(|line| line.code.trim_start().starts_with("// stage:"))
    }
}

/// What an item's first line of code declares: `fn tick`, `struct Shared`,
/// `impl Wake for TaskWaker`; `None` for `use`, `fn main` and inner
/// attributes, which belong to each block alone.
fn item_key(lines: &[Line<'_>]) -> Option<String> {
    let head = lines
        .iter()
        .map(|line| line.code.trim())
        .find(|code| !code.is_empty() && !code.starts_with("//") && !code.starts_with("#["))?;
    let head = head
        .strip_prefix("pub(crate) ")
        .or_else(|| head.strip_prefix("pub "))
        .unwrap_or(head);
    if head.starts_with("use ") || head.starts_with("#!") || head.starts_with("fn main(") {
        return None;
    }
    if head.starts_with("impl") {
        let header = head.split(" where").next().unwrap_or(head);
        return Some(header.trim_end_matches('{').trim().to_owned());
    }
    let words: Vec<&str> = head
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '!'))
        .filter(|word| !word.is_empty())
        .collect();
    match words.as_slice() {
        ["async", "fn", name, ..]
        | ["unsafe", "fn", name, ..]
        | [
            "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "mod",
            name,
            ..,
        ] => Some(format!("{} {name}", words[0])),
        [first, ..] => Some((*first).to_owned()),
        [] => None,
    }
}

/// Splits lines into items that end where the bracket depth is back to
/// `base` on a line ending in `}` or `;`. Blank lines between items are
/// dropped; comments and attributes go with the item after them.
fn split_items<'a>(lines: &[Line<'a>]) -> Vec<Vec<Line<'a>>> {
    let mut items = Vec::new();
    let mut current: Vec<Line<'a>> = Vec::new();
    let mut depth = 0;
    let mut in_string = false;
    for &line in lines {
        if depth == 0 && !in_string && line.code.trim().is_empty() {
            continue;
        }
        current.push(line);
        depth += depth_change(line.code, &mut in_string);
        let code = code_part(line.code).trim();
        let ends = code.ends_with('}') || code.ends_with(';');
        if depth == 0 && !in_string && ends && !code.starts_with("#[") {
            items.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

/// The items of a Rust block; an `impl` block counts as one item per member.
fn items<'a>(body: &[&'a str], first_line: usize) -> Vec<Item<'a>> {
    let lines: Vec<Line<'a>> = body
        .iter()
        .enumerate()
        .map(|(index, text)| parse_line(text, first_line + index))
        .collect();
    let mut out = Vec::new();
    for item in split_items(&lines) {
        let Some(key) = item_key(&item) else { continue };
        let open = item
            .iter()
            .position(|line| line.code.trim_end().ends_with('{'));
        let is_impl = key.starts_with("impl");
        match open {
            Some(open) if is_impl && item.len() > open + 2 => {
                // The members sit between the `impl ... {` line and the `}`.
                for member in split_items(&item[open + 1..item.len() - 1]) {
                    if let Some(name) = item_key(&member) {
                        out.push(Item {
                            key: format!("{key} / {name}"),
                            lines: member,
                        });
                    }
                }
            }
            _ => out.push(Item { key, lines: item }),
        }
    }
    out
}

/// Where the version of an item that later restatements must match was
/// given: `join-handles.md:114`.
struct Stage {
    at: String,
    normalized: String,
}

/// Every restatement that differs from its stage, as one message each.
fn restatements_that_differ() -> (Vec<String>, usize) {
    let mut stages: HashMap<String, Stage> = HashMap::new();
    let mut differ = Vec::new();
    let mut restated = 0;
    for chapter in chapters() {
        for fence in fences(&chapter.text) {
            if !fence.info.starts_with("rust") {
                continue;
            }
            for item in items(&fence.body, fence.first_line) {
                let at = format!("{}:{}", chapter.file, item.lines[0].number);
                let normalized = item.normalized();
                let new_stage = !item.hidden() || item.declares_a_stage();
                match stages.get(&item.key) {
                    Some(stage) if !new_stage => {
                        restated += 1;
                        if stage.normalized != normalized {
                            differ.push(format!(
                                "{at}: the hidden `{}` differs from the one at {}; make them \
                                 the same, or mark the hidden one `// stage: what changed`",
                                item.key, stage.at
                            ));
                        }
                    }
                    _ => {
                        stages.insert(item.key, Stage { at, normalized });
                    }
                }
            }
        }
    }
    (differ, restated)
}

#[test]
fn every_restated_executor_matches_the_chapter_that_introduced_it() {
    let (differ, restated) = restatements_that_differ();
    assert!(
        restated > 200,
        "only {restated} restated items found: is the parser blind?"
    );
    assert!(
        differ.is_empty(),
        "hidden restatements that drifted:\n{}",
        differ.join("\n")
    );
}

#[test]
fn items_are_split_as_rust_reads_them() {
    let body = [
        "# struct Shared { queue: Vec<usize> }",
        "#",
        "# impl Executor {",
        "#     /// Runs one task.",
        "#     fn tick(&self) {",
        "#         let s = \"}{\";",
        "#         let c = '}';",
        "#     }",
        "#     fn run<'a>(&'a self) {}",
        "# }",
        "fn main() {",
        "}",
    ];
    let items = items(&body, 1);
    let keys: Vec<&str> = items.iter().map(|item| item.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "struct Shared",
            "impl Executor / fn tick",
            "impl Executor / fn run"
        ]
    );
    assert!(items.iter().all(Item::hidden));
    assert_eq!(
        items[1].lines.len(),
        5,
        "the doc comment, the body, the closing brace"
    );
}
