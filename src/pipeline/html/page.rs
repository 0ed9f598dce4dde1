//! The whole document: head (style, script, a content policy that forbids
//! every request), header, the comparison, the timelines, each variant,
//! the failures, and the guide; and writing it to disk.

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::path::{Component, Path, PathBuf};

use super::markup::{esc, plural, slug};
use super::run::{Run, utc};
use super::{compare, variant};
use crate::atomic_file::{self, WriteError};
use crate::trace::record::Record;
use crate::trace::svg::stacked_svg;

/// The page's style sheet.
const STYLE: &str = include_str!("page.css");
/// The page's one script: sorting tables by a column.
const SCRIPT: &str = include_str!("sort.js");

/// The book's chapters the guide points to: (file in `book/src/`, title as
/// `SUMMARY.md` gives it).
pub(super) const CHAPTERS: [(&str, &str); 6] = [
    ("why-async.md", "Why async"),
    ("blocking-the-loop.md", "Blocking the loop"),
    ("offloading.md", "Offloading"),
    ("http-client.md", "An HTTP client on our reactor"),
    ("seeing-the-loop.md", "Seeing the loop"),
    ("pipeline.md", "The pipeline, five ways"),
];

/// The run as one self-contained HTML page.
///
/// Everything is inside the file: the style, the one script (sorting the
/// tables), the pictures as inline SVG. A content security policy in the
/// head forbids the page every request (no network, no other file), and
/// lets only the page's own style and script run, by a fresh random nonce;
/// every string from outside (URLs, reasons, task names, the command line)
/// is escaped, so markup in it shows as text. The markup is also
/// well-formed XML, so an XML parser can read the page.
///
/// `book` is the path from the page's folder to the book's `src/` folder
/// (`../book/src/`), to link the guide's chapter titles; with `None` the
/// chapters are named with their place in the repository instead.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::html::{page, Run, RunInfo, VariantRun};
/// use evloop::pipeline::{Item, ItemError, Outcome, Report, Stage, Timings};
///
/// let item = Item { index: 1, url: "http://h/<script>alert(1)</script>".into() };
/// let failed = Outcome { item: item.clone(), result: Err(ItemError::new(&item, Stage::Download, "404")) };
/// let report = Report::new("async", Timings::default(), vec![failed]);
/// let run = Run {
///     info: RunInfo::of_this_process("a test", 1, Duration::ZERO),
///     variants: vec![VariantRun { report: &report, record: None, peak_rss_mib: None }],
///     bound: None,
/// };
/// let html = page(&run, None);
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("http://h/&lt;script&gt;alert(1)&lt;/script&gt;"));
/// assert!(!html.contains("<script>alert"));
/// ```
pub fn page(run: &Run, book: Option<&str>) -> String {
    let nonce = nonce();
    let mut out = String::with_capacity(256 * 1024);
    head(&mut out, run, &nonce);
    header(&mut out, run);
    compare::section(&mut out, run);
    stacked(&mut out, run);
    for v in &run.variants {
        variant::section(&mut out, v);
    }
    failures(&mut out, run);
    guide(&mut out, book);
    let _ = write!(
        out,
        "<footer><p>Written by evloop {}. Everything on this page is in this one file: it \
         opens without a network and can be sent as it is.</p></footer>\n\
         <script nonce=\"{nonce}\">//<![CDATA[\n{SCRIPT}//]]></script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// Writes the page for `run` to `path` through [`atomic_file`] (a link
/// planted at `path` is replaced, never written through), linking the
/// book's chapters when the page lands inside the repository that holds
/// the book; returns the path written.
///
/// # Errors
///
/// As [`atomic_file::write`]: the folder is missing or not writable, or a
/// folder is in the way at `path`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::html::{write, Run, RunInfo};
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-page-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let run = Run { info: RunInfo::of_this_process("a test", 0, Duration::ZERO), variants: vec![], bound: None };
/// let path = write(&dir.join("report.html"), &run)?;
/// assert!(std::fs::read_to_string(&path)?.contains("evloop run report"));
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(path: &Path, run: &Run) -> Result<PathBuf, WriteError> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let book = book_path_from(folder.unwrap_or(Path::new(".")));
    atomic_file::write(path, page(run, book.as_deref()).as_bytes())
}

/// The relative path from `dir` to this repository's `book/src/` folder,
/// when `dir` is inside the repository evloop was built from and the book
/// is there (`output` gives `../book/src/`); `None` otherwise, so a page
/// written elsewhere (or mailed) never holds a link that leads nowhere.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use evloop::pipeline::html::book_path_from;
///
/// let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
/// assert_eq!(book_path_from(&repo.join("src")).as_deref(), Some("../book/src/"));
/// assert_eq!(book_path_from(Path::new("/")), None);
/// ```
pub fn book_path_from(dir: &Path) -> Option<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().ok()?;
    if !repo.join("book/src/SUMMARY.md").is_file() {
        return None;
    }
    let dir = dir.canonicalize().ok()?;
    let inside = dir.strip_prefix(&repo).ok()?;
    let depth = inside
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    Some(format!("{}book/src/", "../".repeat(depth)))
}

/// 128 bits nobody outside this process can predict, as hex: the nonce
/// that lets the page's own style and script run, and nothing else.
fn nonce() -> String {
    let state = RandomState::new();
    let mut parts = [0u64; 2];
    for (i, part) in parts.iter_mut().enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u32(std::process::id());
        *part = h.finish();
    }
    format!("{:016x}{:016x}", parts[0], parts[1])
}

fn head(out: &mut String, run: &Run, nonce: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src data:; \
         form-action 'none'; base-uri 'none'\"/>\n\
         <title>evloop run report: {}, {}</title>\n\
         <link rel=\"icon\" href=\"data:,\"/>\n\
         <style nonce=\"{nonce}\">/*<![CDATA[*/\n{STYLE}/*]]>*/</style>\n\
         </head>\n<body>\n",
        plural(run.info.images, "image"),
        esc(&utc(run.info.date))
    );
}

fn header(out: &mut String, run: &Run) {
    let info = &run.info;
    let names: Vec<&str> = run
        .variants
        .iter()
        .map(|v| v.report.variant.as_str())
        .collect();
    let _ = write!(
        out,
        "<header>\n<h1>evloop run report</h1>\n\
         <p class=\"lead\">{} downloaded and edge-detected the same {}. \
         New here? See <a href=\"#guide\">how to read this page</a>.</p>\n\
         <dl class=\"facts\">\n\
         <dt>date</dt><dd>{}</dd>\n\
         <dt>machine</dt><dd>{} cores, {}</dd>\n\
         <dt>command</dt><dd><code>{}</code></dd>\n\
         <dt>images from</dt><dd>{}{}</dd>\n\
         <dt>images</dt><dd>{} per variant</dd>\n\
         <dt>latency</dt><dd>{} ms per request</dd>\n\
         </dl>\n<nav><ul>\n\
         <li><a href=\"#comparison\">side by side</a></li>\n",
        plural(names.len(), "variant"),
        plural(info.images, "image"),
        esc(&utc(info.date)),
        info.cores,
        esc(&info.os),
        esc(&info.command_line),
        esc(&info.source),
        url_list(&info.urls),
        info.images,
        info.latency.as_millis()
    );
    if stacked_records(run).len() > 1 {
        out.push_str("<li><a href=\"#timelines\">on one time axis</a></li>\n");
    }
    for name in &names {
        let _ = writeln!(
            out,
            "<li><a href=\"#variant-{}\">{}</a></li>",
            slug(name),
            esc(name)
        );
    }
    out.push_str(
        "<li><a href=\"#failures\">failures</a></li>\n\
         <li><a href=\"#guide\">how to read this page</a></li>\n</ul></nav>\n</header>\n",
    );
}

/// The URLs from a file, one a line, folded away past a dozen.
fn url_list(urls: &[String]) -> String {
    if urls.is_empty() {
        return String::new();
    }
    let open = if urls.len() <= 12 {
        " open=\"open\""
    } else {
        ""
    };
    let mut out = format!(
        "<details class=\"urls\"{open}><summary>{}</summary><ol>",
        plural(urls.len(), "URL")
    );
    for url in urls {
        let _ = write!(out, "<li><code>{}</code></li>", esc(url));
    }
    out.push_str("</ol></details>");
    out
}

/// The variants that have a trace, with their names.
fn stacked_records<'a>(run: &Run<'a>) -> Vec<(&'a str, &'a Record)> {
    run.variants
        .iter()
        .filter_map(|v| v.record.map(|r| (v.report.variant.as_str(), r)))
        .collect()
}

/// Every traced variant on one time axis (with two or more of them).
fn stacked(out: &mut String, run: &Run) {
    let sections = stacked_records(run);
    if sections.len() < 2 {
        return;
    }
    let options = variant::svg_options("every variant on one time axis".into());
    out.push_str(
        "<section id=\"timelines\">\n<h2>Every variant on one time axis</h2>\n\
         <p>Hover over a row's name for its task's figures, over a bar for the exact \
         times.</p>\n<figure class=\"timeline\">\n",
    );
    out.push_str(&stacked_svg(&sections, &options));
    out.push_str("</figure>\n</section>\n");
}

fn failures(out: &mut String, run: &Run) {
    out.push_str("<section id=\"failures\">\n<h2>Failures</h2>\n");
    let all: Vec<_> = run
        .variants
        .iter()
        .flat_map(|v| v.report.failures().map(move |f| (&v.report.variant, f)))
        .collect();
    if all.is_empty() {
        out.push_str("<p class=\"none\">No image failed.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<p>{}; every other image went on.</p>\n<ul class=\"failures\">",
        plural(all.len(), "failure")
    );
    for (variant, f) in all {
        let _ = writeln!(
            out,
            "<li data-variant=\"{v}\" data-stage=\"{stage}\"><span class=\"who\">{v}, image {}</span> \
             <span class=\"stage\">{stage}</span> <code class=\"url\">{}</code> \
             <span class=\"reason\">{}</span></li>",
            f.index,
            esc(&f.url),
            esc(&f.reason),
            v = esc(variant),
            stage = f.stage,
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// A chapter of the book by its title: a link when the book is at hand,
/// with its place in the repository.
fn chapter(file: &str, book: Option<&str>) -> String {
    let title = CHAPTERS
        .iter()
        .find(|(f, _)| *f == file)
        .map_or(file, |(_, t)| t);
    match book {
        Some(prefix) => format!(
            "<a class=\"chapter\" href=\"{}{}\"><cite>{}</cite></a>",
            esc(prefix),
            esc(file),
            esc(title)
        ),
        None => format!(
            "<cite class=\"chapter\">{}</cite> (<code>book/src/{}</code>)",
            esc(title),
            esc(file)
        ),
    }
}

fn guide(out: &mut String, book: Option<&str>) {
    let c = |file| chapter(file, book);
    let _ = write!(
        out,
        "<section id=\"guide\" class=\"guide\">\n<h2>How to read this page</h2>\n<dl>\n\
         <dt>The table and the bars</dt><dd>Waiting overlaps; computing does not. The variants \
         that wait for all their downloads at once finish near the bound, one latency plus the \
         CPU work spread over the cores, and none can beat it. Chapters {} and {}.</dd>\n\
         <dt>Every variant on one time axis</dt><dd>The same job scheduled five ways: \
         <code>sync</code> one request after another, <code>semaphore</code> in rounds of four, \
         <code>streaming</code> processing while it still downloads. Chapter {}.</dd>\n\
         <dt>A variant's timeline</dt><dd>Blue: a task inside <code>poll</code>. Orange: woken, \
         waiting for the loop. Grey: waiting on IO, a timer or another task (on the loop's row: \
         parked in the poller). A vermillion bar with a black outline is a poll over the \
         slow-poll threshold: it blocked the loop. Chapters {} and {}.</dd>\n\
         <dt>Tasks</dt><dd>Busy, scheduled and idle split each task's life. Mostly idle is \
         IO-bound, what async is for; mostly busy is CPU-bound and keeps the loop from everyone \
         else; a large scheduled time means other tasks hog the loop. Chapter {}.</dd>\n\
         <dt>Pool threads</dt><dd>Reddish purple rows and the threads table: work moved off the \
         loop with <code>spawn_blocking</code> and <code>spawn_cpu</code>, so the loop stays \
         free. Chapter {}.</dd>\n\
         <dt>Failures</dt><dd>Each failed image is one error that says what failed (URL, stage, \
         reason) while the rest of the run goes on. Chapter {}.</dd>\n</dl>\n</section>\n",
        c("why-async.md"),
        c("pipeline.md"),
        c("pipeline.md"),
        c("seeing-the-loop.md"),
        c("blocking-the-loop.md"),
        c("seeing-the-loop.md"),
        c("offloading.md"),
        c("http-client.md"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chapters_are_the_books() {
        let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
        let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("SUMMARY.md");
        for (file, title) in CHAPTERS {
            assert!(
                summary.contains(&format!("[{title}]({file})")),
                "{title} ({file}) is not in SUMMARY.md"
            );
        }
    }

    #[test]
    fn chapters_link_only_with_a_book() {
        assert_eq!(
            chapter("pipeline.md", Some("../book/src/")),
            "<a class=\"chapter\" href=\"../book/src/pipeline.md\"><cite>The pipeline, five ways</cite></a>"
        );
        assert!(chapter("offloading.md", None).contains("<code>book/src/offloading.md</code>"));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
