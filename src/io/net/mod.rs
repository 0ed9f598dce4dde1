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

mod lookup;
mod tcp_listener;
mod tcp_stream;
mod udp;

pub use lookup::{ToAddrs, lookup_host};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
