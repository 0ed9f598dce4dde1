//! TCP sockets as futures: [`TcpListener`] and [`TcpStream`].
//!
//! Every operation is nonblocking underneath: it tries the syscall, and if
//! the kernel says `WouldBlock` the task waits for the reactor to report the
//! socket ready again. Each operation is an ordinary future, so it composes
//! with [`time::timeout`](crate::time::timeout) and `select`.
//!
//! Name resolution ([`lookup_host`]) runs on the blocking pool, never on the
//! loop; IP literals skip it.

mod lookup;
mod tcp_listener;
mod tcp_stream;

pub use lookup::{ToAddrs, lookup_host};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
