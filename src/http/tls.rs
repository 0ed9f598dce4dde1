//! TLS for `https://`: rustls driven over evloop's own [`TcpStream`].
//!
//! rustls does no I/O of its own. A [`rustls::ClientConnection`] is a state
//! machine with two byte pipes: ciphertext goes in with `read_tls` and out
//! with `write_tls`, plaintext goes in with `writer()` and out with
//! `reader()`, and `process_new_packets` decrypts and advances the
//! handshake. [`TlsStream`] is the small adapter that pumps those pipes
//! over the socket's nonblocking `try_read`/`try_write`: when the socket
//! says `WouldBlock`, it awaits `readable()`/`writable()`, so the task
//! sleeps in the reactor like any other socket wait.
//!
//! rustls errors (an untrusted certificate, a bad record) travel inside an
//! `io::Error` of kind `InvalidData`, and the client turns them back into
//! [`ErrorKind::Tls`](super::ErrorKind::Tls).
//!
//! [`root_store`] and [`client_config`] build the rustls configuration:
//! webpki-roots (Mozilla's roots, compiled in) plus whatever certificates
//! the caller added, with the `ring` crypto provider.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use super::error::{ErrorKind, HttpError};
use crate::net::TcpStream;

/// A TLS client connection over a [`TcpStream`].
#[derive(Debug)]
pub(crate) struct TlsStream {
    tcp: TcpStream,
    tls: ClientConnection,
}

/// What one [`TlsStream::read`] brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsRead {
    /// This many plaintext bytes (0 only for an empty buffer).
    Data(usize),
    /// The server sent `close_notify`: the stream ended where the server
    /// meant it to.
    Closed,
    /// The TCP connection ended without `close_notify`: the stream may have
    /// been cut short by whoever closed it.
    ClosedWithoutCloseNotify,
}

/// The socket seen as blocking-style `Read`/`Write` that never blocks: what
/// rustls's `read_tls`/`write_tls` expect. `WouldBlock` passes through.
struct Nonblocking<'a>(&'a TcpStream);

impl Read for Nonblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Nonblocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsStream {
    /// Runs the TLS handshake for `host` over `tcp`.
    ///
    /// Returns once the handshake is complete and its last flight is
    /// written. Not cancel safe in a useful sense: dropped midway, the
    /// connection is half set up and must be dropped too (the client does).
    ///
    /// # Errors
    ///
    /// An `InvalidInput` error for a host that is not a valid TLS server
    /// name; an `InvalidData` error carrying the rustls error for a failed
    /// handshake (an untrusted certificate); `UnexpectedEof` if the server
    /// closes during the handshake; what the socket reports.
    pub(crate) async fn handshake(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        host: &str,
    ) -> io::Result<TlsStream> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = ClientConnection::new(config, name).map_err(io::Error::other)?;
        let mut stream = TlsStream { tcp, tls };
        while stream.tls.is_handshaking() {
            // Send what the state machine has to say (ClientHello first)...
            stream.flush().await?;
            // ...then feed it the server's answer, if it is waiting for one.
            if stream.tls.is_handshaking()
                && stream.tls.wants_read()
                && stream.read_packets().await? == 0
            {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection during the TLS handshake",
                ));
            }
        }
        // The client's Finished message may still be queued.
        stream.flush().await?;
        Ok(stream)
    }

    /// Reads decrypted bytes into `buf`.
    ///
    /// The end of the stream comes in two kinds, and they are kept apart:
    /// [`TlsRead::Closed`] once the server sent its `close_notify` alert
    /// (an end it authenticated), [`TlsRead::ClosedWithoutCloseNotify`]
    /// when the TCP connection ended without one. Only the first proves
    /// that nothing was cut off: anyone on the path can forge a TCP FIN.
    /// Which kind matters depends on the HTTP framing, so the caller
    /// decides (see [`Conn::fill`](super::conn::Conn::fill)).
    ///
    /// Returns `Pending` only while the socket has nothing to read; the
    /// reactor wakes the task. Cancel safe: a dropped read loses no bytes,
    /// since rustls keeps what it decrypted.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<TlsRead> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(0) if !buf.is_empty() => return Ok(TlsRead::Closed),
                Ok(n) => return Ok(TlsRead::Data(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // rustls's word for "the socket ended before close_notify".
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(TlsRead::ClosedWithoutCloseNotify);
                }
                Err(e) => return Err(e),
            }
            // Nothing decrypted yet: send anything rustls wants sent (a key
            // update's answer), then read more records.
            self.flush().await?;
            self.read_packets().await?;
        }
    }

    /// Encrypts and writes all of `buf`.
    pub(crate) async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.tls.writer().write(buf)?;
            if n == 0 {
                // rustls's outgoing buffer is full: drain it to the socket.
                self.flush().await?;
                continue;
            }
            buf = &buf[n..];
        }
        self.flush().await
    }

    /// Whether an idle connection is still usable: the server has neither
    /// closed it nor sent anything since the last response. Never waits.
    pub(crate) fn is_idle_and_open(&mut self) -> bool {
        loop {
            match self.tls.read_tls(&mut Nonblocking(&self.tcp)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Ok(0) | Err(_) => return false,
                Ok(_) => match self.tls.process_new_packets() {
                    // A session ticket arriving late is fine; plaintext or
                    // a close_notify is not.
                    Ok(state)
                        if state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed() => {}
                    _ => return false,
                },
            }
        }
    }

    /// Writes every TLS record rustls has queued.
    async fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Nonblocking(&self.tcp)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.tcp.writable().await,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads TLS records from the socket and processes them; `Ok(0)` at
    /// the end of the stream.
    async fn read_packets(&mut self) -> io::Result<usize> {
        loop {
            match self.tls.read_tls(&mut Nonblocking(&self.tcp)) {
                Ok(n) => {
                    if let Err(error) = self.tls.process_new_packets() {
                        // Tell the server why (best effort, without waiting).
                        let _ = self.tls.write_tls(&mut Nonblocking(&self.tcp));
                        return Err(io::Error::new(io::ErrorKind::InvalidData, error));
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.tcp.readable().await,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The root certificates a client trusts: webpki-roots if `built_in`, plus
/// `extra` (DER).
///
/// # Errors
///
/// [`ErrorKind::InvalidRootCertificate`] if one of `extra` does not parse as
/// a trust anchor.
pub(crate) fn root_store(built_in: bool, extra: &[Vec<u8>]) -> Result<RootCertStore, HttpError> {
    let mut roots = RootCertStore::empty();
    if built_in {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for (index, der) in extra.iter().enumerate() {
        roots
            .add(CertificateDer::from(der.as_slice()))
            .map_err(|e| ErrorKind::InvalidRootCertificate {
                problem: format!("certificate {} of those added: {e}", index + 1),
            })?;
    }
    Ok(roots)
}

/// A rustls client configuration with the `ring` provider, the default
/// protocol versions (TLS 1.2 and 1.3) and `roots`.
pub(crate) fn client_config(roots: RootCertStore) -> ClientConfig {
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Reads every `CERTIFICATE` block of a PEM text as DER.
///
/// # Errors
///
/// [`ErrorKind::InvalidRootCertificate`] if the PEM is malformed or holds
/// no certificate.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, HttpError> {
    let mut reader = pem;
    let certs = rustls_pemfile::certs(&mut reader)
        .map(|cert| cert.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ErrorKind::InvalidRootCertificate {
            problem: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(ErrorKind::InvalidRootCertificate {
            problem: "no CERTIFICATE block in the PEM text".to_owned(),
        }
        .into());
    }
    Ok(certs)
}
