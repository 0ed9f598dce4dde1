//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: a [`TcpStream`] split into
//! two owned ends, for a reader task and a writer task.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TcpStream;

impl TcpStream {
    /// Splits the stream into a read half and a write half that can move
    /// into two different tasks (`evloop::spawn` wants `'static` futures, so
    /// two `&TcpStream` cannot).
    ///
    /// Both halves share the socket, which closes when both are gone.
    /// Dropping the write half shuts down the write side, so the peer reads
    /// end-of-file even while the read half lives on (as tokio's halves do).
    /// [`reunite`](OwnedReadHalf::reunite) puts them back together.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///
    ///     let (mut reader, mut writer) = server.into_split();
    ///     let writing = evloop::spawn(async move {
    ///         writer.write_all(b"from the write half").await.unwrap();
    ///         // Dropping the write half ends the peer's reading.
    ///     });
    ///     let mut heard = String::new();
    ///     (&client).read_to_string(&mut heard).await.unwrap();
    ///     assert_eq!(heard, "from the write half");
    ///     writing.await.unwrap();
    ///
    ///     client.write_all(b"to the read half").await.unwrap();
    ///     let mut buf = [0u8; 16];
    ///     reader.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"to the read half");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Rc::new(self);
        (
            OwnedReadHalf {
                stream: stream.clone(),
            },
            OwnedWriteHalf {
                stream,
                shutdown_on_drop: true,
            },
        )
    }
}

/// The read end of [`TcpStream::into_split`].
///
/// Implements [`AsyncRead`] as [`TcpStream`] does: `Pending` only after
/// `read(2)` said `WouldBlock`, woken by the reactor when the socket turns
/// readable; a read dropped mid-wait takes nothing. [`as_ref`](AsRef::as_ref)
/// reaches the stream's `&self` methods (`peer_addr`, `readable`...).
pub struct OwnedReadHalf {
    stream: Rc<TcpStream>,
}

/// The write end of [`TcpStream::into_split`]. Dropping it shuts down the
/// write side of the socket.
///
/// Implements [`AsyncWrite`] as [`TcpStream`] does: `Pending` only after
/// `write(2)` said `WouldBlock`, woken by the reactor when the socket turns
/// writable; a write dropped mid-wait sends nothing; `poll_flush` is always
/// ready; `poll_close` shuts down the write side.
pub struct OwnedWriteHalf {
    stream: Rc<TcpStream>,
    /// False once reunited: the stream lives on whole.
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Puts the two halves of one stream back together.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, if they come from two different
    /// streams.
    pub fn reunite(self, mut writer: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Rc::ptr_eq(&self.stream, &writer.stream) {
            return Err(ReuniteError(self, writer));
        }
        writer.shutdown_on_drop = false;
        let stream = self.stream.clone();
        drop((self, writer));
        Ok(Rc::into_inner(stream).expect("both halves are gone, so this is the last Rc"))
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read(&self.stream, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_ref(cx, bufs)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(&self.stream, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown(Shutdown::Write))
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already (NotConnected): nothing to tell it.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

/// Two halves of different streams were given to
/// [`reunite`](OwnedReadHalf::reunite); both are handed back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "these halves belong to two different TCP streams ({:?} and {:?})",
            self.0.stream.local_addr().ok(),
            self.1.stream.local_addr().ok()
        )
    }
}

impl Error for ReuniteError {}
