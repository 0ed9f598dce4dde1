//! The HTTP/1.1 client (only its sans-IO core lives in this scratch crate).
//!
//! [`url`] parses and resolves URLs, [`head`] writes requests and parses
//! response heads, [`body`] decides and decodes body framing, and [`error`]
//! holds the one error type of the client.

pub mod body;
pub mod error;
pub mod head;
pub mod url;

pub use body::{BodyDecoder, Decoded, Framing};
pub use error::{ErrorKind, HttpError, UrlProblem};
pub use head::{ResponseHead, get_request, request};
pub use url::{Scheme, Url};
