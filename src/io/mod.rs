//! IO on the loop: the reactor over mio, and the sockets built on it.
//!
//! `reactor` keeps, for every registered socket, whether it is readable
//! and writable and which task waits for each; the loop's driver hands it
//! every event from `mio::Poll`. `registration` is the one place where a
//! nonblocking syscall meets the reactor: try the syscall, and only if it
//! says `WouldBlock`, clear the readiness and wait. [`net`] builds
//! `TcpListener`, `TcpStream` and `UdpSocket` on that.

pub mod net;
pub(crate) mod reactor;
pub(crate) mod registration;
