//! Properties of the HTTP parsers and the body decoder, over generated
//! inputs: valid response heads, chunked bodies, URLs and request heads
//! built from their grammar, then the same with random edits (bytes
//! replaced, inserted, removed, cut, repeated).
//!
//! `tests/http_parse.rs` holds the worked examples; this file says what
//! holds for every input:
//!
//! - a response head parses to what was written, not one byte early, and an
//!   answer once given never changes as more bytes arrive (so it does not
//!   matter how the socket splits the reads); only the first `max_head`
//!   bytes are ever looked at;
//! - `Framing::for_response` follows its rules for every list of
//!   `Content-Length` and `Transfer-Encoding` values;
//! - the body decoder gives the same body, the same end and the same error,
//!   byte for byte, whether the input comes whole, split at any one offset,
//!   or cut into random pieces; it never outputs more than its limit;
//! - a URL prints as a string that parses back to the same URL, and `join`
//!   keeps the identities RFC 3986 promises; a URL that does not parse is
//!   named in the error;
//! - the server's request parser reads what was written, waits for the
//!   rest, obeys its limit, and answers the same at every read boundary.
//!
//! Cases are few and the seed is fixed (see `prop_common`), so this runs in
//! a few seconds; failures are kept in
//! `tests/proptest-regressions/http_properties.txt`.

mod prop_common;

use evloop::http::head::DEFAULT_MAX_HEAD;
use evloop::http::server::{Rejection, Request, parse_request};
use evloop::http::{BodyDecoder, ErrorKind, Framing, ResponseHead, Url};
use proptest::prelude::*;
use proptest::sample::Index;

use prop_common::{apply, config, cuts, edits, pieces};

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/proptest-regressions/http_properties.txt"
);

const CHUNKED: Framing = Framing::Chunked {
    length_ignored: false,
};

// ---------------------------------------------------------------- grammar

/// An HTTP token (RFC 9110 section 5.6.2).
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

/// A header field value: visible ASCII and obs-text, with spaces and tabs
/// inside but not at either end (where they are not part of the value).
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let inner = prop_oneof![
        6 => 0x21u8..=0x7e,
        1 => Just(b' '),
        1 => Just(b'\t'),
        1 => 0x80u8..=0xff,
    ];
    let edge = prop_oneof![4 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    prop_oneof![
        1 => Just(Vec::new()),
        6 => (edge.clone(), prop::collection::vec(inner, 0..20), edge).prop_map(
            |(first, mut middle, last)| {
                middle.insert(0, first);
                middle.push(last);
                middle
            }
        ),
    ]
}

/// Header fields (name, value), names unique enough not to be framing ones.
fn fields(max: usize) -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec((token(), field_value()), 0..=max).prop_map(|fields| {
        fields
            .into_iter()
            // Framing headers have their own properties below.
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("content-length")
                    && !name.eq_ignore_ascii_case("transfer-encoding")
            })
            .collect()
    })
}

/// A response head as written: status line and fields.
#[derive(Debug, Clone)]
struct Head {
    version: u8,
    status: u16,
    reason: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl Head {
    fn wire(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.{} {} {}\r\n",
            self.version, self.status, self.reason
        )
        .into_bytes();
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn head_with_status(status: impl Strategy<Value = u16>) -> impl Strategy<Value = Head> {
    (
        0u8..=1,
        status,
        "([A-Za-z0-9]([A-Za-z0-9 ]{0,16}[A-Za-z0-9])?)?",
        fields(8),
    )
        .prop_map(|(version, status, reason, fields)| Head {
            version,
            status,
            reason,
            fields,
        })
}

/// A final response head.
fn head() -> impl Strategy<Value = Head> {
    head_with_status(200u16..=599)
}

/// An interim (1xx) head other than 101.
fn interim_head() -> impl Strategy<Value = Head> {
    head_with_status(prop_oneof![
        Just(100u16),
        Just(102),
        Just(103),
        104u16..=199
    ])
}

/// Bytes that may follow a head: the start of the body.
fn tail() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..16)
}

/// What `ResponseHead::parse` answered, errors as text (see [`head_result`]).
type HeadAnswer = Result<Option<(ResponseHead, usize)>, String>;

/// What `parse_request` answered.
type RequestAnswer = Result<Option<(Request, usize)>, Rejection>;

/// A parse result in a comparable form: errors by their message, except
/// that a bad status line's excerpt quotes what had arrived so far, so only
/// its problem is compared.
fn head_result(buf: &[u8], max_head: usize) -> HeadAnswer {
    ResponseHead::parse(buf, max_head).map_err(|e| match e.kind() {
        ErrorKind::BadStatusLine { problem, .. } => format!("bad status line ({problem})"),
        _ => e.to_string(),
    })
}

// ---------------------------------------------------------------- heads

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    /// A written head parses to what was written, and the bytes after it
    /// are the body's.
    #[test]
    fn a_head_parses_to_what_was_written(head in head(), tail in tail()) {
        let wire = head.wire();
        let mut buf = wire.clone();
        buf.extend_from_slice(&tail);
        let (parsed, used) = ResponseHead::parse(&buf, DEFAULT_MAX_HEAD)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .expect("a complete head");
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(parsed.status, head.status);
        prop_assert_eq!(parsed.version, head.version);
        prop_assert_eq!(&parsed.reason, &head.reason);
        let expected: Vec<(String, Vec<u8>)> = head.fields.clone();
        prop_assert_eq!(parsed.headers, expected);
    }

    /// Every proper prefix of a head is "not yet"; from the last byte on,
    /// the answer is the head, however many bytes follow.
    #[test]
    fn a_head_is_complete_exactly_at_its_last_byte(head in head(), tail in tail()) {
        let wire = head.wire();
        let mut buf = wire.clone();
        buf.extend_from_slice(&tail);
        let whole = head_result(&buf, DEFAULT_MAX_HEAD);
        prop_assert!(matches!(&whole, Ok(Some((_, n))) if *n == wire.len()), "{:?}", whole);
        for k in 0..wire.len() {
            prop_assert_eq!(head_result(&buf[..k], DEFAULT_MAX_HEAD), Ok(None), "prefix {}", k);
        }
        for k in wire.len()..=buf.len() {
            prop_assert_eq!(&head_result(&buf[..k], DEFAULT_MAX_HEAD), &whole, "prefix {}", k);
        }
    }

    /// Interim heads before the final one are skipped and counted in the
    /// bytes used.
    #[test]
    fn interim_heads_are_skipped(
        interim in prop::collection::vec(interim_head(), 0..4),
        head in head(),
        tail in tail(),
    ) {
        let mut buf: Vec<u8> = interim.iter().flat_map(Head::wire).collect();
        buf.extend(head.wire());
        let used_expected = buf.len();
        buf.extend_from_slice(&tail);
        let (parsed, used) = ResponseHead::parse(&buf, DEFAULT_MAX_HEAD)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .expect("a complete head");
        prop_assert_eq!(used, used_expected);
        prop_assert_eq!(parsed.status, head.status);
    }

    /// A head longer than the limit is refused once the buffer passes the
    /// limit, and never reported complete.
    #[test]
    fn a_head_over_the_limit_is_refused(head in head(), tail in tail(), cut in any::<Index>()) {
        let wire = head.wire();
        let max_head = cut.index(wire.len());
        let mut buf = wire.clone();
        buf.extend_from_slice(&tail);
        let err = ResponseHead::parse(&buf, max_head).expect_err("the head is over the limit");
        prop_assert!(
            matches!(err.kind(), ErrorKind::HeadTooLarge { limit } if *limit == max_head),
            "{}", err
        );
        // Up to the limit itself the parser still waits for more.
        prop_assert_eq!(head_result(&buf[..max_head], max_head), Ok(None));
    }

    /// Damaged heads never panic, and the first answer that is not "not
    /// yet" stays the answer for every longer prefix: how the reads split
    /// the bytes changes nothing.
    #[test]
    fn a_damaged_head_gets_one_answer_at_every_read_boundary(
        interim in prop::collection::vec(interim_head(), 0..2),
        head in head(),
        tail in tail(),
        edits in edits(4),
        small_limit in prop::bool::weighted(0.3),
        limit in 8usize..200,
    ) {
        let mut buf: Vec<u8> = interim.iter().flat_map(Head::wire).collect();
        buf.extend(head.wire());
        buf.extend_from_slice(&tail);
        let buf = apply(&buf, &edits);
        let max_head = if small_limit { limit } else { DEFAULT_MAX_HEAD };
        let mut decided: Option<(usize, HeadAnswer)> = None;
        for k in 0..=buf.len() {
            let answer = head_result(&buf[..k], max_head);
            if let Some((at, first)) = &decided {
                prop_assert_eq!(&answer, first, "prefix {} changed the answer given at {}", k, at);
            } else if answer != Ok(None) {
                if let Ok(Some((_, used))) = &answer {
                    prop_assert!(*used <= k && *used <= max_head);
                }
                decided = Some((k, answer));
            }
        }
    }

    /// Only the first `max_head` bytes are looked at: whatever comes after
    /// them changes nothing.
    #[test]
    fn bytes_past_the_limit_are_never_read(
        head in head(),
        edits in edits(3),
        limit in any::<Index>(),
        junk in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let buf = apply(&head.wire(), &edits);
        let max_head = limit.index(buf.len() + 1);
        let mut other = buf[..max_head].to_vec();
        other.extend(junk.iter().cycle().take(buf.len() - max_head));
        prop_assert_eq!(head_result(&buf, max_head), head_result(&other, max_head));
    }

    /// A first line that is not a status line is refused with an error that
    /// quotes it.
    #[test]
    fn a_bad_status_line_is_quoted(line in "[!-GI-~][ -~]{0,60}", fields in fields(3)) {
        let mut buf = format!("{line}\r\n").into_bytes();
        for (name, value) in &fields {
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(value);
            buf.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(b"\r\n");
        let err = ResponseHead::parse(&buf, DEFAULT_MAX_HEAD).expect_err("not a status line");
        prop_assert!(matches!(err.kind(), ErrorKind::BadStatusLine { .. }), "{}", err);
        let shown: String = line.as_bytes()[..line.len().min(48)].escape_ascii().to_string();
        prop_assert!(err.to_string().contains(&shown), "{} does not quote {:?}", err, shown);
    }
}

// ---------------------------------------------------------------- framing

/// One element of a `Content-Length` list as written, and its value if it
/// is a valid one.
fn length_element() -> impl Strategy<Value = (String, Option<u64>)> {
    let spaces = "[ \t]{0,2}";
    prop_oneof![
        6 => (spaces, 0u64..100_000, spaces)
            .prop_map(|(a, n, b)| (format!("{a}{n}{b}"), Some(n))),
        2 => (0u64..3, 0u64..100).prop_map(|(zeros, n)| {
            (format!("{}{n}", "0".repeat(zeros as usize)), Some(n))
        }),
        1 => any::<u64>().prop_map(|n| (n.to_string(), Some(n))),
        1 => prop::sample::select(vec![
            "", " ", "+5", "-1", "5 5", "0x10", "1e3", "five", "18446744073709551616",
            "99999999999999999999",
        ])
        .prop_map(|s| (s.to_owned(), None)),
    ]
}

/// `Content-Length` headers: each a comma-separated list of elements.
fn length_headers() -> impl Strategy<Value = Vec<Vec<(String, Option<u64>)>>> {
    prop::collection::vec(prop::collection::vec(length_element(), 1..3), 0..3)
}

/// A `Transfer-Encoding` coding as written (with its case and spaces).
fn coding() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "chunked", "Chunked", "CHUNKED", "gzip", "identity", "",
        ]),
        "[ \t]{0,1}",
    )
        .prop_map(|(c, pad)| format!("{pad}{c}{pad}"))
}

fn framing_head(
    status: u16,
    lengths: &[Vec<(String, Option<u64>)>],
    codings: &[Vec<String>],
) -> ResponseHead {
    let mut wire = format!("HTTP/1.1 {status} X\r\n").into_bytes();
    for list in lengths {
        let text: Vec<&str> = list.iter().map(|(s, _)| s.as_str()).collect();
        wire.extend(format!("Content-Length: {}\r\n", text.join(",")).into_bytes());
    }
    for list in codings {
        wire.extend(format!("Transfer-Encoding: {}\r\n", list.join(",")).into_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    ResponseHead::parse(&wire, DEFAULT_MAX_HEAD)
        .expect("a well-formed head")
        .expect("complete")
        .0
}

proptest! {
    #![proptest_config(config(512, REGRESSIONS))]

    /// `Framing::for_response` against its documented rules.
    #[test]
    fn framing_follows_its_rules(
        status in prop::sample::select(vec![200u16, 204, 206, 304, 404, 500]),
        request_was_head in prop::bool::weighted(0.1),
        lengths in length_headers(),
        codings in prop::collection::vec(prop::collection::vec(coding(), 1..3), 0..2),
    ) {
        let head = framing_head(status, &lengths, &codings);
        let got = Framing::for_response(&head, request_was_head);
        if request_was_head || matches!(status, 204 | 304) {
            prop_assert_eq!(got.ok(), Some(Framing::Empty));
            return Ok(());
        }
        // Content-Length: every element valid, all equal; in the order
        // received, the first element that is malformed or disagrees
        // decides the error.
        let mut length: Result<Option<u64>, &str> = Ok(None);
        for (_, element) in lengths.iter().flatten() {
            length = match (length, element) {
                (Ok(_), None) => Err("bad"),
                (Ok(Some(first)), Some(n)) if first != *n => Err("conflict"),
                (Ok(_), Some(n)) => Ok(Some(*n)),
                (decided, _) => decided,
            };
            if length.is_err() {
                break;
            }
        }
        // Transfer-Encoding: the non-empty codings are exactly "chunked".
        let named: Vec<String> = codings
            .iter()
            .flatten()
            .map(|c| c.trim_matches([' ', '\t']).to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        match (length, codings.is_empty()) {
            (Err("bad"), _) => prop_assert!(
                matches!(got.as_ref().map_err(|e| e.kind()), Err(ErrorKind::BadContentLength { .. })),
                "{:?}", got
            ),
            (Err(_), _) => prop_assert!(
                matches!(got.as_ref().map_err(|e| e.kind()), Err(ErrorKind::ConflictingContentLength { .. })),
                "{:?}", got
            ),
            (Ok(length), false) if named == ["chunked"] => prop_assert_eq!(
                got.ok(),
                Some(Framing::Chunked { length_ignored: length.is_some() })
            ),
            (Ok(_), false) => prop_assert!(
                matches!(got.as_ref().map_err(|e| e.kind()), Err(ErrorKind::UnsupportedTransferEncoding { .. })),
                "{:?}", got
            ),
            (Ok(Some(length)), true) => prop_assert_eq!(got.ok(), Some(Framing::Length(length))),
            (Ok(None), true) => prop_assert_eq!(got.ok(), Some(Framing::UntilClose)),
        }
    }
}

// ---------------------------------------------------------------- bodies

/// What decoding produced, comparable across ways of feeding the input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    done: bool,
    error: Option<String>,
}

/// Feeds `pieces` in order until done or an error, then tells the decoder
/// the peer closed if `eof` (and it is not done). Errors after an error
/// must be "poisoned".
fn feed(framing: Framing, max_body: u64, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut decoder = match BodyDecoder::new(framing, max_body) {
        Ok(d) => d,
        Err(e) => {
            return Outcome {
                body: Vec::new(),
                consumed: 0,
                done: false,
                error: Some(e.to_string()),
            };
        }
    };
    let mut body = Vec::new();
    let mut consumed = 0;
    let mut error = None;
    for piece in pieces {
        match decoder.decode(piece, &mut body) {
            Ok(step) => {
                consumed += step.consumed;
                if step.done {
                    assert!(decoder.is_done());
                    break;
                }
                assert_eq!(step.consumed, piece.len(), "not done, so all input is used");
            }
            Err(e) => {
                error = Some(e.to_string());
                // After an error, the decoder refuses everything.
                let again = decoder.decode(b"0\r\n\r\n", &mut body).unwrap_err();
                assert!(
                    matches!(again.kind(), ErrorKind::DecoderPoisoned),
                    "{again}"
                );
                let at_eof = decoder.eof().unwrap_err();
                assert!(
                    matches!(at_eof.kind(), ErrorKind::DecoderPoisoned),
                    "{at_eof}"
                );
                break;
            }
        }
    }
    if error.is_none()
        && eof
        && !decoder.is_done()
        && let Err(e) = decoder.eof()
    {
        error = Some(e.to_string());
    }
    assert_eq!(
        decoder.received(),
        body.len() as u64,
        "received() counts the body"
    );
    Outcome {
        body,
        consumed: if error.is_some() { 0 } else { consumed },
        done: decoder.is_done(),
        error,
    }
}

/// A chunked body as written.
#[derive(Debug, Clone)]
struct Chunked {
    /// (data, how its size line is written: upper-case hex, leading
    /// zeros, the bytes between the size and CRLF).
    chunks: Vec<(Vec<u8>, bool, usize, String)>,
    last_zeros: usize,
    last_extension: String,
    trailers: Vec<(String, Vec<u8>)>,
}

impl Chunked {
    fn wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (data, upper, zeros, after) in &self.chunks {
            let size = if *upper {
                format!("{:X}", data.len())
            } else {
                format!("{:x}", data.len())
            };
            out.extend(format!("{}{size}{after}\r\n", "0".repeat(*zeros)).into_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend(
            format!(
                "{}{}\r\n",
                "0".repeat(self.last_zeros + 1),
                self.last_extension
            )
            .into_bytes(),
        );
        for (name, value) in &self.trailers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(d, ..)| d.clone()).collect()
    }
}

/// What may follow a chunk size: nothing, spaces, an extension.
fn chunk_extension() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => "[ \t]{1,2}",
        2 => ("[ \t]{0,1}", token(), prop::option::of(prop_oneof![
            token(),
            "\"[ !#-~]{0,10}\"",
        ]))
            .prop_map(|(pad, name, value)| match value {
                Some(v) => format!("{pad};{name}={v}"),
                None => format!("{pad};{name}"),
            }),
    ]
}

fn chunked() -> impl Strategy<Value = Chunked> {
    let chunk = (
        prop::collection::vec(any::<u8>(), 1..40),
        any::<bool>(),
        0usize..3,
        chunk_extension(),
    );
    (
        prop::collection::vec(chunk, 0..5),
        0usize..3,
        chunk_extension(),
        fields(3),
    )
        .prop_map(|(chunks, last_zeros, last_extension, trailers)| Chunked {
            chunks,
            last_zeros,
            last_extension,
            trailers,
        })
}

/// A framing to decode with and the wire bytes for it: a chunked body, a
/// `Content-Length` body, or one delimited by the close.
fn framed_body() -> impl Strategy<Value = (Framing, Vec<u8>, u64)> {
    prop_oneof![
        4 => (chunked(), tail()).prop_map(|(c, tail)| {
            let mut wire = c.wire();
            wire.extend(tail);
            (CHUNKED, wire, c.body().len() as u64)
        }),
        1 => (prop::collection::vec(any::<u8>(), 0..80), 0u64..100).prop_map(|(wire, n)| {
            (Framing::Length(n), wire, n)
        }),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(|wire| {
            let len = wire.len() as u64;
            (Framing::UntilClose, wire, len)
        }),
    ]
}

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    /// A valid chunked body decodes to its data and stops at its end, fed
    /// whole or a byte at a time.
    #[test]
    fn a_chunked_body_decodes_to_its_data(body in chunked(), tail in tail()) {
        let mut wire = body.wire();
        let end = wire.len();
        wire.extend_from_slice(&tail);
        let expected = Outcome { body: body.body(), consumed: end, done: true, error: None };
        prop_assert_eq!(&feed(CHUNKED, 1 << 20, &[&wire], false), &expected);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(&feed(CHUNKED, 1 << 20, &bytes, false), &expected);
    }

    /// Whole, split at any one offset (with an empty piece there), or cut
    /// at random places: the same body, the same end, the same error, for
    /// valid and damaged input alike, with the peer closing at the end or
    /// not. The body never exceeds the limit.
    #[test]
    fn a_body_decodes_the_same_however_it_is_split(
        (framing, wire, size) in framed_body(),
        edits in edits(3),
        damage in prop::bool::weighted(0.6),
        limit_below in prop::bool::weighted(0.25),
        eof in any::<bool>(),
        random_cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let wire = if damage { apply(&wire, &edits) } else { wire };
        let max_body = if limit_below { size / 2 } else { 1 << 20 };
        let whole = feed(framing, max_body, &[&wire], eof);
        prop_assert!(whole.body.len() as u64 <= max_body);
        for split in 0..=wire.len() {
            let (a, b) = wire.split_at(split);
            prop_assert_eq!(&feed(framing, max_body, &[a, b"", b], eof), &whole, "split at {}", split);
        }
        let at = cuts(wire.len(), &random_cuts);
        prop_assert_eq!(&feed(framing, max_body, &pieces(&wire, &at), eof), &whole, "cut at {:?}", at);
    }

    /// A chunked body cut short and then closed is an error that says how
    /// much of it arrived.
    #[test]
    fn a_truncated_chunked_body_is_reported_at_eof(body in chunked(), cut in any::<Index>()) {
        let wire = body.wire();
        let cut = cut.index(wire.len());
        let out = feed(CHUNKED, 1 << 20, &[&wire[..cut]], true);
        prop_assert_eq!(
            out.error,
            Some(format!(
                "chunked body ended after {} bytes, before its last chunk",
                out.body.len()
            ))
        );
        prop_assert!(body.body().starts_with(&out.body));
    }

    /// A `Content-Length` body: refused up front over the limit, else
    /// exactly its length, and "ended after n of m" when cut short.
    #[test]
    fn a_length_body_is_exactly_its_length(
        length in 0u64..200,
        max_body in 0u64..200,
        wire in prop::collection::vec(any::<u8>(), 0..250),
    ) {
        let out = feed(Framing::Length(length), max_body, &[&wire], true);
        if length > max_body {
            prop_assert_eq!(
                out.error,
                Some(format!("body of at least {length} bytes is over the limit of {max_body} bytes"))
            );
            return Ok(());
        }
        let take = wire.len().min(length as usize);
        prop_assert_eq!(&out.body, &wire[..take].to_vec());
        if take as u64 == length {
            prop_assert_eq!((out.consumed, out.done, out.error), (take, true, None));
        } else {
            prop_assert_eq!(out.error, Some(format!("body ended after {take} of {length} bytes")));
        }
    }
}

// ---------------------------------------------------------------- URLs

/// A URL as written, from its parts.
#[derive(Debug, Clone)]
struct UrlText {
    scheme: String,
    host: String,
    /// The host as `Url::host` gives it.
    host_normal: String,
    port: Option<String>,
    port_value: Option<u16>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl UrlText {
    fn text(&self) -> String {
        let mut out = format!("{}://{}", self.scheme, self.host);
        if let Some(port) = &self.port {
            out.push(':');
            out.push_str(port);
        }
        out.push_str(&self.path);
        if let Some(q) = &self.query {
            out.push('?');
            out.push_str(q);
        }
        if let Some(f) = &self.fragment {
            out.push('#');
            out.push_str(f);
        }
        out
    }
}

fn scheme() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["http", "https", "HTTP", "Https", "hTtPs"]).prop_map(str::to_owned)
}

/// (host as written, host as normalised).
fn host() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        4 => "[A-Za-z0-9_~-]{1,8}(\\.[A-Za-z0-9_~-]{1,8}){0,3}"
            .prop_filter("all digits and dots is an IPv4 address", |h| {
                !h.chars().all(|c| c.is_ascii_digit() || c == '.')
            })
            .prop_map(|h| (h.clone(), h.to_ascii_lowercase())),
        1 => any::<[u8; 4]>().prop_map(|o| {
            let ip = std::net::Ipv4Addr::from(o).to_string();
            (ip.clone(), ip)
        }),
        1 => any::<u128>().prop_map(|n| {
            let ip = std::net::Ipv6Addr::from(n);
            (format!("[{ip}]"), ip.to_string())
        }),
        1 => any::<[u16; 8]>().prop_map(|s| {
            // The long form, upper-case: normalised to std's short form.
            let ip = std::net::Ipv6Addr::from(s);
            let long: Vec<String> = s.iter().map(|g| format!("{g:X}")).collect();
            (format!("[{}]", long.join(":")), ip.to_string())
        }),
    ]
}

/// (port as written, its value).
fn port() -> impl Strategy<Value = (Option<String>, Option<u16>)> {
    prop_oneof![
        3 => Just((None, None)),
        1 => Just((Some(String::new()), None)),
        3 => (1u16..=65535, 0usize..2)
            .prop_map(|(p, zeros)| (Some(format!("{}{p}", "0".repeat(zeros))), Some(p))),
    ]
}

/// A path segment: letters, sub-delimiters, percent escapes, dot segments,
/// non-ASCII characters.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z0-9._~!$&'()*+,;=:@-]{0,8}",
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => "%[0-9A-Fa-f]{2}",
        1 => Just("%zz".to_owned()),
        1 => "[é日ß€😀]{1,3}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..5)
        .prop_map(|segments| segments.iter().map(|s| format!("/{s}")).collect::<String>())
}

fn query() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~!$&'()*+,;=:@/?%é-]{0,12}"
}

fn url_text() -> impl Strategy<Value = UrlText> {
    (
        scheme(),
        host(),
        port(),
        path(),
        prop::option::of(query()),
        prop::option::of("[A-Za-z0-9#?/ ]{0,6}".prop_map(|f| f.replace(' ', "-"))),
    )
        .prop_map(
            |(scheme, (host, host_normal), (port, port_value), path, query, fragment)| UrlText {
                scheme,
                host,
                host_normal,
                port,
                port_value,
                path,
                query,
                fragment,
            },
        )
}

/// A relative reference for `join`.
fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (prop::collection::vec(segment(), 1..4), prop::option::of(query())).prop_map(
            |(segments, q)| {
                let mut r = segments.join("/");
                if let Some(q) = q {
                    r.push('?');
                    r.push_str(&q);
                }
                r
            }
        ),
        2 => (path(), prop::option::of(query())).prop_map(|(p, q)| match q {
            Some(q) => format!("{}?{q}", if p.is_empty() { "/" } else { &p }),
            None => if p.is_empty() { "/".to_owned() } else { p },
        }),
        1 => query().prop_map(|q| format!("?{q}")),
        1 => "[a-z]{0,4}".prop_map(|f| format!("#{f}")),
    ]
    // RFC 3986 section 4.2: "//..." names another host, and a first
    // segment with a colon reads as a scheme; neither is a same-origin
    // reference (a writer puts "./" before such a segment).
    .prop_filter("not a same-origin reference", |r| {
        let first = r.split(['/', '?', '#']).next().unwrap_or("");
        !r.starts_with("//") && !first.contains(':')
    })
}

/// How `Url`'s error shows the text it refused (escaped, cut to 200
/// characters).
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

fn url(text: &str) -> Result<Url, TestCaseError> {
    Url::parse(text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))
}

proptest! {
    #![proptest_config(config(512, REGRESSIONS))]

    /// A URL built from valid parts parses to those parts, normalised.
    #[test]
    fn a_url_parses_to_its_parts(parts in url_text()) {
        let parsed = url(&parts.text())?;
        prop_assert_eq!(parsed.scheme().as_str(), parts.scheme.to_ascii_lowercase());
        prop_assert_eq!(parsed.host(), parts.host_normal.as_str());
        prop_assert_eq!(parsed.port(), parts.port_value.unwrap_or(parsed.scheme().default_port()));
        let target = parsed.target();
        prop_assert!(target.starts_with('/'), "{}", target);
        prop_assert!(target.is_ascii() && !target.contains('#'), "{}", target);
        // No dot segment is left in the path.
        prop_assert!(
            !parsed.path().split('/').any(|s| s == "." || s == ".."),
            "{}", parsed.path()
        );
        prop_assert_eq!(parsed.query().is_some(), parts.query.is_some());
    }

    /// Printing a URL gives a string that parses back to the same URL, and
    /// printing that again gives the same string.
    #[test]
    fn a_url_round_trips_through_its_text(parts in url_text()) {
        let parsed = url(&parts.text())?;
        let printed = parsed.to_string();
        let again = url(&printed)?;
        prop_assert_eq!(&again, &parsed);
        prop_assert_eq!(again.to_string(), printed);
    }

    /// Damaged or arbitrary text never panics; what parses round-trips,
    /// and what does not is named in the error.
    #[test]
    fn any_text_parses_or_is_named_in_the_error(
        text in prop_oneof![
            2 => (url_text(), edits(3)).prop_map(|(parts, edits)| {
                String::from_utf8_lossy(&apply(parts.text().as_bytes(), &edits)).into_owned()
            }),
            1 => any::<String>(),
            1 => "[a-zA-Z]{0,6}:[ -~]{0,30}",
        ]
    ) {
        match Url::parse(&text) {
            Ok(parsed) => {
                let again = url(&parsed.to_string())?;
                prop_assert_eq!(again, parsed);
            }
            Err(err) => {
                prop_assert!(matches!(err.kind(), ErrorKind::Url { .. }), "{}", err);
                prop_assert!(err.to_string().contains(&shown(&text)), "{} does not name {:?}", err, text);
            }
        }
    }

    /// `join` keeps the identities: an empty reference, a fragment, the
    /// URL's own text, its own target, and its scheme-relative form all
    /// give the URL back.
    #[test]
    fn join_identities_hold(parts in url_text(), fragment in "[a-z]{0,5}") {
        let base = url(&parts.text())?;
        let same = |reference: &str| -> Result<(), TestCaseError> {
            let joined = base.join(reference).map_err(|e| TestCaseError::fail(format!("{reference:?}: {e}")))?;
            prop_assert_eq!(&joined, &base, "join({:?})", reference);
            Ok(())
        };
        same("")?;
        same(&format!("#{fragment}"))?;
        same(&base.to_string())?;
        // A target that starts with "//" reads as a network-path
        // reference (another host), in RFC 3986 as here.
        if !base.target().starts_with("//") {
            same(base.target())?;
        }
        same(&format!("//{}{}", base.host_header(), base.target()))?;
    }

    /// Whatever `join` resolves to is a URL in normal form (it round-trips
    /// through its text) on the same origin, with no dot segments and no
    /// climbing above the root; a query-only reference keeps the path.
    #[test]
    fn join_resolves_to_a_normal_url_on_the_same_origin(parts in url_text(), reference in reference()) {
        let base = url(&parts.text())?;
        let joined = base.join(&reference).map_err(|e| TestCaseError::fail(format!("{reference:?}: {e}")))?;
        prop_assert_eq!(&url(&joined.to_string())?, &joined);
        prop_assert_eq!(
            (joined.scheme(), joined.host(), joined.port()),
            (base.scheme(), base.host(), base.port())
        );
        prop_assert!(joined.path().starts_with('/'));
        prop_assert!(!joined.path().split('/').any(|s| s == "." || s == ".."), "{}", joined.path());
        if let Some(query) = reference.strip_prefix('?') {
            prop_assert_eq!(joined.path(), base.path());
            prop_assert_eq!(joined.query().map(str::to_owned), Some(query.replace('é', "%C3%A9")));
        }
        // An absolute-path reference resolves as the same path on the
        // base's origin would parse.
        if reference.starts_with('/') && !reference.starts_with("//") {
            let origin = format!("{}://{}", base.scheme().as_str(), base.host_header());
            prop_assert_eq!(&joined, &url(&format!("{origin}{reference}"))?);
        }
    }
}

// ---------------------------------------------------------------- requests

/// A request head as written, and what the parser should make of it.
#[derive(Debug, Clone)]
struct RequestText {
    method: String,
    target: String,
    version: u8,
    fields: Vec<(String, Vec<u8>)>,
    /// The expected keep-alive and has-body, or the expected rejection.
    expected: Result<(bool, bool), Refusal>,
}

/// Why a generated request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A `Content-Length` that is not a number.
    BadLength,
    /// HTTP/1.1 without `Host`.
    MissingHost,
    /// More than one `Host`.
    MultipleHosts,
}

impl RequestText {
    fn wire(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.{}\r\n",
            self.method, self.target, self.version
        )
        .into_bytes();
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// A header that matters to the parser, as (name, value, its effect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Close,
    KeepAlive,
    Body,
    NoBody,
    BadLength,
    Nothing,
}

fn request_field() -> impl Strategy<Value = (String, Vec<u8>, Vec<Effect>)> {
    let connection_token = prop::sample::select(vec![
        ("close", Effect::Close),
        ("Close", Effect::Close),
        ("keep-alive", Effect::KeepAlive),
        ("Keep-Alive", Effect::KeepAlive),
        ("upgrade", Effect::Nothing),
        ("te", Effect::Nothing),
    ]);
    prop_oneof![
        3 => (
            prop::sample::select(vec!["Connection", "connection", "CONNECTION"]),
            prop::collection::vec(connection_token, 1..3),
        )
            .prop_map(|(name, tokens)| {
                let text: Vec<&str> = tokens.iter().map(|(t, _)| *t).collect();
                (name.to_owned(), text.join(", ").into_bytes(), tokens.iter().map(|(_, e)| *e).collect())
            }),
        2 => (
            prop::sample::select(vec!["Content-Length", "content-length"]),
            prop_oneof![
                Just(("0".to_owned(), Effect::NoBody)),
                Just(("000".to_owned(), Effect::NoBody)),
                (1u64..100_000).prop_map(|n| (n.to_string(), Effect::Body)),
                prop::sample::select(vec!["+1", "-1", "1 2", "x", "0x10", "1,1"])
                    .prop_map(|s| (s.to_owned(), Effect::BadLength)),
            ],
        )
            .prop_map(|(name, (value, effect))| (name.to_owned(), value.into_bytes(), vec![effect])),
        1 => prop::sample::select(vec!["chunked", "gzip, chunked", "identity"])
            .prop_map(|v| ("Transfer-Encoding".to_owned(), v.as_bytes().to_vec(), vec![Effect::Body])),
        4 => (token(), field_value())
            .prop_filter("framing and connection names have their own arm", |(name, _)| {
                !["connection", "content-length", "transfer-encoding", "host"]
                    .iter()
                    .any(|n| name.eq_ignore_ascii_case(n))
            })
            .prop_map(|(name, value)| (name, value, vec![Effect::Nothing])),
    ]
}

fn request_text() -> impl Strategy<Value = RequestText> {
    (
        prop_oneof![
            4 => prop::sample::select(vec!["GET", "HEAD"]).prop_map(str::to_owned),
            1 => token(),
        ],
        prop_oneof![
            4 => (path(), prop::option::of(query())).prop_map(|(p, q)| {
                let p = if p.is_empty() { "/".to_owned() } else { p };
                // The request line carries no raw non-ASCII.
                let p: String = p.chars().filter(char::is_ascii).collect();
                match q {
                    Some(q) => format!("{p}?{}", q.replace('é', "%C3%A9")),
                    None => p,
                }
            }),
            1 => Just("*".to_owned()),
            1 => Just("http://example.test/a?b".to_owned()),
        ],
        0u8..=1,
        prop::collection::vec(request_field(), 0..6),
        // Usually one Host, as clients send; sometimes none or two.
        prop_oneof![1 => Just(0usize), 6 => Just(1), 1 => Just(2)],
        prop::sample::select(vec![
            "example.test",
            "127.0.0.1:8080",
            "[::1]:80",
            "localhost",
        ]),
    )
        .prop_map(|(method, target, version, mut fields, hosts, host)| {
            for _ in 0..hosts {
                fields.insert(
                    0,
                    (
                        "Host".to_owned(),
                        host.as_bytes().to_vec(),
                        vec![Effect::Nothing],
                    ),
                );
            }
            let effects: Vec<Effect> = fields.iter().flat_map(|(_, _, e)| e.clone()).collect();
            let expected = if effects.contains(&Effect::BadLength) {
                Err(Refusal::BadLength)
            } else if hosts == 0 && version == 1 {
                Err(Refusal::MissingHost)
            } else if hosts > 1 {
                Err(Refusal::MultipleHosts)
            } else {
                let close = effects.contains(&Effect::Close);
                let asked = effects.contains(&Effect::KeepAlive);
                Ok((
                    !close && (version == 1 || asked),
                    effects.contains(&Effect::Body),
                ))
            };
            RequestText {
                method,
                target,
                version,
                fields: fields.into_iter().map(|(n, v, _)| (n, v)).collect(),
                expected,
            }
        })
}

fn request_result(buf: &[u8], limit: usize) -> RequestAnswer {
    parse_request(buf, limit)
}

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    /// A written request parses to what was written: method, target,
    /// version, keep-alive and body by the header rules, or a rejection of
    /// a bad `Content-Length`; a pipelined request after it is left alone.
    #[test]
    fn a_request_parses_to_what_was_written(request in request_text(), next in request_text()) {
        let wire = request.wire();
        let mut buf = wire.clone();
        buf.extend(next.wire());
        match (parse_request(&buf, 1 << 16), request.expected) {
            (Ok(Some((parsed, used))), Ok((keep_alive, has_body))) => {
                prop_assert_eq!(used, wire.len());
                prop_assert_eq!(&parsed.method, &request.method);
                prop_assert_eq!(&parsed.target, &request.target);
                prop_assert_eq!(parsed.minor_version, request.version);
                prop_assert_eq!((parsed.keep_alive, parsed.has_body), (keep_alive, has_body));
            }
            (Err(Rejection::BadContentLength(_)), Err(Refusal::BadLength)) => {}
            (Err(Rejection::MissingHost), Err(Refusal::MissingHost)) => {}
            (Err(Rejection::MultipleHosts(2)), Err(Refusal::MultipleHosts)) => {}
            (got, expected) => prop_assert!(false, "got {:?}, expected {:?}", got, expected),
        }
    }

    /// Before its last byte a request is "not yet" (while under the
    /// limit); over the limit it is refused, complete or not, and never
    /// accepted with more bytes than the limit.
    #[test]
    fn a_request_waits_for_its_end_and_obeys_the_limit(request in request_text(), limit in any::<Index>()) {
        let wire = request.wire();
        let limit = limit.index(wire.len() * 2 + 1);
        for k in 0..=wire.len() {
            let got = request_result(&wire[..k], limit);
            if k >= limit && (k < wire.len() || wire.len() > limit) {
                prop_assert_eq!(got, Err(Rejection::TooLarge { limit }), "prefix {} of {}", k, wire.len());
            } else if k < wire.len() {
                prop_assert_eq!(got, Ok(None), "prefix {}", k);
            } else if request.expected.is_ok() {
                prop_assert!(matches!(got, Ok(Some((_, used))) if used == wire.len()), "{:?}", got);
            }
        }
    }

    /// Damaged requests never panic, never come back with more bytes used
    /// than given or than the limit, and the first answer that is not
    /// "not yet" stays the answer for every longer prefix.
    #[test]
    fn a_damaged_request_gets_one_answer_at_every_read_boundary(
        request in request_text(),
        next in request_text(),
        edits in edits(4),
        limit in prop_oneof![2 => 8usize..120, 1 => Just(8192usize)],
    ) {
        let mut buf = request.wire();
        buf.extend(next.wire());
        let buf = apply(&buf, &edits);
        let mut decided: Option<(usize, RequestAnswer)> = None;
        for k in 0..=buf.len() {
            let answer = request_result(&buf[..k], limit);
            if let Ok(Some((_, used))) = &answer {
                prop_assert!(*used <= k && *used <= limit, "used {} of {} (limit {})", used, k, limit);
            }
            if let Err(rejection) = &answer {
                prop_assert!(matches!(rejection.status(), 400 | 431));
                prop_assert!(!rejection.to_string().is_empty());
            }
            if let Some((at, first)) = &decided {
                prop_assert_eq!(&answer, first, "prefix {} changed the answer given at {}", k, at);
            } else if answer != Ok(None) {
                decided = Some((k, answer));
            }
        }
    }
}
