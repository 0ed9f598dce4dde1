//! [`UdpSocket`]: datagrams on the loop (asyncio's
//! `create_datagram_endpoint`, tokio's `UdpSocket`).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{ToAddrs, lookup_host};
use crate::io::reactor::Direction;
use crate::io::registration::Evented;
use crate::sync::Semaphore;

/// A UDP socket: whole datagrams in, whole datagrams out, no connection, no
/// ordering, no retransmission, no flow control.
///
/// Every method takes `&self`, so one socket can be shared (with `Rc`)
/// between a task that sends and a task that receives, or between many of
/// each.
///
/// # Waiting
///
/// Each operation first tries the syscall; it returns `Pending` to wait for
/// the socket only after the kernel answered `WouldBlock` (and the reactor's
/// readiness was cleared then), exactly as [`TcpStream`](super::TcpStream)
/// does. The reactor wakes the task when the socket becomes readable or
/// writable again.
///
/// Several tasks may receive (or send) on one socket at once. They take
/// turns, first come first served: one receive at a time waits on the
/// socket, the others wait in line behind it (a [`Semaphore`] of one per
/// direction), so a datagram goes to the oldest receive and no waiter is
/// forgotten. Waiting in line is the one other reason a receive or send
/// returns `Pending`; the receive ahead of it wakes it when it finishes or is
/// dropped.
///
/// # Cancel safety
///
/// Every operation is cancel safe: a datagram is taken from the kernel (or
/// handed to it) whole, inside one syscall that either happens or does not,
/// so dropping a [`recv_from`](UdpSocket::recv_from) that is waiting loses no
/// datagram, and dropping a waiting [`send_to`](UdpSocket::send_to) sends
/// nothing. Dropping one also gives up its place in line and forgets its
/// waker, so the socket stays usable.
///
/// # Errors
///
/// [`bind`](UdpSocket::bind) and [`connect`](UdpSocket::connect) errors name
/// the address. Send and receive errors are the OS's own, unchanged (so
/// `raw_os_error` works): on a connected socket, an ICMP "port unreachable"
/// answer to an earlier datagram shows up as `ConnectionRefused` on the next
/// receive (or send), once, as the OS reports it. An unconnected socket is
/// not told (Linux and the BSDs report ICMP errors only to connected UDP
/// sockets).
///
/// # Examples
///
/// ```
/// use evloop::net::UdpSocket;
///
/// evloop::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    inner: Evented<mio::net::UdpSocket>,
    /// The line of receives (and peeks): one at a time waits on the socket.
    receivers: Semaphore,
    /// The line of sends.
    senders: Semaphore,
}

impl UdpSocket {
    /// Binds a socket to `addr` (the first address that works, if it names
    /// several). Port 0 lets the OS pick a free port; ask
    /// [`local_addr`](UdpSocket::local_addr) which.
    ///
    /// # Errors
    ///
    /// The last address's error, naming it (the port is taken, the address
    /// is not this machine's...), an unresolvable name, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in lookup_host(addr).await? {
            match mio::net::UdpSocket::bind(addr) {
                Ok(socket) => return UdpSocket::from_mio(socket),
                Err(e) => last = Some(io::Error::new(e.kind(), format!("binding {addr}: {e}"))),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to bind")))
    }

    /// Wraps a bound std socket (it is made nonblocking).
    ///
    /// # Errors
    ///
    /// Outside a runtime, or if it cannot be made nonblocking.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let addr = std_socket.local_addr().unwrap();
    ///     let socket = evloop::net::UdpSocket::from_std(std_socket).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Evented::new(socket, |s| match (s.local_addr(), s.peer_addr()) {
                (Ok(l), Ok(p)) => format!("udp {l} -> {p}"),
                (Ok(l), Err(_)) => format!("udp {l}"),
                _ => "udp socket".to_owned(),
            })?,
            receivers: Semaphore::new(1),
            senders: Semaphore::new(1),
        })
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there, and
    /// [`recv`](UdpSocket::recv) (and every receive) accepts datagrams from
    /// there only. No packet is sent; the OS only records the address. It
    /// may be called again to change the peer.
    ///
    /// Tries each address `addr` names until one is accepted.
    ///
    /// # Errors
    ///
    /// The last address's error, naming it (another address family, an
    /// unreachable network), or an unresolvable name.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 2);
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToAddrs) -> io::Result<()> {
        let mut last = None;
        for addr in lookup_host(addr).await? {
            match self.inner.get().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("connecting to {addr}: {e}"),
                    ))
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
    }

    /// Sends one datagram to `target`; returns its length (a datagram is
    /// sent whole or not at all). Waits only while the socket's send buffer
    /// is full. A name is resolved first (on the blocking pool), and the
    /// first address it gives is used.
    ///
    /// On loopback and most networks, "sent" means handed to the OS: nothing
    /// says whether it arrived.
    ///
    /// # Errors
    ///
    /// What `sendto(2)` reports: too long for UDP (`EMSGSIZE`), another
    /// address family, a broadcast address without
    /// [`set_broadcast`](UdpSocket::set_broadcast); or an unresolvable name.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let to_self = socket.local_addr().unwrap();
    ///     assert_eq!(socket.send_to(b"four", to_self).await.unwrap(), 4);
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(socket.recv(&mut buf).await.unwrap(), 4);
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToAddrs) -> io::Result<usize> {
        let Some(target) = lookup_host(target).await?.into_iter().next() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to send to",
            ));
        };
        let _turn = self.senders.acquire().await.expect("never closed");
        self.inner
            .io(Direction::Write, |s| s.send_to(buf, target))
            .await
    }

    /// Waits for one datagram and copies it into `buf`; returns its length
    /// and where it came from.
    ///
    /// A datagram longer than `buf` is cut to fit, as the OS does: on Unix
    /// the rest is discarded and the length returned is `buf.len()` (on
    /// Windows the OS reports an error instead). An empty datagram is
    /// `Ok((0, from))`, not an end of stream: UDP has none.
    ///
    /// Cancel safe: dropped while waiting, it has taken nothing.
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` reports, e.g. `ConnectionRefused` on a connected
    /// socket whose earlier datagram met a closed port.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"hello", me).await.unwrap();
    ///     let mut buf = [0u8; 5];
    ///     assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (5, me));
    ///     assert_eq!(&buf, b"hello");
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let _turn = self.receivers.acquire().await.expect("never closed");
        self.inner.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Sends one datagram to the peer set by [`connect`](UdpSocket::connect).
    /// Otherwise as [`send_to`](UdpSocket::send_to).
    ///
    /// # Errors
    ///
    /// What `send(2)` reports: "destination address required"
    /// (`EDESTADDRREQ` on Unix) if `connect` was not called;
    /// `ConnectionRefused` for an earlier datagram that met a closed port.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(socket.send(b"me again").await.unwrap(), 8);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let _turn = self.senders.acquire().await.expect("never closed");
        self.inner.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Waits for one datagram from the connected peer; returns its length.
    /// Otherwise as [`recv_from`](UdpSocket::recv_from) (truncation, cancel
    /// safety).
    ///
    /// # Errors
    ///
    /// What `recv(2)` reports, e.g. `ConnectionRefused` when an earlier
    /// datagram met a closed port.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"to b", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let _turn = self.receivers.acquire().await.expect("never closed");
        self.inner.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Waits for a datagram and copies it into `buf` *without* taking it:
    /// the next receive gets the same datagram. Truncates as
    /// [`recv_from`](UdpSocket::recv_from) does (the datagram stays whole in
    /// the queue).
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` with `MSG_PEEK` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"twice", me).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(socket.peek_from(&mut buf).await.unwrap(), (5, me));
    ///     assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (5, me));
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let _turn = self.receivers.acquire().await.expect("never closed");
        self.inner.io(Direction::Read, |s| s.peek_from(buf)).await
    }

    /// [`peek_from`](UdpSocket::peek_from) on a connected socket: returns
    /// only the length.
    ///
    /// # Errors
    ///
    /// What `recv(2)` with `MSG_PEEK` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"abc").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(socket.peek(&mut buf).await.unwrap(), 3);
    ///     assert_eq!(socket.recv(&mut buf).await.unwrap(), 3);
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let _turn = self.receivers.acquire().await.expect("never closed");
        self.inner.io(Direction::Read, |s| s.peek(buf)).await
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get().local_addr()
    }

    /// The peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` if `connect` was not called; else what
    /// `getpeername(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let err = socket.peer_addr().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get().peer_addr()
    }

    /// Allows (`true`) or forbids sending to broadcast addresses
    /// (`SO_BROADCAST`).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get().set_broadcast(on)
    }

    /// Whether sending to broadcast addresses is allowed (`SO_BROADCAST`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.get().broadcast()
    }

    /// The time-to-live of outgoing datagrams (`IP_TTL`): how many routers
    /// they may cross.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (0 or above 255 is invalid).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_ttl(7).unwrap();
    ///     assert_eq!(socket.ttl().unwrap(), 7);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get().set_ttl(ttl)
    }

    /// The time-to-live of outgoing datagrams (`IP_TTL`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get().ttl()
    }

    /// Joins the IPv4 multicast group `group` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED`: let the OS choose).
    ///
    /// # Errors
    ///
    /// What `setsockopt(IP_ADD_MEMBERSHIP)` reports (not a multicast address,
    /// no such interface, an IPv6 socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     let group = Ipv4Addr::new(239, 255, 0, 1);
    ///     // A group address is required: a unicast one is refused.
    ///     assert!(socket.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED).is_err());
    ///     // Joining needs a multicast-capable interface, which a sandbox may lack.
    ///     if socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST).is_ok() {
    ///         socket.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    ///     }
    /// });
    /// ```
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.get().join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// What `setsockopt(IP_DROP_MEMBERSHIP)` reports (e.g. not a member).
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.get().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on the interface with index
    /// `interface` (0: let the OS choose).
    ///
    /// # Errors
    ///
    /// What `setsockopt(IPV6_ADD_MEMBERSHIP)` reports.
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.get().join_multicast_v6(&group, interface)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// What `setsockopt(IPV6_DROP_MEMBERSHIP)` reports.
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.get().leave_multicast_v6(&group, interface)
    }

    /// Whether this socket receives its own IPv4 multicast datagrams
    /// (`IP_MULTICAST_LOOP`, on by default).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_multicast_loop_v4(false).unwrap();
    ///     assert!(!socket.multicast_loop_v4().unwrap());
    /// });
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.get().set_multicast_loop_v4(on)
    }

    /// Whether outgoing IPv4 multicast loops back (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.get().multicast_loop_v4()
    }

    /// The time-to-live of outgoing IPv4 multicast datagrams
    /// (`IP_MULTICAST_TTL`, 1 by default: this network only).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(socket.multicast_ttl_v4().unwrap(), 1);
    ///     socket.set_multicast_ttl_v4(4).unwrap();
    ///     assert_eq!(socket.multicast_ttl_v4().unwrap(), 4);
    /// });
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.get().set_multicast_ttl_v4(ttl)
    }

    /// The time-to-live of outgoing IPv4 multicast (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.get().multicast_ttl_v4()
    }

    /// Whether this socket receives its own IPv6 multicast datagrams
    /// (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (e.g. on an IPv4 socket).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.get().set_multicast_loop_v6(on)
    }

    /// Whether outgoing IPv6 multicast loops back (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.get().multicast_loop_v6()
    }

    /// Whether an IPv6 socket is limited to IPv6 (`IPV6_V6ONLY`); if not, it
    /// also talks to IPv4 peers through IPv4-mapped addresses.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (on an IPv4 socket: an error).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.only_v6().is_err()); // an IPv4 socket has no such option
    /// });
    /// ```
    pub fn only_v6(&self) -> io::Result<bool> {
        self.inner.get().only_v6()
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it: an ICMP
    /// error not yet reported by a send or receive, say. `Ok(None)` if there
    /// is none.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (an error reading the error).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get().take_error()
    }

    /// (syscalls that answered `WouldBlock`, `Pending`s returned while
    /// waiting on the socket) for this socket: lets tests check that every
    /// such `Pending` followed a `WouldBlock`. Waiting in line behind another
    /// receive is not counted.
    #[doc(hidden)]
    pub fn readiness_counters(&self) -> (u64, u64) {
        self.inner.counters()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
