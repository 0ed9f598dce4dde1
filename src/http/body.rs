//! Body framing: where a response body ends, and a decoder that strips the
//! framing off as bytes arrive.
//!
//! [`Framing::for_response`] reads the response head and decides how the
//! body is delimited (RFC 9112 section 6.3). [`BodyDecoder`] is a state
//! machine over that framing: the client feeds it whatever bytes it read,
//! in pieces of any size, and it appends the body's bytes to an output
//! buffer and says when the body is complete. It never allocates by a
//! length the peer declared, enforces a body limit before trusting any
//! declared size, and reports a bad byte as soon as it arrives.
//!
//! ```
//! use evloop::http::{BodyDecoder, Framing, ResponseHead};
//!
//! let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
//! let (head, used) = ResponseHead::parse(wire, 1024)?.unwrap();
//! let framing = Framing::for_response(&head, false)?;
//! let mut decoder = BodyDecoder::new(framing, 1 << 20)?;
//! let mut body = Vec::new();
//! let step = decoder.decode(&wire[used..], &mut body)?;
//! assert!(step.done);
//! assert_eq!(body, b"hello");
//! # Ok::<(), evloop::http::HttpError>(())
//! ```

use super::error::{ErrorKind, HttpError, escape_bytes};
use super::head::ResponseHead;

/// The longest chunk extension (bytes between the chunk size and its CRLF)
/// accepted.
pub const MAX_CHUNK_EXTENSION: usize = 1024;

/// The longest trailer section (after the last chunk, up to and including
/// the final CRLF) accepted.
pub const MAX_TRAILERS: usize = 16 * 1024;

/// The most trailer fields accepted.
const MAX_TRAILER_FIELDS: usize = 64;

/// A chunk size may have at most this many hex digits (16 make 64 bits).
const MAX_CHUNK_SIZE_DIGITS: u32 = 16;

/// How a response body is delimited.
///
/// # Examples
///
/// ```
/// use evloop::http::{Framing, ResponseHead};
///
/// let head = |raw: &[u8]| ResponseHead::parse(raw, 1024).unwrap().unwrap().0;
/// let f = Framing::for_response(&head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"), false)?;
/// assert_eq!(f, Framing::Length(12));
/// let f = Framing::for_response(&head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"), true)?;
/// assert_eq!(f, Framing::Empty);
/// let f = Framing::for_response(&head(b"HTTP/1.1 200 OK\r\n\r\n"), false)?;
/// assert_eq!(f, Framing::UntilClose);
/// assert!(!f.allows_reuse());
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all: a `1xx`, `204` or `304` response, or any response to
    /// a `HEAD` request (whatever its headers say).
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked {
        /// The response also had a `Content-Length`. Chunked framing wins,
        /// but such a message may be an attempt at request smuggling, so
        /// the connection must be closed after it, never reused (RFC 9112
        /// section 6.3, rule 3).
        length_ignored: bool,
    },
    /// Everything until the server closes the connection (no length and
    /// not chunked). The connection cannot be reused.
    UntilClose,
}

impl Framing {
    /// Decides the framing of a response body from its head.
    ///
    /// In order: a `1xx`, `204` or `304` status, or `request_was_head`,
    /// means [`Framing::Empty`]. Otherwise any `Transfer-Encoding` header
    /// means [`Framing::Chunked`], provided its codings (all such headers,
    /// as one comma-separated list, case-insensitive) are exactly
    /// `chunked`; a `Content-Length` next to it is ignored and recorded in
    /// `length_ignored` (it must still be well-formed: a malformed one next
    /// to chunked framing is an error too). Otherwise a `Content-Length` means
    /// [`Framing::Length`]. Otherwise [`Framing::UntilClose`].
    ///
    /// `Content-Length` is parsed strictly: every element of every
    /// `Content-Length` header must be ASCII digits only (no sign, no
    /// spaces inside, not empty) and fit a `u64`. Several elements (repeated
    /// headers or a list like `12, 12`) are accepted when they all agree, as
    /// RFC 9110 section 8.6 allows, and refused when they do not.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::UnsupportedTransferEncoding`] when a coding other than
    ///   `chunked` is named (`gzip, chunked`, `chunked, gzip`, `identity`,
    ///   `chunked, chunked`): the client asks for none and could not undo
    ///   it, and reading such a body until close would hand the caller
    ///   encoded bytes.
    /// - [`ErrorKind::BadContentLength`] for a malformed value.
    /// - [`ErrorKind::ConflictingContentLength`] for values that disagree.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{ErrorKind, Framing, ResponseHead};
    ///
    /// let head = |raw: &[u8]| ResponseHead::parse(raw, 1024).unwrap().unwrap().0;
    /// let both = head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
    /// let framing = Framing::for_response(&both, false)?;
    /// assert_eq!(framing, Framing::Chunked { length_ignored: true });
    /// assert!(!framing.allows_reuse());
    ///
    /// let signed = head(b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n");
    /// let err = Framing::for_response(&signed, false).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::BadContentLength { .. }));
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn for_response(head: &ResponseHead, request_was_head: bool) -> Result<Framing, HttpError> {
        if request_was_head || matches!(head.status, 100..=199 | 204 | 304) {
            return Ok(Framing::Empty);
        }
        let length = content_length(head)?;
        if head.header("transfer-encoding").is_some() {
            let mut codings = head.list("transfer-encoding");
            let only_chunked = codings
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"))
                && codings.next().is_none();
            if !only_chunked {
                let all: Vec<&[u8]> = head.headers_all("transfer-encoding").collect();
                return Err(ErrorKind::UnsupportedTransferEncoding {
                    value: escape_bytes(&all.join(&b", "[..]), 80),
                }
                .into());
            }
            return Ok(Framing::Chunked {
                length_ignored: length.is_some(),
            });
        }
        Ok(match length {
            Some(length) => Framing::Length(length),
            None => Framing::UntilClose,
        })
    }

    /// Whether the framing lets the connection carry another request once
    /// the body is read to its end: not for [`Framing::UntilClose`], nor
    /// for chunked framing that overrode a `Content-Length`. (The head must
    /// allow it too: see [`ResponseHead::keep_alive`].)
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::Framing;
    ///
    /// assert!(Framing::Length(3).allows_reuse());
    /// assert!(Framing::Chunked { length_ignored: false }.allows_reuse());
    /// assert!(!Framing::Chunked { length_ignored: true }.allows_reuse());
    /// ```
    pub fn allows_reuse(&self) -> bool {
        match self {
            Framing::Empty | Framing::Length(_) => true,
            Framing::Chunked { length_ignored } => !length_ignored,
            Framing::UntilClose => false,
        }
    }
}

/// Reads every `Content-Length` element strictly; `None` if there is none.
fn content_length(head: &ResponseHead) -> Result<Option<u64>, HttpError> {
    let mut agreed: Option<u64> = None;
    for value in head.headers_all("content-length") {
        for element in value.split(|b| *b == b',') {
            let digits = element.trim_ascii();
            let bad = || ErrorKind::BadContentLength {
                value: escape_bytes(value, 40),
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad().into());
            }
            let mut number: u64 = 0;
            for digit in digits {
                number = number
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit - b'0')))
                    .ok_or_else(bad)?;
            }
            match agreed {
                Some(first) if first != number => {
                    return Err(ErrorKind::ConflictingContentLength {
                        first,
                        second: number,
                    }
                    .into());
                }
                _ => agreed = Some(number),
            }
        }
    }
    Ok(agreed)
}

/// What one call of [`BodyDecoder::decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "`consumed` says where the unread input starts, and `done` when to stop reading"]
pub struct Decoded {
    /// How many bytes of the input were used. Less than the input's length
    /// only when `done` is true: the rest is not part of this body.
    pub consumed: usize,
    /// The body is complete.
    pub done: bool,
}

/// Strips the framing off a response body, fed in pieces of any size.
///
/// Feeding a body one byte at a time gives the same output, the same
/// completion point and the same errors as feeding it whole: the decoder
/// keeps all its state between calls and never looks ahead.
///
/// After an error the decoder is poisoned: every later call returns
/// [`ErrorKind::DecoderPoisoned`].
///
/// # Examples
///
/// ```
/// use evloop::http::{BodyDecoder, Framing};
///
/// let mut decoder = BodyDecoder::new(Framing::Length(5), 100)?;
/// let mut body = Vec::new();
/// let step = decoder.decode(b"hel", &mut body)?;
/// assert_eq!((step.consumed, step.done), (3, false));
/// let step = decoder.decode(b"loHTTP/1.1", &mut body)?;
/// assert_eq!((step.consumed, step.done), (2, true));
/// assert_eq!(body, b"hello");
/// # Ok::<(), evloop::http::HttpError>(())
/// ```
#[derive(Debug)]
pub struct BodyDecoder {
    framing: Framing,
    max_body: u64,
    state: State,
    /// Body bytes written to the output so far.
    received: u64,
    /// Wire bytes consumed so far (framing included); offsets in errors.
    offset: u64,
}

/// Where the decoder is. The chunked states follow RFC 9112 section 7.1:
///
/// ```text
/// chunk  = SizeStart hex.. Size [SizeSpace] [";" Extension] CR SizeLf LF
///          Data(n) DataCr CR DataLf LF
/// last   = SizeStart "0" Size [...] CR SizeLf LF   then Trailers .. CRLF
/// ```
#[derive(Debug)]
enum State {
    /// `remaining` bytes of a `Content-Length` body to go.
    Length { remaining: u64 },
    /// Everything until the peer closes.
    UntilClose,
    /// Expecting the first hex digit of a chunk size.
    SizeStart,
    /// Inside a chunk size: `size` so far from `digits` digits.
    Size { size: u64, digits: u32 },
    /// Spaces or tabs after the size; `len` counts them against the
    /// extension limit.
    SizeSpace { size: u64, len: usize },
    /// Inside a chunk extension (after `;`), `len` bytes so far.
    Extension { size: u64, len: usize },
    /// After the CR that ends a chunk-size line.
    SizeLf { size: u64 },
    /// Inside chunk data, `remaining` bytes to go.
    Data { remaining: u64 },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// After the last chunk: the trailer section so far, up to its final
    /// blank line (bounded by [`MAX_TRAILERS`]).
    Trailers { section: Vec<u8> },
    /// The body is complete.
    Done,
    /// An error was reported.
    Poisoned,
}

impl BodyDecoder {
    /// Creates a decoder for a body with this framing, refusing bodies
    /// longer than `max_body` bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BodyTooLarge`] at once when a [`Framing::Length`]
    /// exceeds `max_body`, before any body byte is read.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, ErrorKind, Framing};
    ///
    /// let err = BodyDecoder::new(Framing::Length(10_000_000), 1_000_000).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::BodyTooLarge { limit: 1_000_000, at_least: 10_000_000 }));
    /// assert!(BodyDecoder::new(Framing::Empty, 0)?.is_done());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn new(framing: Framing, max_body: u64) -> Result<BodyDecoder, HttpError> {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(length) if length > max_body => {
                return Err(ErrorKind::BodyTooLarge {
                    limit: max_body,
                    at_least: length,
                }
                .into());
            }
            Framing::Length(length) => State::Length { remaining: length },
            Framing::Chunked { .. } => State::SizeStart,
            Framing::UntilClose => State::UntilClose,
        };
        Ok(BodyDecoder {
            framing,
            max_body,
            state,
            received: 0,
            offset: 0,
        })
    }

    /// Decodes as much of `input` as belongs to the body, appending the
    /// body's bytes to `out`.
    ///
    /// Consumes all of `input` unless the body ends inside it; then
    /// `consumed` says where, and `done` is true. Once done, further calls
    /// consume nothing and report done again.
    ///
    /// # Errors
    ///
    /// On the first byte that breaks the framing: [`ErrorKind::BadChunkSize`],
    /// [`ErrorKind::ChunkSizeOverflow`] (a 17th hex digit),
    /// [`ErrorKind::BadChunkExtension`], [`ErrorKind::ChunkExtensionTooLong`],
    /// [`ErrorKind::BadChunkDelimiter`], [`ErrorKind::TrailersTooLarge`],
    /// [`ErrorKind::BadTrailer`]; [`ErrorKind::BodyTooLarge`] as soon as a
    /// chunk size (even half-read) would take the body past the limit, or at
    /// the first close-delimited byte past it (`at_least` is then the limit
    /// plus one, and the body up to the limit is in `out`);
    /// [`ErrorKind::DecoderPoisoned`] after an error. Body bytes before the
    /// bad byte may already be in `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, ErrorKind, Framing};
    ///
    /// let mut decoder = BodyDecoder::new(Framing::Chunked { length_ignored: false }, 100)?;
    /// let mut out = Vec::new();
    /// let err = decoder.decode(b"1f4\r\n", &mut out).unwrap_err(); // 500 > 100
    /// assert!(matches!(err.kind(), ErrorKind::BodyTooLarge { limit: 100, at_least: 500 }));
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Decoded, HttpError> {
        let result = self.decode_inner(input, out);
        if result.is_err() {
            self.state = State::Poisoned;
        }
        result.map_err(HttpError::from)
    }

    /// Tells the decoder that the peer closed the connection.
    ///
    /// Completes a [`Framing::UntilClose`] body; fine for a body already
    /// complete.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BodyTruncated`] when a `Content-Length` or chunked body
    /// was not complete (`body ended after N of M bytes`);
    /// [`ErrorKind::DecoderPoisoned`] after an earlier error.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, Framing};
    ///
    /// let mut decoder = BodyDecoder::new(Framing::Length(10), 100)?;
    /// let _ = decoder.decode(b"abc", &mut Vec::new())?;
    /// let err = decoder.eof().unwrap_err();
    /// assert_eq!(err.to_string(), "body ended after 3 of 10 bytes");
    ///
    /// let mut decoder = BodyDecoder::new(Framing::UntilClose, 100)?;
    /// let _ = decoder.decode(b"abc", &mut Vec::new())?;
    /// decoder.eof()?;
    /// assert!(decoder.is_done());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn eof(&mut self) -> Result<(), HttpError> {
        let kind = match self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(());
            }
            State::Poisoned => ErrorKind::DecoderPoisoned,
            State::Length { remaining } => ErrorKind::BodyTruncated {
                received: self.received,
                expected: Some(self.received + remaining),
            },
            _ => ErrorKind::BodyTruncated {
                received: self.received,
                expected: None,
            },
        };
        self.state = State::Poisoned;
        Err(kind.into())
    }

    /// Whether the whole body has been decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, Framing};
    ///
    /// let mut decoder = BodyDecoder::new(Framing::Length(1), 1)?;
    /// assert!(!decoder.is_done());
    /// let _ = decoder.decode(b"x", &mut Vec::new())?;
    /// assert!(decoder.is_done());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Body bytes decoded so far (framing not counted).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, Framing};
    ///
    /// let mut decoder = BodyDecoder::new(Framing::Chunked { length_ignored: false }, 100)?;
    /// let _ = decoder.decode(b"3\r\nabc\r\n", &mut Vec::new())?;
    /// assert_eq!(decoder.received(), 3);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The framing this decoder was made for.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, Framing};
    ///
    /// assert_eq!(BodyDecoder::new(Framing::UntilClose, 1)?.framing(), Framing::UntilClose);
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Whether the connection may carry another request now: the body is
    /// complete and its framing allows reuse. (The head must allow it too:
    /// see [`ResponseHead::keep_alive`].)
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::http::{BodyDecoder, Framing};
    ///
    /// let mut decoder = BodyDecoder::new(Framing::Length(2), 10)?;
    /// assert!(!decoder.connection_reusable());
    /// let _ = decoder.decode(b"ok", &mut Vec::new())?;
    /// assert!(decoder.connection_reusable());
    /// # Ok::<(), evloop::http::HttpError>(())
    /// ```
    pub fn connection_reusable(&self) -> bool {
        self.is_done() && self.framing.allows_reuse()
    }

    fn decode_inner(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Decoded, ErrorKind> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match &mut self.state {
                State::Done => {
                    return Ok(Decoded {
                        consumed: pos,
                        done: true,
                    });
                }
                State::Poisoned => return Err(ErrorKind::DecoderPoisoned),
                _ if rest.is_empty() => {
                    return Ok(Decoded {
                        consumed: pos,
                        done: false,
                    });
                }
                // Bulk states copy as much as they can at once.
                State::Length { remaining } | State::Data { remaining } => {
                    let take = rest
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    out.extend_from_slice(&rest[..take]);
                    *remaining -= take as u64;
                    let finished = *remaining == 0;
                    self.received += take as u64;
                    self.offset += take as u64;
                    pos += take;
                    if finished {
                        self.state = match self.state {
                            State::Length { .. } => State::Done,
                            _ => State::DataCr,
                        };
                    }
                }
                State::UntilClose => {
                    // Up to the limit, then an error at the first byte past
                    // it: the same body and the same error however the
                    // input is split.
                    let room = self.max_body - self.received;
                    let take = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                    out.extend_from_slice(&rest[..take]);
                    self.received += take as u64;
                    self.offset += take as u64;
                    pos += take;
                    if take < rest.len() {
                        return Err(ErrorKind::BodyTooLarge {
                            limit: self.max_body,
                            at_least: self.max_body.saturating_add(1),
                        });
                    }
                }
                // Chunk framing goes one byte at a time.
                _ => {
                    self.chunk_byte(rest[0])?;
                    self.offset += 1;
                    pos += 1;
                }
            }
        }
    }

    /// Advances the chunked state machine by one framing byte.
    fn chunk_byte(&mut self, byte: u8) -> Result<(), ErrorKind> {
        let offset = self.offset;
        let delimiter = |expected| ErrorKind::BadChunkDelimiter {
            expected,
            found: byte,
            offset,
        };
        let next = match std::mem::replace(&mut self.state, State::Poisoned) {
            State::SizeStart => {
                let digit = hex_value(byte).ok_or(ErrorKind::BadChunkSize {
                    found: byte,
                    offset,
                })?;
                self.check_chunk_size(digit)?;
                State::Size {
                    size: digit,
                    digits: 1,
                }
            }
            State::Size { size, digits } => match (hex_value(byte), byte) {
                (Some(digit), _) => {
                    if digits == MAX_CHUNK_SIZE_DIGITS {
                        return Err(ErrorKind::ChunkSizeOverflow { offset });
                    }
                    // Cannot overflow: at most 16 digits of 4 bits each.
                    let size = size << 4 | digit;
                    self.check_chunk_size(size)?;
                    State::Size {
                        size,
                        digits: digits + 1,
                    }
                }
                (None, b' ' | b'\t') => State::SizeSpace { size, len: 1 },
                (None, b';') => State::Extension { size, len: 1 },
                (None, b'\r') => State::SizeLf { size },
                (None, _) => {
                    return Err(ErrorKind::BadChunkSize {
                        found: byte,
                        offset,
                    });
                }
            },
            State::SizeSpace { size, len } => match byte {
                b' ' | b'\t' => State::SizeSpace {
                    size,
                    len: bump_extension(len)?,
                },
                b';' => State::Extension {
                    size,
                    len: bump_extension(len)?,
                },
                b'\r' => State::SizeLf { size },
                _ => {
                    return Err(ErrorKind::BadChunkSize {
                        found: byte,
                        offset,
                    });
                }
            },
            State::Extension { size, len } => match byte {
                b'\r' => State::SizeLf { size },
                b'\t' => State::Extension {
                    size,
                    len: bump_extension(len)?,
                },
                0..=0x1f | 0x7f => {
                    return Err(ErrorKind::BadChunkExtension {
                        found: byte,
                        offset,
                    });
                }
                _ => State::Extension {
                    size,
                    len: bump_extension(len)?,
                },
            },
            State::SizeLf { size } => match byte {
                b'\n' if size == 0 => State::Trailers {
                    section: Vec::new(),
                },
                b'\n' => State::Data { remaining: size },
                _ => return Err(delimiter("LF after the chunk-size line's CR")),
            },
            State::DataCr => match byte {
                b'\r' => State::DataLf,
                _ => return Err(delimiter("CRLF after chunk data")),
            },
            State::DataLf => match byte {
                b'\n' => State::SizeStart,
                _ => return Err(delimiter("LF after chunk data's CR")),
            },
            State::Trailers { mut section } => {
                if trailer_byte(&mut section, byte)? {
                    State::Done
                } else {
                    State::Trailers { section }
                }
            }
            other => unreachable!("chunk_byte called in a non-chunked state {other:?}"),
        };
        self.state = next;
        Ok(())
    }

    /// Refuses a chunk whose size, even before all its digits are read,
    /// would take the body past the limit (more digits only make it larger).
    fn check_chunk_size(&self, size: u64) -> Result<(), ErrorKind> {
        let at_least = self.received.saturating_add(size);
        if at_least > self.max_body {
            return Err(ErrorKind::BodyTooLarge {
                limit: self.max_body,
                at_least,
            });
        }
        Ok(())
    }
}

/// Counts one more byte of a chunk extension against its limit.
fn bump_extension(len: usize) -> Result<usize, ErrorKind> {
    if len >= MAX_CHUNK_EXTENSION {
        return Err(ErrorKind::ChunkExtensionTooLong {
            limit: MAX_CHUNK_EXTENSION,
        });
    }
    Ok(len + 1)
}

/// Adds one byte to the trailer section; returns whether the section (and
/// so the body) is complete. Checks line endings byte by byte, and the
/// fields with httparse once the blank line arrives.
fn trailer_byte(section: &mut Vec<u8>, byte: u8) -> Result<bool, ErrorKind> {
    if section.len() >= MAX_TRAILERS {
        return Err(ErrorKind::TrailersTooLarge {
            limit: MAX_TRAILERS,
        });
    }
    let after_cr = section.last() == Some(&b'\r');
    let bad = |problem: &str| {
        Err(ErrorKind::BadTrailer {
            problem: problem.to_owned(),
        })
    };
    match byte {
        b'\n' if !after_cr => return bad("LF without CR"),
        b'\n' => {}
        _ if after_cr => return bad("CR without LF"),
        _ => {}
    }
    section.push(byte);
    if section.as_slice() == b"\r\n" {
        return Ok(true);
    }
    if !section.ends_with(b"\r\n\r\n") {
        return Ok(false);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILER_FIELDS];
    match httparse::parse_headers(section, &mut fields) {
        Ok(httparse::Status::Complete((used, _))) if used == section.len() => Ok(true),
        Ok(_) => bad("the fields do not end at the blank line"),
        Err(error) => bad(&error.to_string()),
    }
}

fn hex_value(byte: u8) -> Option<u64> {
    char::from(byte).to_digit(16).map(u64::from)
}
