//! Name resolution off the loop.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Something that names one or more socket addresses: a `SocketAddr`, an
/// `(IpAddr, port)`, a `"host:port"` string, or a slice of addresses.
pub trait ToAddrs {
    /// The addresses if they are known without a lookup, else the name to
    /// resolve (as `"host:port"`).
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String>;
}

impl ToAddrs for SocketAddr {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        Ok(vec![*self])
    }
}

impl ToAddrs for (IpAddr, u16) {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        Ok(vec![SocketAddr::new(self.0, self.1)])
    }
}

impl ToAddrs for (&str, u16) {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Ok(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Err(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToAddrs for str {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Ok(vec![addr]),
            Err(_) => Err(self.to_owned()),
        }
    }
}

impl ToAddrs for String {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.as_str().to_addrs()
    }
}

impl ToAddrs for [SocketAddr] {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        Ok(self.to_vec())
    }
}

impl<T: ToAddrs + ?Sized> ToAddrs for &T {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        (**self).to_addrs()
    }
}

/// Resolves `addr` to socket addresses. IP literals return at once; names
/// are resolved by the system resolver on the blocking pool, so the loop
/// never waits for DNS.
///
/// # Errors
///
/// If the name does not resolve (the error names it).
///
/// # Examples
///
/// ```
/// let addrs = evloop::run(evloop::net::lookup_host("127.0.0.1:80")).unwrap();
/// assert_eq!(addrs[0].port(), 80);
/// ```
pub async fn lookup_host(addr: impl ToAddrs) -> io::Result<Vec<SocketAddr>> {
    let name = match addr.to_addrs() {
        Ok(addrs) => return Ok(addrs),
        Err(name) => name,
    };
    let lookup_name = name.clone();
    let resolved = crate::offload::spawn_blocking(move || {
        lookup_name
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>())
    })
    .await
    .map_err(|e| io::Error::other(format!("resolving {name}: {e}")))?;
    match resolved {
        Ok(addrs) if !addrs.is_empty() => Ok(addrs),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("resolving {name}: no addresses"),
        )),
        Err(e) => Err(io::Error::new(e.kind(), format!("resolving {name}: {e}"))),
    }
}
