//! Sockets as futures: TCP's [`TcpListener`] and [`TcpStream`], and UDP's
//! [`UdpSocket`].
//!
//! | evloop | asyncio | tokio |
//! | --- | --- | --- |
//! | [`TcpListener`] | `asyncio.start_server` | `tokio::net::TcpListener` |
//! | [`TcpStream`] | `asyncio.open_connection` (reader, writer) | `tokio::net::TcpStream` |
//! | [`UdpSocket`] | `loop.create_datagram_endpoint` | `tokio::net::UdpSocket` |
//! | [`lookup_host`] | `loop.getaddrinfo` | `tokio::net::lookup_host` |
//!
//! Every operation is nonblocking underneath: it tries the syscall, and if
//! the kernel says `WouldBlock` the task waits for the reactor to report the
//! socket ready again. Each operation is an ordinary future, so it composes
//! with [`time::timeout`](crate::time::timeout) and `select`.
//!
//! UDP moves whole datagrams: one `send_to` is one `recv_from` at the other
//! end, or nothing at all (UDP has no acknowledgements, no retransmission,
//! and no flow control, so a receiver whose buffer is full simply misses
//! datagrams). A [`UdpSocket`] may be shared by many tasks; their receives
//! (and sends) take turns in arrival order.
//!
//! Name resolution ([`lookup_host`]) runs on the blocking pool, never on the
//! loop; IP literals skip it.
//!
//! # The ecosystem's traits
//!
//! [`TcpStream`] and `&TcpStream` implement the runtime-neutral
//! [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`], the traits that
//! smol's and async-std's sockets implement and that protocol crates (TLS,
//! WebSocket, codecs) are written against. Code generic over them runs on
//! evloop unchanged; the inherent `&self` methods stay beside them. For a
//! reader task and a writer task, [`TcpStream::into_split`] gives two owned
//! halves that implement the traits too.
//!
//! ```
//! use evloop::net::{TcpListener, TcpStream};
//! use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, copy};
//!
//! /// Runtime-neutral code: it knows nothing of evloop.
//! async fn ping<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<String> {
//!     stream.write_all(b"ping").await?;
//!     stream.close().await?; // shuts down the write side: the peer reads end-of-file
//!     let mut reply = String::new();
//!     stream.read_to_string(&mut reply).await?;
//!     Ok(reply)
//! }
//!
//! evloop::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     // An echo server made of futures-util's `copy`, from the stream to itself.
//!     let server = evloop::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         copy(&stream, &mut &stream).await.unwrap()
//!     });
//!     let reply = ping(TcpStream::connect(addr).await.unwrap()).await.unwrap();
//!     assert_eq!(reply, "ping");
//!     assert_eq!(server.await.unwrap(), 4); // bytes copied
//! });
//! ```

mod lookup;
mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;

pub use lookup::{ToAddrs, lookup_host};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
