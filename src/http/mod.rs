//! The HTTP/1.1 client: `GET` over evloop's own sockets, with keep-alive,
//! redirects, deadlines, limits, and TLS by rustls.
//!
//! [`Client`] is the entry point; [`Response`] reads a body whole or chunk
//! by chunk. Underneath, the sans-IO core does the protocol on bytes:
//! [`url`] parses and resolves URLs, [`head`] writes requests and parses
//! response heads, [`body`] decides and decodes body framing, and [`error`]
//! holds the one error type of the client.
//!
//! [`server`] is the other side, kept small: a read-only HTTP/1.1 server
//! that the demo's embedded image host runs on.

pub mod body;
mod client;
mod conn;
mod connection_table;
mod deadline;
pub mod error;
pub mod head;
mod pool;
pub(crate) mod redirect;
mod response;
pub mod server;
mod tls;
pub mod url;

pub use body::{BodyDecoder, Decoded, Framing};
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT,
};
pub use conn::READ_SIZE;
pub use error::{ErrorKind, HttpError, Phase, UrlProblem};
pub use head::{ResponseHead, get_request, request};
pub use response::Response;
pub use url::{Scheme, Url};
