//! The small pieces every part of the page is written with: escaping (the
//! one way a string from outside reaches the page), figures for people,
//! and the header row and cells of a sortable table.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::trace::stats::format_duration;
use crate::trace::svg::xml_escape;

/// A string from outside, escaped for HTML text and attribute values: `&`,
/// `<`, `>`, `"` and `'` become entities (so markup in a URL or a reason
/// shows as text), control characters become U+FFFD. Write it with `{}`.
pub(super) struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&xml_escape(self.0))
    }
}

/// `s`, to be written escaped (see [`Esc`]).
pub(super) fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// Seconds to two decimals, as the terminal table gives them: `4.21 s`.
pub(super) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// How a column sorts when its header is first clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    /// Names: left-aligned, A to Z first.
    Text,
    /// Figures: right-aligned, largest first.
    Number,
}

/// The `<thead>` of a sortable table: one header per column, each a button
/// that sorts by it (the page's script), with a hover text saying what the
/// column holds.
pub(super) fn sortable_head(out: &mut String, columns: &[(&str, Column, &str)]) {
    out.push_str("<thead><tr>");
    for (name, kind, help) in columns {
        let (class, order) = match kind {
            Column::Text => ("text", "ascending"),
            Column::Number => ("num", "descending"),
        };
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"{class}\" data-first=\"{order}\" title=\"{}\">\
             <button type=\"button\">{}</button></th>",
            esc(help),
            esc(name)
        );
    }
    out.push_str("</tr></thead>\n");
}

/// A text cell.
pub(super) fn text_cell(out: &mut String, text: &str) {
    let _ = write!(out, "<td class=\"text\">{}</td>", esc(text));
}

/// A figure cell: the text shown, and the number it sorts by.
pub(super) fn num_cell(out: &mut String, text: &str, sort: impl fmt::Display) {
    let _ = write!(
        out,
        "<td class=\"num\" data-sort=\"{}\">{}</td>",
        esc(&sort.to_string()),
        esc(text)
    );
}

/// A figure cell whose text may wrap (a count with its breakdown).
pub(super) fn wrapping_num_cell(out: &mut String, text: &str, sort: impl fmt::Display) {
    let _ = write!(
        out,
        "<td class=\"num wrap\" data-sort=\"{}\">{}</td>",
        esc(&sort.to_string()),
        esc(text)
    );
}

/// `count` and the noun, plural unless it is one: `1 image`, `12 images`.
pub(super) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// A duration cell: shown as `12.3 ms`, sorted by nanoseconds.
pub(super) fn duration_cell(out: &mut String, d: Duration) {
    num_cell(out, &format_duration(d), d.as_nanos());
}

/// `s` as an `id` attribute's value: lowercase letters, digits and `-`.
pub(super) fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_slugs() {
        assert_eq!(esc("<b>&'\"").to_string(), "&lt;b&gt;&amp;&apos;&quot;");
        assert_eq!(slug("Semaphore 4!"), "semaphore-4-");
        assert_eq!(slug(""), "-");
        assert_eq!(secs(Duration::from_millis(4214)), "4.21 s");
        assert_eq!(plural(1, "image"), "1 image");
        assert_eq!(plural(0, "failure"), "0 failures");
    }

    #[test]
    fn cells_escape_and_sort() {
        let mut out = String::new();
        num_cell(&mut out, "<1 s>", 5);
        assert_eq!(out, "<td class=\"num\" data-sort=\"5\">&lt;1 s&gt;</td>");
    }
}
