//! Third-party code running over evloop through the runtime-neutral traits:
//! futures-util's IO helpers (`copy`, `BufReader::lines`, `read_to_end`,
//! `write_all`, `close`) on evloop's sockets and files, and futures-rustls,
//! a TLS crate written for futures-io, with a client and a server both on
//! evloop, talking over loopback.
//!
//! The helpers under test are called through small generic functions that
//! know only the traits, so nothing here can fall back on evloop's own
//! methods of the same name.

mod common;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use evloop::fs::File;
use evloop::net::{TcpListener, TcpStream};
use futures_rustls::rustls;
use futures_rustls::rustls::pki_types::{PrivateKeyDer, ServerName};
use futures_rustls::{TlsAcceptor, TlsConnector};
use futures_util::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, copy,
};
use futures_util::stream::TryStreamExt;

use common::{loopback_pair, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

/// Bytes that are not all alike, so a misplaced or doubled chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Writes everything, then closes the writer: generic, evloop-blind.
async fn send_and_close<W: AsyncWrite + Unpin>(mut writer: W, bytes: &[u8]) -> io::Result<()> {
    writer.write_all(bytes).await?;
    writer.close().await
}

/// Reads until end-of-file: generic, evloop-blind.
async fn read_all<R: AsyncRead + Unpin>(mut reader: R) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await?;
    Ok(out)
}

/// Copies `from` into `to` until end-of-file, then closes `to` so the end
/// travels on; returns the bytes copied.
async fn forward<R: AsyncRead, W: AsyncWrite + Unpin>(from: R, mut to: W) -> io::Result<u64> {
    let n = copy(from, &mut to).await?;
    to.close().await?;
    Ok(n)
}

/// A fresh, empty directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("evloop-interop-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn copy_carries_a_megabyte_through_a_proxy_to_an_echo_server_and_back() {
    const LEN: usize = 1 << 20;
    let (echoed, counts) = watchdog(WATCHDOG, || {
        evloop::run(async {
            // client <-> (proxy_in | proxy_out) <-> echo
            let (client, proxy_in) = loopback_pair().await;
            let (proxy_out, echo) = loopback_pair().await;
            // The echo server: copy from its stream to itself.
            let echo_task = evloop::spawn(async move { forward(&echo, &echo).await.unwrap() });
            // The proxy: one copy each way, between two different streams.
            let proxy = evloop::spawn(async move {
                let up = forward(&proxy_in, &proxy_out);
                let down = forward(&proxy_out, &proxy_in);
                let (up, down) = futures_util::future::join(up, down).await;
                (up.unwrap(), down.unwrap())
            });
            let client = std::rc::Rc::new(client);
            let writer = {
                let client = client.clone();
                evloop::spawn(async move { send_and_close(&*client, &pattern(LEN)).await })
            };
            let echoed = read_all(&*client).await.unwrap();
            writer.await.unwrap().unwrap();
            let echo_count = echo_task.await.unwrap();
            let (up, down) = proxy.await.unwrap();
            (echoed, (echo_count, up, down))
        })
    });
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == pattern(LEN), "the echo came back changed");
    assert_eq!(
        counts,
        (LEN as u64, LEN as u64, LEN as u64),
        "(echo, up, down) bytes copied"
    );
}

#[test]
fn buf_reader_lines_splits_a_stream_written_in_odd_pieces() {
    let lines = watchdog(WATCHDOG, || {
        evloop::run(async {
            let (client, server) = loopback_pair().await;
            let writer = evloop::spawn(async move {
                // Pieces that cut lines in the middle, with a turn of the
                // loop between them, so the reader sees partial lines.
                for piece in [
                    "alpha\nbe",
                    "ta\n",
                    "",
                    "gam",
                    "ma\ndelta\n",
                    "no newline at the end",
                ] {
                    AsyncWriteExt::write_all(&mut &server, piece.as_bytes())
                        .await
                        .unwrap();
                    evloop::yield_now().await;
                }
                AsyncWriteExt::close(&mut &server).await.unwrap();
            });
            let lines: Vec<String> = BufReader::new(&client).lines().try_collect().await.unwrap();
            writer.await.unwrap();
            lines
        })
    });
    assert_eq!(
        lines,
        ["alpha", "beta", "gamma", "delta", "no newline at the end"]
    );
}

#[test]
fn read_to_end_collects_a_stream_until_the_peer_closes() {
    const LEN: usize = 300_000;
    let got = watchdog(WATCHDOG, || {
        evloop::run(async {
            let (client, server) = loopback_pair().await;
            let writer = evloop::spawn(async move { send_and_close(server, &pattern(LEN)).await });
            let got = read_all(client).await.unwrap();
            writer.await.unwrap().unwrap();
            got
        })
    });
    assert_eq!(got.len(), LEN);
    assert!(got == pattern(LEN), "the bytes came back changed");
}

#[test]
fn read_to_end_reads_a_whole_file() {
    // Larger than one read job (1 MiB at most), so several jobs run.
    const LEN: usize = 2_500_000;
    let dir = Scratch::new("read-to-end");
    let path = dir.path().join("data.bin");
    std::fs::write(&path, pattern(LEN)).unwrap();
    let got = watchdog(WATCHDOG, move || {
        evloop::run(async move { read_all(File::open(&path).await.unwrap()).await.unwrap() })
    });
    assert_eq!(got.len(), LEN);
    assert!(got == pattern(LEN), "the file came back changed");
}

#[test]
fn write_all_and_close_on_a_file_then_read_it_back() {
    const LEN: usize = 2_500_000;
    let dir = Scratch::new("write-close");
    let path = dir.path().join("out.bin");
    let (read_back, closed_len) = watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            evloop::run(async move {
                let file = File::create(&path).await.unwrap();
                send_and_close(file, &pattern(LEN)).await.unwrap();
                // After close the OS has every byte: std sees them at once.
                let closed_len = std::fs::metadata(&path).unwrap().len();
                let read_back = read_all(File::open(&path).await.unwrap()).await.unwrap();
                (read_back, closed_len)
            })
        }
    });
    assert_eq!(closed_len, LEN as u64);
    assert!(read_back == pattern(LEN), "the file came back changed");
    assert!(std::fs::read(&path).unwrap() == pattern(LEN));
}

#[test]
fn copy_moves_a_file_into_a_socket() {
    const LEN: usize = 700_000;
    let dir = Scratch::new("file-to-socket");
    let path = dir.path().join("upload.bin");
    std::fs::write(&path, pattern(LEN)).unwrap();
    let (copied, received) = watchdog(WATCHDOG, move || {
        evloop::run(async move {
            let (client, server) = loopback_pair().await;
            let reader = evloop::spawn(async move { read_all(server).await.unwrap() });
            let copied = forward(File::open(&path).await.unwrap(), client)
                .await
                .unwrap();
            (copied, reader.await.unwrap())
        })
    });
    assert_eq!(copied, LEN as u64);
    assert!(received == pattern(LEN), "the upload came through changed");
}

/// A self-signed certificate for `localhost`: the server's config, and a
/// client config that trusts exactly that certificate.
fn tls_configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// What the TLS server saw: the request, and the name the client asked for.
struct ServerSaw {
    request: Vec<u8>,
    sni: Option<String>,
}

#[test]
fn futures_rustls_client_and_server_on_evloop_exchange_messages_both_ways() {
    // Big enough to span several TLS records (16 KiB each) and socket reads.
    const REQUEST: usize = 100_000;
    const REPLY: usize = 150_000;
    let (server_config, client_config) = tls_configs();
    let (saw, reply, version) = watchdog(WATCHDOG, move || {
        evloop::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = TlsAcceptor::from(server_config);
            let server = evloop::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                let sni = tls.get_ref().1.server_name().map(str::to_owned);
                let mut request = vec![0u8; REQUEST];
                tls.read_exact(&mut request).await.unwrap();
                // The reply, then close_notify and the TCP shutdown.
                send_and_close(&mut tls, &pattern(REPLY)).await.unwrap();
                ServerSaw { request, sni }
            });

            let connector = TlsConnector::from(client_config);
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            let version = tls.get_ref().1.protocol_version();
            tls.write_all(&pattern(REQUEST)).await.unwrap();
            tls.flush().await.unwrap();
            // Until the server's close_notify: a clean end, not a cut.
            let reply = read_all(&mut tls).await.unwrap();
            (server.await.unwrap(), reply, version)
        })
    });
    assert_eq!(saw.sni.as_deref(), Some("localhost"));
    assert_eq!(saw.request.len(), REQUEST);
    assert!(
        saw.request == pattern(REQUEST),
        "the server got the request changed"
    );
    assert_eq!(reply.len(), REPLY);
    assert!(reply == pattern(REPLY), "the client got the reply changed");
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_3));
}

#[test]
fn a_tls_client_refuses_a_server_it_does_not_trust() {
    let (server_config, _) = tls_configs();
    // A client that trusts a different self-signed certificate.
    let (_, stranger_client) = tls_configs();
    let (client_err, server_err) = watchdog(WATCHDOG, move || {
        evloop::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = TlsAcceptor::from(server_config);
            let server = evloop::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                acceptor.accept(tcp).await.err()
            });
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let client = TlsConnector::from(stranger_client).connect(name, tcp).await;
            (client.err(), server.await.unwrap())
        })
    });
    let client_err = client_err.expect("the handshake must fail on the client");
    assert_eq!(
        client_err.kind(),
        io::ErrorKind::InvalidData,
        "{client_err}"
    );
    assert!(
        client_err.to_string().contains("certificate"),
        "{client_err}"
    );
    assert!(
        server_err.is_some(),
        "the server must see the handshake fail too"
    );
}
