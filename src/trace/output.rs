//! Getting a trace out: the current record, the summary table, and the
//! `--timeline FILE.svg` / `--trace FILE.json` flags every example takes.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use super::record::Record;
use super::{chrome, stats, svg};
use crate::runtime::{Runtime, context};

/// The record of the runtime running on this thread, if tracing is on.
pub fn current() -> Option<Record> {
    context::with_core(|core| core.trace_record()).flatten()
}

/// The summary table (polls, busy, scheduled, idle, wakes, verdict per task)
/// of the runtime running on this thread, if tracing is on.
pub fn summary() -> Option<String> {
    current().map(|r| stats::summary_table(&r))
}

/// Where to write a run's pictures, from the command line.
///
/// # Examples
///
/// ```
/// use evloop::trace::TraceArgs;
///
/// let (args, rest) = TraceArgs::parse(["--timeline", "t.svg", "--images", "3"].map(String::from)).unwrap();
/// assert_eq!(args.timeline().unwrap().to_str(), Some("t.svg"));
/// assert!(args.chrome().is_none());
/// assert_eq!(rest, ["--images", "3"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceArgs {
    timeline: Option<PathBuf>,
    chrome: Option<PathBuf>,
}

impl TraceArgs {
    /// The outputs named directly: for a program that parses its own flags
    /// (with clap, say) and only needs the writing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::PathBuf;
    /// use evloop::trace::TraceArgs;
    ///
    /// let args = TraceArgs::new(None, Some(PathBuf::from("t.json")));
    /// assert!(args.wanted());
    /// assert!(args.timeline().is_none());
    /// assert_eq!(args.chrome().unwrap().to_str(), Some("t.json"));
    /// ```
    pub fn new(timeline: Option<PathBuf>, chrome: Option<PathBuf>) -> TraceArgs {
        TraceArgs { timeline, chrome }
    }

    /// Takes `--timeline FILE` and `--trace FILE` out of `args`, returning
    /// the rest in order.
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

    /// The flags of this process (`std::env::args`, without the program
    /// name). A malformed flag prints an error and exits with status 2.
    pub fn from_env() -> TraceArgs {
        match TraceArgs::parse(std::env::args().skip(1)) {
            Ok((args, _)) => args,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        }
    }

    /// The SVG timeline's path, if asked for.
    pub fn timeline(&self) -> Option<&Path> {
        self.timeline.as_deref()
    }

    /// The Chrome trace's path, if asked for.
    pub fn chrome(&self) -> Option<&Path> {
        self.chrome.as_deref()
    }

    /// Whether any output was asked for (then tracing must be on).
    pub fn wanted(&self) -> bool {
        self.timeline.is_some() || self.chrome.is_some()
    }

    /// Writes the outputs asked for; returns the paths written.
    ///
    /// # Errors
    ///
    /// A file that cannot be written (the error names it).
    pub fn write(&self, record: &Record, title: &str) -> io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        if let Some(path) = &self.timeline {
            let options = svg::SvgOptions {
                title: Some(title.to_owned()),
                ..svg::SvgOptions::default()
            };
            write_file(path, &svg::timeline_svg(record, &options))?;
            written.push(path.clone());
        }
        if let Some(path) = &self.chrome {
            write_file(path, &chrome::chrome_trace_json(record))?;
            written.push(path.clone());
        }
        Ok(written)
    }

    /// Runs `future` like [`evloop::run`](crate::run), with tracing on if
    /// any output was asked for; then writes the outputs and says where on
    /// stderr.
    ///
    /// # Panics
    ///
    /// As [`evloop::run`](crate::run) does.
    pub fn run<F: Future>(&self, title: &str, future: F) -> F::Output {
        let rt = Runtime::builder()
            .trace(self.wanted())
            .build()
            .unwrap_or_else(|e| panic!("evloop: cannot create a runtime: {e}"));
        let out = rt.block_on(future);
        if let Some(record) = rt.trace_record() {
            match self.write(&record, title) {
                Ok(paths) => {
                    for p in paths {
                        eprintln!("evloop: wrote {}", p.display());
                    }
                }
                Err(e) => eprintln!("evloop: {e}"),
            }
        }
        out
    }
}

fn write_file(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))?;
    }
    std::fs::write(path, contents)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// `EVLOOP_TRACE=1` prints the table; `EVLOOP_TRACE=a.svg,b.json` also
/// writes those files. Called when a traced runtime is dropped.
pub(crate) fn write_for_env(env: &str, record: &Record) {
    eprintln!("{}", stats::summary_table(record));
    let mut args = TraceArgs::default();
    for part in env.split(',').map(str::trim) {
        if part.ends_with(".svg") {
            args.timeline = Some(PathBuf::from(part));
        } else if part.ends_with(".json") {
            args.chrome = Some(PathBuf::from(part));
        }
    }
    match args.write(record, "evloop trace") {
        Ok(paths) => {
            for p in paths {
                eprintln!("evloop: wrote {}", p.display());
            }
        }
        Err(e) => eprintln!("evloop: EVLOOP_TRACE: {e}"),
    }
}
