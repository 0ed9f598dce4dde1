//! `TcpStream::into_split`: owned halves that move into two tasks, speak the
//! futures-io traits, end the peer's reading when the write half goes, and
//! reunite only with their own other half.

mod common;

use std::time::Duration;

use futures_util::io::{AsyncReadExt, AsyncWriteExt, copy};

use common::{loopback_pair, paused, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn halves_in_two_tasks_echo_through_copy() {
    const LEN: usize = 400_000;
    let (echoed, copied) = watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (client, server) = loopback_pair().await;
            let (from_peer, mut to_peer) = server.into_split();
            // The echo: futures-util's copy from the read half to the write
            // half, in a task of its own (it needs owned, 'static ends).
            let echo = evloop::spawn(async move {
                let copied = copy(from_peer, &mut to_peer).await.unwrap();
                to_peer.close().await.unwrap();
                copied
            });
            let (mut client_reader, mut client_writer) = client.into_split();
            let sender = evloop::spawn(async move {
                client_writer.write_all(&pattern(LEN)).await.unwrap();
                // Dropped here: the write side shuts down, the echo ends.
            });
            let mut echoed = Vec::new();
            client_reader.read_to_end(&mut echoed).await.unwrap();
            sender.await.unwrap();
            (echoed, echo.await.unwrap())
        })
    });
    assert_eq!(copied, LEN as u64);
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == pattern(LEN), "the echo came back changed");
}

#[test]
fn dropping_the_write_half_ends_the_peers_reading_while_the_read_half_lives() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (client, server) = loopback_pair().await;
            let (mut reader, mut writer) = server.into_split();
            writer.write_all(b"last words").await.unwrap();
            drop(writer);
            let mut heard = Vec::new();
            (&client).read_to_end(&mut heard).await.unwrap();
            assert_eq!(heard, b"last words", "end-of-file after the bytes");
            // The read half still reads.
            client.write_all(b"still listening").await.unwrap();
            let mut buf = [0u8; 15];
            reader.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still listening");
            assert_eq!(
                reader.as_ref().peer_addr().unwrap(),
                client.local_addr().unwrap()
            );
        })
    });
}

#[test]
fn reunite_joins_only_the_halves_of_one_stream() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (a_client, a_server) = loopback_pair().await;
            let (b_client, b_server) = loopback_pair().await;
            let (a_read, a_write) = a_server.into_split();
            let (b_read, b_write) = b_server.into_split();

            // Mixed halves: refused, and both handed back intact.
            let err = a_read.reunite(b_write).unwrap_err();
            assert!(
                err.to_string().contains("two different TCP streams"),
                "{err}"
            );
            let (a_read, b_write) = (err.0, err.1);

            // Matching halves: one stream again, whose write side is open
            // (reuniting does not shut it down).
            let a = a_read.reunite(a_write).unwrap();
            let b = b_read.reunite(b_write).unwrap();
            a.write_all(b"a").await.unwrap();
            b.write_all(b"b").await.unwrap();
            let mut one = [0u8; 1];
            a_client.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"a");
            b_client.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"b");
        })
    });
}
