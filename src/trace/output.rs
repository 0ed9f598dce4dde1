//! Getting a trace out of a run: which outputs a run asked for
//! ([`TraceArgs`]: the summary table, `--timeline FILE.svg`,
//! `--trace FILE.json`, or the `EVLOOP_TRACE` variable), and writing them.
//!
//! This module only reads a [`Record`]; the runtime hands it one when it is
//! dropped (see `Builder::trace_output`). Pictures need the `render`
//! feature; without it, asking for one is an error that says so.

use std::io;
use std::path::{Path, PathBuf};

use super::record::Record;
use super::stats;

/// What a run should leave behind from its trace: the summary table on
/// stderr, an SVG timeline, a Chrome trace (JSON, for Perfetto).
///
/// Lesson examples take the two files from the command line with
/// [`parse`](TraceArgs::parse); `EVLOOP_TRACE` gives all three to any
/// program ([`from_trace_env`](TraceArgs::from_trace_env)). Hand it to
/// `Runtime::builder().trace_output(args)` and the runtime records, then
/// writes the outputs when it is dropped.
///
/// # Examples
///
/// ```
/// use evloop::trace::TraceArgs;
///
/// let (args, rest) = TraceArgs::parse(["--timeline", "t.svg", "--images", "3"].map(String::from)).unwrap();
/// assert_eq!(args.timeline().unwrap().to_str(), Some("t.svg"));
/// assert!(args.chrome().is_none());
/// assert!(args.wanted());
/// assert_eq!(rest, ["--images", "3"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceArgs {
    timeline: Option<PathBuf>,
    chrome: Option<PathBuf>,
    summary: bool,
    title: Option<String>,
}

impl TraceArgs {
    /// No output at all (tracing stays off).
    pub fn new() -> TraceArgs {
        TraceArgs::default()
    }

    /// Takes `--timeline FILE` and `--trace FILE` (or `--timeline=FILE`)
    /// out of `args`, returning the rest in order.
    ///
    /// # Errors
    ///
    /// A flag without its file name.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(TraceArgs, Vec<String>), String> {
        let mut out = TraceArgs::default();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f == "--timeline" || f == "--trace" => {
                    (f.to_owned(), Some(v.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let slot = match flag.as_str() {
                "--timeline" => &mut out.timeline,
                "--trace" => &mut out.chrome,
                _ => {
                    rest.push(arg);
                    continue;
                }
            };
            let value = match inline.or_else(|| args.next()) {
                Some(v) if !v.is_empty() => v,
                _ => return Err(format!("{flag} needs a file name, e.g. {flag} out.svg")),
            };
            *slot = Some(PathBuf::from(value));
        }
        Ok((out, rest))
    }

    /// The trace flags of this process (`std::env::args` without the
    /// program name); other arguments are ignored.
    ///
    /// # Errors
    ///
    /// A flag without its file name; the program should print the message
    /// and exit with status 2, as for any usage error.
    pub fn from_env() -> Result<TraceArgs, String> {
        TraceArgs::parse(std::env::args().skip(1)).map(|(args, _)| args)
    }

    /// The outputs that an `EVLOOP_TRACE` value asks for: always the
    /// summary table; and each comma-separated part ending in `.svg` or
    /// `.json` names the timeline or the Chrome trace.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::trace::TraceArgs;
    ///
    /// let args = TraceArgs::from_trace_env("1");
    /// assert!(args.summary() && args.timeline().is_none());
    /// let args = TraceArgs::from_trace_env("run.svg, run.json");
    /// assert_eq!(args.chrome().unwrap().to_str(), Some("run.json"));
    /// ```
    pub fn from_trace_env(value: &str) -> TraceArgs {
        let mut args = TraceArgs {
            summary: true,
            ..TraceArgs::default()
        };
        for part in value.split(',').map(str::trim) {
            if part.ends_with(".svg") {
                args.timeline = Some(PathBuf::from(part));
            } else if part.ends_with(".json") {
                args.chrome = Some(PathBuf::from(part));
            }
        }
        args
    }

    /// Also write the SVG timeline to `path`.
    pub fn with_timeline(mut self, path: impl Into<PathBuf>) -> TraceArgs {
        self.timeline = Some(path.into());
        self
    }

    /// Also write the Chrome trace to `path`.
    pub fn with_chrome(mut self, path: impl Into<PathBuf>) -> TraceArgs {
        self.chrome = Some(path.into());
        self
    }

    /// Also print the summary table on stderr.
    pub fn with_summary(mut self, on: bool) -> TraceArgs {
        self.summary = on;
        self
    }

    /// The title drawn on the timeline (default: "evloop trace").
    pub fn titled(mut self, title: impl Into<String>) -> TraceArgs {
        self.title = Some(title.into());
        self
    }

    /// The SVG timeline's path, if asked for.
    pub fn timeline(&self) -> Option<&Path> {
        self.timeline.as_deref()
    }

    /// The Chrome trace's path, if asked for.
    pub fn chrome(&self) -> Option<&Path> {
        self.chrome.as_deref()
    }

    /// Whether the summary table is asked for.
    pub fn summary(&self) -> bool {
        self.summary
    }

    /// The timeline's title.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or("evloop trace")
    }

    /// Whether any output was asked for (then tracing must be on).
    pub fn wanted(&self) -> bool {
        self.summary || self.timeline.is_some() || self.chrome.is_some()
    }

    /// Writes the files asked for; returns the paths written. The summary
    /// is not printed here (see [`report`](TraceArgs::report)).
    ///
    /// Each file is written whole under a temporary name beside it, then
    /// renamed over the path given ([`crate::atomic_file`]): a symbolic link
    /// at that path is replaced by the file, never written through.
    ///
    /// # Errors
    ///
    /// A file that cannot be written (the error names it), or a picture
    /// asked of a build without the `render` feature.
    pub fn write(&self, record: &Record) -> io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        if let Some(path) = &self.timeline {
            write_file(path, &render_timeline(record, self.title(), path)?)?;
            written.push(path.clone());
        }
        if let Some(path) = &self.chrome {
            write_file(path, &render_chrome(record, path)?)?;
            written.push(path.clone());
        }
        Ok(written)
    }

    /// Prints the summary (if asked for) and writes the files, saying on
    /// stderr where each went or why it could not be written. What a
    /// runtime does with its `trace_output` when it is dropped.
    pub fn report(&self, record: &Record) {
        if self.summary {
            eprintln!("{}", stats::summary_table(record));
        }
        match self.write(record) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("evloop: wrote {}", p.display());
                }
            }
            Err(e) => eprintln!("evloop: trace output: {e}"),
        }
    }
}

#[cfg(feature = "render")]
fn render_timeline(record: &Record, title: &str, _path: &Path) -> io::Result<String> {
    let options = super::svg::SvgOptions {
        title: Some(title.to_owned()),
        ..super::svg::SvgOptions::default()
    };
    Ok(super::svg::timeline_svg(record, &options))
}

#[cfg(feature = "render")]
fn render_chrome(record: &Record, _path: &Path) -> io::Result<String> {
    Ok(super::chrome::chrome_trace_json(record))
}

#[cfg(not(feature = "render"))]
fn render_timeline(_record: &Record, _title: &str, path: &Path) -> io::Result<String> {
    Err(without_render(path))
}

#[cfg(not(feature = "render"))]
fn render_chrome(_record: &Record, path: &Path) -> io::Result<String> {
    Err(without_render(path))
}

#[cfg(not(feature = "render"))]
fn without_render(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "cannot draw {}: evloop was built without its `render` feature",
            path.display()
        ),
    )
}

/// Writes `contents` to `path` through [`crate::atomic_file`]: a new file
/// beside it, renamed over it, so a symbolic link at `path` is replaced, its
/// target left alone, and a folder in the way is an error naming `path`.
fn write_file(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))?;
    }
    crate::atomic_file::write(path, contents.as_bytes())?;
    Ok(())
}
